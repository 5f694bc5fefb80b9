/**
 * The erp/sap-s4 connector over the S/4 simulator as its tests set it up: a material, a production
 * order and an outbound delivery seeded; a goods receipt of RAW-100 batch B1 (100 KG) posted, which
 * opens its inspection lot; the connector with recording metrics and a manual clock (rate-limit
 * waits advance it instantly). `connectTo` puts something between the two (an interposer).
 */
import { expect } from 'vitest'
import { type ErpS4Options, type ErpS4Sim, startErpS4 } from '../../simulators/erp-s4/server.ts'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { sapS4Connector } from '../../src/connectors/erp/sap-s4/connector.ts'
import { ManualClock, RecordingMetrics } from '../../src/connectors/sdk/index.ts'
import type { ErpPort, LotRef, PostStockDispositionInput } from '../../src/workflows/ports/erp.ts'

export const LOT: LotRef = { plant: '1000', material: 'RAW-100', lot: 'B1' }
export const STOCK_KEY = 'RAW-100|1000|B1'
export const ORDER = '1000123'
export const DELIVERY = '80000001'
export const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })

export interface S4Fixture {
  readonly sim: ErpS4Sim
  readonly erp: ErpPort
  readonly metrics: RecordingMetrics
  readonly clock: ManualClock
  readonly inspectionLot: string
  /** the usage decision the tests post stock under (R2, rejected) */
  decide(): Promise<unknown>
  /** 60 KG released, 30 blocked, 10 scrapped out of the receipt's inspection lot */
  split(key?: string): PostStockDispositionInput
}

export async function startS4Fixture(
  o: { sim?: Partial<ErpS4Options>; connectTo?: (simUrl: string) => Promise<string> } = {},
): Promise<S4Fixture> {
  const sim = await startErpS4({
    port: 0,
    materials: { 'RAW-100': { baseUnit: 'KG' } },
    productionOrders: [
      { ManufacturingOrder: ORDER, Material: 'FG-1', ProductionPlant: '1000', TotalQuantity: '10' },
    ],
    deliveries: [
      {
        DeliveryDocument: DELIVERY,
        ShipToParty: 'C1',
        items: [{ Material: 'FG-1', Plant: '1000', Batch: 'F1', quantity: '5' }],
      },
    ],
    ...o.sim,
  })
  const res = await s4Client(sim.url).send(
    'POST',
    `${MATDOC}/A_MaterialDocumentHeader`,
    goodsReceipt('B1', '100'),
  )
  expect(res.status).toBe(201)
  const inspectionLot = sim.state.inspectionLots[0]!.lot
  const metrics = new RecordingMetrics()
  const clock = new ManualClock()
  const url = o.connectTo ? await o.connectTo(sim.url) : sim.url
  const erp = sapS4Connector.instantiate(
    { baseUrl: url, egress: { timeoutMs: 300 } },
    { name: 'sap-test', allowlist: [url], metrics, clock, leaseMs: 30_000 },
  )
  return {
    sim,
    erp,
    metrics,
    clock,
    inspectionLot,
    decide: () =>
      erp.recordUsageDecision({
        idempotencyKey: 'run-1/ud',
        inspectionLot,
        valuation: 'rejected',
        code: 'R2',
      }),
    split: (key = 'run-1/post-stock') => ({
      idempotencyKey: key,
      inspectionLot,
      lot: LOT,
      lines: [
        { bucket: 'release', quantity: kg(60) },
        { bucket: 'block', quantity: kg(30) },
        { bucket: 'scrap', quantity: kg(10) },
      ],
    }),
  }
}
