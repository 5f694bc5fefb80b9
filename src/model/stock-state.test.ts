import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { quantity } from './quantity.ts'
import { BUCKETS, isConserved } from './stock.ts'
import {
  applyLotStockEvent,
  DISPOSITION_MOVEMENTS,
  type LotStockEvent,
  type LotStockState,
  newLotStock,
  SAP_MOVEMENT_TYPES,
  type SapMovementType,
} from './stock-state.ts'

const kg = (u: number) => quantity(u, 3, 'KG')

function run(state: LotStockState, ...events: LotStockEvent[]): LotStockState {
  return events.reduce((s, e) => {
    const out = applyLotStockEvent(s, e)
    if (out.parked) throw new Error(out.reason)
    return out.state
  }, state)
}

const received = run(newLotStock('L-1', 'KG', 3), {
  type: 'goods_receipt',
  documentId: 'GR-1',
  quantity: kg(50000),
  to: 'qualityInspection',
})

describe('lot stock movements', () => {
  it('posts a usage decision split: 321 release, 553 scrap, 331 sample (reference §1.4)', () => {
    const s = run(
      received,
      { type: 'movement', documentId: 'MD-1', movementType: '321', quantity: kg(40000) },
      { type: 'movement', documentId: 'MD-2', movementType: '553', quantity: kg(8000) },
      { type: 'movement', documentId: 'MD-3', movementType: '331', quantity: quantity(2, 0, 'KG') },
    )
    expect(s.stock.buckets).toMatchObject({
      unrestricted: 40000,
      scrap: 8000,
      sample: 2000,
      qualityInspection: 0,
    })
    expect(isConserved(s.stock)).toBe(true)
  })

  it('maps every movement type and disposition code to a legal posting', () => {
    for (const [code, m] of Object.entries(DISPOSITION_MOVEMENTS)) {
      const s = run(received, {
        type: 'movement',
        documentId: `D-${code}`,
        movementType: m.movementType,
        quantity: kg(1000),
        to: m.to,
      })
      expect(isConserved(s.stock), code).toBe(true)
    }
    expect(Object.keys(SAP_MOVEMENT_TYPES).sort()).toEqual([
      '122',
      '301',
      '303',
      '309',
      '321',
      '331',
      '343',
      '349',
      '350',
      '553',
    ])
  })

  it('349 takes blocked stock back to inspection', () => {
    const s = run(
      received,
      { type: 'movement', documentId: 'B', movementType: '350', quantity: kg(5000) },
      { type: 'movement', documentId: 'Q', movementType: '349', quantity: kg(5000) },
    )
    expect(s.stock.buckets.qualityInspection).toBe(50000)
  })

  it('refuses a movement larger than its source bucket (QLK_CONSERVATION)', () => {
    expect(() =>
      run(received, { type: 'movement', documentId: 'X', movementType: '321', quantity: kg(50001) }),
    ).toThrow(
      expect.objectContaining({
        code: 'QLK_CONSERVATION',
        message: expect.stringMatching(/lot L-1: bucket qualityInspection holds 50000 steps/),
      }),
    )
  })

  it('refuses a quantity in another unit or with lost precision', () => {
    expect(() =>
      run(received, {
        type: 'movement',
        documentId: 'X',
        movementType: '321',
        quantity: quantity(1, 0, 'LB'),
      }),
    ).toThrow(/kept in KG/)
    expect(() =>
      run(received, {
        type: 'movement',
        documentId: 'X',
        movementType: '321',
        quantity: quantity(1, 4, 'KG'),
      }),
    ).toThrow(expect.objectContaining({ code: 'QLK_UNIT_CONVERSION' }))
  })

  it('reverses a goods receipt (102) and refuses reversing twice', () => {
    const s = run(received, {
      type: 'goods_receipt_reversed',
      documentId: 'GR-1-R',
      receiptDocumentId: 'GR-1',
    })
    expect(s.stock.received).toBe(0)
    expect(s.stock.buckets.qualityInspection).toBe(0)
    expect(() =>
      run(s, { type: 'goods_receipt_reversed', documentId: 'GR-1-R2', receiptDocumentId: 'GR-1' }),
    ).toThrow(/already reversed/)
  })

  it('reverses part of a receipt, then the rest, never more than was received', () => {
    const part = run(received, {
      type: 'goods_receipt_reversed',
      documentId: 'R1',
      receiptDocumentId: 'GR-1',
      quantity: kg(10000),
    })
    expect(part.stock).toMatchObject({ received: 40000, buckets: { qualityInspection: 40000 } })
    expect(() =>
      run(part, {
        type: 'goods_receipt_reversed',
        documentId: 'R2',
        receiptDocumentId: 'GR-1',
        quantity: kg(40001),
      }),
    ).toThrow(/exceeds the 40000 steps left of receipt GR-1/)
    const rest = run(part, { type: 'goods_receipt_reversed', documentId: 'R3', receiptDocumentId: 'GR-1' })
    expect(rest.stock.received).toBe(0)
    expect(rest.documents['GR-1']).toMatchObject({ reversedUnits: 50000, cancelled: true })
  })

  it('refuses cancelling a cancellation document', () => {
    const s = run(
      received,
      { type: 'movement', documentId: 'M', movementType: '321', quantity: kg(1) },
      { type: 'document_cancelled', documentId: 'MC', cancelledDocumentId: 'M' },
    )
    expect(() =>
      run(s, { type: 'document_cancelled', documentId: 'MCC', cancelledDocumentId: 'MC' }),
    ).toThrow(/no cancellable movement document MC/)
  })

  it('refuses reversing a receipt whose stock already moved on', () => {
    const s = run(received, { type: 'movement', documentId: 'MD-1', movementType: '321', quantity: kg(1000) })
    expect(() =>
      run(s, { type: 'goods_receipt_reversed', documentId: 'R', receiptDocumentId: 'GR-1' }),
    ).toThrow(expect.objectContaining({ code: 'QLK_CONSERVATION' }))
  })

  it('cancels a material document with the exact inverse movement', () => {
    const s = run(
      received,
      { type: 'movement', documentId: 'MD-1', movementType: '553', quantity: kg(1000) },
      { type: 'document_cancelled', documentId: 'MD-1-C', cancelledDocumentId: 'MD-1' },
    )
    expect(s.stock.buckets).toMatchObject({ scrap: 0, qualityInspection: 50000 })
    expect(s.documents['MD-1']?.cancelled).toBe(true)
    expect(() =>
      run(s, { type: 'document_cancelled', documentId: 'MD-1-C2', cancelledDocumentId: 'MD-1' }),
    ).toThrow(/already cancelled/)
    expect(() =>
      run(s, { type: 'document_cancelled', documentId: 'C3', cancelledDocumentId: 'GR-1' }),
    ).toThrow(expect.objectContaining({ code: 'QLK_ILLEGAL_TRANSITION' }))
  })

  it('ignores the same material document seen again, refuses a different one under its number', () => {
    const again = run(received, {
      type: 'goods_receipt',
      documentId: 'GR-1',
      quantity: quantity(50, 0, 'KG'),
      to: 'qualityInspection',
    })
    expect(again).toBe(received)
    const sequenced = run(newLotStock('L-3', 'KG', 3), {
      type: 'goods_receipt',
      documentId: 'G',
      quantity: kg(5),
      to: 'blocked',
      sequence: 4,
    })
    expect(
      applyLotStockEvent(sequenced, {
        type: 'goods_receipt',
        documentId: 'G',
        quantity: kg(5),
        to: 'blocked',
        sequence: 4,
      }),
    ).toEqual({
      parked: false,
      state: sequenced,
    })
    const moved = run(received, { type: 'movement', documentId: 'M', movementType: '553', quantity: kg(10) })
    expect(run(moved, { type: 'movement', documentId: 'M', movementType: '553', quantity: kg(10) })).toBe(
      moved,
    )
    expect(() =>
      run(moved, { type: 'movement', documentId: 'M', movementType: '553', quantity: kg(11) }),
    ).toThrow(/material document M already applied with different content/)
    expect(() =>
      run(received, { type: 'goods_receipt', documentId: 'GR-1', quantity: kg(1), to: 'qualityInspection' }),
    ).toThrow(expect.objectContaining({ code: 'QLK_ILLEGAL_TRANSITION' }))
  })

  it('parks a stale posting', () => {
    const s = run(newLotStock('L-2', 'KG', 3), {
      type: 'goods_receipt',
      documentId: 'GR',
      quantity: kg(10),
      to: 'qualityInspection',
      sequence: 7,
    })
    expect(
      applyLotStockEvent(s, {
        type: 'movement',
        documentId: 'M',
        movementType: '321',
        quantity: kg(1),
        sequence: 7,
      }),
    ).toMatchObject({
      parked: true,
      code: 'QLK_STALE_SEQUENCE',
    })
  })
})

const movementTypes = Object.keys(SAP_MOVEMENT_TYPES) as SapMovementType[]

/** A random step: any movement type, between any two places, any size; many will be refused. */
const step = fc.oneof(
  fc.record({
    kind: fc.constant('movement' as const),
    movementType: fc.constantFrom(...movementTypes),
    from: fc.option(fc.constantFrom(...BUCKETS), { nil: undefined }),
    to: fc.option(fc.constantFrom(...BUCKETS, 'transferredOut' as const), { nil: undefined }),
    units: fc.integer({ min: 1, max: 60000 }),
  }),
  fc.record({ kind: fc.constant('receipt' as const), units: fc.integer({ min: 1, max: 60000 }) }),
  fc.record({ kind: fc.constant('reverse' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
)

describe('conservation under random movement sequences (property)', () => {
  it('Σ buckets + transferredOut = received after every accepted or refused step', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let s = newLotStock('L-P', 'KG', 3)
        let n = 0
        for (const st of steps) {
          n++
          const docs = Object.keys(s.documents)
          const pick = (i: number) => docs[i % Math.max(docs.length, 1)] ?? 'none'
          const event: LotStockEvent =
            st.kind === 'movement'
              ? {
                  type: 'movement',
                  documentId: `M${n}`,
                  movementType: st.movementType,
                  quantity: kg(st.units),
                  from: st.from,
                  to: st.to,
                }
              : st.kind === 'receipt'
                ? {
                    type: 'goods_receipt',
                    documentId: `G${n}`,
                    quantity: kg(st.units),
                    to: 'qualityInspection',
                  }
                : st.kind === 'reverse'
                  ? { type: 'goods_receipt_reversed', documentId: `R${n}`, receiptDocumentId: pick(st.pick) }
                  : { type: 'document_cancelled', documentId: `C${n}`, cancelledDocumentId: pick(st.pick) }
          try {
            const out = applyLotStockEvent(s, event)
            if (!out.parked) s = out.state
          } catch (e) {
            expect((e as { code?: string }).code).toMatch(/^QLK_(CONSERVATION|ILLEGAL_TRANSITION)$/)
          }
          expect(isConserved(s.stock)).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })
})
