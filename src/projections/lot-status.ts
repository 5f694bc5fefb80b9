import type { Quantity } from '../model/quantity.ts'
import type { Scope, Store, StoredEvent } from '../store/types.ts'
import { type Drift, listDrift } from './reconciliation.ts'

/** The events that carry a lot's usage decision; the newest of either counts. */
export const DECISION_TYPES = ['qms.usage_decision.made.v1', 'qms.usage_decision.changed.v1'] as const
/** Run states the lot is still pending on (anything not completed or cancelled). */
export const PENDING_RUN_STATUSES = ['pending', 'waiting', 'failed', 'dead'] as const

/** Events read per lot for its decisions (the newest counts). */
const DECISION_LIMIT = 1000
/** runs read per lot (one per receipt round, decision change or check; newest first) */
const RUN_LIMIT = 100

export interface QmsDecisionView {
  readonly inspectionLot: string | null
  readonly code: string
  readonly valuation: string
  /** when the QMS decided (its audit timestamp, else the event time) */
  readonly decidedAt: string
  readonly decidedBy: string | null
  /** true when the latest decision event is a change of an earlier one */
  readonly changed: boolean
  readonly stockPostings: ReadonlyArray<{ readonly code: string; readonly quantity: Quantity }>
  readonly eventSeq: number
}

export interface PendingItem {
  readonly runId: string
  readonly workflow: string
  readonly status: string
  /** since when the run is in this state: its open wait's start, else its last journal entry or update */
  readonly sinceMs: number
  /** the open wait, if the run is parked on one */
  readonly waitingFor: {
    readonly kind: string
    readonly event: string | null
    readonly subject: string | null
    readonly timeoutAtMs: number | null
  } | null
  /** the last step the run completed */
  readonly lastStep: string | null
  readonly lastErrorCode: string | null
}

export interface LotStatus {
  readonly lot: string
  readonly plant: string
  readonly material: string | null
  readonly supplier: string | null
  readonly qms: QmsDecisionView | null
  readonly erp: {
    /** the lot's stock by bucket as projected from the ERP's own events (receipts, postings) */
    readonly stock: Readonly<Record<string, Quantity>>
    /**
     * The newest stock the ERP itself reported for the lot when a receipt run confirmed its
     * posting (step `confirm-posting`): an ERP that sends no stock-posting events still shows
     * what it holds after the decision. Null before any confirmed posting.
     */
    readonly confirmed: {
      readonly stock: Readonly<Record<string, Quantity>>
      readonly atMs: number
      readonly runId: string
    } | null
  }
  readonly pending: PendingItem[]
  readonly drift: Drift[]
}

/** The QMS view of a decision event (also the lots list's, src/ui/pages/lots.ts). */
export function decisionView(e: Pick<StoredEvent, 'envelope' | 'time' | 'type' | 'seq'>): QmsDecisionView {
  const d = e.envelope.data as {
    inspectionLot?: string
    code: string
    valuation: string
    stockPostings?: Array<{ code: string; quantity: Quantity }>
    audit?: { timestamp?: string; operator?: string }
  }
  return {
    inspectionLot: d.inspectionLot ?? null,
    code: d.code,
    valuation: d.valuation,
    decidedAt: d.audit?.timestamp ?? e.time,
    decidedBy: d.audit?.operator ?? null,
    changed: e.type === 'qms.usage_decision.changed.v1',
    stockPostings: d.stockPostings ?? [],
    eventSeq: e.seq,
  }
}

/** The lot's runs (newest first): what is pending, and the ERP's newest confirmed stock. */
async function runsOf(store: Store, scope: Scope, lot: string) {
  const runs = await store.engine.listRuns(scope, { key: lot, limit: RUN_LIMIT })
  const pending: PendingItem[] = []
  let confirmed: LotStatus['erp']['confirmed'] = null
  for (const run of runs) {
    const open = (PENDING_RUN_STATUSES as readonly string[]).includes(run.status)
    const loaded = await store.engine.loadRun(scope, run.id)
    const journal = loaded?.journal ?? []
    for (const j of journal) {
      if (j.kind !== 'step' || j.name !== 'confirm-posting' || j.result === null) continue
      if (!confirmed || j.completedAtMs > confirmed.atMs)
        confirmed = {
          stock: j.result as Record<string, Quantity>,
          atMs: j.completedAtMs,
          runId: run.id,
        }
    }
    if (!open) continue
    const wait = loaded?.waits.filter((w) => w.status === 'waiting').at(-1)
    const last = journal.at(-1)
    const lastStep = [...journal].reverse().find((j) => j.kind === 'step')
    pending.push({
      runId: run.id,
      workflow: run.workflow,
      status: run.status,
      // a wait is registered right after the journal entry before it
      sinceMs: last?.completedAtMs ?? run.createdAtMs,
      waitingFor: wait
        ? { kind: wait.kind, event: wait.eventFamily, subject: wait.subject, timeoutAtMs: wait.timeoutAtMs }
        : null,
      lastStep: lastStep?.name ?? null,
      lastErrorCode: run.lastErrorCode,
    })
  }
  return { pending, confirmed }
}

/**
 * One lot as the plant sees it across systems (issue 8 item 6): what the QMS decided (the newest
 * decision or change), what the ERP holds (the stock vector projected from the ERP's events), what
 * is still pending (each open run with its wait and since when) and any open QMS–ERP drift.
 * Undefined when the lot is unknown in the caller's plants (no existence oracle). The API
 * (`GET /v1/lots/:id/status`) and the dashboard's lot page both read it.
 */
export async function lotStatus(store: Store, scope: Scope, id: string): Promise<LotStatus | undefined> {
  const lot = await store.genealogy.getLot(scope, id)
  if (!lot) return undefined
  const [made, changed, runs, drift] = await Promise.all([
    store.listEvents(scope, { type: DECISION_TYPES[0], subject: id, limit: DECISION_LIMIT }),
    store.listEvents(scope, { type: DECISION_TYPES[1], subject: id, limit: DECISION_LIMIT }),
    runsOf(store, scope, id),
    listDrift(store, scope, 'open'),
  ])
  const latest = [...made, ...changed].sort((a, b) => a.seq - b.seq).at(-1)
  return {
    lot: lot.lot,
    plant: lot.plant,
    material: lot.material,
    supplier: lot.supplier,
    qms: latest ? decisionView(latest) : null,
    erp: { stock: lot.stock, confirmed: runs.confirmed },
    pending: runs.pending,
    drift: drift.filter((d) => d.lot === id),
  }
}
