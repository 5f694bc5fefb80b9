import type { DeadLetter, JournalEntry, RunRow, WaitRow } from './engine-types.ts'

/** Row mappers for the engine tables, shared by both dialects. */
type Row = Record<string, unknown>

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v))
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v))
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))
const json = (v: unknown): unknown => (v === null || v === undefined ? null : JSON.parse(String(v)))

export function toRun(r: Row): RunRow {
  return {
    id: String(r.id),
    plant: String(r.plant),
    workflow: String(r.workflow),
    version: num(r.version),
    key: String(r.run_key),
    status: String(r.status) as RunRow['status'],
    triggerEventSeq: numOrNull(r.trigger_event_seq),
    triggerEventId: strOrNull(r.trigger_event_id),
    config: json(r.config),
    dueAtMs: numOrNull(r.due_at_ms),
    attempts: num(r.attempts),
    leaseOwner: strOrNull(r.lease_owner),
    leaseToken: num(r.lease_token),
    leaseExpiresAtMs: num(r.lease_expires_at_ms),
    cancelRequested: r.cancel_requested === true || r.cancel_requested === 1,
    cancelReason: strOrNull(r.cancel_reason),
    result: json(r.result),
    lastErrorCode: strOrNull(r.last_error_code),
    lastError: strOrNull(r.last_error),
    createdAtMs: num(r.created_at_ms),
    updatedAtMs: num(r.updated_at_ms),
    completedAtMs: numOrNull(r.completed_at_ms),
  }
}

export function toJournal(r: Row): JournalEntry {
  return {
    position: num(r.position),
    kind: String(r.kind) as JournalEntry['kind'],
    name: String(r.name),
    occurrence: num(r.occurrence),
    idempotencyKey: strOrNull(r.idempotency_key),
    result: json(r.result),
    codeVersion: num(r.code_version),
    completedAtMs: num(r.completed_at_ms),
  }
}

export function toWait(r: Row): WaitRow {
  return {
    position: num(r.position),
    kind: String(r.kind) as WaitRow['kind'],
    eventFamily: strOrNull(r.event_family),
    subject: strOrNull(r.subject),
    afterSeq: num(r.after_seq),
    timeoutAtMs: numOrNull(r.timeout_at_ms),
    status: String(r.status) as WaitRow['status'],
    eventSeq: numOrNull(r.event_seq),
  }
}

export function toDeadLetter(r: Row): DeadLetter {
  return {
    id: num(r.id),
    plant: String(r.plant),
    runId: String(r.run_id),
    workflow: String(r.workflow),
    key: String(r.run_key),
    errorCode: String(r.error_code),
    error: String(r.error),
    attempts: num(r.attempts),
    status: String(r.status) as DeadLetter['status'],
    reason: strOrNull(r.reason),
    createdAtMs: num(r.created_at_ms),
    resolvedAtMs: numOrNull(r.resolved_at_ms),
    resolvedBy: strOrNull(r.resolved_by),
    connector: strOrNull(r.connector),
    target: strOrNull(r.target),
  }
}

/** `erp.stock.posted.v2` → `erp.stock.posted`: waits match a type family, so v1 waits see v2 events. */
export function typeFamily(type: string): string {
  return type.replace(/\.v[1-9][0-9]*$/, '')
}

/** A wait being registered, its relative timeout made absolute on the transaction's database clock. */
export function dueWait(w: WaitRow, now: number): WaitRow {
  if (w.timeoutInMs === undefined) return w
  const { timeoutInMs, ...rest } = w
  return { ...rest, timeoutAtMs: now + timeoutInMs }
}

export const ACTIVE_STATUSES = "('pending', 'waiting', 'failed')"
export const CLAIMABLE_STATUSES = "('pending', 'waiting')"
