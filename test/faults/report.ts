/**
 * The fault suite's shared reconciliation (reference/perf-reliability.md §6): a client-side
 * ledger of acknowledged ids, the store's event ids and the ERP simulator's effects per business
 * key are reconciled after each scenario into one printed line, and the invariants are asserted:
 * lost = acked − stored = 0, no event stored twice, no business effect more than once, no per-key
 * order inversion, and recovery once the fault ended (its time reported, never asserted: timing
 * belongs in bench/).
 *
 * `reconcile` and `formatReport` are pure; `report` prints and asserts. `faultDescribe` runs a
 * scenario, skips it loudly when a prerequisite is missing, and fails it under CI=true.
 */
import { describe, expect, it } from 'vitest'

export interface ScenarioObservation {
  /** ids the client saw acknowledged (2xx), in any order, repeats allowed (a retry acked again) */
  readonly acked: readonly string[]
  /** ids found in the store; an id listed twice was stored twice */
  readonly stored: readonly string[]
  /** one business key per effect the ERP (or other target) recorded */
  readonly effects?: readonly string[]
  /** per key, the sequence numbers in the order they were applied */
  readonly applied?: Readonly<Record<string, readonly number[]>>
  /** when the fault ended (heal, restart, last injected fault), epoch ms */
  readonly faultEndedAt?: number
  /** first success after the fault ended, epoch ms */
  readonly recoveredAt?: number
  /** free text appended to the line: what was injected, how often */
  readonly detail?: string
}

export interface ScenarioResult {
  readonly acknowledged: number
  readonly stored: number
  readonly lost: readonly string[]
  /** key → count, for every event id stored more than once and every business key with > 1 effect */
  readonly duplicates: Readonly<Record<string, number>>
  /** key → number of inverted pairs in its applied order */
  readonly inversions: Readonly<Record<string, number>>
  readonly recoverMs: number | undefined
}

function repeats(keys: readonly string[], prefix: string): Record<string, number> {
  const n = new Map<string, number>()
  for (const k of keys) n.set(k, (n.get(k) ?? 0) + 1)
  return Object.fromEntries([...n].filter(([, c]) => c > 1).map(([k, c]) => [`${prefix}${k}`, c]))
}

/** Inverted pairs (i < j, seq[i] > seq[j]): 0 when the key's events were applied in order. */
export function inversions(seq: readonly number[]): number {
  let n = 0
  for (let i = 0; i < seq.length; i++) for (let j = i + 1; j < seq.length; j++) if (seq[i]! > seq[j]!) n++
  return n
}

export function reconcile(o: ScenarioObservation): ScenarioResult {
  const stored = new Set(o.stored)
  const acked = new Set(o.acked)
  const inv = Object.entries(o.applied ?? {})
    .map(([k, seq]) => [k, inversions(seq)] as const)
    .filter(([, n]) => n > 0)
  return {
    acknowledged: acked.size,
    stored: stored.size,
    lost: [...acked].filter((id) => !stored.has(id)),
    duplicates: { ...repeats(o.stored, 'event:'), ...repeats(o.effects ?? [], '') },
    inversions: Object.fromEntries(inv),
    recoverMs:
      o.faultEndedAt !== undefined && o.recoveredAt !== undefined
        ? Math.max(0, o.recoveredAt - o.faultEndedAt)
        : undefined,
  }
}

export function formatReport(scenario: string, r: ScenarioResult, o: ScenarioObservation): string {
  const map = (m: Readonly<Record<string, number>>) => {
    const e = Object.entries(m)
    return e.length === 0 ? '0' : e.map(([k, n]) => `${k}×${n}`).join(',')
  }
  const effects = o.effects ? ` effects=${o.effects.length}/${new Set(o.effects).size} keys` : ''
  const recover =
    o.faultEndedAt === undefined ? 'n/a' : r.recoverMs === undefined ? 'NOT RECOVERED' : `${r.recoverMs}ms`
  return (
    `[fault-report] ${scenario}: acknowledged=${r.acknowledged} stored=${r.stored} lost=${r.lost.length}` +
    `${effects} duplicates=${map(r.duplicates)} inversions=${map(r.inversions)} recover=${recover}` +
    (o.detail ? ` | ${o.detail}` : '')
  )
}

/** Prints the scenario's line and asserts every invariant it has data for. */
export function report(scenario: string, o: ScenarioObservation): ScenarioResult {
  const r = reconcile(o)
  console.log(formatReport(scenario, r, o))
  expect(r.lost, `${scenario}: acknowledged but not stored`).toEqual([])
  expect(r.duplicates, `${scenario}: stored or applied more than once`).toEqual({})
  expect(r.inversions, `${scenario}: applied out of order`).toEqual({})
  if (o.faultEndedAt !== undefined) expect(r.recoverMs, `${scenario}: never recovered`).toBeDefined()
  return r
}

/**
 * `describe` for a fault scenario that needs something this machine may lack (`missing` says what,
 * or is undefined). Skipped with a console.warn naming the reason; under CI=true a missing
 * prerequisite is a failing test instead, so CI can never pass by skipping the fault suite.
 */
export function faultDescribe(name: string, missing: string | undefined, body: () => void): void {
  if (!missing) {
    describe(name, body)
    return
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has its prerequisites', () => {
        throw new Error(`${name}: ${missing} — CI=true, so a fault scenario may not be skipped`)
      })
    })
    return
  }
  console.warn(`[fault-report] SKIPPED ${name}: ${missing}`)
  describe.skip(name, body)
}
