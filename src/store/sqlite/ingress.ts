import type Database from 'better-sqlite3'
import type { XrefKey, XrefRow } from '../../mapping/xref.ts'
import { cursorFenceLost, type IngressStore, type RawOutcome, xrefKeyString } from '../ingress-types.ts'
import { toRawDelivery } from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type { AuditEntry, Lease, Scope, StoredRawDelivery } from '../types.ts'

type Row = Record<string, unknown>
const q = () => '?'
const NOW = `CAST(unixepoch('subsec') * 1000 AS INTEGER)`

const toXref = (r: Row): XrefRow => ({
  plant: String(r.plant),
  system: String(r.system),
  entityType: String(r.entity_type),
  externalCode: String(r.external_code),
  enterpriseId: String(r.enterprise_id),
})

export class SqliteIngress implements IngressStore {
  constructor(
    private readonly db: Database.Database,
    private readonly writeAudit: (now: number, a: AuditEntry) => void,
  ) {}

  private now(): number {
    return (this.db.prepare(`SELECT ${NOW} AS n`).get() as { n: number }).n
  }

  async claimRawDeliveries(limit: number, leaseMs: number): Promise<StoredRawDelivery[]> {
    return this.db
      .transaction(() => {
        const now = this.now()
        const rows = this.db
          .prepare(`UPDATE raw_deliveries SET next_attempt_at_ms = ?, attempts = attempts + 1
            WHERE seq IN (SELECT seq FROM raw_deliveries WHERE status = 'pending' AND next_attempt_at_ms <= ?
              ORDER BY seq LIMIT ?) RETURNING *`)
          .all(now + leaseMs, now, limit) as Row[]
        return rows.map(toRawDelivery).sort((a, b) => a.seq - b.seq)
      })
      .immediate()
  }

  async settleRawDelivery(seq: number, o: RawOutcome): Promise<void> {
    const now = this.now()
    if (o.status === 'translated') {
      this.db
        .prepare(`UPDATE raw_deliveries SET status = 'translated', event_seq = ?, parked_on = NULL,
          last_error_code = NULL, last_error = NULL WHERE seq = ?`)
        .run(o.eventSeq, seq)
    } else if (o.status === 'parked') {
      this.db
        .prepare(`UPDATE raw_deliveries SET status = 'parked', parked_on = ?, last_error_code = ?, last_error = ?
          WHERE seq = ?`)
        .run(JSON.stringify(o.parkedOn), o.code, o.error, seq)
    } else if (o.status === 'dead') {
      this.db
        .prepare(
          `UPDATE raw_deliveries SET status = 'dead', last_error_code = ?, last_error = ? WHERE seq = ?`,
        )
        .run(o.code, o.error, seq)
    } else {
      this.db
        .prepare(`UPDATE raw_deliveries SET status = 'pending', next_attempt_at_ms = ?, last_error_code = ?,
          last_error = ? WHERE seq = ?`)
        .run(now + o.retryInMs, o.code, o.error, seq)
    }
  }

  async listRawDeliveries(scope: Scope, f: { status?: string; source?: string; limit: number }) {
    const sc = scopeClause(scope, 'plant', q, 0)
    const where = [sc.sql]
    const params: unknown[] = [...sc.params]
    if (f.status) {
      where.push('status = ?')
      params.push(f.status)
    }
    if (f.source) {
      where.push('source = ?')
      params.push(f.source)
    }
    const rows = this.db
      .prepare(`SELECT * FROM raw_deliveries WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`)
      .all(...params, f.limit) as Row[]
    return rows.map(toRawDelivery)
  }

  async resolveXref(k: XrefKey): Promise<string | undefined> {
    const r = this.db
      .prepare(
        'SELECT enterprise_id FROM xref WHERE plant = ? AND system = ? AND entity_type = ? AND external_code = ?',
      )
      .get(k.plant, k.system, k.entityType, k.externalCode) as Row | undefined
    return r ? String(r.enterprise_id) : undefined
  }

  async reverseXref(system: string, entityType: string, enterpriseId: string, plant: string) {
    const r = this.db
      .prepare(`SELECT external_code FROM xref WHERE plant = ? AND system = ? AND entity_type = ? AND enterprise_id = ?
        ORDER BY updated_at_ms DESC LIMIT 1`)
      .get(plant, system, entityType, enterpriseId) as Row | undefined
    return r ? String(r.external_code) : undefined
  }

  async upsertXref(rows: readonly XrefRow[], actor: string): Promise<{ upserted: number; resumed: number }> {
    return this.db
      .transaction(() => {
        const now = this.now()
        const up =
          this.db.prepare(`INSERT INTO xref (plant, system, entity_type, external_code, enterprise_id,
            updated_at_ms, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (plant, system, entity_type, external_code) DO UPDATE SET enterprise_id = excluded.enterprise_id,
            updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by`)
        let resumed = 0
        for (const r of rows) {
          up.run(r.plant, r.system, r.entityType, r.externalCode, r.enterpriseId, now, actor)
          this.writeAudit(now, {
            plant: r.plant,
            actor,
            action: 'xref.upserted',
            subject: `xref:${r.system}/${r.entityType}/${r.externalCode}`,
            correlationId: null,
            payload: r,
          })
          // parked_on is a JSON array of key strings; a delivery resumes when any key it waits for arrives.
          resumed += this.db
            .prepare(`UPDATE raw_deliveries SET status = 'pending', next_attempt_at_ms = ?
              WHERE status = 'parked' AND EXISTS (SELECT 1 FROM json_each(parked_on) WHERE value = ?)`)
            .run(now, xrefKeyString(r)).changes
        }
        return { upserted: rows.length, resumed }
      })
      .immediate()
  }

  async getCursor(name: string): Promise<string | null> {
    const r = this.db.prepare('SELECT cursor FROM ingress_cursors WHERE name = ?').get(name) as
      | Row
      | undefined
    return r ? String(r.cursor) : null
  }

  async setCursor(name: string, cursor: string, fence?: Lease): Promise<void> {
    // One statement: the lease check and the write cannot be split by another writer.
    const r = this.db
      .prepare(`INSERT INTO ingress_cursors (name, cursor, updated_at_ms)
        SELECT ?, ?, ${NOW} WHERE ? IS NULL OR EXISTS
          (SELECT 1 FROM leases WHERE name = ? AND token = ? AND expires_at_ms > ${NOW})
        ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, updated_at_ms = excluded.updated_at_ms`)
      .run(name, cursor, fence?.name ?? null, fence?.name ?? null, fence?.token ?? null)
    if (r.changes !== 1) throw cursorFenceLost(name, fence)
  }

  async nextCounter(name: string, max: number): Promise<number> {
    const r = this.db
      .prepare(`INSERT INTO ingress_cursors (name, cursor, updated_at_ms) VALUES (?, '1', ${NOW})
        ON CONFLICT (name) DO UPDATE SET cursor = CAST(CAST(cursor AS INTEGER) % CAST(? AS INTEGER) + 1 AS TEXT),
          updated_at_ms = excluded.updated_at_ms
        RETURNING cursor`)
      .get(name, max) as Row
    return Number(r.cursor)
  }

  async listXref(
    scope: Scope,
    f: { system?: string; entityType?: string; limit: number },
  ): Promise<XrefRow[]> {
    const sc = scopeClause(scope, 'plant', q, 0)
    const where = [sc.sql]
    const params: unknown[] = [...sc.params]
    if (f.system) {
      where.push('system = ?')
      params.push(f.system)
    }
    if (f.entityType) {
      where.push('entity_type = ?')
      params.push(f.entityType)
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM xref WHERE ${where.join(' AND ')} ORDER BY plant, system, entity_type, external_code LIMIT ?`,
      )
      .all(...params, f.limit) as Row[]
    return rows.map(toXref)
  }
}
