import type { Store } from '../store/types.ts'
import type { Notification } from '../workflows/ports/notify.ts'
import {
  deadLettersSince,
  failedDispositionUpdates,
  inspectionsAwaitingCreation,
  legsCompleted,
} from './business-queries.ts'
import type { Logger } from './logger.ts'
import {
  DEFAULT_QUANTILE,
  decide,
  formatValue,
  isLatency,
  quantile,
  type SloDecision,
  type SloObjective,
  type SloState,
} from './slo.ts'

export interface SloOptions {
  readonly everyMs: number
  readonly objectives: readonly SloObjective[]
}

/** What the evaluator sends through: the plant's notify connector (workflows/ports/by-plant.ts). */
export interface SloNotifier {
  send(message: Notification & { readonly plant: string }): Promise<unknown>
}

const BREACHED = 'slo.breached'
const RECOVERED = 'slo.recovered'
const subjectOf = (o: SloObjective) => `slo:${o.name}`

/**
 * Evaluates every objective per plant and notifies each transition once. It runs as a
 * lease-fenced periodic singleton (server/qualink.ts), so one process evaluates at a time; the
 * state is the audit trail itself (the last `slo.breached`/`slo.recovered` row per objective and
 * plant), so a process that takes the lease over continues where the last one stopped. The
 * notification goes first, keyed by the transition it reports; the audit row after it. A crash
 * between the two sends the same message again with the same key on the next pass (notify is
 * at-least-once, workflows/ports/notify.ts), never loses one.
 */
export class SloEvaluator {
  passes = 0

  constructor(
    private readonly store: Store,
    private readonly notify: SloNotifier | undefined,
    private readonly objectives: readonly SloObjective[],
    private readonly o: {
      readonly logger?: Logger
      readonly onDecision?: (d: SloDecision) => void
    } = {},
  ) {}

  async runOnce(): Promise<SloDecision[]> {
    const now = await this.store.now()
    const decisions: SloDecision[] = []
    for (const objective of this.objectives) {
      const values = await this.measure(objective, now)
      for (const plant of objective.plants) {
        const prior = await this.lastTransition(plant, objective)
        const d = decide(objective, plant, values.get(plant), prior?.state)
        decisions.push(d)
        this.o.onDecision?.(d)
        if (d.transition) await this.transition(d, prior?.seq ?? 0)
      }
    }
    this.passes++
    return decisions
  }

  /** The last recorded transition; the (plant, subject) index keeps it one short read per pass. */
  private async lastTransition(
    plant: string,
    o: SloObjective,
  ): Promise<{ state: SloState; seq: number } | undefined> {
    const [row] = await this.store.sql.all(
      `SELECT action, seq FROM audit_log WHERE plant = ? AND subject = ? AND action IN (?, ?)
        ORDER BY seq DESC LIMIT 1`,
      [plant, subjectOf(o), BREACHED, RECOVERED],
    )
    return row ? { state: row.action === BREACHED ? 'breached' : 'met', seq: Number(row.seq) } : undefined
  }

  /** The indicator's value per plant; a plant with no data is absent. */
  private async measure(o: SloObjective, now: number): Promise<Map<string, number>> {
    const since = now - o.windowMs
    const sql = this.store.sql
    if (isLatency(o.indicator)) {
      const byPlant = new Map<string, number[]>()
      for (const l of await legsCompleted(sql, since))
        if (l.leg === o.indicator)
          byPlant.set(l.plant, [...(byPlant.get(l.plant) ?? []), l.doneMs - l.startedMs])
      const out = new Map<string, number>()
      for (const [plant, v] of byPlant) out.set(plant, quantile(v, o.quantile ?? DEFAULT_QUANTILE)!)
      return out
    }
    const counts =
      o.indicator === 'failed-disposition-updates'
        ? await failedDispositionUpdates(sql, { sinceMs: since })
        : o.indicator === 'dead-letters'
          ? await deadLettersSince(sql, since)
          : await inspectionsAwaitingCreation(sql, since)
    const out = new Map<string, number>(o.plants.map((p) => [p, 0]))
    for (const c of counts) out.set(c.plant, (out.get(c.plant) ?? 0) + c.n)
    return out
  }

  private async transition(d: SloDecision, afterSeq: number): Promise<void> {
    const o = d.objective
    const breach = d.transition === 'breach'
    const value = formatValue(o.indicator, d.value)
    const threshold = formatValue(o.indicator, o.threshold)
    const window = formatValue('receipt-to-erp-posting', o.windowMs)
    const what = isLatency(o.indicator)
      ? `p${Math.round((o.quantile ?? DEFAULT_QUANTILE) * 100)} ${o.indicator} over ${window}`
      : `${o.indicator} (${o.indicator === 'inspections-awaiting-creation' ? 'older than' : 'within'} ${window})`
    const payload = {
      indicator: o.indicator,
      value: d.value ?? null,
      threshold: o.threshold,
      windowMs: o.windowMs,
    }
    if (this.notify) {
      await this.notify.send({
        plant: d.plant,
        // one key per transition: the audit row it follows makes it unique and stable across passes
        idempotencyKey: `slo:${o.name}:${d.plant}:${d.transition}:${afterSeq}`,
        title: breach ? `SLO breached: ${o.name} (${d.plant})` : `SLO recovered: ${o.name} (${d.plant})`,
        text: breach
          ? `${what} is ${value}, above the objective of ${threshold}.`
          : `${what} is ${value}, within the objective of ${threshold} again.`,
        severity: breach ? 'critical' : 'info',
        facts: [
          { name: 'Plant', value: d.plant },
          { name: 'Indicator', value: o.indicator },
          { name: 'Value', value },
          { name: 'Objective', value: `≤ ${threshold}` },
        ],
      })
    } else {
      this.o.logger?.warn({ slo: o.name, plant: d.plant }, 'SLO transition with no notify connector')
    }
    await this.store.appendAudit([
      {
        plant: d.plant,
        actor: 'slo-evaluator',
        action: breach ? BREACHED : RECOVERED,
        subject: subjectOf(o),
        correlationId: null,
        payload,
      },
    ])
    this.o.logger?.warn(
      { slo: o.name, plant: d.plant, value: d.value },
      breach ? 'SLO breached' : 'SLO recovered',
    )
  }
}
