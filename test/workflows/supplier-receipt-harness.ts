/**
 * Shared set-up of the receipt workflow's path tests: a store per dialect, the S/4 and QMS
 * simulators with every webhook delivered twice, a chat webhook stub that records notifications,
 * and Qualink started with the workflow. The bindings are live (ESM): tests read the current ones.
 */
import { afterEach, beforeEach } from 'vitest'
import { MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import type { ErpS4Sim, QmsSim } from '../../simulators/index.ts'
import { notifyWebhookConnector } from '../../src/connectors/notify/webhook/connector.ts'
import type { WorkflowDefinition } from '../../src/engine/workflow.ts'
import type { Qualink } from '../../src/server/qualink.ts'
import type { RunRow } from '../../src/store/engine-types.ts'
import type { Store } from '../../src/store/types.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { type HttpStub, startStub } from '../connectors/http-stub.ts'
import { AVAILABLE, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { receiveGoods } from './helpers.ts'
import { type PlantHub, startPlantHub } from './plant-hub.ts'

const KEY = (batch: string) => `RAW-100|1000|${batch}`

let hub: PlantHub
export let store: Store
export let erp: ErpS4Sim
export let qms: QmsSim
export let chat: HttpStub
export let q: Qualink

/** Registers the per-test set-up and tear-down; call inside the dialect's describe. */
export function useReceiptHarness(dialect: Dialect): void {
  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startPlantHub(dialect, {
      erp: { materials: { 'RAW-100': { baseUnit: 'KG' } }, webhook: true },
      qms: { webhook: true },
      egress: { timeoutMs: 2000 },
      leaseTtlMs: 30_000,
      deferStart: true,
    })
    ;({ store, erp, qms } = hub)
    // Every webhook of both systems arrives twice.
    erp.faults.set({ duplicateRate: 1, seed: 3 })
    qms.faults.set({ duplicateRate: 1, seed: 5 })
    // A Slack-compatible incoming webhook that records what people would be told.
    chat = await startStub(() => ({ status: 200, body: 'ok' }))
    process.env.QLK_PATHS_CHAT = `${chat.url}/services/T/B/X`
    await boot(supplierReceiptInspection())
  })
  afterEach(async () => {
    await hub?.close()
    await chat?.close()
  })
}

/** Starts Qualink on the test's store and port with one definition of the workflow. */
// biome-ignore lint/suspicious/noExplicitAny: a v1 stand-in and v2 have the same shape
export const boot = async (workflow: WorkflowDefinition<any, any>) => {
  const notify = notifyWebhookConnector.instantiate(
    { urlEnv: 'QLK_PATHS_CHAT', format: 'slack' },
    { name: 'notify', allowlist: [chat.url], leaseMs: 30_000 },
  )
  q = await hub.start({ workflows: [workflow], ports: { notify } })
}

export const s4 = () => s4Client(erp.url)
/** Posts a goods receipt in the ERP; returns its material document. */
export const receive = (batch: string, qty: string) => receiveGoods(erp, batch, qty)
export const cancelInErp = (doc: { id: string; year: string }) =>
  s4().send('POST', `${MATDOC}/Cancel?MaterialDocumentYear='${doc.year}'&MaterialDocument='${doc.id}'`, {})
export const qmsLotFor = async (batch: string) => {
  const find = () => [...qms.model.lots.values()].find((l) => l.batch === batch)
  await until(() => find() !== undefined)
  return find()!
}
export const runs = (lot: string) => store.engine.listRuns(ALL, { key: lot, limit: 20 })
export const runWith = async (lot: string, outcome: (r: RunRow) => boolean) => {
  await until(async () => (await runs(lot)).some(outcome), 45_000)
  return (await runs(lot)).find(outcome)!
}
export const outcome = (o: string) => (r: RunRow) =>
  r.status === 'completed' && (r.result as { outcome?: string } | null)?.outcome === o
export const docs = (batch: string) => erp.state.counts.documentsByLotAndBucket[KEY(batch)]
export const stock = (batch: string) => erp.state.stock.find((s) => s.lot === KEY(batch))?.buckets
export const told = (text: string) => chat.requests.some((r) => r.body.includes(text))
export const erpLotsOf = (batch: string) => [...erp.model.lots.values()].filter((l) => l.Batch === batch)
