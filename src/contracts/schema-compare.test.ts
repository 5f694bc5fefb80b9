import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { compareSchemas, type JsonSchema } from './schema-compare.ts'

const json = (s: unknown) => JSON.parse(JSON.stringify(s)) as JsonSchema
const base = Type.Object({
  id: Type.String(),
  qty: Type.Integer({ minimum: 0 }),
  unit: Type.Enum(['KG', 'G']),
  note: Type.Optional(Type.String({ maxLength: 100 })),
  lines: Type.Array(Type.Object({ code: Type.String(), n: Type.Integer() })),
})
const kinds = (a: JsonSchema, b: JsonSchema) => {
  const r = compareSchemas(a, b)
  return {
    breaking: r.breaking.map((c) => `${c.kind} ${c.path}`),
    nonBreaking: r.nonBreaking.map((c) => `${c.kind} ${c.path}`),
  }
}
function variant(props: Record<string, Parameters<typeof Type.Object>[0][string]>, drop: string[] = []) {
  const p: Record<string, Parameters<typeof Type.Object>[0][string]> = { ...base.properties, ...props }
  for (const d of drop) delete p[d]
  return json(Type.Object(p))
}

describe('compareSchemas', () => {
  it('finds nothing between identical schemas and ignores descriptions', () => {
    expect(kinds(json(base), json(base))).toEqual({ breaking: [], nonBreaking: [] })
    expect(kinds(json(base), variant({ id: Type.String({ description: 'the id' }) })).breaking).toEqual([])
  })

  it('field removed is breaking', () => {
    expect(kinds(json(base), variant({}, ['note'])).breaking).toEqual(['field_removed /note'])
  })

  it('rename (removed + added, same schema) is breaking and named as a rename', () => {
    const r = compareSchemas(json(base), variant({ identifier: Type.String() }, ['id']))
    expect(r.breaking.map((c) => c.kind)).toEqual(['renamed'])
    expect(r.breaking[0]!.message).toMatch(/\/id renamed to \/identifier/)
  })

  it('retyped is breaking, also inside arrays', () => {
    expect(kinds(json(base), variant({ qty: Type.String() })).breaking).toEqual(['retyped /qty'])
    expect(
      kinds(
        json(base),
        variant({ lines: Type.Array(Type.Object({ code: Type.String(), n: Type.Number() })) }),
      ).breaking,
    ).toEqual(['retyped /lines/*/n'])
  })

  it('newly required is breaking; optional field added is not', () => {
    expect(kinds(json(base), variant({ note: Type.String({ maxLength: 100 }) })).breaking).toEqual([
      'newly_required /note',
    ])
    expect(kinds(json(base), variant({ extra: Type.Optional(Type.Boolean()) }))).toEqual({
      breaking: [],
      nonBreaking: ['optional_field_added /extra'],
    })
    expect(kinds(json(base), variant({ extra: Type.Boolean() })).breaking).toEqual([
      'required_field_added /extra',
    ])
  })

  it('enum value removed is breaking; added is not', () => {
    expect(kinds(json(base), variant({ unit: Type.Enum(['KG']) })).breaking).toEqual([
      'enum_value_removed /unit',
    ])
    expect(kinds(json(base), variant({ unit: Type.Enum(['KG', 'G', 'LB']) }))).toEqual({
      breaking: [],
      nonBreaking: ['enum_value_added /unit'],
    })
    const lit = json(Type.Union([Type.Literal('a'), Type.Literal('b')]))
    expect(kinds(lit, json(Type.Union([Type.Literal('a')]))).breaking).toEqual(['enum_value_removed '])
  })

  it('tightened constraints are breaking, loosened are not', () => {
    expect(kinds(json(base), variant({ qty: Type.Integer({ minimum: 1 }) })).breaking).toEqual([
      'constraint_tightened /qty',
    ])
    expect(kinds(json(base), variant({ note: Type.Optional(Type.String({ maxLength: 200 })) }))).toEqual({
      breaking: [],
      nonBreaking: ['constraint_loosened /note'],
    })
  })

  it('union variants: removal breaking, addition not', () => {
    const a = json(
      Type.Union([Type.Object({ kind: Type.Literal('x') }), Type.Object({ kind: Type.Literal('y') })]),
    )
    const b = json(Type.Union([Type.Object({ kind: Type.Literal('x') })]))
    expect(compareSchemas(a, b).breaking.map((c) => c.kind)).toEqual(['variant_removed'])
    expect(compareSchemas(b, a)).toMatchObject({ breaking: [], nonBreaking: [{ kind: 'variant_added' }] })
  })
})
