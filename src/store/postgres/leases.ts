import type pg from 'pg'
import { toLease } from '../rows.ts'
import type { Lease } from '../types.ts'
import { NOW_MS } from './clock.ts'

/** Named leases (singletons: sealer, relay, schedulers) on PostgreSQL, timed by the database clock. */

export async function acquireLease(
  pool: pg.Pool,
  name: string,
  owner: string,
  ttlMs: number,
): Promise<Lease | undefined> {
  const r = await pool.query(
    `INSERT INTO leases (name, owner, token, expires_at_ms) VALUES ($1, $2, 1, ${NOW_MS} + $3)
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = leases.token + 1,
       expires_at_ms = excluded.expires_at_ms
     WHERE leases.expires_at_ms <= ${NOW_MS} OR leases.owner = excluded.owner
     RETURNING name, owner, token, expires_at_ms`,
    [name, owner, ttlMs],
  )
  return r.rows[0] ? toLease(r.rows[0]) : undefined
}

export async function renewLease(pool: pg.Pool, lease: Lease, ttlMs: number): Promise<Lease | undefined> {
  const r = await pool.query(
    `UPDATE leases SET expires_at_ms = ${NOW_MS} + $1 WHERE name = $2 AND token = $3 AND expires_at_ms > ${NOW_MS}
     RETURNING name, owner, token, expires_at_ms`,
    [ttlMs, lease.name, lease.token],
  )
  return r.rows[0] ? toLease(r.rows[0]) : undefined
}

export async function releaseLease(pool: pg.Pool, lease: Lease): Promise<void> {
  await pool.query('UPDATE leases SET expires_at_ms = 0 WHERE name = $1 AND token = $2', [
    lease.name,
    lease.token,
  ])
}
