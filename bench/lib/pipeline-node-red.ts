/**
 * B3 baseline: the same pipeline as a Node-RED 4.1.7 flow, embedded in the benchmark process
 * (Node-RED's documented "embedding into an existing app": RED.init(server, settings), RED.httpNode
 * mounted on an express app, RED.start()). http-in → function → http request, no durability, no
 * retries, no read-backs: what a low-code flow does out of the box.
 *   POST /gr:       function (remember the lot in flow context) → http request (QMS lot) → http response
 *   POST /decision: function → http request (ERP usage decision) → function → http request
 *                   (UD stock posting) → function → http request (read the lot back) → function → response
 * Node-RED is not a dependency of Qualink: bench/baselines/node-red has its own package.json and lock,
 * installed on first use with `npm ci` (git-ignored node_modules).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type http from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { csrfToken, type Sims, type SystemUnderTest } from './pipeline-harness.ts'

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'baselines', 'node-red')
const LOTS = '/sap/opu/odata/sap/API_INSPECTIONLOT_SRV'

/**
 * Installs the pinned Node-RED from bench/baselines/node-red/package-lock.json if it is missing.
 * Synchronous: call it before starting anything that serves requests in this process.
 */
export function ensureNodeRed(): void {
  if (existsSync(path.join(DIR, 'node_modules', 'node-red', 'package.json'))) return
  process.stderr.write('node-red baseline: npm ci --prefix bench/baselines/node-red (first use)\n')
  execFileSync('npm', ['ci', '--prefix', DIR, '--no-audit', '--no-fund', '--ignore-scripts'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
}

// Function node bodies (run inside Node-RED's sandbox; `flow`, `global`, `msg` are its globals).
const GR_FN = `
const gr = msg.payload
flow.set('lot:' + gr.Batch, { erpLot: gr.InspectionLot, material: gr.Material, plant: gr.Plant, qty: gr.QuantityInEntryUnit, unit: gr.EntryUnit })
const env = global.get('env')
msg.url = env.qmsUrl + '/api/v1/inspection-lots'
msg.method = 'POST'
msg.headers = { 'content-type': 'application/json', 'idempotency-key': 'nr:create:' + gr.Batch }
msg.payload = { material: gr.Material, batch: gr.Batch, plant: gr.Plant, supplier: gr.Supplier, origin: 'GOODS_RECEIPT', quantity: gr.QuantityInEntryUnit, unit: gr.EntryUnit }
return msg`

const UD_FN = `
const d = msg.payload.data
const lot = flow.get('lot:' + d.inspectionLot.batch)
if (!lot) { msg.statusCode = 409; msg.payload = 'unknown batch'; return [null, msg] }
const env = global.get('env')
msg.lot = lot
msg.url = env.erpUrl + '${LOTS}/A_InspLotUsageDecision'
msg.method = 'POST'
msg.headers = { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': env.csrf, 'idempotency-key': 'nr:ud:' + d.inspectionLot.batch }
msg.payload = { InspectionLot: lot.erpLot, InspLotUsageDecisionLevel: 'L', InspectionLotUsageDecisionCode: d.code, InspLotUsageDecisionCodeGroup: '', InspLotUsageDecisionValuation: 'A', InspectionLotUsageDecidedBy: String(d.decidedBy).slice(0, 12) }
return [msg, null]`

const POST_FN = `
if (msg.statusCode >= 300) { global.get('stats').errors.push('ud ' + msg.statusCode); return [null, msg] }
const env = global.get('env')
msg.url = env.erpUrl + '${LOTS}/A_InspLotMatlDocItem'
msg.method = 'POST'
msg.headers = { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': env.csrf, 'idempotency-key': 'nr:post:' + msg.lot.erpLot }
msg.payload = { InspectionLot: msg.lot.erpLot, UsageDecisionStockType: 'VMENGE01', InspLotQtyPosted: msg.lot.qty }
return [msg, null]`

const CONFIRM_FN = `
if (msg.statusCode >= 300) { global.get('stats').errors.push('post ' + msg.statusCode); return [null, msg] }
const env = global.get('env')
msg.url = env.erpUrl + "${LOTS}/A_InspectionLot('" + msg.lot.erpLot + "')"
msg.method = 'GET'
msg.headers = { accept: 'application/json' }
delete msg.payload
return [msg, null]`

const DONE_FN = `
const e = (msg.payload && msg.payload.d) || msg.payload || {}
const stats = global.get('stats')
if (msg.statusCode < 300 && Number(e.InspLotQtyToBePosted) === 0) stats.done++
else stats.errors.push('confirm ' + msg.statusCode)
msg.statusCode = 200
msg.payload = 'ok'
return msg`

function flows(): unknown[] {
  const z = 'b3'
  const fn = (id: string, func: string, outputs: number, wires: string[][]) => ({
    id,
    type: 'function',
    z,
    name: `${id} node`,
    func,
    outputs,
    noerr: 0,
    wires,
  })
  const req = (id: string, next: string) => ({
    id,
    type: 'http request',
    z,
    name: `${id} node`,
    method: 'use',
    ret: 'obj',
    paytoqs: 'ignore',
    url: '',
    persist: true,
    wires: [[next]],
  })
  return [
    { id: z, type: 'tab', label: 'B3 supplier receipt' },
    { id: 'gr-in', type: 'http in', z, url: '/gr', method: 'post', upload: false, wires: [['gr-fn']] },
    fn('gr-fn', GR_FN, 1, [['qms-lot']]),
    req('qms-lot', 'respond'),
    { id: 'ud-in', type: 'http in', z, url: '/decision', method: 'post', upload: false, wires: [['ud-fn']] },
    fn('ud-fn', UD_FN, 2, [['erp-ud'], ['respond']]),
    req('erp-ud', 'post-fn'),
    fn('post-fn', POST_FN, 2, [['erp-post'], ['respond']]),
    req('erp-post', 'confirm-fn'),
    fn('confirm-fn', CONFIRM_FN, 2, [['erp-read'], ['respond']]),
    req('erp-read', 'done-fn'),
    fn('done-fn', DONE_FN, 1, [['respond']]),
    { id: 'respond', type: 'http response', z, name: 'respond node', statusCode: '', headers: {}, wires: [] },
  ]
}

interface Red {
  init(server: http.Server, settings: Record<string, unknown>): void
  start(): Promise<void>
  stop(): Promise<void>
  readonly httpNode: unknown
  readonly events: { once(e: string, f: () => void): void }
}

export async function startNodeRedSut(sims: Sims): Promise<SystemUnderTest> {
  ensureNodeRed()
  const require = createRequire(path.join(DIR, 'package.json'))
  // Node-RED keeps its runtime in module state: a fresh copy of the modules per start.
  for (const k of Object.keys(require.cache))
    if (k.startsWith(path.join(DIR, 'node_modules'))) delete require.cache[k]
  const RED = require('node-red') as Red
  const express = require('express') as () => http.RequestListener & { use(p: string, h: unknown): void }
  const nodeHttp = require('node:http') as typeof http
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-node-red-'))
  writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows()))
  const stats = { done: 0, errors: [] as string[] }
  const app = express()
  const server = nodeHttp.createServer(app)
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    httpAdminRoot: false,
    httpNodeRoot: '/',
    credentialSecret: false,
    logging: { console: { level: 'off', metrics: false, audit: false } },
    functionGlobalContext: {
      env: { qmsUrl: sims.qms.url, erpUrl: sims.erp.url, csrf: await csrfToken(sims.erp.url) },
      stats,
    },
  })
  app.use('/', RED.httpNode)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const started = new Promise<void>((resolve) => RED.events.once('flows:started', resolve))
  await RED.start()
  await started
  const { port } = server.address() as AddressInfo
  const base = `http://127.0.0.1:${port}`
  return {
    name: 'node-red',
    goodsReceiptUrl: `${base}/gr`,
    decisionUrl: `${base}/decision`,
    completed: async () => stats.done,
    close: async () => {
      await RED.stop()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(userDir, { recursive: true, force: true })
      if (stats.errors.length > 0)
        process.stderr.write(`node-red: ${stats.errors.length} flow errors, first: ${stats.errors[0]}\n`)
    },
  }
}
