/**
 * The fault scenarios of bench/baseline-faults.ts on the B3 workload: one system (Qualink or the
 * Node-RED baseline), fresh simulators, an at-least-once webhook sender, one fault, and the
 * outcome read from the simulators' records (erpOutcome of the B3 harness).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PostgresStore } from '../../src/store/postgres/store.ts'
import { createTempDatabase } from './machine.ts'
import {
  erpOutcome,
  type Loaded,
  type SystemUnderTest,
  signed,
  startSims,
  type Tracking,
} from './pipeline-harness.ts'
import { ensureNodeRed, startNodeRedSut } from './pipeline-node-red.ts'
import { startBenchQualink } from './pipeline-qualink.ts'

export const SCENARIOS = {
  'erp-outage': 'ERP down (every call 503) for 3 s from the first call the system makes to it',
  'erp-drop': 'ERP answers dropped after the commit (20 % of modifying calls)',
  restart: 'system restarted between inspection-lot creation and the usage decisions',
  'duplicate-delivery': 'every usage-decision webhook delivered twice',
} as const
export type ScenarioName = keyof typeof SCENARIOS
export const SYSTEMS = ['qualink', 'node-red'] as const
export type SystemName = (typeof SYSTEMS)[number]

const ADMIN_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const ATTEMPTS = 8
const ATTEMPT_TIMEOUT_MS = 5_000
const RETRY_AFTER_MS = 1_000

export interface ScenarioOutcome {
  readonly receipts: number
  readonly lost: number
  readonly duplicates: number
  /** webhook deliveries the sender made, retries and duplicates included */
  readonly attempts: number
  /** from the first receipt sent until the ERP records stopped changing (or every lot posted) */
  readonly settledMs: number
  /** faults the ERP simulator injected (503s, dropped answers) */
  readonly erpFaults: number
}

/** A system that can be stopped and started again on its durable state (if it has any). */
interface Restartable {
  current(): SystemUnderTest
  restart(): Promise<void>
  close(): Promise<void>
}

async function startQualinkRestartable(sims: Loaded): Promise<Restartable> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-faults-'))
  const db = await createTempDatabase(ADMIN_URL, 'faults')
  const start = async () => {
    const store = await PostgresStore.open({ connectionString: db.url })
    const q = await startBenchQualink(store, dir, sims)
    const sut: SystemUnderTest = {
      name: 'qualink',
      goodsReceiptUrl: `${q.url}/v1/ingress/erp-s4`,
      decisionUrl: `${q.url}/v1/ingress/qms`,
      completed: async () => 0,
      close: async () => {
        await q.close()
        await store.close()
      },
    }
    return sut
  }
  let sut = await start()
  return {
    current: () => sut,
    restart: async () => {
      await sut.close()
      sut = await start()
    },
    close: async () => {
      await sut.close()
      await db.drop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function startNodeRedRestartable(sims: Loaded): Promise<Restartable> {
  let sut = await startNodeRedSut(sims)
  return {
    current: () => sut,
    restart: async () => {
      await sut.close()
      sut = await startNodeRedSut(sims)
    },
    close: () => sut.close(),
  }
}

/**
 * At-least-once delivery, as ERP and QMS webhook senders do it: the same delivery (same id and
 * signature) again after a non-2xx or no answer within 5 s, up to 8 attempts. The URL is read at
 * each attempt, so a restarted system is reached where it listens now.
 */
async function deliver(url: () => string, body: string, headers: Record<string, string>, count: () => void) {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    count()
    const ok = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    }).then(
      async (r) => {
        await r.arrayBuffer()
        return r.status < 300
      },
      () => false,
    )
    if (ok) return
    await new Promise((r) => setTimeout(r, RETRY_AFTER_MS))
  }
}

export async function runScenario(
  scenario: ScenarioName,
  system: SystemName,
  workflows: number,
): Promise<ScenarioOutcome> {
  // Installed before the simulators start: a first-use `npm ci` blocks this process's event loop,
  // and their idle keep-alive sockets would be closed under the first request after it.
  if (system === 'node-red') ensureNodeRed()
  const sims = await startSims(workflows, `${scenario.slice(0, 3)}${Date.now().toString(36)}`)
  const sys = system === 'qualink' ? await startQualinkRestartable(sims) : await startNodeRedRestartable(sims)
  const t: Tracking = { sentAt: new Map(), decidedAt: new Map(), failures: [], polls: 0 }
  let attempts = 0
  const count = () => {
    attempts++
  }
  const deliveries: Promise<void>[] = []
  const holdDecisions = scenario === 'restart'
  const created: string[] = []
  const decide = (id: string) =>
    sims.qms.makeUsageDecision(id, { decision: 'ACCEPT', code: 'A1', decidedBy: 'BENCH' })
  sims.qms.webhooks.send = (type: string, payload: unknown) => {
    const p = payload as { data: Record<string, unknown> }
    if (type === 'inspection_lot.created') {
      const id = String(p.data.id)
      if (holdDecisions) created.push(id)
      else setImmediate(() => decide(id))
    } else if (type === 'usage_decision.made') {
      const body = JSON.stringify(payload)
      const batch = String((p.data.inspectionLot as { batch: string }).batch)
      t.decidedAt.set(batch, Date.now())
      const headers = signed('qms', type, body)
      const url = () => sys.current().decisionUrl
      deliveries.push(deliver(url, body, headers, count))
      if (scenario === 'duplicate-delivery') deliveries.push(deliver(url, body, headers, count))
    }
    return ''
  }
  try {
    if (scenario === 'erp-outage') outageFromFirstErpRequest(sims, 3_000)
    else if (scenario === 'erp-drop') sims.erp.faults.set({ latencyMs: 5, dropResponseRate: 0.2, seed: 12 })
    const t0 = Date.now()
    await Promise.all(
      sims.receipts.map((r) => {
        t.sentAt.set(r.batch, Date.now())
        return deliver(
          () => sys.current().goodsReceiptUrl,
          r.body,
          signed('erp', 'GoodsReceiptPosted', r.body),
          count,
        )
      }),
    )
    if (holdDecisions) {
      await until(() => created.length >= workflows, 60_000)
      await sys.restart()
      for (const id of created) decide(id)
    }
    // deliveries can be added while earlier ones settle (a decision follows a created lot)
    for (let n = 0; n !== deliveries.length; ) {
      n = deliveries.length
      await Promise.all(deliveries)
    }
    const settledMs = (await settle(sims, workflows)) - t0
    const f = sims.erp.faults.counts
    return {
      receipts: workflows,
      ...pick(erpOutcome(sims, t)),
      attempts,
      settledMs,
      erpFaults: f.error + f.dropResponse,
    }
  } finally {
    await sys.close()
    await sims.close()
  }
}

/**
 * The ERP goes down when the system first calls it (the CSRF token fetches of the preload and of
 * Node-RED's start excepted) and stays down for `ms`: timed from the system's own first call, so
 * the outage hits both systems at the same point of their work, however fast they got there.
 */
function outageFromFirstErpRequest(sims: Loaded, ms: number): void {
  const before = sims.erp.state.http.requests
  const timer = setInterval(() => {
    if (sims.erp.state.http.requests === before) return
    clearInterval(timer)
    sims.erp.faults.set({ latencyMs: 5, errorRate: 1, errorStatus: 503 })
    setTimeout(() => sims.erp.faults.set({ latencyMs: 5 }), ms).unref()
  }, 2)
  timer.unref()
}

const pick = (o: { lost: number; duplicates: number }) => ({ lost: o.lost, duplicates: o.duplicates })

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) return
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Until every lot has its stock posting, or the ERP's postings have not changed for 45 s (longer
 * than Qualink's circuit breaker stays open, 30 s, so its designed recovery is waited for), 150 s
 * at most.
 */
async function settle(sims: Loaded, workflows: number): Promise<number> {
  const end = Date.now() + 150_000
  let last = -1
  let since = Date.now()
  for (;;) {
    const posted = new Set(sims.erp.model.lotPostings.map((p) => p.InspectionLot)).size
    const n = sims.erp.model.lotPostings.length
    if (posted >= workflows) return Date.now()
    if (n !== last) {
      last = n
      since = Date.now()
    } else if (Date.now() - since > 45_000 || Date.now() > end) return since
    await new Promise((r) => setTimeout(r, 100))
  }
}
