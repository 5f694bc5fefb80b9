import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
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
  RunFilter,
  RunRow,
  WaitRow,
} from '../engine-types.ts'
import { EVENT_COLUMNS, toEvent } from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type { AppendEvent, AuditEntry, Scope, StoredEvent } from '../types.ts'
import { applyJournalFlush } from './journal-flush.ts'

type Row = Record<string, unknown>
const q = () => '?'
const NOW = `CAST(unixepoch('subsec') * 1000 AS INTEGER)`
const j = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v))

/**
 * The engine's tables on SQLite. One connection, so every method is one synchronous
 * transaction: a wait registered here and an event routed by appendEvents can never interleave.
 */
export class SqliteEngine implements EngineStore {
  private router: Router | undefined

  constructor(
    private readonly db: Database.Database,
    private readonly writeAudit: (now: number, a: AuditEntry) => void,
  ) {}

  private readonly statements = new Map<string, Database.Statement>()

  /** Prepared once per SQL text: routing runs inside every write transaction, preparing is ~13 % of it. */
  private q(sql: string): Database.Statement {
    let st = this.statements.get(sql)
    if (!st) {
      st = this.db.prepare(sql)
      this.statements.set(sql, st)
    }
    return st
  }

  private now(): number {
    return (this.q(`SELECT ${NOW} AS n`).get() as { n: number }).n
  }

  private tx<T>(fn: (now: number) => T): T {
    return this.db.transaction(() => fn(this.now())).immediate()
  }

  private fenced(f: Fence): void {
    const ok = this.q(
      `SELECT 1 FROM workflow_runs WHERE id = ? AND lease_token = ? AND lease_expires_at_ms > ${NOW}`,
    ).get(f.runId, f.token)
    if (!ok)
      throw new QualinkError('QLK_LEASE_LOST', `run ${f.runId}: lease token ${f.token} no longer holds`)
  }

  setRouter(router: Router | undefined): void {
    this.router = router
  }

  /**
   * Whether any event wait is waiting (through the partial index run_waits_match). appendEvents
   * asks once per group and, when none is, routes without the per-event wait match: one statement
   * per group instead of one per event. The answer holds for the whole group: it is read inside
   * the group's write transaction, on the one connection that owns the file, and routing itself
   * only starts runs or fills inboxes, never registers an event wait.
   */
  hasWaitingEventWaits(): boolean {
    return (
      this.q(`SELECT 1 FROM run_waits WHERE status = 'waiting' AND kind = 'event' LIMIT 1`).get() !==
      undefined
    )
  }

  /**
   * Called by appendEvents inside its transaction for each newly stored event; `matchWaits`
   * false when hasWaitingEventWaits() said no event wait is waiting.
   */
  routeInTx(now: number, e: AppendEvent, seq: number, matchWaits = true): void {
    if (matchWaits && e.subject !== null) {
      const woken =
        this.q(`UPDATE run_waits SET status = 'matched', event_seq = ? WHERE status = 'waiting' AND kind = 'event'
          AND event_family = ? AND subject = ? AND plant = ? AND after_seq < ? RETURNING run_id`).all(
          seq,
          typeFamily(e.type),
          e.subject,
          e.plant,
          seq,
        ) as Row[]
      for (const w of woken) this.wake(now, String(w.run_id))
    }
    for (const t of this.router?.(e) ?? []) {
      const started =
        t.start &&
        this.q(`INSERT INTO workflow_runs (id, plant, workflow, version, run_key, status, trigger_event_seq,
            trigger_event_id, due_at_ms, created_at_ms, updated_at_ms)
          VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)
          ON CONFLICT (workflow, run_key) WHERE status IN ${ACTIVE_STATUSES} DO NOTHING RETURNING id`).get(
          randomUUID(),
          e.plant,
          t.workflow,
          t.version,
          t.key,
          seq,
          e.id,
          now,
          now,
          now,
        )
      if (started) continue
      // Signal-with-start: the key is busy, so the event joins the active run's inbox (a
      // trigger that may not start a run joins only an active one).
      const joined = this.q(
        `INSERT INTO run_inbox (plant, workflow, run_key, version, event_seq) SELECT ?, ?, ?, ?, ?
          WHERE EXISTS (SELECT 1 FROM workflow_runs WHERE workflow = ? AND run_key = ? AND status IN ${ACTIVE_STATUSES})`,
      ).run(e.plant, t.workflow, t.key, t.version, seq, t.workflow, t.key)
      if (joined.changes === 0) continue
      const woken =
        this.q(`UPDATE run_waits SET status = 'matched', event_seq = ? WHERE status = 'waiting' AND kind = 'inbox'
          AND run_id = (SELECT id FROM workflow_runs WHERE workflow = ? AND run_key = ? AND status IN ${ACTIVE_STATUSES})
          RETURNING run_id`).all(seq, t.workflow, t.key) as Row[]
      for (const w of woken) this.wake(now, String(w.run_id))
    }
  }

  private wake(now: number, runId: string): void {
    this.q(
      `UPDATE workflow_runs SET due_at_ms = ?, updated_at_ms = ? WHERE id = ? AND status = 'waiting'`,
    ).run(now, now, runId)
  }

  async claimRuns(owner: string, ttlMs: number, limit: number) {
    return this.tx((now) => {
      const due =
        this.q(`SELECT id, lease_owner FROM workflow_runs WHERE status IN ${CLAIMABLE_STATUSES} AND due_at_ms <= ?
          AND lease_expires_at_ms <= ? ORDER BY due_at_ms LIMIT ?`).all(now, now, limit) as Row[]
      const claim = this.q(`UPDATE workflow_runs SET lease_owner = ?, lease_token = lease_token + 1,
          lease_expires_at_ms = ?, updated_at_ms = ? WHERE id = ? RETURNING *`)
      // A lease that expired without being released means its worker died: a takeover.
      return due.map((d) => ({
        ...toRun(claim.get(owner, now + ttlMs, now, d.id) as Row),
        takenOver: d.lease_owner !== null,
      }))
    })
  }

  async renewRun(f: Fence, ttlMs: number): Promise<boolean> {
    const r =
      this.q(`UPDATE workflow_runs SET lease_expires_at_ms = ${NOW} + ? WHERE id = ? AND lease_token = ?
        AND lease_expires_at_ms > ${NOW}`).run(ttlMs, f.runId, f.token)
    return r.changes === 1
  }

  async loadRun(scope: Scope, runId: string) {
    const sc = scopeClause(scope, 'plant', q, 0)
    const run = this.q(`SELECT * FROM workflow_runs WHERE id = ? AND ${sc.sql}`).get(runId, ...sc.params) as
      | Row
      | undefined
    if (!run) return undefined
    const journal = this.q('SELECT * FROM run_journal WHERE run_id = ? ORDER BY position').all(runId) as Row[]
    const waits = this.q('SELECT * FROM run_waits WHERE run_id = ? ORDER BY position').all(runId) as Row[]
    return { run: toRun(run), journal: journal.map(toJournal), waits: waits.map(toWait) }
  }

  async getEventBySeqInternal(seq: number): Promise<StoredEvent | undefined> {
    const r = this.q(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = ?`).get(seq) as Row | undefined
    return r ? toEvent(r) : undefined
  }

  async appendJournal(f: Fence, flush: JournalFlush): Promise<void> {
    this.tx((now) => {
      this.fenced(f)
      this.flush(now, f, flush)
    })
  }

  private flush(now: number, f: Fence, flush: JournalFlush | undefined): boolean {
    return applyJournalFlush((sql) => this.q(sql), now, f.runId, flush, this.writeAudit)
  }

  private insertWait(
    runId: string,
    plant: string,
    w: WaitRow,
    status: WaitRow['status'],
    eventSeq: number | null,
  ) {
    this.q(`INSERT INTO run_waits (run_id, position, plant, kind, event_family, subject, after_seq, timeout_at_ms,
          status, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
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
    )
  }

  /** Parks the run and ends this execution's lease in the same write (no separate suspend commit). */
  private park(now: number, runId: string, dueAtMs: number | null): void {
    this.q(`UPDATE workflow_runs SET status = 'waiting', due_at_ms = ?, updated_at_ms = ?, lease_owner = NULL,
        lease_expires_at_ms = 0 WHERE id = ?`).run(dueAtMs, now, runId)
  }

  private plantOf(runId: string): string {
    return String((this.q('SELECT plant FROM workflow_runs WHERE id = ?').get(runId) as Row).plant)
  }

  async registerWait(
    f: Fence,
    wait: WaitRow,
    exclude: readonly number[],
    flush?: JournalFlush,
  ): Promise<StoredEvent | undefined> {
    return this.tx((now) => {
      const w = dueWait(wait, now)
      this.fenced(f)
      this.flush(now, f, flush)
      const plant = this.plantOf(f.runId)
      if (w.kind === 'event') {
        const found =
          this.q(`SELECT ${EVENT_COLUMNS} FROM events WHERE plant = ? AND subject = ? AND type LIKE ? AND seq > ?
            ${exclude.length ? `AND seq NOT IN (${exclude.map(() => '?').join(', ')})` : ''} ORDER BY seq LIMIT 1`).get(
            plant,
            w.subject,
            `${w.eventFamily}.v%`,
            w.afterSeq,
            ...exclude,
          ) as Row | undefined
        if (found) {
          this.insertWait(f.runId, plant, w, 'matched', Number(found.seq))
          return toEvent(found)
        }
      }
      this.insertWait(f.runId, plant, w, 'waiting', null)
      this.park(now, f.runId, w.timeoutAtMs)
      return undefined
    })
  }

  async timeOutWait(runId: string, position: number): Promise<boolean> {
    const r = this.q(
      `UPDATE run_waits SET status = 'timed_out' WHERE run_id = ? AND position = ? AND status = 'waiting'`,
    ).run(runId, position)
    return r.changes === 1
  }

  /**
   * An event already tied to this position (matched by routing while the run waited, or consumed
   * by an earlier attempt whose journal entry was never written) is the one this position
   * receives; otherwise the oldest unconsumed inbox event is consumed and tied to the position in
   * the same transaction, or the run parks on an inbox wait (PostgresEngine.takeInbox says why).
   */
  async takeInbox(f: Fence, wait: WaitRow, flush?: JournalFlush): Promise<StoredEvent | undefined> {
    return this.tx((now) => {
      const w = dueWait(wait, now)
      this.fenced(f)
      this.flush(now, f, flush)
      const run = this.q('SELECT * FROM workflow_runs WHERE id = ?').get(f.runId) as Row
      const tied = this.q(
        `SELECT event_seq FROM run_waits WHERE run_id = ? AND position = ? AND status = 'matched' AND event_seq IS NOT NULL`,
      ).get(f.runId, w.position) as Row | undefined
      let eventSeq = tied?.event_seq
      if (eventSeq !== undefined) {
        this.q(`UPDATE run_inbox SET run_id = ?, consumed_at_ms = ? WHERE workflow = ? AND run_key = ? AND event_seq = ?
            AND run_id IS NULL`).run(f.runId, now, run.workflow, run.run_key, eventSeq)
      } else {
        const next =
          this.q(`SELECT seq, event_seq FROM run_inbox WHERE workflow = ? AND run_key = ? AND run_id IS NULL
            ORDER BY seq LIMIT 1`).get(run.workflow, run.run_key) as Row | undefined
        this.q('DELETE FROM run_waits WHERE run_id = ? AND position = ?').run(f.runId, w.position)
        if (!next) {
          this.insertWait(f.runId, String(run.plant), w, 'waiting', null)
          this.park(now, f.runId, w.timeoutAtMs)
          return undefined
        }
        eventSeq = next.event_seq
        this.q('UPDATE run_inbox SET run_id = ?, consumed_at_ms = ? WHERE seq = ?').run(
          f.runId,
          now,
          next.seq,
        )
        this.insertWait(f.runId, String(run.plant), w, 'matched', Number(eventSeq))
      }
      return toEvent(this.q(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = ?`).get(eventSeq) as Row)
    })
  }

  async suspendRun(f: Fence, flush?: JournalFlush): Promise<void> {
    if (flush && (flush.entries.length > 0 || flush.config !== undefined)) {
      this.tx((now) => {
        this.fenced(f)
        this.flush(now, f, flush)
        this.q('UPDATE workflow_runs SET lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = ?').run(
          f.runId,
        )
      })
      return
    }
    this.q(
      `UPDATE workflow_runs SET lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = ? AND lease_token = ?`,
    ).run(f.runId, f.token)
  }

  async retryRun(
    f: Fence,
    delayMs: number,
    code: string,
    error: string,
    flush?: JournalFlush,
  ): Promise<void> {
    this.tx((now) => {
      this.fenced(f)
      this.flush(now, f, flush)
      this.q(`UPDATE workflow_runs SET status = 'pending', attempts = attempts + 1, due_at_ms = ?,
            last_error_code = ?, last_error = ?, lease_owner = NULL, lease_expires_at_ms = 0, updated_at_ms = ?
          WHERE id = ?`).run(now + delayMs, code, error, now, f.runId)
    })
  }

  /** The next inbox event of a key whose run just ended starts the key's next run, in order. */
  private startNextFromInbox(now: number, workflow: string, key: string): void {
    const next =
      this.q(`SELECT i.seq, i.plant, i.version, i.event_seq, e.id FROM run_inbox i JOIN events e ON e.seq = i.event_seq
        WHERE i.workflow = ? AND i.run_key = ? AND i.run_id IS NULL ORDER BY i.seq LIMIT 1`).get(
        workflow,
        key,
      ) as Row | undefined
    if (!next) return
    const id = randomUUID()
    this.q(`INSERT INTO workflow_runs (id, plant, workflow, version, run_key, status, trigger_event_seq,
          trigger_event_id, due_at_ms, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`).run(
      id,
      next.plant,
      workflow,
      next.version,
      key,
      next.event_seq,
      next.id,
      now,
      now,
      now,
    )
    this.q('UPDATE run_inbox SET run_id = ?, consumed_at_ms = ? WHERE seq = ?').run(id, now, next.seq)
  }

  async completeRun(
    f: Fence,
    status: 'completed' | 'cancelled',
    result: unknown,
    audit: AuditEntry,
    flush?: JournalFlush,
  ): Promise<void> {
    this.tx((now) => {
      this.fenced(f)
      this.flush(now, f, flush)
      const run =
        this.q(`UPDATE workflow_runs SET status = ?, result = ?, completed_at_ms = ?, updated_at_ms = ?, due_at_ms = NULL,
            lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = ? RETURNING workflow, run_key`).get(
          status,
          j(result),
          now,
          now,
          f.runId,
        ) as Row
      this.writeAudit(now, audit)
      this.startNextFromInbox(now, String(run.workflow), String(run.run_key))
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
    this.tx((now) => {
      this.fenced(f)
      this.flush(now, f, flush)
      const run =
        this.q(`UPDATE workflow_runs SET status = ?, last_error_code = ?, last_error = ?, due_at_ms = NULL,
            lease_owner = NULL, lease_expires_at_ms = 0, updated_at_ms = ? WHERE id = ? RETURNING *`).get(
          policy === 'block' ? 'failed' : 'dead',
          code,
          error,
          now,
          f.runId,
        ) as Row
      this.q(`INSERT INTO dead_letters (plant, run_id, workflow, run_key, error_code, error, attempts, status,
            created_at_ms, connector, target) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`).run(
        run.plant,
        f.runId,
        run.workflow,
        run.run_key,
        code,
        error,
        Number(run.attempts) + 1,
        now,
        failedAt?.connector ?? null,
        failedAt?.target ?? null,
      )
      this.writeAudit(now, audit)
      if (policy === 'skip') this.startNextFromInbox(now, String(run.workflow), String(run.run_key))
    })
  }

  async requestCancel(scope: Scope, runId: string, reason: string, audit: Omit<AuditEntry, 'plant'>) {
    const sc = scopeClause(scope, 'plant', q, 0)
    return this.tx((now) => {
      const r =
        this.q(`UPDATE workflow_runs SET cancel_requested = 1, cancel_reason = ?, status = 'pending', due_at_ms = ?,
            updated_at_ms = ? WHERE id = ? AND status IN ${ACTIVE_STATUSES} AND ${sc.sql} RETURNING *`).get(
          reason,
          now,
          now,
          runId,
          ...sc.params,
        ) as Row | undefined
      if (!r) return undefined
      this.writeAudit(now, { ...audit, plant: String(r.plant) })
      return toRun(r)
    })
  }

  async listRuns(scope: Scope, f: RunFilter): Promise<RunRow[]> {
    const sc = scopeClause(scope, 'plant', q, 0)
    const where = [sc.sql]
    const params: unknown[] = [...sc.params]
    for (const [col, v] of [
      ['workflow', f.workflow],
      ['status', f.status],
      ['run_key', f.key],
    ] as const) {
      if (v === undefined) continue
      where.push(`${col} = ?`)
      params.push(v)
    }
    const rows = this.q(
      `SELECT * FROM workflow_runs WHERE ${where.join(' AND ')} ORDER BY created_at_ms DESC LIMIT ?`,
    ).all(...params, f.limit) as Row[]
    return rows.map(toRun)
  }

  async listDeadLetters(scope: Scope, f: DeadLetterFilter): Promise<DeadLetter[]> {
    const sc = scopeClause(scope, 'plant', q, 0)
    const where = [sc.sql]
    const params: unknown[] = [...sc.params]
    for (const [col, v] of [
      ['workflow', f.workflow],
      ['error_code', f.errorCode],
      ['status', f.status],
      ['connector', f.connector],
    ] as const) {
      if (v === undefined) continue
      if (v === null) {
        where.push(`${col} IS NULL`)
        continue
      }
      where.push(`${col} = ?`)
      params.push(v)
    }
    const rows = this.q(`SELECT * FROM dead_letters WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`).all(
      ...params,
      f.limit,
    ) as Row[]
    return rows.map(toDeadLetter)
  }

  private openDeadLetter(scope: Scope, id: number): Row | undefined {
    const sc = scopeClause(scope, 'plant', q, 0)
    return this.q(`SELECT * FROM dead_letters WHERE id = ? AND status = 'open' AND ${sc.sql}`).get(
      id,
      ...sc.params,
    ) as Row | undefined
  }

  async replayDeadLetter(scope: Scope, id: number, _version: number, audit: Omit<AuditEntry, 'plant'>) {
    return this.tx((now) => {
      const dl = this.openDeadLetter(scope, id)
      if (!dl) return undefined
      try {
        this.q(`UPDATE workflow_runs SET status = 'pending', attempts = 0, due_at_ms = ?, updated_at_ms = ?,
              last_error_code = NULL, last_error = NULL WHERE id = ?`).run(now, now, dl.run_id)
      } catch (e) {
        throw new QualinkError(
          'QLK_VALIDATION',
          `run ${dl.run_id} cannot be replayed while another run of key '${dl.run_key}' is active`,
          [{ path: '/id', message: 'the key has an active run; replay after it finishes' }],
          { cause: e },
        )
      }
      return this.resolveDeadLetter(now, dl, 'replayed', null, audit)
    })
  }

  async discardDeadLetter(scope: Scope, id: number, reason: string, audit: Omit<AuditEntry, 'plant'>) {
    return this.tx((now) => {
      const dl = this.openDeadLetter(scope, id)
      if (!dl) return undefined
      // Discarding a blocked key's failure unblocks the key: its queued events run next.
      const r =
        this.q(`UPDATE workflow_runs SET status = 'dead', updated_at_ms = ? WHERE id = ? AND status = 'failed'
          RETURNING workflow, run_key`).get(now, dl.run_id) as Row | undefined
      if (r) this.startNextFromInbox(now, String(r.workflow), String(r.run_key))
      return this.resolveDeadLetter(now, dl, 'discarded', reason, audit)
    })
  }

  private resolveDeadLetter(
    now: number,
    dl: Row,
    status: 'replayed' | 'discarded',
    reason: string | null,
    audit: Omit<AuditEntry, 'plant'>,
  ): DeadLetter {
    const r =
      this.q(`UPDATE dead_letters SET status = ?, reason = ?, resolved_at_ms = ?, resolved_by = ? WHERE id = ?
        RETURNING *`).get(status, reason, now, audit.actor, dl.id) as Row
    this.writeAudit(now, { ...audit, plant: String(dl.plant) })
    return toDeadLetter(r)
  }

  async engineCounts(): Promise<EngineCounts> {
    const now = this.now()
    const byStatus = this.q('SELECT status, COUNT(*) AS n FROM workflow_runs GROUP BY status').all() as Row[]
    const one = (sql: string, ...p: unknown[]) => Number((this.q(sql).get(...p) as Row).n)
    return {
      runsByStatus: Object.fromEntries(byStatus.map((r) => [String(r.status), Number(r.n)])),
      openDeadLetters: one(`SELECT COUNT(*) AS n FROM dead_letters WHERE status = 'open'`),
      blockedKeys: one(`SELECT COUNT(*) AS n FROM workflow_runs WHERE status = 'failed'`),
      dueNow: one(
        `SELECT COUNT(*) AS n FROM workflow_runs WHERE status IN ${CLAIMABLE_STATUSES} AND due_at_ms <= ?`,
        now,
      ),
    }
  }
}
