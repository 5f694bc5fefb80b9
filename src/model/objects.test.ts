import { describe, expect, it } from 'vitest'
import { OBJECT_KINDS, OBJECTS, systemOfRecord, systemOfRecordResolver } from './objects.ts'

describe('canonical objects', () => {
  it('declares every identifier as a required field, and audit attributes on every object', () => {
    for (const kind of OBJECT_KINDS) {
      const { schema, identifiers } = OBJECTS[kind]
      const required = new Set(schema.required ?? [])
      for (const id of identifiers) expect(required.has(id), `${kind}.${id}`).toBe(true)
      expect(required.has('audit'), `${kind}.audit`).toBe(true)
    }
  })

  it('resolves system of record: plant override, then configured default, then built-in', () => {
    const config = {
      defaults: { inspection_lot: 'erp' as const },
      plants: { P200: { nonconformance: 'erp' as const } },
    }
    expect(systemOfRecord('nonconformance', 'P100', config)).toBe('qms')
    expect(systemOfRecord('nonconformance', 'P200', config)).toBe('erp')
    expect(systemOfRecord('inspection_lot', 'P100', config)).toBe('erp')
    expect(systemOfRecord('complaint', 'P100')).toBe('crm')
    expect(systemOfRecordResolver(config)('operation', 'P200')).toBe('mes')
    const withOverride = {
      ...config,
      override: (kind: string, plant: string) =>
        kind === 'lot' && plant === 'P300' ? ('qualink' as const) : undefined,
    }
    expect(systemOfRecord('lot', 'P300', withOverride)).toBe('qualink')
    expect(systemOfRecord('nonconformance', 'P200', withOverride)).toBe('erp')
  })
})
