import type pg from 'pg'
import type { XrefKey, XrefRow } from '../../mapping/xref.ts'
import { cursorFenceLost, type IngressStore, type RawOutcome, xrefKeyString } from '../ingress-types.ts'
import { toRawDelivery } from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type { AuditEntry, Lease, Scope, StoredRawDelivery } from '../types.ts'

type Row = Record<string, unknown>
const dollar = (i: number) => `$${i + 1}`
const NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint'

const toXref = (r: Row): XrefRow => ({
  plant: String(r.plant),
  system: String(r.system),
  entityType: String(r.entity_type),
  externalCode: String(r.external_code),
  enterpriseId: String(r.enterprise_id),
})

export type Tx = <T>(fn: (c: pg.PoolClient, now: number) => Promise<T>) => Promise<T>

export class PostgresIngress implements IngressStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly tx: Tx,
    private readonly writeAudit: (c: pg.PoolClient, now: number, a: readonly AuditEntry[]) => Promise<void>,
  ) {}

  async claimRawDeliveries(limit: number, leaseMs: number): Promise<StoredRawDelivery[]> {
    const r = await this.pool.query(
      `UPDATE raw_deliveries SET next_attempt_at_ms = ${NOW} + $1, attempts = attempts + 1
        WHERE seq IN (SELECT seq FROM raw_deliveries WHERE status = 'pending' AND next_attempt_at_ms <= ${NOW}
          ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING *`,
      [leaseMs, limit],
    )
    return r.rows.map(toRawDelivery).sort((a, b) => a.seq - b.seq)
  }

  async settleRawDelivery(seq: number, o: RawOutcome): Promise<void> {
    if (o.status === 'translated') {
      await this.pool.query(
        `UPDATE raw_deliveries SET status = 'translated', event_seq = $1, parked_on = NULL, last_error_code = NULL,
          last_error = NULL WHERE seq = $2`,
        [o.eventSeq, seq],
      )
    } else if (o.status === 'parked') {
      await this.pool.query(
        `UPDATE raw_deliveries SET status = 'parked', parked_on = $1, last_error_code = $2, last_error = $3 WHERE seq = $4`,
        [JSON.stringify(o.parkedOn), o.code, o.error, seq],
      )
    } else if (o.status === 'dead') {
      await this.pool.query(
        `UPDATE raw_deliveries SET status = 'dead', last_error_code = $1, last_error = $2 WHERE seq = $3`,
        [o.code, o.error, seq],
      )
    } else {
      await this.pool.query(
        `UPDATE raw_deliveries SET status = 'pending', next_attempt_at_ms = ${NOW} + $1, last_error_code = $2,
          last_error = $3 WHERE seq = $4`,
        [o.retryInMs, o.code, o.error, seq],
      )
    }
  }

  async listRawDeliveries(scope: Scope, f: { status?: string; source?: string; limit: number }) {
    const sc = scopeClause(scope, 'plant', dollar, 0)
    const where = [sc.sql]
    const params: unknown[] = [...sc.params]
    if (f.status) {
      params.push(f.status)
      where.push(`status = $${params.length}`)
    }
    if (f.source) {
      params.push(f.source)
      where.push(`source = $${params.length}`)
    }
    params.push(f.limit)
    const r = await this.pool.query(
      `SELECT * FROM raw_deliveries WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
      params,
    )
    return r.rows.map(toRawDelivery)
  }

  async resolveXref(k: XrefKey): Promise<string | undefined> {
    const r = await this.pool.query(
      'SELECT enterprise_id FROM xref WHERE plant = $1 AND system = $2 AND entity_type = $3 AND external_code = $4',
      [k.plant, k.system, k.entityType, k.externalCode],
    )
    return r.rows[0] ? String(r.rows[0].enterprise_id) : undefined
  }

  async reverseXref(system: string, entityType: string, enterpriseId: string, plant: string) {
    const r = await this.pool.query(
      `SELECT external_code FROM xref WHERE plant = $1 AND system = $2 AND entity_type = $3 AND enterprise_id = $4
        ORDER BY updated_at_ms DESC LIMIT 1`,
      [plant, system, entityType, enterpriseId],
    )
    return r.rows[0] ? String(r.rows[0].external_code) : undefined
  }

  async upsertXref(rows: readonly XrefRow[], actor: string): Promise<{ upserted: number; resumed: number }> {
    return this.tx(async (c, now) => {
      let resumed = 0
      for (const r of rows) {
        await c.query(
          `INSERT INTO xref (plant, system, entity_type, external_code, enterprise_id, updated_at_ms, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (plant, system, entity_type, external_code) DO UPDATE SET enterprise_id = excluded.enterprise_id,
             updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by`,
          [r.plant, r.system, r.entityType, r.externalCode, r.enterpriseId, now, actor],
        )
        // parked_on is a JSON array of key strings; a delivery resumes when any key it waits for arrives.
        const u = await c.query(
          `UPDATE raw_deliveries SET status = 'pending', next_attempt_at_ms = $1
            WHERE status = 'parked' AND parked_on::jsonb ? $2`,
          [now, xrefKeyString(r)],
        )
        resumed += u.rowCount ?? 0
      }
      await this.writeAudit(
        c,
        now,
        rows.map((r) => ({
          plant: r.plant,
          actor,
          action: 'xref.upserted',
          subject: `xref:${r.system}/${r.entityType}/${r.externalCode}`,
          correlationId: null,
          payload: r,
        })),
      )
      return { upserted: rows.length, resumed }
    })
  }

  async getCursor(name: string): Promise<string | null> {
    const r = await this.pool.query('SELECT cursor FROM ingress_cursors WHERE name = $1', [name])
    return r.rows[0] ? String(r.rows[0].cursor) : null
  }

  async setCursor(name: string, cursor: string, fence?: Lease): Promise<void> {
    if (!fence) {
      await this.pool.query(
        `INSERT INTO ingress_cursors (name, cursor, updated_at_ms) VALUES ($1, $2, ${NOW})
         ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, updated_at_ms = excluded.updated_at_ms`,
        [name, cursor],
      )
      return
    }
    // The lease row is locked (FOR SHARE) so it cannot be taken over between check and write.
    const r = await this.pool.query(
      `INSERT INTO ingress_cursors (name, cursor, updated_at_ms)
       SELECT $1, $2, ${NOW} FROM leases
        WHERE name = $3 AND token = $4 AND expires_at_ms > ${NOW} FOR SHARE
       ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, updated_at_ms = excluded.updated_at_ms`,
      [name, cursor, fence.name, fence.token],
    )
    if (r.rowCount !== 1) throw cursorFenceLost(name, fence)
  }

  async nextCounter(name: string, max: number): Promise<number> {
    // ON CONFLICT DO UPDATE locks the row: concurrent callers are served one after the other
    const r = await this.pool.query(
      `INSERT INTO ingress_cursors (name, cursor, updated_at_ms) VALUES ($1, '1', ${NOW})
       ON CONFLICT (name) DO UPDATE SET cursor = (ingress_cursors.cursor::bigint % $2 + 1)::text,
         updated_at_ms = excluded.updated_at_ms
       RETURNING cursor`,
      [name, max],
    )
    return Number(r.rows[0].cursor)
  }

  async listXref(
    scope: Scope,
    f: { system?: string; entityType?: string; limit: number },
  ): Promise<XrefRow[]> {
    const sc = scopeClause(scope, 'plant', dollar, 0)
    const where = [sc.sql]
    const params: unknown[] = [...sc.params]
    if (f.system) {
      params.push(f.system)
      where.push(`system = $${params.length}`)
    }
    if (f.entityType) {
      params.push(f.entityType)
      where.push(`entity_type = $${params.length}`)
    }
    params.push(f.limit)
    const r = await this.pool.query(
      `SELECT * FROM xref WHERE ${where.join(' AND ')} ORDER BY plant, system, entity_type, external_code
        LIMIT $${params.length}`,
      params,
    )
    return r.rows.map(toXref)
  }
}
