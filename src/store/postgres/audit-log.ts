import type pg from 'pg'
import { AUDIT_COLUMNS, CHAIN_SELECT, toAuditRow, toChainRecord } from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type { AuditEntry, AuditRow, ChainLink, ChainRecord, Lease, Scope } from '../types.ts'
import { auditCtes, auditParams } from './audit-sql.ts'
import { dollar, NOW_MS, WATERMARK } from './clock.ts'

/** The audit log and its hash chain on PostgreSQL: rows written unchained, sealed by the sealer. */

/** One statement: the audit rows and their payloads (auditCtes). */
export async function writeAudit(
  c: pg.PoolClient,
  now: number,
  entries: readonly AuditEntry[],
): Promise<void> {
  if (entries.length === 0) return
  await c.query(`WITH ${auditCtes(0)} SELECT count(*) FROM audit_u`, auditParams(now, entries))
}

export async function listAudit(
  pool: pg.Pool,
  scope: Scope,
  f: { subject?: string; action?: string; limit: number },
): Promise<AuditRow[]> {
  const sc = scopeClause(scope, 'plant', dollar, 0)
  const where = [sc.sql]
  const params: unknown[] = [...sc.params]
  if (f.subject !== undefined) {
    params.push(f.subject)
    where.push(`subject = $${params.length}`)
  }
  if (f.action !== undefined) {
    params.push(f.action)
    where.push(`action = $${params.length}`)
  }
  params.push(f.limit)
  const r = await pool.query(
    `SELECT ${AUDIT_COLUMNS.replace('txid', 'txid::text AS txid')} FROM audit_log WHERE ${where.join(' AND ')}
      ORDER BY seq LIMIT $${params.length}`,
    params,
  )
  return r.rows.map(toAuditRow)
}

export async function readUnsealedAudit(pool: pg.Pool, limit: number): Promise<AuditRow[]> {
  const head = await chainHead(pool)
  const r = await pool.query(
    // ORDER BY names the table's xid8 column: a bare `txid` would be the text alias of the
    // select list, sorted as strings ('1001' < '999'), and chain rows out of order.
    `SELECT ${AUDIT_COLUMNS.replace('txid', 'txid::text AS txid')} FROM audit_log
      WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND txid < ${WATERMARK}
      ORDER BY audit_log.txid, audit_log.seq LIMIT $3`,
    [head?.auditTxid ?? '0', head?.auditSeq ?? 0, limit],
  )
  return r.rows.map(toAuditRow)
}

export async function chainHead(pool: pg.Pool): Promise<ChainLink | undefined> {
  const r = await pool.query(
    'SELECT pos, audit_seq, audit_txid::text AS audit_txid, prev_hash, hash FROM audit_chain ORDER BY pos DESC LIMIT 1',
  )
  const h = r.rows[0]
  return h
    ? {
        pos: Number(h.pos),
        auditSeq: Number(h.audit_seq),
        auditTxid: String(h.audit_txid),
        prevHash: h.prev_hash,
        hash: h.hash,
      }
    : undefined
}

/** Runs inside the store's transaction. */
export async function appendChainInTx(
  c: pg.PoolClient,
  links: readonly ChainLink[],
  lease: Lease,
): Promise<boolean> {
  // Fenced: the lease row is locked and checked in the same transaction as the write.
  const held = await c.query(
    `SELECT 1 FROM leases WHERE name = $1 AND token = $2 AND expires_at_ms > ${NOW_MS} FOR UPDATE`,
    [lease.name, lease.token],
  )
  if (held.rowCount === 0) return false
  await c.query(
    `INSERT INTO audit_chain (pos, audit_seq, audit_txid, prev_hash, hash, sealed_at_ms)
     SELECT p, s, x::xid8, ph, h, ${NOW_MS}
       FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS u(p, s, x, ph, h)`,
    [
      links.map((l) => l.pos),
      links.map((l) => l.auditSeq),
      links.map((l) => l.auditTxid),
      links.map((l) => l.prevHash),
      links.map((l) => l.hash),
    ],
  )
  return true
}

export async function readChain(pool: pg.Pool, fromPos: number, limit: number): Promise<ChainRecord[]> {
  const r = await pool.query(
    `${CHAIN_SELECT.replace('c.audit_txid', 'c.audit_txid::text AS audit_txid').replace('a.txid', 'a.txid::text AS txid')}
      WHERE c.pos >= $1 ORDER BY c.pos LIMIT $2`,
    [fromPos, limit],
  )
  return r.rows.map(toChainRecord)
}

export async function countUnsealedAudit(pool: pg.Pool): Promise<number> {
  const head = await chainHead(pool)
  const r = await pool.query(
    'SELECT COUNT(*)::bigint AS n FROM audit_log WHERE (txid, seq) > ($1::text::xid8, $2::bigint)',
    [head?.auditTxid ?? '0', head?.auditSeq ?? 0],
  )
  return Number(r.rows[0].n)
}

export async function maxAuditSeq(pool: pg.Pool): Promise<number> {
  return Number((await pool.query('SELECT COALESCE(MAX(seq), 0) AS m FROM audit_log')).rows[0].m)
}
