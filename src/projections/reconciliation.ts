import type { DispositionCode } from '../model/nonconformance.ts'
import type { Quantity } from '../model/quantity.ts'
import { add, compare, subtract } from '../model/quantity.ts'
import type { Logger } from '../observability/logger.ts'
import type { JournalEntry, RunRow } from '../store/engine-types.ts'
import {
  completedRunsPage,
  countCompletedRuns,
  eventsBySeq,
  journalsOf,
  type RunPageCursor,
} from '../store/run-pages.ts'
import { marks } from '../store/sql-executor.ts'
import type { Store, StoredEvent } from '../store/types.ts'
import { DISPOSITION_BUCKET, type ErpPort, type LotRef } from '../workflows/ports/erp.ts'
import type { UsageDecisionView } from '../workflows/ports/qms.ts'
import { type Drift, type DriftKind, toDrift } from './drift-store.ts'

export { type Drift, type DriftKind, listDrift } from './drift-store.ts'

export type DriftPolicy = 'alert' | 'heal'

/** The QMS read the reconciler uses; a plant-routed QMS port takes the plant as second argument. */
export interface QmsDecisionReader {
  getUsageDecision(inspectionLot: string, plant?: string): Promise<UsageDecisionView | null>
}

type Line = { code: DispositionCode; quantity: Quantity }

/** Runs read per statement by a reconciliation pass (and lots per open-drift read). */
const RUN_PAGE = 500

interface Expected {
  plant: string
  lot: LotRef
  inspectionLot: string
  /** the QMS's own inspection lot (the create-inspection-lot step's record), to read its decision */
  qmsLot: string | null
  postStockKey: string | null
  lines: Line[]
  released: Quantity | null
}

const sum = (qs: Quantity[]) => (qs.length ? qs.reduce((a, b) => add(a, b)) : null)
const inBuckets = (lines: readonly Line[], buckets: readonly string[]) =>
  sum(lines.filter((l) => buckets.includes(DISPOSITION_BUCKET[l.code])).map((l) => l.quantity))
const fmt = (q: Quantity) => `${q.units / 10 ** q.scale} ${q.uom}`
/** A decision's lines in one order, to compare two views of it. */
const linesKey = (lines: readonly Line[]) =>
  JSON.stringify(
    [...lines].map((l) => [l.code, l.quantity.units * 10 ** (9 - l.quantity.scale), l.quantity.uom]).sort(),
  )

/**
 * Compares, per lot whose receipt inspection finished, what the QMS decided with the stock the
 * ERP holds (read through the ERP port). A difference is recorded as drift with both views and
 * since when; the plant's policy decides whether it only alerts or heals: a missing posting is
 * re-issued through the run's own idempotent step key (the connector posts only what is
 * missing), stock released beyond the decision is moved back to blocked under a key derived from
 * the lot, so a heal happens once however often reconciliation runs.
 */
export class Reconciler {
  constructor(
    private readonly store: Store,
    private readonly erp: ErpPort,
    private readonly policy: (plant: string) => DriftPolicy,
    private readonly logger?: Logger,
    /** the QMS read port: its decision is the QMS view where it answers, else the run's journal */
    private readonly qms?: QmsDecisionReader,
  ) {}

  /**
   * The QMS view of a lot: the decision read from the QMS API when the plant's QMS connector
   * answers, else the one the run journaled (`source` says which; `readError` why not the API).
   */
  private async qmsView(
    e: Expected,
  ): Promise<{ source: 'qms-api' | 'journal'; lines: Line[]; readError?: string }> {
    if (!this.qms || !e.qmsLot) return { source: 'journal', lines: e.lines }
    try {
      const ud = await this.qms.getUsageDecision(e.qmsLot, e.plant)
      if (ud)
        return { source: 'qms-api', lines: ud.lines.map((l) => ({ code: l.code, quantity: l.quantity })) }
      return { source: 'journal', lines: e.lines, readError: 'the QMS reports no decision' }
    } catch (err) {
      const x = err as { code?: string; message?: string }
      return { source: 'journal', lines: e.lines, readError: x.code ?? x.message ?? String(err) }
    }
  }

  /**
   * The expectations of a group of runs of one key (one lot), oldest first, so a later changed
   * decision replaces the one its lot was first posted with.
   */
  private expectationsOf(
    runs: readonly RunRow[],
    journals: ReadonlyMap<string, JournalEntry[]>,
    triggers: ReadonlyMap<number, StoredEvent>,
  ): Expected[] {
    const out: Expected[] = []
    for (const run of runs) {
      const journal = journals.get(run.id) ?? []
      const trigger = run.triggerEventSeq === null ? undefined : triggers.get(run.triggerEventSeq)
      if (
        trigger?.type === 'qms.usage_decision.changed.v1' &&
        (run.result as { outcome?: string } | null)?.outcome === 'decision-changed'
      ) {
        const change = trigger.envelope.data as { lot?: string; stockPostings?: Expected['lines'] }
        const e = out.find((x) => x.lot.lot === (change.lot ?? run.key))
        if (e && change.stockPostings) {
          e.lines = change.stockPostings
          const rel = e.lines.filter((l) => DISPOSITION_BUCKET[l.code] === 'release').map((l) => l.quantity)
          e.released = rel.length ? rel.reduce((a, b) => add(a, b)) : null
        }
        continue
      }
      // v1 waited for the decision; v2 takes it from the run's inbox (docs/workflows.md).
      const wait = journal.find(
        (j) =>
          (j.kind === 'wait' && j.name.startsWith('qms.usage_decision.made@')) ||
          (j.kind === 'receive' &&
            /^qms\.usage_decision\.(made|changed)\./.test(
              (j.result as { event?: { type?: string } } | null)?.event?.type ?? '',
            )),
      )
      const post = journal.find((j) => j.kind === 'step' && j.name === 'post-stock')
      const created = journal.find((j) => j.kind === 'step' && j.name === 'create-inspection-lot')
      const qmsLot = (created?.result as { record?: { id?: string } } | null)?.record?.id ?? null
      if (!trigger || !wait) continue
      const gr = trigger.envelope.data as {
        lot: { id: string; material: string; plant: string }
        inspectionLot?: string
      }
      const ud = (wait.result as { event?: { envelope: { data: { stockPostings: Expected['lines'] } } } })
        .event
      if (!ud || !gr.inspectionLot) continue
      const lines = ud.envelope.data.stockPostings
      const releasing = lines.filter((l) => DISPOSITION_BUCKET[l.code] === 'release').map((l) => l.quantity)
      out.push({
        plant: run.plant,
        lot: { plant: gr.lot.plant, material: gr.lot.material, lot: gr.lot.id },
        inspectionLot: gr.inspectionLot,
        qmsLot,
        postStockKey: post?.idempotencyKey ?? null,
        lines,
        released: releasing.length ? releasing.reduce((a, b) => add(a, b)) : null,
      })
    }
    return out
  }

  /**
   * Every finished receipt inspection's expectation, a page of runs at a time (no cap on the
   * number of runs, memory bounded by the page): keyset pages in (key, creation, id) order, each
   * read with one statement for its runs, one for their journal entries and one for their trigger
   * events (src/store/run-pages.ts). A run's key is its lot, so a lot's runs are adjacent: the
   * runs of the last key of a full page wait for the next page, and a lot is judged with all its
   * runs (a changed decision, the count of inspections of one lot).
   */
  private async *expectationPages(
    pageSize = RUN_PAGE,
  ): AsyncGenerator<{ expected: Expected[]; runs: number }> {
    let after: RunPageCursor | null = null
    let carried: RunRow[] = []
    for (;;) {
      const page = await completedRunsPage(this.store.sql, 'supplier-receipt-inspection', after, pageSize)
      const last = page.at(-1)
      if (last) after = { key: last.key, createdAtMs: last.createdAtMs, id: last.id }
      const runs = [...carried, ...page]
      const full = page.length === pageSize
      carried = full ? runs.filter((r) => r.key === last!.key) : []
      const ready = full ? runs.filter((r) => r.key !== last!.key) : runs
      if (ready.length > 0) {
        const journals = await journalsOf(
          this.store.sql,
          ready.map((r) => r.id),
          { kinds: ['wait', 'receive'], names: ['post-stock', 'create-inspection-lot'] },
        )
        const triggers = await eventsBySeq(
          this.store.sql,
          ready.flatMap((r) => (r.triggerEventSeq === null ? [] : [r.triggerEventSeq])),
        )
        const out: Expected[] = []
        for (let i = 0; i < ready.length; ) {
          let j = i
          while (j < ready.length && ready[j]!.key === ready[i]!.key) j++
          out.push(...this.expectationsOf(ready.slice(i, j), journals, triggers))
          i = j
        }
        yield { expected: out, runs: ready.length }
      }
      if (!full) return
    }
  }

  /**
   * One pass over every finished lot; returns the drifts found open after it. `onProgress` hears
   * the completed receipt-inspection runs counted at the start and, after each page of lots, how
   * many of them are judged (a pass asked for on the dashboard shows it as a bar).
   */
  async runOnce(
    o: {
      readonly pageSize?: number
      readonly onProgress?: (p: { done: number; total: number }) => Promise<void>
    } = {},
  ): Promise<Drift[]> {
    const found: Drift[] = []
    let total = o.onProgress ? await countCompletedRuns(this.store.sql, 'supplier-receipt-inspection') : 0
    let done = 0
    await o.onProgress?.({ done, total })
    for await (const { expected: page, runs } of this.expectationPages(o.pageSize)) {
      const perLot = new Map<string, number>()
      for (const e of page) perLot.set(e.lot.lot, (perLot.get(e.lot.lot) ?? 0) + 1)
      const open = await this.openDrift(page.map((e) => e.lot.lot))
      for (const e of page) await this.reconcileLot(e, perLot.get(e.lot.lot) === 1, open, found)
      done += runs
      // runs completing during the pass may be read too: the total never reads below what is done
      total = Math.max(total, done)
      await o.onProgress?.({ done, total })
    }
    return found
  }

  /** Open drift of `lots` (one statement per page of lots), by lot. */
  private async openDrift(
    lots: readonly string[],
  ): Promise<Map<string, Array<{ id: number; kind: string }>>> {
    const out = new Map<string, Array<{ id: number; kind: string }>>()
    const unique = [...new Set(lots)]
    for (let i = 0; i < unique.length; i += RUN_PAGE) {
      const part = unique.slice(i, i + RUN_PAGE)
      for (const r of await this.store.sql.all(
        `SELECT id, lot, kind FROM drift WHERE status = 'open' AND lot IN (${marks(part.length)})`,
        part,
      )) {
        const list = out.get(String(r.lot)) ?? []
        list.push({ id: Number(r.id), kind: String(r.kind) })
        out.set(String(r.lot), list)
      }
    }
    return out
  }

  /**
   * One lot's comparison: drift recorded (and healed under a heal policy), drift of it no longer
   * seen closed. `open` is the page's open drift by lot, kept current for the lot's next
   * expectation (another inspection of the same lot) in this pass.
   */
  private async reconcileLot(
    e: Expected,
    onlyRunOfLot: boolean,
    open: Map<string, Array<{ id: number; kind: string }>>,
    found: Drift[],
  ): Promise<void> {
    const view = await this.qmsView(e)
    const stock = (await this.erp.readLotStock(e.lot)).quantities
    const problems = this.compare(e, view, stock, onlyRunOfLot)
    const kinds = new Set<string>(problems.map((p) => p.kind))
    const before = open.get(e.lot.lot) ?? []
    await this.closeResolved(before.filter((d) => !kinds.has(d.kind)))
    const still = before.filter((d) => kinds.has(d.kind))
    for (const p of problems) {
      const drift = await this.record(e, view, p.kind, p.detail, stock)
      let stays = true
      if (this.policy(e.plant) === 'heal' && p.heal) {
        try {
          await p.heal()
          await this.heal(drift.id)
          stays = false
        } catch (err) {
          this.logger?.warn({ err, lot: e.lot.lot, kind: p.kind }, 'drift heal failed; the drift stays open')
        }
      }
      // alert policy, a kind with no automatic heal (someone has to decide), or a failed heal
      if (stays) found.push(drift)
      const rest = still.filter((d) => d.id !== drift.id)
      still.splice(0, still.length, ...rest, ...(stays ? [{ id: drift.id, kind: p.kind }] : []))
    }
    open.set(e.lot.lot, still)
  }

  /** The differences between one lot's QMS view and the ERP's stock. */
  private compare(
    e: Expected,
    view: { source: string; lines: Line[] },
    stock: Awaited<ReturnType<ErpPort['readLotStock']>>['quantities'],
    onlyRunOfLot: boolean,
  ): Array<{ kind: DriftKind; detail: string; heal?: () => Promise<unknown> }> {
    const lines = view.lines
    const released = view.source === 'qms-api' ? inBuckets(lines, ['release']) : e.released
    const qi = stock.qualityInspection
    const free = stock.unrestricted
    const problems: Array<{ kind: DriftKind; detail: string; heal?: () => Promise<unknown> }> = []
    if (view.source === 'qms-api' && linesKey(lines) !== linesKey(e.lines)) {
      problems.push({
        kind: 'decision-unseen',
        detail: `lot ${e.lot.lot}: the QMS's decision (${lines.map((l) => `${l.code} ${fmt(l.quantity)}`).join(', ')}) is not the one Qualink posted (${e.lines.map((l) => `${l.code} ${fmt(l.quantity)}`).join(', ')})`,
      })
    }
    if (qi && qi.units > 0) {
      problems.push({
        kind: 'posting-missing',
        detail: `the QMS decided lot ${e.lot.lot}, but the ERP still holds it in quality inspection`,
        heal: () =>
          this.erp.postStockDisposition({
            idempotencyKey: e.postStockKey ?? `reconcile/${e.lot.lot}/post-stock`,
            inspectionLot: e.inspectionLot,
            lot: e.lot,
            lines: lines.map((l) => ({ bucket: DISPOSITION_BUCKET[l.code], quantity: l.quantity })),
          }),
      })
    }
    const allowed = released ?? (free ? { ...free, units: 0 } : null)
    if (free && allowed && compare(free, allowed) > 0) {
      const excess = subtract(free, allowed)
      const rejected = released === null
      problems.push({
        kind: rejected ? 'released-despite-rejection' : 'released-beyond-decision',
        detail: rejected
          ? `lot ${e.lot.lot}: the QMS released nothing, the ERP has ${fmt(excess)} unrestricted`
          : `lot ${e.lot.lot}: the ERP has ${fmt(excess)} more unrestricted stock than the QMS released`,
        heal: () =>
          this.erp.transferStock({
            idempotencyKey: `reconcile/${e.lot.lot}/released-beyond-decision/${free.units}`,
            lot: e.lot,
            from: 'unrestricted',
            to: 'blocked',
            quantity: excess,
            reason: 'reconciliation: beyond the usage decision',
          }),
      })
    }
    // More blocked/reserved than the decision kept out of use, with QI empty: the split was
    // posted differently (a release posted to blocked). A lot with more than one inspection is
    // left out (its blocked stock is the sum of several decisions).
    const held = sum([stock.blocked, stock.reserves].filter((q): q is Quantity => q !== undefined))
    const decidedHeld = inBuckets(lines, ['block', 'reserves'])
    if (onlyRunOfLot && !(qi && qi.units > 0) && held && held.units > 0) {
      const limit = decidedHeld ?? { ...held, units: 0 }
      if (limit.uom === held.uom && compare(held, limit) > 0)
        problems.push({
          kind: 'split-mismatch',
          detail: `lot ${e.lot.lot}: the QMS decision keeps ${fmt(limit)} blocked or reserved, the ERP holds ${fmt(held)}`,
        })
    }
    return problems
  }

  private async record(
    e: Expected,
    view: { source: string; lines: Line[]; readError?: string },
    kind: DriftKind,
    detail: string,
    erpView: unknown,
  ): Promise<Drift> {
    const now = await this.store.now()
    const qms = JSON.stringify({
      source: view.source,
      inspectionLot: e.inspectionLot,
      qmsInspectionLot: e.qmsLot,
      lines: view.lines,
      ...(view.readError ? { readError: view.readError } : {}),
    })
    const erp = JSON.stringify(erpView)
    const inserted = await this.store.sql.tx(async (x) => {
      const updated = await x.run(
        `UPDATE drift SET checked_at_ms = ?, qms_view = ?, erp_view = ?, detail = ? WHERE lot = ? AND kind = ? AND status = 'open'`,
        [now, qms, erp, detail, e.lot.lot, kind],
      )
      if (updated === 0) {
        await x.run(
          `INSERT INTO drift (plant, lot, kind, status, since_ms, checked_at_ms, qms_view, erp_view, detail) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)`,
          [e.plant, e.lot.lot, kind, now, now, qms, erp, detail],
        )
      }
      return updated === 0
    })
    if (inserted) {
      await this.store.appendAudit([
        {
          plant: e.plant,
          actor: 'reconciliation',
          action: 'drift.detected',
          subject: e.lot.lot,
          correlationId: null,
          payload: { kind, detail },
        },
      ])
    }
    const [row] = await this.store.sql.all(
      `SELECT * FROM drift WHERE lot = ? AND kind = ? AND status = 'open'`,
      [e.lot.lot, kind],
    )
    return toDrift(row!, now)
  }

  private async heal(id: number): Promise<void> {
    const now = await this.store.now()
    await this.store.sql.run(
      `UPDATE drift SET status = 'healed', closed_at_ms = ? WHERE id = ? AND status = 'open'`,
      [now, id],
    )
    const [row] = await this.store.sql.all('SELECT * FROM drift WHERE id = ?', [id])
    await this.store.appendAudit([
      {
        plant: String(row!.plant),
        actor: 'reconciliation',
        action: 'drift.healed',
        subject: String(row!.lot),
        correlationId: null,
        payload: { id, kind: row!.kind },
      },
    ])
  }

  /** Drift no longer seen is resolved (only drift still open: a concurrent heal keeps its status). */
  private async closeResolved(gone: ReadonlyArray<{ id: number }>): Promise<void> {
    if (gone.length === 0) return
    const now = await this.store.now()
    for (const d of gone)
      await this.store.sql.run(
        `UPDATE drift SET status = 'resolved', closed_at_ms = ? WHERE id = ? AND status = 'open'`,
        [now, d.id],
      )
  }
}
