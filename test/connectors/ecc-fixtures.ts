/**
 * What the two ECC connector suites (sap-ecc-idoc, sap-ecc-soap) share against the erp-ecc
 * simulator: the lot they post, a usage decision's four-line stock split, and the check that it
 * made one material document per bucket and moved the whole lot out of QI stock.
 */
import { expect } from 'vitest'
import type { ErpEccSim } from '../../simulators/erp-ecc/server.ts'
import type { LotRef, PostStockDispositionInput } from '../../src/workflows/ports/erp.ts'

export const LOT: LotRef = { plant: '1000', material: 'RAW-100', lot: 'B1' }
export const STOCK_KEY = 'RAW-100|1000|B1'
export const INSPECTION_LOT = '010000000001'
export const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })

/** 100 KG split: release 50 + 10 (one document), block 30, scrap 10. */
export const split = (key = 'run-1/post-stock'): PostStockDispositionInput => ({
  idempotencyKey: key,
  inspectionLot: INSPECTION_LOT,
  lot: LOT,
  lines: [
    { bucket: 'release', quantity: kg(50) },
    { bucket: 'block', quantity: kg(30) },
    { bucket: 'release', quantity: kg(10) },
    { bucket: 'scrap', quantity: kg(10) },
  ],
})

/** The receipt's document plus one per bucket, and the stock vector after the split. */
export function expectOneDocumentPerBucket(sim: ErpEccSim): void {
  expect(sim.state.counts.documentsByLotAndBucket[STOCK_KEY]).toEqual({
    qi: 1,
    unrestricted: 1,
    blocked: 1,
    scrap: 1,
  })
  expect(sim.state.stock[0]!.buckets).toMatchObject({
    qi: 0,
    unrestricted: 60_000,
    blocked: 30_000,
    scrap: 10_000,
  })
  expect(sim.state.counts.conservationViolations).toEqual([])
}
