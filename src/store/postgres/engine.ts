import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { QualinkError } from '../../contracts/errors.ts'
import {
  ACTIVE_STATUSES,
  CLAIMABLE_STATUSES,
  dueWait,
  toDeadLetter,
  toJournal,
  toRun,
  toWait,
  typeFamily,
} from '../engine-rows.ts'
import type {
  DeadLetter,
  DeadLetterFilter,
  EngineCounts,
  EngineStore,
  Fence,
  JournalFlush,
  PoisonPolicy,
  Router,
  RouteTarget,
  RunFilter,
  RunRow,
  WaitRow,
} from '../engine-types.ts'
import { EVENT_COLUMNS, toEvent } from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type { AppendEvent, AuditEntry, Scope, StoredEvent } from '../types.ts'
import { appendJournalFenced, applyJournalFlush } from './journal-flush.ts'

type Row = Record<string, unknown>
type Client = pg.PoolClient
const NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint'
const dollar = (i: number) => `$${i + 1}`
const j = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v))

const waitLock = (family: string, subject: string) => `wait|${family}|${subject}`
const inboxLock = (workflow: string, key: string) => `inbox|${workflow}|${key}`

/**
 * The lock pass as SQL over two array parameters (keys, shared flags), for a statement that must
 * hold the locks before it writes: `WITH lk AS MATERIALIZED (…)` plus `(SELECT count(*) FROM lk)`
 * in the writing part's WHERE, an uncorrelated subquery PostgreSQL runs once (an InitPlan) before
 * the first row passes. The output expressions are evaluated after the ORDER BY sort (PostgreSQL
 * postpones volatile target-list functions past a sort since 9.6), so the locks are taken in key
 * order, as lockAll takes them.
 */
/**
 * The waits an ingest group's events match, given a CTE `ev(seq, family, subject, plant, …)` of
 * its new rows: `locked`, the waiting event waits they could match, locked in (run, position)
 * order so concurrent ingests of one subject queue instead of deadlocking; `m`, each wait's first
 * event after its `after_seq`. Used by matchWaits and the one-round-trip write (append-script.ts).
 */
export const WAIT_MATCH_CTES = `locked AS (
         SELECT w.run_id, w.position, w.event_family, w.subject, w.plant, w.after_seq FROM run_waits w
          WHERE w.status = 'waiting' AND w.kind = 'event'
            AND (w.event_family, w.subject, w.plant) IN (SELECT family, subject, plant FROM ev)
          ORDER BY w.run_id, w.position FOR UPDATE),
       m AS (
         SELECT DISTINCT ON (l.run_id, l.position) l.run_id, l.position, ev.seq
           FROM locked l JOIN ev ON l.event_family = ev.family AND l.subject = ev.subject AND l.plant = ev.plant
          WHERE l.after_seq < ev.seq
          ORDER BY l.run_id, l.position, ev.seq)`

export function lockAllSql(keysParam: string, sharedParam: string): string {
  return `SELECT CASE WHEN s THEN pg_advisory_xact_lock_shared(hashtextextended(k, 7162))
                   ELSE pg_advisory_xact_lock(hashtextextended(k, 7162)) END
             FROM unnest(${keysParam}::text[], ${sharedParam}::boolean[]) AS u(k, s) ORDER BY k`
}

/**
 * Transaction-level advisory locks, taken in one sorted pass so two transactions never deadlock
 * on them. Keys in `shared` are taken in share mode: ingest takes the wait keys shared (ingests
 * of one subject do not exclude each other), a wait registration takes its key exclusively.
 */
async function lockAll(c: Client, keys: string[], shared: ReadonlySet<string> = new Set()): Promise<void> {
  if (keys.length === 0) return
  keys.sort()
  await c.query(lockAllSql('$1', '$2'), [keys, keys.map((k) => shared.has(k))])
}

/** A group's routing targets and the advisory locks it takes first (PostgresEngine.planRouting). */
export interface RoutingPlan {
  readonly targets: ReadonlyMap<AppendEvent, readonly RouteTarget[]>
  /** sorted lock keys */
  readonly keys: readonly string[]
  /** per key: taken in share mode */
  readonly shared: readonly boolean[]
}

/** Data-modifying CTEs another statement carries: `ctes(at)` numbers its parameters after `at`. */
export interface CarriedCtes {
  readonly ctes: (at: number) => string
  readonly params: readonly unknown[]
}

export type Tx = <T>(fn: (c: Client, now: number) => Promise<T>) => Promise<T>
export type WriteAudit = (c: Client, now: number, entries: readonly AuditEntry[]) => Promise<void>

/**
 * The engine's tables on PostgreSQL. Fencing locks the run row (FOR UPDATE) and checks the
 * token in the same transaction as the write, so a takeover can never interleave with it.
 */
export class PostgresEngine implements EngineStore {
  private router: Router | undefined

  constructor(
    private readonly pool: pg.Pool,
    private readonly tx: Tx,
    private readonly writeAudit: WriteAudit,
  ) {}

  private async fenced(c: Client, f: Fence): Promise<Row> {
    const r = await c.query(
      `SELECT * FROM workflow_runs WHERE id = $1 AND lease_token = $2 AND lease_expires_at_ms > ${NOW} FOR UPDATE`,
      [f.runId, f.token],
    )
    if (r.rowCount === 0)
      throw new QualinkError('QLK_LEASE_LOST', `run ${f.runId}: lease token ${f.token} no longer holds`)
    return r.rows[0]
  }

  setRouter(router: Router | undefined): void {
    this.router = router
  }

  /**
   * Called by appendEvents inside its transaction with the newly stored events. A wait (or an
   * inbox receive) is registered in another transaction; under READ COMMITTED each side could
   * miss the other's uncommitted row and the run would sleep until its timeout. Both sides take
   * the same transaction-level advisory lock per (type family, subject) and per (workflow, key)
   * first, so one always sees the other's commit. Ingest takes the wait key in share mode (a
   * wait registration takes it exclusively), so ingests of one subject run concurrently; the
   * waits they both match are row-locked in a fixed order by matchWaits. Keys are locked in
   * sorted order: two transactions never deadlock on them.
   */
  /**
   * What a group of new events routes to and the advisory locks that routing needs: each target's
   * inbox key exclusively, each subject's wait key shared, sorted (the order lockAll takes them).
   * The write path takes these locks in its insert statement (lockAllSql), before any event row
   * is written, and routeBatchInTx relies on them being held. Taken for every event of the group,
   * duplicates included (a lock more is harmless; the insert does not know yet which are new).
   */
  planRouting(events: readonly AppendEvent[]): RoutingPlan {
    const targets = new Map<AppendEvent, readonly RouteTarget[]>()
    const keys = new Set<string>()
    const shared = new Set<string>()
    for (const e of events) {
      const ts = this.router?.(e) ?? []
      targets.set(e, ts)
      if (e.subject !== null) shared.add(waitLock(typeFamily(e.type), e.subject))
      for (const t of ts) keys.add(inboxLock(t.workflow, t.key))
    }
    for (const k of shared) keys.add(k)
    const sorted = [...keys].sort()
    return { targets, keys: sorted, shared: sorted.map((k) => shared.has(k)) }
  }

  /**
   * Routes the group's stored events; the plan's locks are already held (see planRouting).
   * `carry`: data-modifying CTEs (numbered after the statement's own parameters) run in the
   * wait-matching statement; answers whether they ran (no event has a subject: no such statement).
   */
  async routeBatchInTx(
    c: Client,
    now: number,
    stored: ReadonlyArray<{ e: AppendEvent; seq: number }>,
    plan: RoutingPlan,
    carry?: CarriedCtes,
  ): Promise<boolean> {
    const routed = stored.map(({ e, seq }) => ({ e, seq, targets: plan.targets.get(e) ?? [] }))
    const carried = await this.matchWaits(c, now, routed, carry)
    for (const r of routed) if (r.targets.length > 0) await this.routeInTx(c, now, r.e, r.seq, r.targets)
    return carried
  }

  /**
   * One statement for the whole group: every waiting event-wait matched by any new event, the
   * earliest event winning (DISTINCT ON … ORDER BY seq). Measured: per-event UPDATEs held a
   * group of 100 open for 100 round trips; batched, store-only ingest went ~2.4k → 5–7k ev/s.
   */
  private async matchWaits(
    c: Client,
    now: number,
    routed: ReadonlyArray<{ e: AppendEvent; seq: number }>,
    carry?: CarriedCtes,
  ): Promise<boolean> {
    // Concurrent ingests of one subject (share-mode key) lock the waits they could match in
    // (run, position) order first, so they queue on each other instead of deadlocking.
    const withSubject = routed.filter((r) => r.e.subject !== null)
    if (withSubject.length === 0) return false
    const woken = await c.query(
      `WITH ${carry ? `${carry.ctes(4)},` : ''} ev(seq, family, subject, plant) AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])),
       ${WAIT_MATCH_CTES}
       UPDATE run_waits w SET status = 'matched', event_seq = m.seq FROM m
        WHERE w.run_id = m.run_id AND w.position = m.position AND w.status = 'waiting'
       RETURNING w.run_id`,
      [
        withSubject.map((r) => r.seq),
        withSubject.map((r) => typeFamily(r.e.type)),
        withSubject.map((r) => r.e.subject),
        withSubject.map((r) => r.e.plant),
        ...(carry?.params ?? []),
      ],
    )
    if (woken.rowCount !== 0)
      await c.query(
        `UPDATE workflow_runs SET due_at_ms = $1, updated_at_ms = $1 WHERE id = ANY($2::text[]) AND status = 'waiting'`,
        [now, woken.rows.map((w) => String(w.run_id))],
      )
    return true
  }

  private async routeInTx(
    c: Client,
    now: number,
    e: AppendEvent,
    seq: number,
    targets: readonly RouteTarget[],
  ): Promise<void> {
    for (const t of targets) {
      if (t.start) {
        const started = await c.query(
          `INSERT INTO workflow_runs (id, plant, workflow, version, run_key, status, trigger_event_seq, trigger_event_id,
             due_at_ms, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $8, $8)
           ON CONFLICT (workflow, run_key) WHERE status IN ${ACTIVE_STATUSES} DO NOTHING RETURNING id`,
          [randomUUID(), e.plant, t.workflow, t.version, t.key, seq, e.id, now],
        )
        if (started.rowCount === 1) continue
      }
      // Signal-with-start: the key is busy, so the event joins the active run's inbox (a
      // trigger that may not start a run joins only an active one), the run's inbox wait (if it
      // waits on it) is matched and the run made due: one statement, a round trip instead of
      // three. The parts touch different tables and each reads only rows earlier statements of
      // this transaction wrote (the active run), so one snapshot sees what three statements did.
      await c.query(
        `WITH active AS (
           SELECT id FROM workflow_runs WHERE workflow = $2 AND run_key = $3 AND status IN ${ACTIVE_STATUSES}),
         joined AS (
           INSERT INTO run_inbox (plant, workflow, run_key, version, event_seq)
           SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM active) RETURNING 1),
         woken AS (
           UPDATE run_waits SET status = 'matched', event_seq = $5 WHERE status = 'waiting' AND kind = 'inbox'
              AND run_id = (SELECT id FROM active) AND EXISTS (SELECT 1 FROM joined) RETURNING run_id)
         UPDATE workflow_runs SET due_at_ms = $6, updated_at_ms = $6
          WHERE id IN (SELECT run_id FROM woken) AND status = 'waiting'`,
        [e.plant, t.workflow, t.key, t.version, seq, now],
      )
    }
  }

  /**
   * One statement: SKIP LOCKED spreads concurrent claimers over different runs (= keys). Each
   * claimed run comes back with what its attempt loads first (its journal, its waits and its
   * trigger event, read after the claim's update in the same statement): a round trip and a
   * transaction less than loadRun and getEventBySeqInternal per attempt.
   */
  async claimRuns(owner: string, ttlMs: number, limit: number) {
    const r = await this.pool.query(
      `WITH claimed AS (
         UPDATE workflow_runs w SET lease_owner = $1, lease_token = w.lease_token + 1,
            lease_expires_at_ms = ${NOW} + $2, updated_at_ms = ${NOW}
          FROM (SELECT id, lease_owner AS prev_owner FROM workflow_runs
                 WHERE status IN ${CLAIMABLE_STATUSES} AND due_at_ms <= ${NOW} AND lease_expires_at_ms <= ${NOW}
                 ORDER BY due_at_ms LIMIT $3 FOR UPDATE SKIP LOCKED) due
          WHERE w.id = due.id RETURNING w.*, due.prev_owner)
       SELECT c.*,
         COALESCE((SELECT json_agg(j ORDER BY j.position) FROM run_journal j WHERE j.run_id = c.id), '[]') AS journal_rows,
         COALESCE((SELECT json_agg(w ORDER BY w.position) FROM run_waits w WHERE w.run_id = c.id), '[]') AS wait_rows,
         (SELECT row_to_json(e) FROM (SELECT ${EVENT_COLUMNS} FROM events WHERE seq = c.trigger_event_seq) e)
           AS trigger_row
       FROM claimed c`,
      [owner, ttlMs, limit],
    )
    return r.rows.map((row) => {
      const run = toRun(row)
      return {
        ...run,
        takenOver: row.prev_owner !== null,
        loaded: {
          run,
          journal: (row.journal_rows as Row[]).map(toJournal),
          waits: (row.wait_rows as Row[]).map(toWait),
        },
        trigger: row.trigger_row ? toEvent(row.trigger_row as Row) : undefined,
      }
    })
  }

  async renewRun(f: Fence, ttlMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE workflow_runs SET lease_expires_at_ms = ${NOW} + $1 WHERE id = $2 AND lease_token = $3
        AND lease_expires_at_ms > ${NOW}`,
      [ttlMs, f.runId, f.token],
    )
    return r.rowCount === 1
  }

  /** One statement (one round trip, one transaction): the run with its journal and waits. */
  async loadRun(scope: Scope, runId: string) {
    const sc = scopeClause(scope, 'r.plant', dollar, 1)
    const r = await this.pool.query(
      `SELECT r.*,
         COALESCE((SELECT json_agg(j ORDER BY j.position) FROM run_journal j WHERE j.run_id = r.id), '[]') AS journal_rows,
         COALESCE((SELECT json_agg(w ORDER BY w.position) FROM run_waits w WHERE w.run_id = r.id), '[]') AS wait_rows
       FROM workflow_runs r WHERE r.id = $1 AND ${sc.sql}`,
      [runId, ...sc.params],
    )
    const row = r.rows[0]
    if (!row) return undefined
    return {
      run: toRun(row),
      journal: (row.journal_rows as Row[]).map(toJournal),
      waits: (row.wait_rows as Row[]).map(toWait),
    }
  }

  async getEventBySeqInternal(seq: number): Promise<StoredEvent | undefined> {
    const r = await this.pool.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = $1`, [seq])
    return r.rows[0] ? toEvent(r.rows[0]) : undefined
  }

  async appendJournal(f: Fence, flush: JournalFlush): Promise<void> {
    if (!(await appendJournalFenced(this.pool, f, flush, NOW)))
      throw new QualinkError('QLK_LEASE_LOST', `run ${f.runId}: lease token ${f.token} no longer holds`)
  }

  private flush(c: Client, now: number, f: Fence, flush: JournalFlush | undefined): Promise<boolean> {
    return applyJournalFlush(c, now, f.runId, flush, this.writeAudit)
  }

  private async insertWait(
    c: Client,
    runId: string,
    plant: string,
    w: WaitRow,
    status: string,
    eventSeq: number | null,
  ) {
    await c.query(
      `INSERT INTO run_waits (run_id, position, plant, kind, event_family, subject, after_seq, timeout_at_ms, status,
         event_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        runId,
        w.position,
        plant,
        w.kind,
        w.eventFamily,
        w.subject,
        w.afterSeq,
        w.timeoutAtMs,
        status,
        eventSeq,
      ],
    )
  }

  /** Parks the run and ends this execution's lease in the same write (no separate suspend commit). */
  private async park(c: Client, now: number, runId: string, dueAtMs: number | null): Promise<void> {
    await c.query(
      `UPDATE workflow_runs SET status = 'waiting', due_at_ms = $1, updated_at_ms = $2, lease_owner = NULL,
         lease_expires_at_ms = 0 WHERE id = $3`,
      [dueAtMs, now, runId],
    )
  }

  private async findForWait(c: Client | pg.Pool, plant: string, w: WaitRow, exclude: readonly number[]) {
    const r = await c.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE plant = $1 AND subject = $2 AND type LIKE $3 AND seq > $4
        AND NOT (seq = ANY($5::bigint[])) ORDER BY seq LIMIT 1`,
      [plant, w.subject, `${w.eventFamily}.v%`, w.afterSeq, exclude],
    )
    return r.rows[0] as Row | undefined
  }

  async registerWait(
    f: Fence,
    wait: WaitRow,
    exclude: readonly number[],
    flush?: JournalFlush,
  ): Promise<StoredEvent | undefined> {
    return this.tx(async (c, now) => {
      const w = dueWait(wait, now)
      const run = await this.fenced(c, f)
      const plant = String(run.plant)
      // Same lock as routing (routeBatchInTx): an event committing concurrently is either visible
      // to this search or sees this wait row when it routes. Taken before the journal flush
      // updates the run row: routing holds it while it inserts a run of the same key, and that
      // insert waits for an uncommitted new version of the row (a deadlock the other way round).
      if (w.kind === 'event') await lockAll(c, [waitLock(w.eventFamily!, w.subject!)])
      await this.flush(c, now, f, flush)
      if (w.kind === 'event') {
        const found = await this.findForWait(c, plant, w, exclude)
        if (found) {
          await this.insertWait(c, f.runId, plant, w, 'matched', Number(found.seq))
          return toEvent(found)
        }
      }
      await this.insertWait(c, f.runId, plant, w, 'waiting', null)
      await this.park(c, now, f.runId, w.timeoutAtMs)
      return undefined
    })
  }

  async timeOutWait(runId: string, position: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE run_waits SET status = 'timed_out' WHERE run_id = $1 AND position = $2 AND status = 'waiting'`,
      [runId, position],
    )
    return r.rowCount === 1
  }

  /**
   * An event already tied to this position (matched by routing while the run waited, or consumed
   * by an earlier attempt whose journal entry was never written: the entry is buffered until the
   * attempt's next write) is the one this position receives, so a crash in between never loses a
   * consumed event. Otherwise the key's oldest unconsumed inbox event is consumed and tied to the
   * position (a matched wait row) in the same transaction, or the run parks on an inbox wait.
   */
  async takeInbox(f: Fence, wait: WaitRow, flush?: JournalFlush): Promise<StoredEvent | undefined> {
    return this.tx(async (c, now) => {
      const w = dueWait(wait, now)
      const run = await this.fenced(c, f)
      // the key's inbox lock before the flush updates the run row (see registerWait)
      await lockAll(c, [inboxLock(String(run.workflow), String(run.run_key))])
      await this.flush(c, now, f, flush)
      const tied = await c.query(
        `SELECT event_seq FROM run_waits WHERE run_id = $1 AND position = $2 AND status = 'matched'
          AND event_seq IS NOT NULL`,
        [f.runId, w.position],
      )
      let eventSeq: unknown = tied.rows[0]?.event_seq
      if (eventSeq !== undefined) {
        await c.query(
          `UPDATE run_inbox SET run_id = $1, consumed_at_ms = $2 WHERE workflow = $3 AND run_key = $4 AND event_seq = $5
            AND run_id IS NULL`,
          [f.runId, now, run.workflow, run.run_key, eventSeq],
        )
      } else {
        const next = await c.query(
          `SELECT seq, event_seq FROM run_inbox WHERE workflow = $1 AND run_key = $2 AND run_id IS NULL
            ORDER BY seq LIMIT 1 FOR UPDATE`,
          [run.workflow, run.run_key],
        )
        await c.query('DELETE FROM run_waits WHERE run_id = $1 AND position = $2', [f.runId, w.position])
        if (!next.rows[0]) {
          await this.insertWait(c, f.runId, String(run.plant), w, 'waiting', null)
          await this.park(c, now, f.runId, w.timeoutAtMs)
          return undefined
        }
        eventSeq = next.rows[0].event_seq
        await c.query('UPDATE run_inbox SET run_id = $1, consumed_at_ms = $2 WHERE seq = $3', [
          f.runId,
          now,
          next.rows[0].seq,
        ])
        await this.insertWait(c, f.runId, String(run.plant), w, 'matched', Number(eventSeq))
      }
      const ev = await c.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = $1`, [eventSeq])
      return toEvent(ev.rows[0])
    })
  }

  async suspendRun(f: Fence, flush?: JournalFlush): Promise<void> {
    if (flush && (flush.entries.length > 0 || flush.config !== undefined)) {
      await this.tx(async (c, now) => {
        await this.fenced(c, f)
        await this.flush(c, now, f, flush)
        await c.query('UPDATE workflow_runs SET lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = $1', [
          f.runId,
        ])
      })
      return
    }
    await this.pool.query(
      'UPDATE workflow_runs SET lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = $1 AND lease_token = $2',
      [f.runId, f.token],
    )
  }

  async retryRun(
    f: Fence,
    delayMs: number,
    code: string,
    error: string,
    flush?: JournalFlush,
  ): Promise<void> {
    await this.tx(async (c, now) => {
      await this.fenced(c, f)
      await this.flush(c, now, f, flush)
      await c.query(
        `UPDATE workflow_runs SET status = 'pending', attempts = attempts + 1, due_at_ms = $1, last_error_code = $2,
           last_error = $3, lease_owner = NULL, lease_expires_at_ms = 0, updated_at_ms = $4 WHERE id = $5`,
        [now + delayMs, code, error, now, f.runId],
      )
    })
  }

  /**
   * A run that ends takes its key's inbox lock before its status changes, as routing does before
   * it reads whether the key is busy: otherwise, under READ COMMITTED, an event routed into the
   * inbox while the run ends is missed by startNextFromInbox and waits forever (seen in the F8
   * fault scenario on PostgreSQL: the key's last event stored, never run).
   */
  private async lockKeyInbox(c: Client, run: Row): Promise<void> {
    await lockAll(c, [inboxLock(String(run.workflow), String(run.run_key))])
  }

  /** The next inbox event of a key whose run just ended starts the key's next run, in order. */
  private async startNextFromInbox(c: Client, now: number, workflow: string, key: string): Promise<void> {
    const next = await c.query(
      `SELECT i.seq, i.plant, i.version, i.event_seq, e.id FROM run_inbox i JOIN events e ON e.seq = i.event_seq
        WHERE i.workflow = $1 AND i.run_key = $2 AND i.run_id IS NULL ORDER BY i.seq LIMIT 1 FOR UPDATE OF i`,
      [workflow, key],
    )
    const n = next.rows[0]
    if (!n) return
    const id = randomUUID()
    await c.query(
      `INSERT INTO workflow_runs (id, plant, workflow, version, run_key, status, trigger_event_seq, trigger_event_id,
         due_at_ms, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $8, $8)`,
      [id, n.plant, workflow, n.version, key, n.event_seq, n.id, now],
    )
    await c.query('UPDATE run_inbox SET run_id = $1, consumed_at_ms = $2 WHERE seq = $3', [id, now, n.seq])
  }

  async completeRun(
    f: Fence,
    status: 'completed' | 'cancelled',
    result: unknown,
    audit: AuditEntry,
    flush?: JournalFlush,
  ): Promise<void> {
    await this.tx(async (c, now) => {
      const run = await this.fenced(c, f)
      await this.lockKeyInbox(c, run)
      await this.flush(c, now, f, flush)
      await c.query(
        `UPDATE workflow_runs SET status = $1, result = $2, completed_at_ms = $3, updated_at_ms = $3, due_at_ms = NULL,
           lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = $4`,
        [status, j(result), now, f.runId],
      )
      await this.writeAudit(c, now, [audit])
      await this.startNextFromInbox(c, now, String(run.workflow), String(run.run_key))
    })
  }

  async deadLetterRun(
    f: Fence,
    policy: PoisonPolicy,
    code: string,
    error: string,
    audit: AuditEntry,
    failedAt?: { readonly connector?: string; readonly target?: string },
    flush?: JournalFlush,
  ): Promise<void> {
    await this.tx(async (c, now) => {
      const run = await this.fenced(c, f)
      // entries written now reset the budget, as a separate journal write did before
      await this.lockKeyInbox(c, run)
      const attempts = (await this.flush(c, now, f, flush)) ? 0 : Number(run.attempts)
      await c.query(
        `UPDATE workflow_runs SET status = $1, last_error_code = $2, last_error = $3, due_at_ms = NULL, lease_owner = NULL,
           lease_expires_at_ms = 0, updated_at_ms = $4 WHERE id = $5`,
        [policy === 'block' ? 'failed' : 'dead', code, error, now, f.runId],
      )
      await c.query(
        `INSERT INTO dead_letters (plant, run_id, workflow, run_key, error_code, error, attempts, status, created_at_ms,
           connector, target) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10)`,
        [
          run.plant,
          f.runId,
          run.workflow,
          run.run_key,
          code,
          error,
          attempts + 1,
          now,
          failedAt?.connector ?? null,
          failedAt?.target ?? null,
        ],
      )
      await this.writeAudit(c, now, [audit])
      if (policy === 'skip') await this.startNextFromInbox(c, now, String(run.workflow), String(run.run_key))
    })
  }

  async requestCancel(scope: Scope, runId: string, reason: string, audit: Omit<AuditEntry, 'plant'>) {
    const sc = scopeClause(scope, 'plant', dollar, 3)
    return this.tx(async (c, now) => {
      const r = await c.query(
        `UPDATE workflow_runs SET cancel_requested = TRUE, cancel_reason = $1, status = 'pending', due_at_ms = $2,
           updated_at_ms = $2 WHERE id = $3 AND status IN ${ACTIVE_STATUSES} AND ${sc.sql} RETURNING *`,
        [reason, now, runId, ...sc.params],
      )
      if (!r.rows[0]) return undefined
      await this.writeAudit(c, now, [{ ...audit, plant: String(r.rows[0].plant) }])
      return toRun(r.rows[0])
    })
  }

  private async filtered(
    table: string,
    scope: Scope,
    filters: ReadonlyArray<[string, unknown]>,
    order: string,
    limit: number,
  ) {
    const sc = scopeClause(scope, 'plant', dollar, 0)
    const where = [sc.sql]
    const params: unknown[] = [...sc.params]
    for (const [col, v] of filters) {
      if (v === undefined) continue
      if (v === null) {
        where.push(`${col} IS NULL`)
        continue
      }
      params.push(v)
      where.push(`${col} = $${params.length}`)
    }
    params.push(limit)
    return (
      await this.pool.query(
        `SELECT * FROM ${table} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT $${params.length}`,
        params,
      )
    ).rows
  }

  async listRuns(scope: Scope, f: RunFilter): Promise<RunRow[]> {
    const rows = await this.filtered(
      'workflow_runs',
      scope,
      [
        ['workflow', f.workflow],
        ['status', f.status],
        ['run_key', f.key],
      ],
      'created_at_ms DESC',
      f.limit,
    )
    return rows.map(toRun)
  }

  async listDeadLetters(scope: Scope, f: DeadLetterFilter): Promise<DeadLetter[]> {
    const rows = await this.filtered(
      'dead_letters',
      scope,
      [
        ['workflow', f.workflow],
        ['error_code', f.errorCode],
        ['status', f.status],
        ['connector', f.connector],
      ],
      'id',
      f.limit,
    )
    return rows.map(toDeadLetter)
  }

  private async openDeadLetter(c: Client, scope: Scope, id: number): Promise<Row | undefined> {
    const sc = scopeClause(scope, 'plant', dollar, 1)
    const r = await c.query(
      `SELECT * FROM dead_letters WHERE id = $1 AND status = 'open' AND ${sc.sql} FOR UPDATE`,
      [id, ...sc.params],
    )
    return r.rows[0]
  }

  async replayDeadLetter(scope: Scope, id: number, _version: number, audit: Omit<AuditEntry, 'plant'>) {
    return this.tx(async (c, now) => {
      const dl = await this.openDeadLetter(c, scope, id)
      if (!dl) return undefined
      await c.query('SAVEPOINT reopen')
      try {
        await c.query(
          `UPDATE workflow_runs SET status = 'pending', attempts = 0, due_at_ms = $1, updated_at_ms = $1,
             last_error_code = NULL, last_error = NULL WHERE id = $2`,
          [now, dl.run_id],
        )
      } catch (e) {
        await c.query('ROLLBACK TO SAVEPOINT reopen')
        throw new QualinkError(
          'QLK_VALIDATION',
          `run ${dl.run_id} cannot be replayed while another run of key '${dl.run_key}' is active`,
          [{ path: '/id', message: 'the key has an active run; replay after it finishes' }],
          { cause: e },
        )
      }
      return this.resolveDeadLetter(c, now, dl, 'replayed', null, audit)
    })
  }

  async discardDeadLetter(scope: Scope, id: number, reason: string, audit: Omit<AuditEntry, 'plant'>) {
    return this.tx(async (c, now) => {
      const dl = await this.openDeadLetter(c, scope, id)
      if (!dl) return undefined
      // Discarding a blocked key's failure unblocks the key: its queued events run next.
      await this.lockKeyInbox(c, dl)
      const r = await c.query(
        `UPDATE workflow_runs SET status = 'dead', updated_at_ms = $1 WHERE id = $2 AND status = 'failed'
          RETURNING workflow, run_key`,
        [now, dl.run_id],
      )
      if (r.rows[0])
        await this.startNextFromInbox(c, now, String(r.rows[0].workflow), String(r.rows[0].run_key))
      return this.resolveDeadLetter(c, now, dl, 'discarded', reason, audit)
    })
  }

  private async resolveDeadLetter(
    c: Client,
    now: number,
    dl: Row,
    status: 'replayed' | 'discarded',
    reason: string | null,
    audit: Omit<AuditEntry, 'plant'>,
  ): Promise<DeadLetter> {
    const r = await c.query(
      `UPDATE dead_letters SET status = $1, reason = $2, resolved_at_ms = $3, resolved_by = $4 WHERE id = $5 RETURNING *`,
      [status, reason, now, audit.actor, dl.id],
    )
    await this.writeAudit(c, now, [{ ...audit, plant: String(dl.plant) }])
    return toDeadLetter(r.rows[0])
  }

  async engineCounts(): Promise<EngineCounts> {
    const byStatus = await this.pool.query(
      'SELECT status, COUNT(*)::bigint AS n FROM workflow_runs GROUP BY status',
    )
    const one = async (sql: string) => Number((await this.pool.query(sql)).rows[0].n)
    return {
      runsByStatus: Object.fromEntries(byStatus.rows.map((r) => [String(r.status), Number(r.n)])),
      openDeadLetters: await one(`SELECT COUNT(*)::bigint AS n FROM dead_letters WHERE status = 'open'`),
      blockedKeys: await one(`SELECT COUNT(*)::bigint AS n FROM workflow_runs WHERE status = 'failed'`),
      dueNow: await one(
        `SELECT COUNT(*)::bigint AS n FROM workflow_runs WHERE status IN ${CLAIMABLE_STATUSES} AND due_at_ms <= ${NOW}`,
      ),
    }
  }
}
