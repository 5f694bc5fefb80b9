/**
 * The fixed end-to-end workload of issue 12 (B3), the same for Qualink and every baseline:
 * goods receipt event in → inspection lot created in the QMS → usage decision event in → stock
 * posting in the ERP → posting confirmation, against the in-repo S/4 and QMS simulators with a
 * fixed latency on every request they serve.
 *
 * The harness owns the simulators and the feed. Goods receipts are posted into the ERP simulator
 * before the timed part (their GoodsReceiptPosted webhooks captured, not sent); the timed part
 * POSTs those bodies, signed as the simulator signs them, to the system under test. When the system
 * creates the QMS inspection lot, the harness decides it at once (ACCEPT A1: the whole lot used as
 * is) and POSTs the usage_decision.made webhook, signed as the QMS signs it, to the system. The
 * simulators' own webhook senders deliver one at a time (simulators/shared/webhooks.ts): through
 * them the feed, not the system, would be measured, so their bodies are sent by the harness instead.
 * Results come from the ERP simulator's own records: the time of each lot's UD stock posting
 * (PostedAt), and what was posted per inspection lot (duplicate effects).
 */
import { randomUUID } from 'node:crypto'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { type ErpS4Sim, type QmsSim, signPayload, startErpS4, startQms } from '../../simulators/index.ts'
import { countedCommits } from './pg-commits.ts'

export const SIM_LATENCY_MS = 5
export const RECEIPT_QTY = '100'
const ERP_SECRET = 'bench-erp'
const QMS_SECRET = 'bench-qms'

/** Where the system under test takes the two webhooks, and how it reports finished workflows. */
export interface SystemUnderTest {
  readonly name: string
  readonly goodsReceiptUrl: string
  readonly decisionUrl: string
  /** workflows whose posting confirmation finished (the system's own count) */
  completed(): Promise<number>
  /** PostgreSQL transactions committed in the system's database so far (durable systems only) */
  commits?(): Promise<number>
  /**
   * The exact count instead (countedCommits): the system's database by name, read from the admin
   * database, and how to stop the system and every connection it holds there (close() still drops it).
   */
  readonly counted?: { readonly adminUrl: string; readonly database: string; stop(): Promise<void> }
  close(): Promise<void>
}

export interface Sims {
  readonly erp: ErpS4Sim
  readonly qms: QmsSim
  readonly erpSecret: string
  readonly qmsSecret: string
  close(): Promise<void>
}

/** Header names and secrets the simulators sign with (what a receiver verifies). */
export const SIGNING = {
  erp: {
    secret: ERP_SECRET,
    signature: 'x-erp-signature',
    delivery: 'x-erp-delivery-id',
    event: 'x-erp-event',
  },
  qms: {
    secret: QMS_SECRET,
    signature: 'x-qms-signature',
    delivery: 'x-qms-delivery-id',
    event: 'x-qms-event',
  },
} as const

interface Receipt {
  readonly batch: string
  readonly body: string
}

export interface FeedResult {
  readonly workflows: number
  /** first receipt sent → the system counted the last workflow complete */
  readonly seconds: number
  readonly completed: number
  readonly perSecond: number
  /** receipt sent (open loop: scheduled) → the lot's UD stock posting in the ERP simulator */
  readonly receiptToPostingMs: number[]
  /** decision webhook sent → the same posting */
  readonly decisionToPostingMs: number[]
  readonly duplicates: number
  readonly lost: number
  /** requests the simulators served during the timed part, per workflow (the same calls?) */
  readonly erpRequestsPerWorkflow: number
  readonly qmsRequestsPerWorkflow: number
  /** PostgreSQL commits in the system's database during the timed part, per workflow */
  readonly commitsPerWorkflow?: number
  readonly offeredPerSecond?: number
}

function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(60_000),
  }).then(async (r) => {
    await r.arrayBuffer()
    return r.status
  })
}

export function signed(which: 'erp' | 'qms', type: string, body: string): Record<string, string> {
  const s = SIGNING[which]
  return {
    [s.signature]: signPayload(s.secret, Math.floor(Date.now() / 1000), body),
    [s.delivery]: randomUUID(),
    [s.event]: type,
  }
}

/**
 * A fresh ERP and QMS simulator pair with `n` goods receipts already posted in the ERP (their
 * inspection lots exist there), latency switched on only after that preload.
 */
export async function startSims(n: number, runId: string): Promise<Sims & { receipts: Receipt[] }> {
  const erp = await startErpS4({
    materials: { 'RAW-100': { baseUnit: 'KG' } },
    requireConcurrencyToken: false,
  })
  const qms = await startQms({})
  const receipts: Receipt[] = []
  // The simulator's GoodsReceiptPosted webhook body, kept instead of sent (no target is set anyway).
  erp.webhooks.send = (type: string, payload: unknown) => {
    const p = payload as { Batch?: string }
    if (type === 'GoodsReceiptPosted' && p.Batch)
      receipts.push({ batch: p.Batch, body: JSON.stringify(payload) })
    return ''
  }
  const s4 = s4Client(erp.url)
  const width = 16
  for (let i = 0; i < n; i += width) {
    await Promise.all(
      Array.from({ length: Math.min(width, n - i) }, async (_, j) => {
        const r = await s4.send(
          'POST',
          `${MATDOC}/A_MaterialDocumentHeader`,
          goodsReceipt(`B${runId}-${i + j}`, RECEIPT_QTY),
        )
        if (r.status !== 201) throw new Error(`preload goods receipt: HTTP ${r.status} ${await r.text()}`)
        await r.arrayBuffer()
      }),
    )
  }
  if (receipts.length !== n) throw new Error(`preload: ${receipts.length} receipt webhooks for ${n} receipts`)
  erp.faults.set({ latencyMs: SIM_LATENCY_MS })
  qms.faults.set({ latencyMs: SIM_LATENCY_MS })
  return {
    erp,
    qms,
    receipts,
    erpSecret: ERP_SECRET,
    qmsSecret: QMS_SECRET,
    close: async () => {
      await Promise.all([erp.close(), qms.close()])
    },
  }
}

/** Fetches an S/4 CSRF token (for the Node-RED flow, which has no OData client of its own). */
export async function csrfToken(erpUrl: string): Promise<string> {
  return s4Client(erpUrl).token()
}

export interface Tracking {
  readonly sentAt: Map<string, number>
  readonly decidedAt: Map<string, number>
  readonly failures: string[]
  /** completion polls (each a transaction in the system's database, taken off its commit count) */
  polls: number
}

/** QMS: decide every new inspection lot at once and send its decision webhook to the system. */
function wireDecisions(sims: Sims, sut: SystemUnderTest, t: Tracking): void {
  const { qms } = sims
  qms.webhooks.send = (type: string, payload: unknown) => {
    const p = payload as { data: Record<string, unknown> }
    if (type === 'inspection_lot.created') {
      const id = String(p.data.id)
      setImmediate(() => {
        try {
          qms.makeUsageDecision(id, { decision: 'ACCEPT', code: 'A1', decidedBy: 'BENCH' })
        } catch (e) {
          t.failures.push(`decide ${id}: ${(e as Error).message}`)
        }
      })
    } else if (type === 'usage_decision.made') {
      const body = JSON.stringify(payload)
      const batch = String((p.data.inspectionLot as { batch: string }).batch)
      t.decidedAt.set(batch, Date.now())
      post(sut.decisionUrl, body, signed('qms', type, body)).then(
        (s) => {
          if (s >= 300) t.failures.push(`decision ${batch}: HTTP ${s}`)
        },
        (e) => t.failures.push(`decision ${batch}: ${(e as Error).message}`),
      )
    }
    return ''
  }
}

function sendReceipt(sut: SystemUnderTest, r: Receipt, t: Tracking, at: number): Promise<void> {
  t.sentAt.set(r.batch, at)
  return post(sut.goodsReceiptUrl, r.body, signed('erp', 'GoodsReceiptPosted', r.body)).then(
    (s) => {
      if (s >= 300) t.failures.push(`receipt ${r.batch}: HTTP ${s}`)
    },
    (e) => {
      t.failures.push(`receipt ${r.batch}: ${(e as Error).message}`)
    },
  )
}

async function waitCompleted(
  sut: SystemUnderTest,
  n: number,
  timeoutMs: number,
  t: Tracking,
): Promise<number> {
  const end = Date.now() + timeoutMs
  for (;;) {
    t.polls++
    const done = await sut.completed()
    if (done >= n) return Date.now()
    if (Date.now() > end) {
      t.failures.push(`${sut.name}: ${done} of ${n} workflows completed within ${timeoutMs / 1000} s`)
      return Date.now()
    }
    await new Promise((r) => setTimeout(r, 10))
  }
}

export function newTracking(): Tracking {
  return { sentAt: new Map(), decidedAt: new Map(), failures: [], polls: 0 }
}

/** Per batch, the time of its last UD stock posting in the ERP simulator (absent: not posted). */
export function postedAtByBatch(sims: Sims): Map<string, number> {
  return erpPostings(sims).postedAt
}

function erpPostings(sims: Sims) {
  const lots = [...sims.erp.model.lots.values()]
  const erpLotOf = new Map(lots.map((l) => [l.InspectionLot, l]))
  const postedAt = new Map<string, number>()
  const postedQty = new Map<string, number>()
  for (const p of sims.erp.model.lotPostings) {
    const lot = erpLotOf.get(p.InspectionLot)
    if (!lot) continue
    postedAt.set(lot.Batch, Math.max(postedAt.get(lot.Batch) ?? 0, p.PostedAt))
    postedQty.set(p.InspectionLot, (postedQty.get(p.InspectionLot) ?? 0) + p.quantity)
  }
  return { lots, postedAt, postedQty }
}

/** What the ERP simulator holds: per batch, the time of its last UD posting, and the excess. */
export function erpOutcome(sims: Sims, t: Tracking) {
  const { lots, postedAt, postedQty } = erpPostings(sims)
  let duplicates = 0
  // ERP: more posted out of an inspection lot than it holds; a second usage decision is refused there.
  for (const l of lots) if ((postedQty.get(l.InspectionLot) ?? 0) > l.quantity) duplicates++
  // QMS: a second inspection lot for the same batch.
  const perBatch = new Map<string, number>()
  for (const l of sims.qms.model.lots.values()) perBatch.set(l.batch, (perBatch.get(l.batch) ?? 0) + 1)
  for (const c of perBatch.values()) duplicates += c - 1
  const receiptToPostingMs: number[] = []
  const decisionToPostingMs: number[] = []
  let lost = 0
  for (const [batch, sent] of t.sentAt) {
    const at = postedAt.get(batch)
    if (at === undefined) {
      lost++
      continue
    }
    receiptToPostingMs.push(at - sent)
    const d = t.decidedAt.get(batch)
    if (d !== undefined) decisionToPostingMs.push(at - d)
  }
  return { receiptToPostingMs, decisionToPostingMs, duplicates, lost }
}

export type Loaded = Sims & { receipts: Receipt[] }

/** Wires the decisions, runs `send` (which returns when it started), waits for every workflow. */
async function feed(
  sims: Loaded,
  sut: SystemUnderTest,
  timeoutMs: number,
  send: (t: Tracking) => Promise<number>,
  t: Tracking = newTracking(),
): Promise<FeedResult & { failures: string[] }> {
  wireDecisions(sims, sut, t)
  const requests = () => [sims.erp.state.http.requests, sims.qms.state.http.requests] as const
  const [erp0, qms0] = requests()
  const c0 = sut.counted
    ? await countedCommits(sut.counted.adminUrl, sut.counted.database)
    : await sut.commits?.()
  const t0 = await send(t)
  const t1 = await waitCompleted(sut, sims.receipts.length, timeoutMs, t)
  const seconds = (t1 - t0) / 1000
  t.polls++
  const completed = await sut.completed()
  const [erp1, qms1] = requests()
  const n = sims.receipts.length
  // Exact: the system stopped, every backend of its database gone (each published its counts on
  // exit). Otherwise a backend publishes its counts when it goes idle, at most once a second.
  const c1 =
    c0 === undefined
      ? undefined
      : sut.counted
        ? await sut.counted
            .stop()
            .then(() => countedCommits(sut.counted!.adminUrl, sut.counted!.database, true))
        : await new Promise((r) => setTimeout(r, 1_500)).then(() => sut.commits?.())
  // The old read ran in the system's database (one commit more); the admin-side reads run elsewhere.
  const ownReads = sut.counted ? 0 : 1
  return {
    workflows: n,
    seconds,
    completed,
    perSecond: completed / seconds,
    ...erpOutcome(sims, t),
    erpRequestsPerWorkflow: (erp1 - erp0) / n,
    qmsRequestsPerWorkflow: (qms1 - qms0) / n,
    ...(c0 !== undefined && c1 !== undefined
      ? { commitsPerWorkflow: (c1 - c0 - t.polls - ownReads) / n }
      : {}),
    failures: t.failures,
  }
}

/**
 * Closed loop: `connections` senders each post the next receipt as soon as the previous one was
 * acknowledged, until all are sent; timed from the first send until the system counts all workflows
 * complete. The system's maximum sustained workflows/s.
 */
export function closedLoop(sims: Loaded, sut: SystemUnderTest, connections: number, timeoutMs: number) {
  return feed(sims, sut, timeoutMs, async (t) => {
    const queue = [...sims.receipts]
    const t0 = Date.now()
    await Promise.all(
      Array.from({ length: connections }, async () => {
        for (let r = queue.shift(); r; r = queue.shift()) await sendReceipt(sut, r, t, Date.now())
      }),
    )
    return t0
  })
}

/**
 * Open loop: receipt i is sent at t0 + i / rate whatever the system does, and its latency counts
 * from that scheduled time (no coordinated omission). `tracking` (optional) is filled as it goes, for
 * a caller that watches the run (the soak).
 */
export async function openLoop(
  sims: Loaded,
  sut: SystemUnderTest,
  ratePerSecond: number,
  timeoutMs: number,
  tracking?: Tracking,
) {
  const r = await feed(
    sims,
    sut,
    timeoutMs,
    async (t) => {
      const interval = 1000 / ratePerSecond
      const t0 = Date.now() + 20
      const sends: Promise<void>[] = []
      for (const [i, r] of sims.receipts.entries()) {
        const at = t0 + i * interval
        const wait = at - Date.now()
        if (wait > 0) await new Promise((res) => setTimeout(res, wait))
        sends.push(sendReceipt(sut, r, t, Math.round(at)))
      }
      await Promise.all(sends)
      return t0
    },
    tracking,
  )
  return { ...r, offeredPerSecond: ratePerSecond }
}
