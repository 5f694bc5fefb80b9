import type { Quantity } from '../model/quantity.ts'
import { compare, subtract } from '../model/quantity.ts'
import type { Logger } from '../observability/logger.ts'
import { countCompletedRuns } from '../store/run-pages.ts'
import type { Store } from '../store/types.ts'
import { DISPOSITION_BUCKET, type ErpPort } from '../workflows/ports/erp.ts'
import type { UsageDecisionView } from '../workflows/ports/qms.ts'
import type { Drift, DriftKind } from './drift-store.ts'
import { closeResolved, markHealed, openDrift, recordDrift } from './drift-writes.ts'
import {
  type Expected,
  expectationPages,
  fmt,
  inBuckets,
  type Line,
  linesKey,
  sum,
} from './reconciliation-expected.ts'

export { type Drift, type DriftKind, listDrift } from './drift-store.ts'

export type DriftPolicy = 'alert' | 'heal'

/** The QMS read the reconciler uses; a plant-routed QMS port takes the plant as second argument. */
export interface QmsDecisionReader {
  getUsageDecision(inspectionLot: string, plant?: string): Promise<UsageDecisionView | null>
}

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
    for await (const { expected: page, runs } of expectationPages(this.store, o.pageSize)) {
      const perLot = new Map<string, number>()
      for (const e of page) perLot.set(e.lot.lot, (perLot.get(e.lot.lot) ?? 0) + 1)
      const open = await openDrift(
        this.store,
        page.map((e) => e.lot.lot),
      )
      for (const e of page) await this.reconcileLot(e, perLot.get(e.lot.lot) === 1, open, found)
      done += runs
      // runs completing during the pass may be read too: the total never reads below what is done
      total = Math.max(total, done)
      await o.onProgress?.({ done, total })
    }
    return found
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
    await closeResolved(
      this.store,
      before.filter((d) => !kinds.has(d.kind)),
    )
    const still = before.filter((d) => kinds.has(d.kind))
    for (const p of problems) {
      const drift = await recordDrift(this.store, e, view, p.kind, p.detail, stock)
      let stays = true
      if (this.policy(e.plant) === 'heal' && p.heal) {
        try {
          await p.heal()
          await markHealed(this.store, drift.id)
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
}
