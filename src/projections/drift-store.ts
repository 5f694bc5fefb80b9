import type { Scope, Store } from '../store/types.ts'

/**
 * Drift kinds (docs/architecture.md, "Reconciliation"):
 * - posting-missing: the QMS decided, the ERP still holds quantity in quality inspection;
 * - released-beyond-decision: more unrestricted stock than the QMS released;
 * - released-despite-rejection: unrestricted stock of a lot the QMS released nothing of;
 * - split-mismatch: more blocked (or reserved) stock than the decision blocked, QI empty;
 * - decision-unseen: the QMS's decision (read from its API) differs from the one Qualink posted.
 */
export const DRIFT_KINDS = [
  'posting-missing',
  'released-beyond-decision',
  'released-despite-rejection',
  'split-mismatch',
  'decision-unseen',
] as const
export type DriftKind = (typeof DRIFT_KINDS)[number]
export const DRIFT_STATUSES = ['open', 'healed', 'resolved'] as const
export type DriftStatus = (typeof DRIFT_STATUSES)[number]

export interface Drift {
  readonly id: number
  readonly plant: string
  readonly lot: string
  readonly kind: DriftKind
  readonly status: DriftStatus
  /** when the drift was first seen (open since) */
  readonly sinceMs: number
  readonly checkedAtMs: number
  readonly closedAtMs: number | null
  /** how long it is (or was, once closed) open, on the database clock */
  readonly ageMs: number
  /** the QMS view, with `source`: `qms-api` (read from the QMS) or `journal` (Qualink's own record) */
  readonly qmsView: unknown
  readonly erpView: unknown
  readonly detail: string
}

export interface DriftQuery {
  readonly status?: DriftStatus
  readonly plant?: string
  readonly kind?: DriftKind
  /** only drift open (or that was open) at least this long */
  readonly minAgeMs?: number
  readonly limit: number
  /** the id after which the page starts (the previous page's `nextCursor`) */
  readonly cursor?: number
}

/** One page of drift, oldest id first, in the caller's plants. */
export async function queryDrift(
  store: Store,
  scope: Scope,
  q: DriftQuery,
): Promise<{ drift: Drift[]; nextCursor: string | null }> {
  const now = await store.now()
  const where: string[] = ['id > ?']
  const params: unknown[] = [q.cursor ?? 0]
  if (!('allPlants' in scope)) {
    if (scope.plants.length === 0) return { drift: [], nextCursor: null }
    where.push(`plant IN (${scope.plants.map(() => '?').join(', ')})`)
    params.push(...scope.plants)
  }
  const filter = (sql: string, ...values: unknown[]) => {
    where.push(sql)
    params.push(...values)
  }
  if (q.plant !== undefined) filter('plant = ?', q.plant)
  if (q.kind !== undefined) filter('kind = ?', q.kind)
  if (q.status !== undefined) filter('status = ?', q.status)
  // open drift ages until now; closed drift was open from since to closed
  if (q.minAgeMs !== undefined) filter('COALESCE(closed_at_ms, ?) - since_ms >= ?', now, q.minAgeMs)
  const rows = await store.sql.all(`SELECT * FROM drift WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`, [
    ...params,
    q.limit + 1,
  ])
  const drift = rows.slice(0, q.limit).map((r) => toDrift(r, now))
  return { drift, nextCursor: rows.length > q.limit ? String(drift.at(-1)!.id) : null }
}

/** Every drift in the caller's plants, optionally of one status (the dashboard's and lot page's read). */
export async function listDrift(store: Store, scope: Scope, status?: DriftStatus): Promise<Drift[]> {
  return (await queryDrift(store, scope, { status, limit: 100_000 })).drift
}

export function toDrift(r: Record<string, unknown>, nowMs: number): Drift {
  const j = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)
  const sinceMs = Number(r.since_ms)
  const closedAtMs = r.closed_at_ms === null || r.closed_at_ms === undefined ? null : Number(r.closed_at_ms)
  return {
    id: Number(r.id),
    plant: String(r.plant),
    lot: String(r.lot),
    kind: String(r.kind) as DriftKind,
    status: String(r.status) as DriftStatus,
    sinceMs,
    checkedAtMs: Number(r.checked_at_ms),
    closedAtMs,
    ageMs: Math.max(0, (closedAtMs ?? nowMs) - sinceMs),
    qmsView: j(r.qms_view),
    erpView: j(r.erp_view),
    detail: String(r.detail),
  }
}

/** Open drift by plant and age bucket, for the `qualink_drift_open_by_age` gauge. */
export const DRIFT_AGE_BUCKETS = [
  { label: 'lt_1h', maxMs: 3_600_000 },
  { label: '1h_1d', maxMs: 86_400_000 },
  { label: '1d_7d', maxMs: 7 * 86_400_000 },
  { label: 'ge_7d', maxMs: Number.POSITIVE_INFINITY },
] as const

export function driftAgeBucket(ageMs: number): string {
  return DRIFT_AGE_BUCKETS.find((b) => ageMs < b.maxMs)!.label
}
