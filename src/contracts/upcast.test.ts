import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { catalogue } from './catalogue.ts'
import { EVENT_TYPE_PATTERN } from './event-type.ts'
import { EVENT_EXAMPLES } from './events/examples.ts'
import { latestTypeOf, upcastToLatest } from './upcast.ts'

const audit = { timestamp: '2025-03-04T10:00:00Z', sourceSystem: 'qms-p100', approvalStatus: 'approved' }
const v1 = {
  inspectionLot: 'IL-1',
  plant: 'P100',
  characteristic: 'DIA',
  value: '12.03',
  unit: 'MM',
  valuation: 'accepted',
  audit,
}

function schemaOf(type: string) {
  const t = catalogue.find((e) => e.type === type)
  if (!t) throw new Error(type)
  return t.schema
}

describe('upcasting', () => {
  it('turns qms.result.recorded.v1 into a valid v2', () => {
    expect(Value.Check(schemaOf('qms.result.recorded.v1'), v1)).toBe(true)
    const out = upcastToLatest('qms.result.recorded.v1', v1)
    expect(out.type).toBe('qms.result.recorded.v2')
    expect(out.data).toMatchObject({ measured: { value: '12.03', unit: { code: 'MM', system: 'qualink' } } })
    expect(Value.Check(schemaOf('qms.result.recorded.v2'), out.data)).toBe(true)
  })

  it('keeps an attribute-only result without a measured value', () => {
    const { value: _v, unit: _u, ...attr } = v1
    const out = upcastToLatest('qms.result.recorded.v1', {
      ...attr,
      attribute: 'fail',
      valuation: 'rejected',
    })
    expect(out.data).not.toHaveProperty('measured')
    expect(Value.Check(schemaOf('qms.result.recorded.v2'), out.data)).toBe(true)
  })

  it('upcasts a dimensionless value without inventing a unit', () => {
    const { unit: _u, ...noUnit } = v1
    const out = upcastToLatest('qms.result.recorded.v1', { ...noUnit, characteristic: 'PH', value: '7.2' })
    expect(out.data).toMatchObject({ measured: { value: '7.2' } })
    expect(out.data).not.toHaveProperty('measured.unit')
    expect(Value.Check(schemaOf('qms.result.recorded.v2'), out.data)).toBe(true)
  })

  it('leaves the newest version and unknown types alone', () => {
    expect(upcastToLatest('erp.stock.posted.v1', { a: 1 })).toEqual({
      type: 'erp.stock.posted.v1',
      data: { a: 1 },
    })
    expect(latestTypeOf('qms.result.recorded.v1')).toBe('qms.result.recorded.v2')
  })

  it('refuses an upcast cycle', () => {
    const loop = [
      {
        type: 'a.b.c.v1',
        routing: 'transactional' as const,
        description: '',
        schema: schemaOf('qms.result.recorded.v1'),
        upcast: { to: 'a.b.c.v2', fn: (d: unknown) => d },
      },
      {
        type: 'a.b.c.v2',
        routing: 'transactional' as const,
        description: '',
        schema: schemaOf('qms.result.recorded.v1'),
        upcast: { to: 'a.b.c.v1', fn: (d: unknown) => d },
      },
    ]
    expect(() => upcastToLatest('a.b.c.v1', {}, loop)).toThrow(/cycle/)
  })
})

describe('catalogue', () => {
  it('has unique, well-formed types, upcast targets that exist, and master data routed apart', () => {
    const types = catalogue.map((t) => t.type)
    expect(new Set(types).size).toBe(types.length)
    for (const t of catalogue) {
      expect(t.type).toMatch(EVENT_TYPE_PATTERN)
      if (t.upcast) expect(types).toContain(t.upcast.to)
      expect(t.routing).toBe(t.type.startsWith('md.') ? 'master-data' : 'transactional')
    }
    for (const required of [
      'erp.goods_receipt.posted.v1',
      'erp.goods_receipt.reversed.v1',
      'erp.stock.posted.v1',
      'erp.production_order.hold_changed.v1',
      'erp.delivery.block_changed.v1',
      'qms.inspection_lot.created.v1',
      'qms.inspection_lot.cancelled.v1',
      'qms.result.recorded.v1',
      'qms.usage_decision.made.v1',
      'qms.usage_decision.changed.v1',
      'qms.nonconformance.opened.v1',
      'qms.nonconformance.dispositioned.v1',
      'qms.capa.opened.v1',
      'qms.capa.closed.v1',
      'mes.operation.completed.v1',
      'mes.packaging.verified.v1',
      'mes.measurement.sampled.v1',
      'lims.result.reported.v1',
      'crm.complaint.opened.v1',
      'md.material.upserted.v1',
      'md.supplier.upserted.v1',
      'md.inspection_plan.upserted.v1',
      'qualink.test.pinged.v1',
    ]) {
      expect(types).toContain(required)
    }
  })

  it('validates a realistic goods receipt and refuses a float quantity, naming the field', () => {
    const gr = schemaOf('erp.goods_receipt.posted.v1')
    const data = {
      materialDocument: { id: '5000001234', year: 2025, item: '0001' },
      lot: { id: 'B-778', material: 'M-100', plant: 'P100' },
      supplier: 'V-42',
      quantity: { units: 50000, scale: 3, uom: 'KG' },
      bucket: 'qualityInspection',
      audit,
    }
    expect(Value.Check(gr, data)).toBe(true)
    const bad = { ...data, quantity: { units: 50.5, scale: 3, uom: 'KG' } }
    expect([...Value.Errors(gr, bad)].map((e) => e.instancePath)).toContain('/quantity/units')
  })
})

describe('event examples', () => {
  it('exist for every catalogue type and validate with Ajv 2020 (as the registry does)', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false })
    addFormats.default(ajv)
    // Kernel-internal qualink.* types (tests, demo) may go without an example.
    for (const t of catalogue.filter((c) => !c.type.startsWith('qualink.') || c.type in EVENT_EXAMPLES)) {
      const example = EVENT_EXAMPLES[t.type]
      expect(example, `${t.type} has an example`).toBeDefined()
      const validate = ajv.compile(t.schema)
      expect(validate(example) ? [] : validate.errors, t.type).toEqual([])
      expect(Value.Check(t.schema, example), t.type).toBe(true)
    }
    expect(Object.keys(EVENT_EXAMPLES).filter((t) => !catalogue.some((c) => c.type === t))).toEqual([])
  })
})
