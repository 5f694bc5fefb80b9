/**
 * The plant history a customer complaint is traced through, shared by the complaint tests (in
 * process over the plant hub, and over a real `qualink start` process): two supplier lots of
 * RAW-100 received from SUP-7 into unrestricted stock (the S/4 simulator's goods receipts, reaching
 * Qualink by its webhook), both consumed by production order PO-1 into finished lot FG-1, FG-1
 * shipped to CUST-1. A complaint about FG-1 traces back to both supplier lots, whose unrestricted
 * stock is the suspect stock to block: two ERP effects, then the NC and the CAPA in the QMS.
 */
import type { ErpS4Sim } from '../../simulators/index.ts'
import { GenealogyProjector } from '../../src/projections/genealogy-projector.ts'
import { genealogyTraceability } from '../../src/projections/traceability-port.ts'
import type { Store } from '../../src/store/types.ts'
import { untilTailCaughtUp } from '../dialects.ts'
import { until } from '../engine/harness.ts'
import { receiveGoods } from './helpers.ts'

/** the supplier lots and their received quantity (KG, 3 decimals in the simulator's stock) */
export const SUSPECT_LOTS = { 'RAW-B1': 100_000, 'RAW-B2': 50_000 } as const
export type SuspectLot = keyof typeof SUSPECT_LOTS
export const SUSPECT = Object.keys(SUSPECT_LOTS) as SuspectLot[]
/** the S/4 simulator's lot key of a supplier lot (its counts are kept per lot and bucket) */
export const erpLotKey = (batch: string) => `RAW-100|1000|${batch}`

/** S/4 options of the scene: RAW-100 is not inspection-relevant, so a receipt lands unrestricted. */
export const SCENE_ERP_MATERIALS = { 'RAW-100': { inspectionRelevant: false, baseUnit: 'KG' } } as const

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }

/** Posts one canonical event to Qualink (in process or over HTTP), expecting it stored. */
export type PostEvent = (type: string, subject: string, data: Record<string, unknown>) => Promise<void>

/**
 * Receives both supplier lots in the ERP, waits until `receipts()` counts them in Qualink, then
 * posts PO-1's operation (both consumed, FG-1 produced) and FG-1's delivery to CUST-1 in `plant`.
 */
export async function buildComplaintScene(
  erp: ErpS4Sim,
  post: PostEvent,
  receipts: () => Promise<number>,
  plant: string,
): Promise<void> {
  for (const [batch, kg] of Object.entries(SUSPECT_LOTS)) await receiveGoods(erp, batch, String(kg / 1000))
  await until(async () => (await receipts()) === SUSPECT.length)
  await post('mes.operation.completed.v1', 'PO-1', {
    operation: { productionOrder: 'PO-1', number: '0010' },
    plant,
    measurements: [],
    consumed: SUSPECT.map((lot) => ({
      lot,
      material: 'RAW-100',
      quantity: { units: 10_000, scale: 3, uom: 'KG' },
    })),
    produced: [{ lot: 'FG-1', material: 'FG-1', quantity: { units: 40, scale: 0, uom: 'PC' } }],
    audit,
  })
  await post('erp.delivery.shipped.v1', 'FG-1', {
    delivery: '80-FG-1',
    plant,
    customer: 'CUST-1',
    lines: [{ item: '000010', material: 'FG-1', lot: 'FG-1', quantity: { units: 40, scale: 0, uom: 'PC' } }],
    audit,
  })
}

/**
 * The traceability port of an in-process test: the genealogy projection caught up with every
 * stored event first (on PostgreSQL the tail reads below the visibility watermark).
 */
export function caughtUpTracePort(store: Store) {
  const projector = new GenealogyProjector(store)
  return genealogyTraceability(store, async () => {
    await untilTailCaughtUp(store)
    await projector.catchUp()
  })
}

/** The complaint every scenario files: about FG-1, by CUST-1, severity HIGH (canonical `major`). */
export const COMPLAINT = {
  customer: 'CUST-1',
  material: 'FG-1',
  batch: 'FG-1',
  severity: 'HIGH',
  description: 'cracked housing',
} as const

/** Per suspect lot: the stock the ERP must end with once the complaint blocked it. */
export function blockedStock(batch: SuspectLot) {
  return { unrestricted: 0, blocked: SUSPECT_LOTS[batch] }
}

/**
 * The step sequence of one complaint run (journal and audit): one block step per affected lot the
 * ERP knows the material of — both supplier lots and FG-1 (which holds no ERP stock: nothing posted).
 */
export const COMPLAINT_STEPS = [
  'trace',
  'block-suspect-stock',
  'block-suspect-stock',
  'block-suspect-stock',
  'open-nonconformance',
  'open-corrective-action',
  'notify-quality',
] as const
