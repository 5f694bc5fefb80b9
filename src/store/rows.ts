import type { AuditRow, ChainRecord, Lease, StoredEvent, StoredRawDelivery } from './types.ts'

/** Row → object mappers shared by both dialects (column names are identical by design). */
type Row = Record<string, unknown>

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v))
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v))
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

export const EVENT_COLUMNS =
  'seq, plant, source, id, type, subject, time, correlation_id, causation_id, source_sequence, data_hash, envelope, recorded_at_ms'

export function toEvent(r: Row): StoredEvent {
  return {
    seq: num(r.seq),
    plant: String(r.plant),
    source: String(r.source),
    id: String(r.id),
    type: String(r.type),
    subject: strOrNull(r.subject),
    time: String(r.time),
    correlationId: String(r.correlation_id),
    causationId: strOrNull(r.causation_id),
    sourceSequence: numOrNull(r.source_sequence),
    dataHash: String(r.data_hash),
    envelope: (typeof r.envelope === 'string' ? JSON.parse(r.envelope) : r.envelope) as Record<
      string,
      unknown
    >,
    recordedAtMs: num(r.recorded_at_ms),
  }
}

export const AUDIT_COLUMNS = 'seq, txid, plant, at_ms, actor, action, subject, correlation_id, payload_hash'

export function toAuditRow(r: Row): AuditRow {
  return {
    seq: num(r.seq),
    txid: String(r.txid),
    plant: String(r.plant),
    atMs: num(r.at_ms),
    actor: String(r.actor),
    action: String(r.action),
    subject: String(r.subject),
    correlationId: strOrNull(r.correlation_id),
    payloadHash: String(r.payload_hash),
  }
}

/** A chain row LEFT JOINed with its audit row; `a_seq` null means the audit row is gone. */
export function toChainRecord(r: Row): ChainRecord {
  return {
    pos: num(r.pos),
    auditSeq: num(r.audit_seq),
    auditTxid: String(r.audit_txid),
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
    row:
      r.a_seq === null || r.a_seq === undefined
        ? null
        : toAuditRow({
            seq: r.a_seq,
            txid: r.txid,
            plant: r.plant,
            at_ms: r.at_ms,
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            correlation_id: r.correlation_id,
            payload_hash: r.payload_hash,
          }),
  }
}

export const CHAIN_SELECT = `SELECT c.pos, c.audit_seq, c.audit_txid, c.prev_hash, c.hash, a.seq AS a_seq, a.txid, a.plant, a.at_ms,
  a.actor, a.action, a.subject, a.correlation_id, a.payload_hash
  FROM audit_chain c LEFT JOIN audit_log a ON a.seq = c.audit_seq`

export function toRawDelivery(r: Row): StoredRawDelivery {
  return {
    seq: num(r.seq),
    plant: String(r.plant),
    source: String(r.source),
    deliveryId: String(r.delivery_id),
    headers: (typeof r.headers === 'string' ? JSON.parse(r.headers) : r.headers) as Record<string, string>,
    body: Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body as Uint8Array),
    bodyHash: String(r.body_hash),
    receivedAtMs: num(r.received_at_ms),
    status: String(r.status) as StoredRawDelivery['status'],
    attempts: num(r.attempts),
    lastErrorCode: strOrNull(r.last_error_code),
    lastError: strOrNull(r.last_error),
    eventSeq: numOrNull(r.event_seq),
  }
}

/** The audit entry written for each newly stored event, in the same transaction. */
export function ingestAuditPayload(e: {
  seq: number
  type: string
  source: string
  id: string
  dataHash: string
}) {
  return { seq: e.seq, type: e.type, source: e.source, id: e.id, dataHash: e.dataHash }
}

/** A leases row (both dialects' leases.ts). */
export function toLease(r: Row): Lease {
  return {
    name: String(r.name),
    owner: String(r.owner),
    token: Number(r.token),
    expiresAtMs: Number(r.expires_at_ms),
  }
}
