/**
 * Reconciliation part of bench/genealogy.ts (issue 7): a real Qualink (startQualink, real store,
 * engine, supplier receipt inspection) between the S/4 and QMS simulators over real sockets.
 * N lots go the whole way first (goods receipt → QMS inspection lot → usage decision → stock
 * posted, run completed); then the reconciler's pass over them is timed (`runOnce`, as the
 * periodic singleton runs it). Baseline in the same run: the N ERP stock reads alone through the
 * same connector, one after the other: the floor for a pass that reads every lot's stock once.
 * The connectors run with their egress rate limit raised to 10,000/s so the reconciler and the
 * simulator are what is measured; one more pass with a connector at the shipped default
 * (DEFAULT_RATE_LIMIT, 20 requests/s) shows what a plant gets without configuring it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import pino from 'pino'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { startErpS4, startQms } from '../../simulators/index.ts'
import { sapS4Connector } from '../../src/connectors/erp/sap-s4/connector.ts'
import { sapS4GoodsReceiptTranslator } from '../../src/connectors/erp/sap-s4/gr-translator.ts'
import { qmsRestConnector } from '../../src/connectors/qms/rest/connector.ts'
import { qmsWebhookTranslator } from '../../src/connectors/qms/rest/webhook-translator.ts'
import { Reconciler } from '../../src/projections/reconciliation.ts'
import { startQualink } from '../../src/server/qualink.ts'
import { PostgresStore } from '../../src/store/postgres/store.ts'
import { SqliteStore } from '../../src/store/sqlite/store.ts'
import type { Store } from '../../src/store/types.ts'
import { mappedErpPort } from '../../src/workflows/ports/mapped.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { createTempDatabase, waitForQuiet } from './machine.ts'
import { plantCodes } from './pipeline-qualink.ts'
import { cloneFinishedLots } from './reconciliation-seed.ts'

/** Above this many lots, 200 go the whole way and the rest are copies of one of them (reconciliation-seed.ts). */
const REAL_LOTS_MAX = 1000
const REAL_LOTS_WHEN_SEEDED = 200
const TEMPLATE = 'TPLZ9'

export interface ReconciliationResult {
  readonly lots: number
  readonly preloadSeconds: number
  /** lots per second of each timed pass, and of each baseline run of bare ERP reads */
  readonly passes: number[]
  readonly reads: number[]
  /** lots per second of one pass through a connector at the shipped default rate limit */
  readonly shippedRate: number
  readonly driftFound: number[]
  readonly idle: number[]
  /** lots that went the whole way through the workflow; the rest were copied (reconciliation-seed.ts) */
  readonly realLots: number
  readonly seedSeconds: number
  /** the benchmark process (Qualink, both simulators, the store client) during each timed pass, MB */
  readonly peakRssMb: number[]
  readonly rssBeforeMb: number[]
  readonly passSeconds: number[]
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}

const source = (name: string, secret: string, prefix: string) => ({
  name,
  plant: 'P100',
  secrets: [secret],
  signatureHeader: `x-${prefix}-signature`,
  deliveryIdHeader: `x-${prefix}-delivery-id`,
})

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`reconciliation bench: timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export async function reconciliationBench(
  dialect: 'sqlite' | 'postgres',
  adminUrl: string,
  lots: number,
  reps: number,
  log: (s: string) => void,
): Promise<ReconciliationResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-recon-'))
  const db = dialect === 'postgres' ? await createTempDatabase(adminUrl, 'recon') : undefined
  const store: Store = db
    ? await PostgresStore.open({ connectionString: db.url })
    : SqliteStore.open({ file: path.join(dir, 'qualink.db') })
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const erp = await startErpS4({
    materials: { 'RAW-100': { baseUnit: 'KG' } },
    webhook: { url: `${base}/v1/ingress/erp-s4`, secret: 'e' },
  })
  const qms = await startQms({ webhook: { url: `${base}/v1/ingress/qms`, secret: 'q' } })
  const runtime = (name: string, url: string) => ({ name, allowlist: [url], leaseMs: 30_000 })
  const egress = { rateLimit: { ratePerSecond: 10_000, burst: 1_000 } }
  const erpPort = sapS4Connector.instantiate({ baseUrl: erp.url, egress }, runtime('erp', erp.url))
  const shippedErp = sapS4Connector.instantiate({ baseUrl: erp.url }, runtime('erp-default', erp.url))
  const q = await startQualink({
    store,
    port,
    logger: pino({ level: 'silent' }),
    anchorFile: path.join(dir, 'anchors.jsonl'),
    webhooks: [source('erp-s4', 'e', 'erp'), source('qms', 'q', 'qms')],
    // the simulator's plant 1000 is P100, mapped both ways (qualink.yaml idMapping.<name>.plants)
    translators: [sapS4GoodsReceiptTranslator('erp-s4', plantCodes('erp-s4')), qmsWebhookTranslator('qms')],
    workflows: [supplierReceiptInspection()],
    ports: {
      erp: mappedErpPort(erpPort, {}, plantCodes('erp'), 'P100'),
      qms: qmsRestConnector.instantiate({ baseUrl: qms.url, egress }, runtime('qms', qms.url)),
    },
    // the benchmark drives the passes itself
    reconcile: { intervalMs: 3_600_000, policy: () => 'alert' },
  })
  try {
    const t0 = performance.now()
    const s4 = s4Client(erp.url)
    const seeded = lots > REAL_LOTS_MAX
    const real = seeded ? REAL_LOTS_WHEN_SEEDED : lots
    const batches = Array.from({ length: real }, (_, i) => (seeded && i === real - 1 ? TEMPLATE : `R${i}`))
    for (const [i, batch] of batches.entries()) {
      const r = await s4.send('POST', `${MATDOC}/A_MaterialDocumentHeader`, goodsReceipt(batch, '100'))
      if (r.status !== 201) throw new Error(`goods receipt ${i}: HTTP ${r.status}`)
      await r.arrayBuffer()
    }
    await until('the QMS inspection lots', () => qms.state.inspectionLots.length >= real, 30 * 60_000)
    for (const l of qms.state.inspectionLots)
      qms.makeUsageDecision(String(l.id), {
        decision: 'ACCEPT',
        code: 'A2',
        dispositions: [
          { disposition: 'USE_AS_IS', quantity: '60' },
          { disposition: 'REWORK', quantity: '40' },
        ],
      })
    const scope = { allPlants: true, reason: 'bench' } as const
    await until(
      'every receipt inspection to complete',
      async () =>
        (await store.engine.listRuns(scope, { status: 'completed', limit: real + 1 })).length >= real,
      30 * 60_000,
    )
    const preloadSeconds = (performance.now() - t0) / 1000
    log(
      `reconciliation ${dialect}: ${real} lots received, decided and posted in ${preloadSeconds.toFixed(1)} s`,
    )
    const s0 = performance.now()
    if (seeded) batches.push(...(await cloneFinishedLots(store, erp, qms, TEMPLATE, lots - real, 'C')))
    const seedSeconds = (performance.now() - s0) / 1000
    if (seeded)
      log(
        `reconciliation ${dialect}: ${lots - real} copies of lot ${TEMPLATE} added in ${seedSeconds.toFixed(1)} s`,
      )
    const out: ReconciliationResult = {
      lots,
      preloadSeconds,
      passes: [],
      reads: [],
      shippedRate: Number.NaN,
      driftFound: [],
      idle: [],
      realLots: real,
      seedSeconds,
      peakRssMb: [],
      rssBeforeMb: [],
      passSeconds: [],
    }
    const refs = batches.map((lot) => ({ plant: '1000', material: 'RAW-100', lot }))
    const mb = () => process.memoryUsage().rss / 2 ** 20
    for (let rep = 0; rep < reps; rep++) {
      out.idle.push(await waitForQuiet())
      out.rssBeforeMb.push(mb())
      let peak = mb()
      const sampler = setInterval(() => {
        peak = Math.max(peak, mb())
      }, 50)
      const a = performance.now()
      const drift = await q.reconciler!.runOnce()
      clearInterval(sampler)
      out.passSeconds.push((performance.now() - a) / 1000)
      out.peakRssMb.push(Math.max(peak, mb()))
      out.passes.push(lots / ((performance.now() - a) / 1000))
      out.driftFound.push(drift.length)
      out.idle.push(await waitForQuiet())
      const b = performance.now()
      for (const ref of refs) await erpPort.readLotStock(ref)
      out.reads.push(lots / ((performance.now() - b) / 1000))
      log(
        `reconciliation ${dialect} ${rep + 1}/${reps}: pass ${out.passes.at(-1)!.toFixed(0)} lots/s (${drift.length} drift), bare ERP reads ${out.reads.at(-1)!.toFixed(0)} lots/s`,
      )
    }
    // At the shipped default (20 requests/s) a pass over 100,000 lots takes 83 minutes at least:
    // measured only for the runs of every lot through the workflow (at most 1,000 lots).
    if (seeded) return out
    out.idle.push(await waitForQuiet())
    const c = performance.now()
    const shipped = mappedErpPort(shippedErp, {}, plantCodes('erp-default'), 'P100')
    await new Reconciler(store, shipped, () => 'alert').runOnce()
    const shippedRate = lots / ((performance.now() - c) / 1000)
    log(`reconciliation ${dialect}: pass at the shipped rate limit ${shippedRate.toFixed(1)} lots/s`)
    return { ...out, shippedRate }
  } finally {
    await q.close()
    await Promise.all([erp.close(), qms.close()])
    await store.close()
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}
