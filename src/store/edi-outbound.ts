/**
 * Outbound X12 functional groups and the 997s that answer them (migration 0019). Standard SQL on
 * both dialects through the store's SqlExecutor. A group is keyed by (partner, GS06): the partner's
 * 997 names the group it acknowledges by its functional identifier and GS06 (AK101/AK102).
 */
import { scopeClause } from './scope-sql.ts'
import type { SqlExecutor } from './sql-executor.ts'
import type { Scope } from './types.ts'

export type EdiAckStatus = 'accepted' | 'partial' | 'rejected'
/** `pending`: no 997 yet and not yet due; `overdue`: no 997 and past its due time */
export type EdiOutboundStatus = EdiAckStatus | 'pending' | 'overdue'
export const EDI_OUTBOUND_STATUSES: readonly EdiOutboundStatus[] = [
  'pending',
  'overdue',
  'accepted',
  'partial',
  'rejected',
]

export interface EdiOutboundRow {
  readonly partner: string
  readonly groupControl: string
  readonly plant: string
  readonly connector: string
  readonly transactionSet: string
  readonly interchangeControl: string
  readonly subject: string | null
  readonly file: string
  readonly sentAtMs: number
  readonly dueAtMs: number
}

export interface EdiOutbound extends EdiOutboundRow {
  readonly status: EdiOutboundStatus
  /** AK905… (or AK502… of a rejected set) codes of the 997, comma separated */
  readonly ackCodes: string | null
  readonly ackAtMs: number | null
}

/**
 * Records a sent group. A resend of the same group (a retried step: same control number) keeps
 * the first row and whatever acknowledgment it has; control numbers wrap only after 10^9 groups.
 */
export async function recordEdiOutbound(x: SqlExecutor, r: EdiOutboundRow): Promise<void> {
  await x.run(
    `INSERT INTO edi_outbound (partner, group_control, plant, connector, transaction_set,
       interchange_control, subject, file, sent_at_ms, due_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (partner, group_control) DO NOTHING`,
    [
      r.partner,
      r.groupControl,
      r.plant,
      r.connector,
      r.transactionSet,
      r.interchangeControl,
      r.subject,
      r.file,
      r.sentAtMs,
      r.dueAtMs,
    ],
  )
}

/**
 * Applies a 997's verdict on one group; false when no such group was sent to that partner. A
 * later 997 for the same group (a partner's resend) overwrites the earlier verdict.
 */
export async function acknowledgeEdiOutbound(
  x: SqlExecutor,
  a: { partner: string; groupControl: string; status: EdiAckStatus; codes: readonly string[]; atMs: number },
): Promise<boolean> {
  const n = await x.run(
    'UPDATE edi_outbound SET ack_status = ?, ack_codes = ?, ack_at_ms = ? WHERE partner = ? AND group_control = ?',
    [a.status, a.codes.length > 0 ? a.codes.join(',') : null, a.atMs, a.partner, a.groupControl],
  )
  return n > 0
}

const statusOf = (r: Record<string, unknown>, nowMs: number): EdiOutboundStatus =>
  r.ack_status != null ? (r.ack_status as EdiAckStatus) : Number(r.due_at_ms) < nowMs ? 'overdue' : 'pending'

/** Sent groups in scope, newest first, with their acknowledgment status as of `nowMs`. */
export async function listEdiOutbound(
  x: SqlExecutor,
  scope: Scope,
  filter: { status?: EdiOutboundStatus; partner?: string; nowMs: number; limit: number },
): Promise<EdiOutbound[]> {
  const sc = scopeClause(scope, 'plant', () => '?', 1)
  const where = [sc.sql]
  const params: unknown[] = [...sc.params]
  if (filter.partner !== undefined) {
    where.push('partner = ?')
    params.push(filter.partner)
  }
  if (filter.status === 'pending' || filter.status === 'overdue') {
    where.push(`ack_status IS NULL AND due_at_ms ${filter.status === 'overdue' ? '<' : '>='} ?`)
    params.push(filter.nowMs)
  } else if (filter.status !== undefined) {
    where.push('ack_status = ?')
    params.push(filter.status)
  }
  params.push(filter.limit)
  const rows = await x.all(
    `SELECT * FROM edi_outbound WHERE ${where.join(' AND ')} ORDER BY sent_at_ms DESC, group_control DESC LIMIT ?`,
    params,
  )
  return rows.map((r) => ({
    partner: String(r.partner),
    groupControl: String(r.group_control),
    plant: String(r.plant),
    connector: String(r.connector),
    transactionSet: String(r.transaction_set),
    interchangeControl: String(r.interchange_control),
    subject: r.subject == null ? null : String(r.subject),
    file: String(r.file),
    sentAtMs: Number(r.sent_at_ms),
    dueAtMs: Number(r.due_at_ms),
    status: statusOf(r, filter.nowMs),
    ackCodes: r.ack_codes == null ? null : String(r.ack_codes),
    ackAtMs: r.ack_at_ms == null ? null : Number(r.ack_at_ms),
  }))
}

/** Sent groups per plant, partner and status as of `nowMs` (the metric). */
export async function countEdiOutbound(
  x: SqlExecutor,
  nowMs: number,
): Promise<Array<{ plant: string; partner: string; status: EdiOutboundStatus; count: number }>> {
  const rows = await x.all(
    `SELECT plant, partner, status, COUNT(*) AS n FROM (
       SELECT plant, partner,
         CASE WHEN ack_status IS NOT NULL THEN ack_status WHEN due_at_ms < ? THEN 'overdue' ELSE 'pending' END AS status
       FROM edi_outbound) s
     GROUP BY plant, partner, status`,
    [nowMs],
  )
  return rows.map((r) => ({
    plant: String(r.plant),
    partner: String(r.partner),
    status: r.status as EdiOutboundStatus,
    count: Number(r.n),
  }))
}
