import { afterEach, beforeEach, expect, it } from 'vitest'
import type { ErpS4Sim, QmsSim } from '../../simulators/index.ts'
import type { RunRow } from '../../src/store/engine-types.ts'
import { createTestDatabase, type Dialect, type TestDatabase } from '../dialects.ts'
import { until } from '../engine/harness.ts'
import { freePort } from '../services.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf, receiveGoods } from '../workflows/helpers.ts'
import { sharedPostgresMissing } from './prerequisites.ts'
import {
  getJson,
  PLANT_SECRETS_ENV,
  plantConfig,
  type QualinkProcess,
  Scratch,
  startPlantSimulators,
  startQualinkProcess,
} from './qualink-process.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F2 (reference/perf-reliability.md §6): a worker process is killed with SIGKILL after the ERP
 * applied its call and before the step's journal entry is committed. A real `qualink start`
 * process runs the supplier-receipt workflow against the S/4 and QMS simulators; the S/4
 * simulator's `beforeAnswer` hook fires once the first stock posting of the usage decision is
 * booked and SIGKILLs the process before the answer leaves — deterministic, no timing. A new
 * process on the same database takes the run over once the dead one's lease lapses (on the
 * database clock). Invariants: the ERP holds exactly one material document per lot and stock
 * bucket (the S/4 simulator, like SAP, never deduplicates: the connector reads back the
 * document's reference before a retry), the run completes, and the takeover is reported beside
 * the configured lease.
 */
const LEASE_MS = 3000
const BATCH = 'B1'
const LOT_KEY = `RAW-100|1000|${BATCH}`

const scenario = (dialect: Dialect) => () => {
  let db: TestDatabase
  let scratch: Scratch
  let erp: ErpS4Sim
  let qms: QmsSim
  let port: number
  const procs: QualinkProcess[] = []

  beforeEach(async () => {
    db = await createTestDatabase(dialect, { migrated: true })
    scratch = new Scratch()
    port = await freePort()
    ;({ erp, qms } = await startPlantSimulators(port))
  })
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill()
    await erp?.close()
    await qms?.close()
    await db?.cleanup()
    scratch?.remove()
  })

  const start = async () => {
    const p = await startQualinkProcess(scratch, {
      db,
      port,
      config: plantConfig(erp.url, qms.url, { server: { leaseMs: LEASE_MS } }),
      env: PLANT_SECRETS_ENV,
    })
    procs.push(p)
    return p
  }
  const runsOf = async (p: QualinkProcess) =>
    (await getJson<{ runs: RunRow[] }>(`${p.url}/v1/runs?key=${BATCH}&limit=5`)).runs

  it('posts one ERP document per bucket when the worker dies between the ERP commit and its journal', async () => {
    const a = await start()
    await receiveGoods(erp, BATCH, '100')
    const lot = await inspectionLotOf(qms, BATCH)

    // The first stock posting is booked in the ERP; its answer never reaches the worker.
    let killedAt = 0
    const killed = new Promise<void>((resolve) => {
      erp.beforeAnswer = async (req) => {
        if (killedAt || req.method !== 'POST' || !req.path.includes('A_InspLotMatlDocItem')) return
        killedAt = Date.now()
        await a.kill()
        resolve()
      }
    })
    qms.makeUsageDecision(lot.id, ACCEPT_SPLIT_60_30_10)
    await killed
    erp.beforeAnswer = undefined
    const bookedAtKill = { ...(erp.state.counts.documentsByLotAndBucket[LOT_KEY] ?? {}) }

    // A new process on the same database (the same port: the simulators' webhooks reach it).
    const b = await start()
    const readyAt = Date.now()
    // The dead worker's lease may lapse while the new process starts: then it is already free.
    const heldByDead = (await runsOf(b)).some((r) => r.leaseOwner?.startsWith(`${a.child.pid}@`))
    await until(async () => (await runsOf(b)).some((r) => r.status === 'completed'), 60_000)
    const completedAt = Date.now()
    const run = (await runsOf(b)).find((r) => r.status === 'completed')!

    const effects = Object.entries(erp.state.counts.documentsByLotAndBucket[LOT_KEY] ?? {}).flatMap(
      ([bucket, n]) => Array.from({ length: n }, () => `${LOT_KEY}/${bucket}`),
    )
    const decided = qms.webhooks.deliveries.filter(
      (d) => d.eventType.includes('usage') && typeof d.status === 'number' && d.status < 300,
    )
    report(`F2 SIGKILL worker after the ERP commit (${dialect})`, {
      acked: decided.length > 0 ? [BATCH] : [],
      stored: [run.key],
      effects,
      faultEndedAt: killedAt,
      recoveredAt: completedAt,
      detail:
        `ERP documents at the kill ${JSON.stringify(bookedAtKill)}; configured lease ${LEASE_MS} ms; ` +
        `kill → new process ready ${readyAt - killedAt} ms, ready → run completed ${completedAt - readyAt} ms; ` +
        `dead worker's lease still held when ready: ${heldByDead}; run attempts ${run.attempts}; recover = kill to run completed`,
    })
    expect(Object.values(bookedAtKill).reduce((s, n) => s + n, 0)).toBeGreaterThan(0) // the kill followed a commit
    expect(new Set(effects).size).toBe(4) // qi + unrestricted, blocked, scrap
    expect(erp.state.counts.usageDecisions).toBe(1)
    const stock = erp.state.stock.find((s) => s.lot === LOT_KEY)
    expect(stock?.buckets).toMatchObject({ qi: 0, unrestricted: 60_000, blocked: 30_000, scrap: 10_000 })
  })
}

faultDescribe(
  'F2: SIGKILL a worker between the ERP commit and the step commit (sqlite)',
  undefined,
  scenario('sqlite'),
)
faultDescribe(
  'F2: SIGKILL a worker between the ERP commit and the step commit (postgres)',
  await sharedPostgresMissing(),
  scenario('postgres'),
)
