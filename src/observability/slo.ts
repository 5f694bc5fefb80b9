/**
 * Service-level objectives over the business indicators (pure: no I/O). An objective breaches
 * when its indicator's value for a plant is above its threshold; it recovers when it no longer
 * is. Latency indicators are business legs (src/observability/business-queries.ts LEGS): the
 * `quantile` (nearest rank) of the legs completed within the window, in milliseconds. Count
 * indicators count within the window.
 */
export const LATENCY_INDICATORS = [
  'receipt-to-qms-inspection',
  'receipt-to-erp-posting',
  'completion-to-erp-hold',
] as const
export const COUNT_INDICATORS = [
  /** dead letters after a quality decision, created within the window */
  'failed-disposition-updates',
  /** dead letters of any workflow created within the window (integration incidents) */
  'dead-letters',
  /** goods receipts older than the window whose inspection lot the QMS does not have yet */
  'inspections-awaiting-creation',
] as const
export const SLO_INDICATORS = [...LATENCY_INDICATORS, ...COUNT_INDICATORS] as const
export type SloIndicator = (typeof SLO_INDICATORS)[number]
export type LatencyIndicator = (typeof LATENCY_INDICATORS)[number]

export const isLatency = (i: string): i is LatencyIndicator =>
  (LATENCY_INDICATORS as readonly string[]).includes(i)

export const DEFAULT_QUANTILE = 0.95

export interface SloObjective {
  readonly name: string
  readonly indicator: SloIndicator
  /** milliseconds for a latency indicator, a count otherwise */
  readonly threshold: number
  readonly windowMs: number
  /** latency indicators only; default 0.95 */
  readonly quantile?: number
  readonly plants: readonly string[]
}

/** Nearest-rank quantile (the smallest value with at least q of the values at or below it). */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]
}

export type SloState = 'breached' | 'met'

export interface SloDecision {
  readonly objective: SloObjective
  readonly plant: string
  /** undefined: no data in the window (no leg completed), which never breaches */
  readonly value: number | undefined
  readonly state: SloState
  /** set when the state differs from the last recorded one: what to notify and audit */
  readonly transition?: 'breach' | 'recovery'
}

/** One objective in one plant against the last recorded state (absent: never breached). */
export function decide(
  objective: SloObjective,
  plant: string,
  value: number | undefined,
  last: SloState | undefined,
): SloDecision {
  const state: SloState = value !== undefined && value > objective.threshold ? 'breached' : 'met'
  const was = last ?? 'met'
  const transition = state === was ? undefined : state === 'breached' ? 'breach' : 'recovery'
  return { objective, plant, value, state, transition }
}

/** A value as people read it: latencies as durations, counts as numbers. */
export function formatValue(indicator: SloIndicator, v: number | undefined): string {
  if (v === undefined) return 'no data'
  if (!isLatency(indicator)) return String(v)
  const s = Math.round(v / 1000)
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}
