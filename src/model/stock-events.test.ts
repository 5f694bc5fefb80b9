import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { catalogue } from '../contracts/catalogue.ts'
import { quantity } from './quantity.ts'
import { isConserved } from './stock.ts'
import { lotStockEventFrom, postingsForDisposition } from './stock-events.ts'
import { applyLotStockEvent, type LotStockState, newLotStock } from './stock-state.ts'

const audit = { timestamp: '2025-03-04T10:00:00Z', sourceSystem: 'sap-p100', approvalStatus: 'not_required' }
const lot = { id: 'B-778', material: 'M-100', plant: 'P100' }
const kg = (u: number) => quantity(u, 3, 'KG')

function schema(type: string) {
  return catalogue.find((t) => t.type === type)!.schema
}

function apply(s: LotStockState, type: string, data: Record<string, unknown>, seq?: number): LotStockState {
  expect(Value.Check(schema(type), data), `${type} example is valid`).toBe(true)
  const out = applyLotStockEvent(s, lotStockEventFrom(type, data as never, seq))
  if (out.parked) throw new Error(out.reason)
  return out.state
}

describe('canonical ERP stock events drive the lot stock machine', () => {
  it('receipt, split disposition postings, cancellation, all conserved', () => {
    let s = newLotStock('B-778', 'KG', 3)
    s = apply(
      s,
      'erp.goods_receipt.posted.v1',
      {
        materialDocument: { id: '5000000001' },
        lot,
        quantity: kg(50000),
        bucket: 'qualityInspection',
        audit,
      },
      1,
    )
    const plan = postingsForDisposition({
      lines: [
        { code: 'USE_AS_IS', quantity: kg(25000) },
        { code: 'SCRAP', quantity: kg(20000) },
        { code: 'RETURN_TO_VENDOR', quantity: kg(5000) },
      ],
    })
    expect(plan.map((p) => p.movementType)).toEqual(['321', '553', '122'])
    plan.forEach((p, i) => {
      s = apply(
        s,
        'erp.stock.posted.v1',
        {
          materialDocument: { id: `49000000${i}` },
          movementType: p.movementType,
          lot,
          from: p.from,
          to: p.to,
          quantity: p.quantity,
          audit,
        },
        2 + i,
      )
    })
    expect(s.stock.buckets).toMatchObject({
      unrestricted: 25000,
      scrap: 20000,
      returned: 5000,
      qualityInspection: 0,
    })
    s = apply(
      s,
      'erp.material_document.cancelled.v1',
      { materialDocument: { id: '4900000099' }, cancelledDocument: { id: '490000001' }, lot, audit },
      9,
    )
    expect(s.stock.buckets).toMatchObject({ scrap: 0, qualityInspection: 20000 })
    expect(isConserved(s.stock)).toBe(true)
  })

  it('a goods receipt reversal maps to the receipt document', () => {
    let s = newLotStock('B-1', 'KG', 3)
    s = apply(s, 'erp.goods_receipt.posted.v1', {
      materialDocument: { id: 'G1' },
      lot,
      quantity: kg(1000),
      bucket: 'qualityInspection',
      audit,
    })
    s = apply(s, 'erp.goods_receipt.reversed.v1', {
      materialDocument: { id: 'G1-R' },
      reversedDocument: { id: 'G1' },
      lot,
      quantity: kg(1000),
      audit,
    })
    expect(s.stock.received).toBe(0)
  })

  it('skips lines that need no movement and refuses other event types', () => {
    expect(postingsForDisposition({ lines: [{ code: 'BLOCK', quantity: kg(1) }] }, 'blocked')).toEqual([])
    expect(
      postingsForDisposition({ lines: [{ code: 'USE_AS_IS', quantity: kg(1) }] }, 'blocked')[0]?.movementType,
    ).toBe('343')
    expect(() => lotStockEventFrom('qms.capa.opened.v1', {} as never)).toThrow(
      expect.objectContaining({ code: 'QLK_UNKNOWN_EVENT_TYPE' }),
    )
  })
})
