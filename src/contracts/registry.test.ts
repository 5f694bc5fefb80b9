import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { catalogue } from './catalogue.ts'
import { defineEventType } from './event-type.ts'
import { EventRegistry } from './registry.ts'

const envelope = (type: string, data: unknown) => ({
  specversion: '1.0',
  id: 'e-1',
  source: 'urn:test',
  type,
  time: '2026-11-29T05:00:00Z',
  datacontenttype: 'application/json',
  plant: 'P100',
  data,
})

describe('EventRegistry (schemas compiled on first use)', () => {
  it('compiles every schema of the shipped catalogue', () => {
    const registry = new EventRegistry(catalogue)
    expect(() => registry.compileAll()).not.toThrow()
    expect(registry.list().length).toBe(catalogue.length)
  })

  it('validates a type on its first event as it does on later ones', () => {
    const t = defineEventType({
      type: 'test.widget.made.v1',
      routing: 'transactional',
      description: 'a test type',
      schema: Type.Object({ qty: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    })
    const registry = new EventRegistry([t])
    for (let i = 0; i < 2; i++) {
      expect(() => registry.validate(envelope(t.type, { qty: 0 }))).toThrow(
        expect.objectContaining({
          code: 'QLK_SCHEMA_VIOLATION',
          errors: [{ path: '/data/qty', message: expect.stringContaining('>= 1') }],
        }),
      )
      expect(registry.validate(envelope(t.type, { qty: 2 })).data).toEqual({ qty: 2 })
    }
  })

  it('refuses an unknown type without compiling anything for it', () => {
    const registry = new EventRegistry(catalogue)
    expect(() => registry.validate(envelope('test.nothing.here.v1', {}))).toThrow(
      expect.objectContaining({
        code: 'QLK_UNKNOWN_EVENT_TYPE',
        errors: [expect.objectContaining({ path: '/type' })],
      }),
    )
  })

  it('compileAll names a schema that does not compile', () => {
    const broken = defineEventType({
      type: 'test.broken.made.v1',
      routing: 'transactional',
      description: 'a schema ajv refuses',
      schema: { type: 'not-a-json-type' } as never,
    })
    const registry = new EventRegistry([broken])
    expect(() => registry.compileAll()).toThrow(/not-a-json-type|type must be/)
  })
})
