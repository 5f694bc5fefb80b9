import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HttpError } from '../shared/http.ts'
import { formatQuantity } from '../shared/quantity.ts'
import { BUCKETS } from '../shared/stock-ledger.ts'
import { cancelMaterialDocument, postMaterialDocument } from './material-documents.ts'
import { S4Model } from './model.ts'

const hooks = (model: S4Model) => ({
  openInspectionLot: () => ({ InspectionLot: `L${model.lots.size}` }) as never,
  goodsReceiptPosted: () => {},
})

const op = fc.oneof(
  fc.record({
    kind: fc.constant('receipt' as const),
    batch: fc.constantFrom('A', 'B'),
    qty: fc.integer({ min: 1, max: 50_000 }),
  }),
  fc.record({
    kind: fc.constant('move' as const),
    batch: fc.constantFrom('A', 'B'),
    mt: fc.constantFrom('321', '322', '343', '344', '349', '350', '551', '553', '555', '331', '201', '122'),
    qty: fc.integer({ min: 1, max: 30_000 }),
  }),
  fc.record({ kind: fc.constant('cancel' as const), index: fc.nat(40) }),
)

describe('erp-s4 stock conservation', () => {
  it('random postings and cancellations never break conservation or drive a bucket negative', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const model = new S4Model(
          new Map([['M', { inspectionRelevant: false, baseUnit: 'KG' }]]),
          () => 1_700_000_000_000,
        )
        for (const o of ops) {
          try {
            if (o.kind === 'cancel') {
              const d = model.documents[o.index % Math.max(1, model.documents.length)]
              if (d) cancelMaterialDocument(model, d.MaterialDocumentYear, d.MaterialDocument)
              continue
            }
            const code =
              o.kind === 'receipt'
                ? '05'
                : ['321', '322', '343', '344', '349', '350'].includes(o.mt)
                  ? '04'
                  : '03'
            postMaterialDocument(
              model,
              {
                GoodsMovementCode: code,
                items: [
                  {
                    Material: 'M',
                    Plant: 'P',
                    Batch: o.batch,
                    GoodsMovementType: o.kind === 'receipt' ? '501' : o.mt,
                    InventoryStockType: o.kind === 'receipt' ? '02' : '',
                    QuantityInEntryUnit: formatQuantity(o.qty),
                  },
                ],
              },
              hooks(model),
            )
          } catch (err) {
            // Deficits and already-cancelled documents are refusals, not corruption.
            if (!(err instanceof HttpError) || err.status !== 400) throw err
          }
          expect(model.ledger.violations()).toEqual([])
        }
        for (const lot of model.ledger.all())
          for (const b of BUCKETS) expect(lot.buckets[b]).toBeGreaterThanOrEqual(0)
      }),
      { seed: 42, numRuns: 200 },
    )
  })
})
