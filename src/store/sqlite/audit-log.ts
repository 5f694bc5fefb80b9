import type Database from 'better-sqlite3'
import { hashCanonical } from '../../audit/canonical-json.ts'
import { AUDIT_COLUMNS, CHAIN_SELECT, toAuditRow, toChainRecord } from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type { AuditEntry, AuditRow, ChainLink, ChainRecord, Lease, Scope } from '../types.ts'
import { NOW_MS, q } from './clock.ts'

type Row = Record<string, unknown>
/** a heavy read: on a worker-thread connection when the store has them (SqliteStore.read) */
export type Read = (sql: string, params: readonly unknown[]) => Promise<Row[]>

/**
 * The audit log and its hash chain on SQLite: rows written unchained in the business transaction,
 * sealed by the sealer; statements prepared once, when the store opens.
 */
export function sqliteAuditLog(db: Database.Database, read: Read) {
  const st = {
    now: db.prepare(`SELECT ${NOW_MS} AS now`),
    insertAudit:
      db.prepare(`INSERT INTO audit_log (plant, at_ms, actor, action, subject, correlation_id, payload_hash)
      VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq`),
    insertAuditPayload: db.prepare('INSERT INTO audit_payloads (audit_seq, payload) VALUES (?, ?)'),
    chainHead: db.prepare(
      'SELECT pos, audit_seq, audit_txid, prev_hash, hash FROM audit_chain ORDER BY pos DESC LIMIT 1',
    ),
    unsealed: db.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_log
      WHERE seq > COALESCE((SELECT audit_seq FROM audit_chain ORDER BY pos DESC LIMIT 1), 0) ORDER BY seq LIMIT ?`),
    countUnsealed: db.prepare(`SELECT COUNT(*) AS n FROM audit_log
      WHERE seq > COALESCE((SELECT audit_seq FROM audit_chain ORDER BY pos DESC LIMIT 1), 0)`),
    maxAudit: db.prepare('SELECT COALESCE(MAX(seq), 0) AS m FROM audit_log'),
    leaseHeld: db.prepare(`SELECT 1 FROM leases WHERE name = ? AND token = ? AND expires_at_ms > ${NOW_MS}`),
    insertChain:
      db.prepare(`INSERT INTO audit_chain (pos, audit_seq, audit_txid, prev_hash, hash, sealed_at_ms)
      VALUES (?, ?, 0, ?, ?, ${NOW_MS})`),
  }

  /** Inside the caller's transaction. */
  const write = (now: number, a: AuditEntry): void => {
    const row = st.insertAudit.get(
      a.plant,
      now,
      a.actor,
      a.action,
      a.subject,
      a.correlationId,
      a.payloadHash ?? hashCanonical(a.payload),
    ) as { seq: number }
    st.insertAuditPayload.run(row.seq, JSON.stringify(a.payload))
  }

  return {
    write,

    append(entries: readonly AuditEntry[]): void {
      db.transaction(() => {
        const now = (st.now.get() as { now: number }).now
        for (const a of entries) write(now, a)
      }).immediate()
    },

    async list(scope: Scope, f: { subject?: string; action?: string; limit: number }): Promise<AuditRow[]> {
      const sc = scopeClause(scope, 'plant', q, 0)
      const where = [sc.sql]
      const params: unknown[] = [...sc.params]
      if (f.subject !== undefined) {
        where.push('subject = ?')
        params.push(f.subject)
      }
      if (f.action !== undefined) {
        where.push('action = ?')
        params.push(f.action)
      }
      const rows = await read(
        `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`,
        [...params, f.limit],
      )
      return rows.map(toAuditRow)
    },

    readUnsealed(limit: number): AuditRow[] {
      return (st.unsealed.all(limit) as Row[]).map(toAuditRow)
    },

    chainHead(): ChainLink | undefined {
      const r = st.chainHead.get() as Row | undefined
      return r
        ? {
            pos: Number(r.pos),
            auditSeq: Number(r.audit_seq),
            auditTxid: String(r.audit_txid),
            prevHash: String(r.prev_hash),
            hash: String(r.hash),
          }
        : undefined
    },

    appendChain(links: readonly ChainLink[], lease: Lease): boolean {
      return db
        .transaction(() => {
          if (!st.leaseHeld.get(lease.name, lease.token)) return false
          for (const l of links) st.insertChain.run(l.pos, l.auditSeq, l.prevHash, l.hash)
          return true
        })
        .immediate()
    },

    async readChain(fromPos: number, limit: number): Promise<ChainRecord[]> {
      const rows = await read(`${CHAIN_SELECT} WHERE c.pos >= ? ORDER BY c.pos LIMIT ?`, [fromPos, limit])
      return rows.map(toChainRecord)
    },

    countUnsealed(): number {
      return Number((st.countUnsealed.get() as Row).n)
    },

    maxSeq(): number {
      return Number((st.maxAudit.get() as Row).m)
    },
  }
}
