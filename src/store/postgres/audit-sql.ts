import { hashCanonical } from '../../audit/canonical-json.ts'
import type { AuditEntry } from '../types.ts'

/**
 * `when`: an SQL condition the rows are written under (e.g. a fenced CTE of the same statement
 * returned a row); `atMs`: an SQL expression for their time instead of the eighth parameter (then
 * seven parameters are taken: auditParams(...).slice(0, 7)).
 */
export interface AuditCteOptions {
  readonly when?: string
  readonly atMs?: string
}

/**
 * Audit rows as CTEs over eight parameters numbered after `at`: audit seqs are drawn in entry
 * order (a materialised CTE, so nextval runs once per entry) and both the row and its payload
 * are written from them. Data-modifying CTEs run to completion whatever the outer statement
 * reads (PostgreSQL docs, "Data-Modifying Statements in WITH"), so another statement can carry
 * them: the write path folds them into the wait-matching statement (a round trip less).
 */
export function auditCtes(at: number, o: AuditCteOptions = {}): string {
  const p = (i: number) => `$${at + i}`
  return `audit_u AS MATERIALIZED (
           SELECT nextval(pg_get_serial_sequence('audit_log', 'seq')) AS s, p, a, ac, su, co, h, pl
             FROM unnest(${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[],
                         ${p(6)}::text[], ${p(7)}::jsonb[]) WITH ORDINALITY AS x(p, a, ac, su, co, h, pl, o)
            ${o.when ? `WHERE ${o.when}` : ''}
            ORDER BY o),
         audit_rows AS (INSERT INTO audit_log (seq, plant, at_ms, actor, action, subject, correlation_id, payload_hash)
               SELECT s, p, ${o.atMs ?? p(8)}, a, ac, su, co, h FROM audit_u),
         audit_pl AS (INSERT INTO audit_payloads (audit_seq, payload) SELECT s, pl FROM audit_u)`
}

export function auditParams(now: number, entries: readonly AuditEntry[]): unknown[] {
  return [
    entries.map((e) => e.plant),
    entries.map((e) => e.actor),
    entries.map((e) => e.action),
    entries.map((e) => e.subject),
    entries.map((e) => e.correlationId),
    // a payload whose sensitive leaves were encrypted carries the hash of its plaintext (the chain's)
    entries.map((e) => e.payloadHash ?? hashCanonical(e.payload)),
    entries.map((e) => JSON.stringify(e.payload)),
    now,
  ]
}
