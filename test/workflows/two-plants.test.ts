/**
 * Issue 8: the two-plant, two-ERP configuration runs end to end. A Qualink is started from
 * examples/two-plants/qualink.yaml the way `qualink start --config` starts one (loadConfig +
 * buildRuntime + startQualink); secrets come from environment variables, and a test overlay
 * (qualink.test.yaml, QUALINK_ENV=test) points the connectors at simulators on free ports instead
 * of the file's fixed 4101/4103/4104/4109, which other tests running in parallel may hold.
 * Around it run the S/4 simulator (P100), the ERPNext simulator (P200), the shared QMS simulator
 * and a notify receiver. A goods receipt in each plant's own ERP arrives through that plant's ERP
 * webhook (S/4's signed GoodsReceiptPosted, ERPNext's Frappe-signed Purchase Receipt), each runs
 * supplier receipt inspection to the end (QMS inspection lot, usage decision through the QMS
 * webhook of that plant, stock posting), and each plant's posting is counted in its own ERP only.
 */
import { copyFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import {
  type ErpNextSim,
  type ErpS4Sim,
  type QmsSim,
  startErpNext,
  startErpS4,
  startQms,
} from '../../simulators/index.ts'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { TempDir } from '../config/fixture.ts'
import { createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort } from '../services.ts'
import { frappe, RECEIPT_ROW, submitReceiptWithInspection } from './erpnext-receipts.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf } from './helpers.ts'

const EXAMPLE = new URL('../../examples/two-plants/qualink.yaml', import.meta.url)
const P200_WAREHOUSES = {
  'Stores - P200': 'unrestricted',
  'Quality Inspection - P200': 'qi',
  'Quarantine - P200': 'blocked',
  'Scrap - P200': 'scrap',
} as const
const SECRETS = { erpP100: 'erp-p100-secret', erpP200: 'frappe-p200-secret', qms: 'qms-secret' }

/** A notify/webhook receiver: what Qualink told the QA on duty, as received. */
async function notifyReceiver(): Promise<{ url: string; bodies: unknown[]; server: Server }> {
  const bodies: unknown[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'))
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/qa`, bodies, server }
}

/**
 * The QMS's webhook subscription per site, as the example configures it (qms-p100, qms-p200): each
 * delivery goes on, unchanged and still signed, to the ingress of the plant of the lot it is about.
 */
async function qmsSubscriptions(
  ingress: (source: string) => string,
  lots: () => Array<Record<string, unknown>>,
): Promise<{ url: string; routed: string[]; server: Server }> {
  const routed: string[] = []
  const plantOf = (d: Record<string, unknown>) =>
    (d.plant ??
      (d.inspectionLot as { plant?: string } | undefined)?.plant ??
      lots().find((l) => l.id === d.inspectionLotId)?.plant) as string | undefined
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const body = Buffer.concat(chunks)
      const w = JSON.parse(body.toString('utf8')) as { type: string; data: Record<string, unknown> }
      const plant = plantOf(w.data)
      if (!plant) return res.writeHead(422).end(`no site subscription for ${w.type}`)
      routed.push(`${w.type}→${plant}`)
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => k.startsWith('x-qms-') || k === 'content-type'),
      ) as Record<string, string>
      const answer = await fetch(ingress(`qms-${plant.toLowerCase()}`), { method: 'POST', headers, body })
      res.writeHead(answer.status).end(await answer.text())
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/qms`, routed, server }
}

describe.each(DIALECTS)('examples/two-plants run end to end on %s', (dialect: Dialect) => {
  const closers: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close()
  })

  it("runs each plant's receipt through its own ERP: P100's posting only in S/4, P200's only in ERPNext", async () => {
    const tmp = new TempDir()
    closers.push(async () => tmp.remove())
    const port = await freePort()
    const ingress = (source: string) => `http://127.0.0.1:${port}/v1/ingress/${source}`
    const notify = await notifyReceiver()
    closers.push(() => new Promise((r) => notify.server.close(r)))
    const s4: ErpS4Sim = await startErpS4({
      port: 0,
      materials: { 'RAW-100': { baseUnit: 'KG' } },
      webhook: { url: ingress('erp-p100'), secret: SECRETS.erpP100 },
    })
    closers.push(() => s4.close())
    const erpnext: ErpNextSim = await startErpNext({
      port: 0,
      company: 'Plant B GmbH', // P200 in the example's idMapping of erp-p200
      warehouses: { ...P200_WAREHOUSES },
      webhook: { url: ingress('erp-p200'), secret: SECRETS.erpP200 },
    })
    closers.push(() => erpnext.close())
    // one QMS for both plants, its webhooks through one subscription per site
    let qmsLots: () => Array<Record<string, unknown>> = () => []
    const sites = await qmsSubscriptions(ingress, () => qmsLots())
    closers.push(() => new Promise((r) => sites.server.close(r)))
    const qms: QmsSim = await startQms({ port: 0, webhook: { url: sites.url, secret: SECRETS.qms } })
    closers.push(() => qms.close())
    qmsLots = () => qms.state.inspectionLots

    // the example as shipped, with a test overlay for where the systems listen here
    const file = path.join(tmp.dir, 'qualink.yaml')
    copyFileSync(EXAMPLE, file)
    tmp.write('qualink.test.yaml', {
      connectors: {
        'sap-p100': { config: { baseUrl: s4.url, egress: { timeoutMs: 2000 } } },
        'erpnext-p200': { config: { baseUrl: erpnext.url, egress: { timeoutMs: 2000 } } },
        'qms-cloud': { config: { baseUrl: qms.url, egress: { timeoutMs: 2000 } } },
      },
      egress: {
        allowlist: {
          'sap-p100': [s4.url],
          'erpnext-p200': [erpnext.url],
          'qms-cloud': [qms.url],
          'qa-on-duty': [new URL(notify.url).origin],
        },
      },
      // the file's second P100 secret (a rotation's previous one) is a file that is not here
      ingress: {
        webhooks: { 'erp-p100': { secrets: [{ secretEnv: 'ERP_P100_WEBHOOK_SECRET' }] } },
        fileDrops: { 'lims-p200': { dir: tmp.dir } },
      },
    })
    const env = {
      SAP_P100_PASSWORD: 'sim',
      ERPNEXT_P200_KEY: 'simkey',
      ERPNEXT_P200_SECRET: 'simsecret',
      QA_CHAT_WEBHOOK_URL: notify.url,
      ERP_P100_WEBHOOK_SECRET: SECRETS.erpP100,
      ERP_P200_WEBHOOK_SECRET: SECRETS.erpP200,
      QMS_WEBHOOK_SECRET: SECRETS.qms,
    }
    // connectors read their credentials from the process environment, as under `qualink start`
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
    Object.assign(process.env, env)
    closers.push(async () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    })
    const rt = buildRuntime(loadConfig(file, { QUALINK_ENV: 'test' }), { ...process.env, ...env })
    expect(rt.options.webhooks?.map((w) => `${w.name}@${w.plant}`)).toEqual([
      'erp-p100@P100',
      'erp-p200@P200',
      'qms-p100@P100',
      'qms-p200@P200',
    ])

    const db: TestDatabase = await createTestDatabase(dialect)
    closers.push(() => db.cleanup())
    const store: Store = await db.open()
    closers.push(() => store.close())
    const q: Qualink = await startQualink({
      ...rt.options,
      store,
      port,
      dataDir: db.dir,
      anchorFile: path.join(db.dir, 'anchors.jsonl'),
      logger: pino({ level: 'silent' }),
    })
    closers.push(() => q.close())

    // P100: a goods receipt into quality inspection in S/4 (its GoodsReceiptPosted webhook)
    const gr = goodsReceipt('B100', '100') as { to_MaterialDocumentItem: Array<{ Plant: string }> }
    gr.to_MaterialDocumentItem[0]!.Plant = 'P100'
    expect((await s4Client(s4.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, gr)).status).toBe(201)

    // P200: a Purchase Receipt in ERPNext into its QI warehouse, its row naming the incoming
    // Quality Inspection, submitted (ERPNext's on_submit webhook)
    const { qi } = await submitReceiptWithInspection(erpnext, 'Quality Inspection - P200')

    // both inspection lots open in the one QMS, each with its plant
    const lot100 = await inspectionLotOf(qms, 'B100')
    const lot200 = await inspectionLotOf(qms, 'B200')
    expect([lot100.plant, lot200.plant]).toEqual(['P100', 'P200'])

    const runOf = async (lot: string) => (await store.engine.listRuns(ALL, { key: lot, limit: 5 }))[0]
    // the QMS decides both lots; each decision reaches Qualink through its plant's webhook
    qms.makeUsageDecision(lot200.id, ACCEPT_SPLIT_60_30_10)
    qms.makeUsageDecision(lot100.id, ACCEPT_SPLIT_60_30_10)
    await until(async () => (await runOf('B100'))?.status === 'completed', 60_000)
    await until(async () => (await runOf('B200'))?.status === 'completed', 60_000)
    expect(sites.routed.filter((r) => r.startsWith('usage_decision.made'))).toEqual([
      'usage_decision.made→P200',
      'usage_decision.made→P100',
    ])
    expect(qms.state.webhooks.deliveries.map((d) => d.status)).not.toContain('network-error')

    // P100's usage decision and stock posting: in S/4, once per bucket, and nothing of P200 there
    const s4Docs = s4.state.counts.documentsByLotAndBucket
    expect(Object.keys(s4Docs)).toEqual(['RAW-100|P100|B100'])
    expect(s4Docs['RAW-100|P100|B100']).toEqual({ qi: 1, unrestricted: 1, blocked: 1, scrap: 1 })
    expect(s4.state.stock.find((s) => s.lot === 'RAW-100|P100|B100')!.buckets).toMatchObject({
      qi: 0,
      unrestricted: 60_000,
      blocked: 30_000,
      scrap: 10_000,
    })

    // P200's: one Stock Entry of three rows in ERPNext, its Quality Inspection decided; no B100 there
    const state = erpnext.state
    expect(state.docs['Stock Entry']!.filter((d) => d.docstatus === 1)).toHaveLength(1)
    expect(state.counts.submittedStockEntriesByBatch).toEqual({ B200: 3 })
    expect(state.docs['Quality Inspection']!.find((d) => d.name === qi.name)).toMatchObject({
      status: 'Accepted',
      docstatus: 1,
      remarks: `A2 ${lot200.id}`,
    })
    expect(state.bins.filter((b) => b.batch === 'B100')).toEqual([])
    expect(
      Object.fromEntries(state.bins.filter((b) => b.batch === 'B200').map((b) => [b.warehouse, b.qty])),
    ).toEqual({
      'Quality Inspection - P200': 0,
      'Stores - P200': 60_000,
      'Quarantine - P200': 30_000,
      'Scrap - P200': 10_000,
    })
    expect(state.counts.conservationViolations).toEqual([])

    // each run belongs to its plant and ended with its supplier's score
    const [run100, run200] = [(await runOf('B100'))!, (await runOf('B200'))!]
    expect([run100.plant, run200.plant]).toEqual(['P100', 'P200'])
    expect(run100.result).toMatchObject({ valuation: 'accepted', score: { supplier: 'SUP-7' } })
    expect(run200.result).toMatchObject({ valuation: 'accepted', score: { supplier: 'SUP-9' } })
    // each plant's ERP webhook was delivered once and accepted; nothing raised an alarm
    expect(s4.webhooks.deliveries.map((d) => d.status)).toEqual([202])
    expect(erpnext.webhooks.sent.map((s) => s.status)).toEqual([202])
    expect(notify.bodies).toEqual([])

    // a receipt of another company reaching P200's webhook is refused; its raw delivery stays
    await frappe(erpnext, 'POST', 'Purchase%20Receipt', {
      company: 'Plant A AG',
      supplier: 'SUP-9',
      posting_date: '2025-03-02',
      docstatus: 1,
      items: [{ ...RECEIPT_ROW, batch_no: 'B999', warehouse: 'Quality Inspection - P200' }],
    })
    const dead = async () =>
      (await store.ingress.listRawDeliveries(ALL, { status: 'dead', source: 'erp-p200', limit: 5 }))[0]
    await until(async () => (await dead()) !== undefined)
    expect((await dead())!.lastErrorCode).toBe('QLK_PLANT_MISMATCH')
    expect((await dead())!.lastError).toMatch(/^\/company: plant 'Plant A AG' is not plant P200/)
    expect(await runOf('B999')).toBeUndefined()
    expect(qms.state.inspectionLots.map((l) => l.batch).sort()).toEqual(['B100', 'B200'])
  })
})
