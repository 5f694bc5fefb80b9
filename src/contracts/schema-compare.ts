/**
 * Pure comparison of two JSON Schemas (2020-12, as TypeBox emits them) from a consumer's point of
 * view: could a consumer written against `old` fail on data valid under `new`? Annotations
 * (title, description, $id, examples) never matter.
 */
export type JsonSchema = { readonly [k: string]: unknown }

export type ChangeKind =
  | 'field_removed'
  | 'renamed'
  | 'retyped'
  | 'newly_required'
  | 'no_longer_required'
  | 'required_field_added'
  | 'optional_field_added'
  | 'enum_value_removed'
  | 'enum_value_added'
  | 'variant_removed'
  | 'variant_added'
  | 'constraint_tightened'
  | 'constraint_loosened'

export interface SchemaChange {
  readonly kind: ChangeKind
  /** data path, e.g. `/quantity/units`, `/lines/*` for array items */
  readonly path: string
  readonly message: string
}

export interface SchemaComparison {
  readonly breaking: readonly SchemaChange[]
  readonly nonBreaking: readonly SchemaChange[]
}

const BREAKING: ReadonlySet<ChangeKind> = new Set([
  'field_removed',
  'renamed',
  'retyped',
  'newly_required',
  // A consumer may rely on a field that used to be guaranteed.
  'no_longer_required',
  'required_field_added',
  'enum_value_removed',
  'variant_removed',
  'constraint_tightened',
])

const ANNOTATIONS = new Set(['title', 'description', '$id', '$schema', '$comment', 'examples', 'default'])

function isObj(v: unknown): v is JsonSchema {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function stripAnnotations(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripAnnotations)
  if (!isObj(v)) return v
  return Object.fromEntries(
    Object.keys(v)
      .filter((k) => !ANNOTATIONS.has(k) && !k.startsWith('x-'))
      .sort()
      .map((k) => [k, stripAnnotations(v[k])]),
  )
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(stripAnnotations(a)) === JSON.stringify(stripAnnotations(b))
}

/** The value set of an enum-like schema: `enum`, `const`, or anyOf of consts. */
function enumValues(s: JsonSchema): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum
  if ('const' in s) return [s.const]
  if (Array.isArray(s.anyOf) && s.anyOf.length > 0 && s.anyOf.every((b) => isObj(b) && 'const' in b)) {
    return s.anyOf.map((b) => (b as JsonSchema).const)
  }
  return undefined
}

function shape(s: JsonSchema): string {
  if (Array.isArray(s.anyOf)) return 'anyOf'
  if (Array.isArray(s.type)) return [...s.type].sort().join('|')
  return typeof s.type === 'string' ? s.type : 'any'
}

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties']
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties']
const EXACT = ['pattern', 'format', 'multipleOf', 'uniqueItems']

function compareConstraints(o: JsonSchema, n: JsonSchema, path: string, out: SchemaChange[]): void {
  const change = (kind: ChangeKind, key: string) =>
    out.push({
      kind,
      path,
      message: `${path || '/'}: ${key} ${JSON.stringify(o[key])} → ${JSON.stringify(n[key])}`,
    })
  for (const key of [...LOWER_BOUNDS, ...UPPER_BOUNDS, ...EXACT]) {
    const a = o[key]
    const b = n[key]
    if (a === b) continue
    if (b === undefined) change('constraint_loosened', key)
    else if (a === undefined) change('constraint_tightened', key)
    else if (typeof a === 'number' && typeof b === 'number' && LOWER_BOUNDS.includes(key)) {
      change(b > a ? 'constraint_tightened' : 'constraint_loosened', key)
    } else if (typeof a === 'number' && typeof b === 'number' && UPPER_BOUNDS.includes(key)) {
      change(b < a ? 'constraint_tightened' : 'constraint_loosened', key)
    } else change('constraint_tightened', key)
  }
  if (o.additionalProperties !== false && n.additionalProperties === false)
    change('constraint_tightened', 'additionalProperties')
  if (o.additionalProperties === false && n.additionalProperties !== false)
    change('constraint_loosened', 'additionalProperties')
}

function compareObjects(o: JsonSchema, n: JsonSchema, path: string, out: SchemaChange[]): void {
  const op = (isObj(o.properties) ? o.properties : {}) as Record<string, JsonSchema>
  const np = (isObj(n.properties) ? n.properties : {}) as Record<string, JsonSchema>
  const oreq = new Set(Array.isArray(o.required) ? (o.required as string[]) : [])
  const nreq = new Set(Array.isArray(n.required) ? (n.required as string[]) : [])
  const removed = Object.keys(op).filter((k) => !(k in np))
  const added = new Set(Object.keys(np).filter((k) => !(k in op)))
  for (const r of removed) {
    const twin = [...added].find((a) => same(op[r], np[a]))
    if (twin) {
      added.delete(twin)
      out.push({
        kind: 'renamed',
        path: `${path}/${r}`,
        message: `${path}/${r} renamed to ${path}/${twin} (a rename is a removal plus an addition)`,
      })
    } else {
      out.push({ kind: 'field_removed', path: `${path}/${r}`, message: `${path}/${r} removed` })
    }
  }
  for (const a of added) {
    const required = nreq.has(a)
    out.push({
      kind: required ? 'required_field_added' : 'optional_field_added',
      path: `${path}/${a}`,
      message: `${path}/${a} added as ${required ? 'required' : 'optional'}`,
    })
  }
  for (const k of Object.keys(op)) {
    if (!(k in np)) continue
    if (!oreq.has(k) && nreq.has(k))
      out.push({ kind: 'newly_required', path: `${path}/${k}`, message: `${path}/${k} became required` })
    if (oreq.has(k) && !nreq.has(k))
      out.push({ kind: 'no_longer_required', path: `${path}/${k}`, message: `${path}/${k} became optional` })
    walk(op[k]!, np[k]!, `${path}/${k}`, out)
  }
}

function compareVariants(o: JsonSchema[], n: JsonSchema[], path: string, out: SchemaChange[]): void {
  const unmatched = n.filter((nb) => !o.some((ob) => same(ob, nb)))
  o.forEach((ob, i) => {
    if (n.some((nb) => same(ob, nb))) return
    // A changed variant in the same position and of the same shape is compared field by field.
    const nb = n[i]
    if (nb && unmatched.includes(nb) && shape(ob) === shape(nb)) {
      unmatched.splice(unmatched.indexOf(nb), 1)
      walk(ob, nb, `${path}{${i}}`, out)
    } else {
      out.push({
        kind: 'variant_removed',
        path,
        message: `${path || '/'}: variant ${i} of the union removed or changed`,
      })
    }
  })
  for (const _ of unmatched)
    out.push({ kind: 'variant_added', path, message: `${path || '/'}: a union variant was added` })
}

function walk(o: JsonSchema, n: JsonSchema, path: string, out: SchemaChange[]): void {
  if (same(o, n)) return
  const oe = enumValues(o)
  const ne = enumValues(n)
  if (oe && ne) {
    const key = (v: unknown) => JSON.stringify(v)
    for (const v of oe) {
      if (!ne.some((x) => key(x) === key(v)))
        out.push({ kind: 'enum_value_removed', path, message: `${path || '/'}: value ${key(v)} removed` })
    }
    for (const v of ne) {
      if (!oe.some((x) => key(x) === key(v)))
        out.push({ kind: 'enum_value_added', path, message: `${path || '/'}: value ${key(v)} added` })
    }
    return
  }
  if (shape(o) !== shape(n) || Boolean(oe) !== Boolean(ne)) {
    out.push({ kind: 'retyped', path, message: `${path || '/'}: type ${shape(o)} → ${shape(n)}` })
    return
  }
  compareConstraints(o, n, path, out)
  if (shape(o) === 'object') compareObjects(o, n, path, out)
  if (shape(o) === 'array' && isObj(o.items) && isObj(n.items)) walk(o.items, n.items, `${path}/*`, out)
  if (shape(o) === 'anyOf') compareVariants(o.anyOf as JsonSchema[], n.anyOf as JsonSchema[], path, out)
}

export function compareSchemas(oldSchema: JsonSchema, newSchema: JsonSchema): SchemaComparison {
  const changes: SchemaChange[] = []
  walk(oldSchema, newSchema, '', changes)
  return {
    breaking: changes.filter((c) => BREAKING.has(c.kind)),
    nonBreaking: changes.filter((c) => !BREAKING.has(c.kind)),
  }
}
