import { randomUUID } from 'node:crypto'
import type { Row } from './sql-executor.ts'
import type { Scope, Store } from './types.ts'

/**
 * Long operations and their progress (migration 0026, `operations`), in standard SQL for both
 * dialects. A bulk replay runs in the API process that took the request; a requested
 * reconciliation pass is `pending` until the process holding the reconciliation lease claims it.
 * Whoever runs an operation touches `updated_at_ms` at least every HEARTBEAT_MS; a `running` row
 * not touched for STALE_MS belongs to a process that died (or lost its database) and is read as
 * `interrupted`: nothing resumes it, the work it did stays done (replayed dead letters stay
 * replayed), and the operator starts a new one for the rest.
 */
export const OPERATION_KINDS = ['bulk-replay', 'reconciliation'] as const
export type OperationKind = (typeof OPERATION_KINDS)[number]
export type OperationStatus = 'pending' | 'running' | 'completed' | 'failed' | 'interrupted'

export const HEARTBEAT_MS = 5_000
/** six missed heartbeats: a process under load can miss a few, a dead one misses them all */
export const STALE_MS = 30_000

export interface Operation {
  readonly id: string
  readonly kind: OperationKind
  /** the plants the starter could see; null: all plants */
  readonly plants: readonly string[] | null
  readonly actor: string
  /** `pid@start` of the process running it */
  readonly owner: string | null
  /** null while not known yet (a reconciliation pass before it counted the lots) */
  readonly total: number | null
  readonly done: number
  readonly failed: number
  readonly status: OperationStatus
  readonly message: string | null
  readonly result: unknown
  readonly startedAtMs: number
  readonly updatedAtMs: number
  readonly finishedAtMs: number | null
}

function plantsOf(scope: Scope): string[] | null {
  return 'allPlants' in scope ? null : [...scope.plants].sort()
}

function toOperation(r: Row, nowMs: number): Operation {
  const stored = String(r.status) as OperationStatus
  const updatedAtMs = Number(r.updated_at_ms)
  const stale = stored === 'running' && nowMs - updatedAtMs > STALE_MS
  return {
    id: String(r.id),
    kind: String(r.kind) as OperationKind,
    plants: r.plants === null ? null : (JSON.parse(String(r.plants)) as string[]),
    actor: String(r.actor),
    owner: r.owner === null ? null : String(r.owner),
    total: r.total === null ? null : Number(r.total),
    done: Number(r.done),
    failed: Number(r.failed),
    status: stale ? 'interrupted' : stored,
    message: stale
      ? `interrupted: the process running it (${String(r.owner)}) stopped reporting ${Math.round((nowMs - updatedAtMs) / 1000)} s ago; what it did stays done, start a new one for the rest`
      : r.message === null
        ? null
        : String(r.message),
    result: r.result === null ? null : JSON.parse(String(r.result)),
    startedAtMs: Number(r.started_at_ms),
    updatedAtMs,
    finishedAtMs: r.finished_at_ms === null ? null : Number(r.finished_at_ms),
  }
}

/** An operation is the caller's to see when their plants cover every plant its starter could see. */
export function operationVisible(scope: Scope, op: Operation): boolean {
  if ('allPlants' in scope) return true
  return op.plants?.every((p) => scope.plants.includes(p)) ?? false
}

export async function createOperation(
  store: Store,
  o: {
    kind: OperationKind
    scope: Scope
    actor: string
    total: number | null
    status: 'pending' | 'running'
    owner?: string
  },
): Promise<Operation> {
  const now = await store.now()
  const id = randomUUID()
  const plants = plantsOf(o.scope)
  await store.sql.run(
    `INSERT INTO operations (id, kind, plants, actor, owner, total, done, failed, status, started_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?)`,
    [id, o.kind, plants && JSON.stringify(plants), o.actor, o.owner ?? null, o.total, o.status, now, now],
  )
  return (await getOperation(store, { allPlants: true, reason: 'just created' }, id))!
}

/** One operation in the caller's scope; undefined when absent or not theirs to see. */
export async function getOperation(store: Store, scope: Scope, id: string): Promise<Operation | undefined> {
  const [row] = await store.sql.all('SELECT * FROM operations WHERE id = ?', [id])
  if (!row) return undefined
  const op = toOperation(row, await store.now())
  return operationVisible(scope, op) ? op : undefined
}

/** The newest pending or running (not stale) operation of a kind, in the caller's scope. */
export async function activeOperation(
  store: Store,
  scope: Scope,
  kind: OperationKind,
): Promise<Operation | undefined> {
  const rows = await store.sql.all(
    `SELECT * FROM operations WHERE kind = ? AND status IN ('pending', 'running')
     ORDER BY started_at_ms DESC LIMIT 20`,
    [kind],
  )
  const now = await store.now()
  return rows
    .map((r) => toOperation(r, now))
    .find((op) => op.status !== 'interrupted' && operationVisible(scope, op))
}

/** The last operations of a kind the caller may see, newest first (the drift page's last pass). */
export async function recentOperations(
  store: Store,
  scope: Scope,
  kind: OperationKind,
  limit = 5,
): Promise<Operation[]> {
  const rows = await store.sql.all(
    'SELECT * FROM operations WHERE kind = ? ORDER BY started_at_ms DESC LIMIT ?',
    [kind, limit * 4],
  )
  const now = await store.now()
  return rows
    .map((r) => toOperation(r, now))
    .filter((op) => operationVisible(scope, op))
    .slice(0, limit)
}

/**
 * Claims every pending operation of a kind for `owner` (compare-and-set on the status, so two
 * processes never both claim one); returns the claimed ids.
 */
export async function claimPending(store: Store, kind: OperationKind, owner: string): Promise<string[]> {
  const pending = await store.sql.all(`SELECT id FROM operations WHERE kind = ? AND status = 'pending'`, [
    kind,
  ])
  if (pending.length === 0) return []
  const now = await store.now()
  const claimed: string[] = []
  for (const r of pending) {
    const n = await store.sql.run(
      `UPDATE operations SET status = 'running', owner = ?, updated_at_ms = ? WHERE id = ? AND status = 'pending'`,
      [owner, now, r.id],
    )
    if (n === 1) claimed.push(String(r.id))
  }
  return claimed
}

/** Progress of running operations (a heartbeat when nothing changed). */
export async function reportProgress(
  store: Store,
  ids: readonly string[],
  p: { total?: number | null; done?: number; failed?: number },
): Promise<void> {
  const now = await store.now()
  for (const id of ids)
    await store.sql.run(
      `UPDATE operations SET total = COALESCE(?, total), done = COALESCE(?, done), failed = COALESCE(?, failed),
       updated_at_ms = ? WHERE id = ? AND status = 'running'`,
      [p.total ?? null, p.done ?? null, p.failed ?? null, now, id],
    )
}

export async function finishOperation(
  store: Store,
  ids: readonly string[],
  f: {
    status: 'completed' | 'failed'
    done: number
    failed: number
    total?: number | null
    message?: string
    result?: unknown
  },
): Promise<void> {
  const now = await store.now()
  for (const id of ids)
    await store.sql.run(
      `UPDATE operations SET status = ?, total = COALESCE(?, total), done = ?, failed = ?, message = ?, result = ?,
       updated_at_ms = ?, finished_at_ms = ? WHERE id = ?`,
      [
        f.status,
        f.total ?? null,
        f.done,
        f.failed,
        f.message ?? null,
        f.result === undefined ? null : JSON.stringify(f.result),
        now,
        now,
        id,
      ],
    )
}
