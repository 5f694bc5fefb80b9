/**
 * examples/two-plants/qualink.yaml started the way `qualink start --config` starts it (loadConfig +
 * buildRuntime + startQualink), for the tests of that configuration. Secrets come from environment
 * variables, and a test overlay (qualink.test.yaml, QUALINK_ENV=test) points the connectors at
 * simulators on free ports instead of the file's fixed 4101/4103/4104/4109, which other tests
 * running in parallel may hold. Around it run the S/4 simulator (P100), the ERPNext simulator
 * (P200, company Plant B GmbH), the shared QMS simulator (its webhooks through one subscription per
 * site) and a notify receiver. Everything started is closed by the caller's `closers`, last first.
 */
import { copyFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import pino from 'pino'
import { expect } from 'vitest'
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
import { createTestDatabase, type Dialect, type TestDatabase } from '../dialects.ts'
import { freePort } from '../services.ts'

export const EXAMPLE = new URL('../../examples/two-plants/qualink.yaml', import.meta.url)
const P200_WAREHOUSES = {
  'Stores - P200': 'unrestricted',
  'Quality Inspection - P200': 'qi',
  'Quarantine - P200': 'blocked',
  'Scrap - P200': 'scrap',
} as const
export const SECRETS = { erpP100: 'erp-p100-secret', erpP200: 'frappe-p200-secret', qms: 'qms-secret' }

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

export interface TwoPlants {
  readonly s4: ErpS4Sim
  readonly erpnext: ErpNextSim
  readonly qms: QmsSim
  readonly notify: Awaited<ReturnType<typeof notifyReceiver>>
  readonly sites: Awaited<ReturnType<typeof qmsSubscriptions>>
  readonly store: Store
  readonly q: Qualink
  readonly port: number
  /** the example with its test overlay, as loaded (QUALINK_ENV=test) */
  readonly loaded: ReturnType<typeof loadConfig>
  /** the environment the connectors' secrets are read from (also set on process.env until closed) */
  readonly env: Record<string, string>
}

/** `erpWebhooks: false`: the ERPs post no receipt webhook (receipts made before a go-live). */
export async function startTwoPlants(
  dialect: Dialect,
  closers: Array<() => Promise<unknown>>,
  { erpWebhooks = true }: { readonly erpWebhooks?: boolean } = {},
): Promise<TwoPlants> {
  const tmp = new TempDir()
  closers.push(async () => tmp.remove())
  const port = await freePort()
  const ingress = (source: string) => `http://127.0.0.1:${port}/v1/ingress/${source}`
  const notify = await notifyReceiver()
  closers.push(() => new Promise((r) => notify.server.close(r)))
  const s4: ErpS4Sim = await startErpS4({
    port: 0,
    materials: { 'RAW-100': { baseUnit: 'KG' } },
    ...(erpWebhooks ? { webhook: { url: ingress('erp-p100'), secret: SECRETS.erpP100 } } : {}),
  })
  closers.push(() => s4.close())
  const erpnext: ErpNextSim = await startErpNext({
    port: 0,
    company: 'Plant B GmbH', // P200 in the example's idMapping of erp-p200
    warehouses: { ...P200_WAREHOUSES },
    ...(erpWebhooks ? { webhook: { url: ingress('erp-p200'), secret: SECRETS.erpP200 } } : {}),
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
  const loaded = loadConfig(file, { QUALINK_ENV: 'test' })
  const rt = buildRuntime(loaded, { ...process.env, ...env })
  expect(rt.options.webhooks?.map((w) => `${w.name}@${w.plant}`)).toEqual([
    'erp-p100@P100',
    'erp-p200@P200',
    'qms-p100@P100',
    'qms-p200@P200',
  ])

  const db: TestDatabase = await createTestDatabase(dialect, { migrated: true })
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

  return { s4, erpnext, qms, notify, sites, store, q, port, loaded, env }
}
