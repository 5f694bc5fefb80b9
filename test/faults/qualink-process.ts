/**
 * A real `qualink start` child process for the fault scenarios that kill, skew or starve the
 * process itself (F2, F11): a qualink.yaml written from an object, the database by environment
 * (DATABASE_URL for PostgreSQL, a data directory for SQLite), and a fixed port so simulators can
 * send their webhooks to it across restarts. `prefix` runs the process under another command
 * (e.g. `faketime`).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { type ErpS4Sim, type QmsSim, startErpS4, startQms } from '../../simulators/index.ts'
import type { VerifyReport } from '../../src/audit/verify.ts'
import { qualinkArgs } from '../bundle.ts'
import type { TestDatabase } from '../dialects.ts'
import { until } from '../engine/harness.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface QualinkProcess {
  readonly child: ChildProcess
  readonly url: string
  /** settles when the process has exited (made at spawn, so an early exit is not missed) */
  readonly exited: Promise<unknown>
  /** SIGKILL, resolved once the process is gone */
  kill(): Promise<void>
}

export interface ProcessSetup {
  readonly db: TestDatabase
  readonly port: number
  /** the qualink.yaml as an object */
  readonly config: Record<string, unknown>
  readonly env?: NodeJS.ProcessEnv
  readonly prefix?: readonly string[]
  readonly args?: readonly string[]
}

/** A scratch folder for one scenario's config and data; `remove()` after. */
export class Scratch {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-fault-proc-'))
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** `qualink <args>` (the CLI through tsx) with `env` over this process's environment. */
export function spawnCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  prefix: readonly string[] = [],
): ChildProcess {
  const cmd = [...prefix, process.execPath, ...qualinkArgs(...args)]
  // Its own process group: a prefix such as `faketime` forks node as its child, and a kill must
  // reach that child too (F11 left node processes running after the test otherwise).
  return spawn(cmd[0]!, cmd.slice(1), {
    cwd: ROOT,
    env: { ...process.env, QUALINK_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
}

/** Starts `qualink start --config …` on `setup.port` and waits for /healthz. */
export async function startQualinkProcess(scratch: Scratch, setup: ProcessSetup): Promise<QualinkProcess> {
  const config = path.join(scratch.dir, 'qualink.yaml')
  writeFileSync(config, stringify(setup.config))
  const dataDir = path.join(scratch.dir, 'data')
  mkdirSync(dataDir, { recursive: true })
  const child = spawnCli(
    ['start', '--config', config, '--port', String(setup.port), ...(setup.args ?? [])],
    {
      QUALINK_DATA_DIR: setup.db.dialect === 'sqlite' ? setup.db.dir : dataDir,
      ...(setup.db.dialect === 'postgres' ? { DATABASE_URL: setup.db.location } : {}),
      ...setup.env,
    },
    setup.prefix,
  )
  const exited = once(child, 'exit')
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000)
  })
  child.stdout!.resume()
  const url = `http://127.0.0.1:${setup.port}`
  let gone = false
  void exited.then(() => {
    gone = true
  })
  await until(async () => {
    if (gone) throw new Error(`qualink start exited before it answered /healthz: ${stderr}`)
    return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true
  }, 60_000)
  return {
    child,
    url,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL') // the whole group: the prefix and node under it
        } catch {
          child.kill('SIGKILL')
        }
      }
      await exited
    },
  }
}

/** `qualink audit verify --json` as a process on the database of `db` and the anchor file in its folder. */
export async function auditVerifyProcess(db: TestDatabase): Promise<{ code: number; report: VerifyReport }> {
  const child = spawnCli(['audit', 'verify', '--json'], {
    QUALINK_DATA_DIR: db.dir,
    ...(db.dialect === 'postgres' ? { DATABASE_URL: db.location } : {}),
  })
  let out = ''
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString()
  })
  child.stderr!.resume()
  const [code] = (await once(child, 'exit')) as [number]
  // The report is the pretty-printed object up to its closing line (a dependency may log after it).
  const json = out.slice(out.indexOf('{'), out.indexOf('\n}') + 2)
  return { code, report: JSON.parse(json) as VerifyReport }
}

/** GET a JSON API route of the running process. */
export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url)
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`)
  return (await r.json()) as T
}

const ERP_SECRET = 'erp-secret'
const QMS_SECRET = 'qms-secret'
/** the environment a process of `plantConfig` needs for its webhook secrets */
export const PLANT_SECRETS_ENV = { FAULT_ERP_SECRET: ERP_SECRET, FAULT_QMS_SECRET: QMS_SECRET }

/** The S/4 (RAW-100 in KG) and QMS simulators, their webhooks signed to Qualink on `port`. */
export async function startPlantSimulators(port: number): Promise<{ erp: ErpS4Sim; qms: QmsSim }> {
  const erp = await startErpS4({
    materials: { 'RAW-100': { baseUnit: 'KG' } },
    webhook: { url: `http://127.0.0.1:${port}/v1/ingress/erp-s4`, secret: ERP_SECRET },
  })
  const qms = await startQms({
    webhook: { url: `http://127.0.0.1:${port}/v1/ingress/qms`, secret: QMS_SECRET },
  })
  return { erp, qms }
}

/**
 * Plant 1000 (as the S/4 simulator's documents name it) on the S/4 and QMS simulators at these
 * URLs, their signed webhooks, and the supplier receipt workflow; `extra` is merged at the top
 * level, `webhook` into both webhook sources.
 */
export function plantConfig(
  erpUrl: string,
  qmsUrl: string,
  extra: Record<string, unknown> = {},
  /** merged into both webhook sources (e.g. toleranceSeconds) */
  webhook: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: 1,
    connectors: {
      'sap-p100': { kind: 'erp/sap-s4', config: { baseUrl: erpUrl, egress: { timeoutMs: 2000 } } },
      'qms-cloud': { kind: 'qms/rest', config: { baseUrl: qmsUrl, egress: { timeoutMs: 2000 } } },
    },
    egress: { allowlist: { 'sap-p100': [erpUrl], 'qms-cloud': [qmsUrl] } },
    ingress: {
      webhooks: {
        'erp-s4': {
          plant: '1000',
          translator: 'sap-s4-goods-receipt',
          secrets: [{ secretEnv: 'FAULT_ERP_SECRET' }],
          signatureHeader: 'x-erp-signature',
          deliveryIdHeader: 'x-erp-delivery-id',
          ...webhook,
        },
        qms: {
          plant: '1000',
          translator: 'qms-rest-webhook',
          secrets: [{ secretEnv: 'FAULT_QMS_SECRET' }],
          signatureHeader: 'x-qms-signature',
          deliveryIdHeader: 'x-qms-delivery-id',
          ...webhook,
        },
      },
    },
    // the plant as the S/4 simulator's documents name it (receiveGoods posts in plant 1000)
    plants: {
      '1000': {
        erp: 'sap-p100',
        qms: 'qms-cloud',
        sampling: { default: { level: 'II', aql: '1.0', severity: 'normal' } },
      },
    },
    workflows: { 'supplier-receipt-inspection': { enabled: true } },
    ...extra,
  }
}
