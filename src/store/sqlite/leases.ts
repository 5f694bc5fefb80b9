import type Database from 'better-sqlite3'
import { toLease } from '../rows.ts'
import type { Lease } from '../types.ts'
import { NOW_MS } from './clock.ts'

/**
 * Named leases (singletons: sealer, relay, schedulers) on SQLite, timed by the database clock;
 * statements prepared once, when the store opens.
 */
export function sqliteLeases(db: Database.Database) {
  const acquire =
    db.prepare(`INSERT INTO leases (name, owner, token, expires_at_ms) VALUES (?, ?, 1, ${NOW_MS} + ?)
    ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = leases.token + 1,
      expires_at_ms = excluded.expires_at_ms
    WHERE leases.expires_at_ms <= ${NOW_MS} OR leases.owner = excluded.owner
    RETURNING name, owner, token, expires_at_ms`)
  const renew = db.prepare(`UPDATE leases SET expires_at_ms = ${NOW_MS} + ? WHERE name = ? AND token = ?
    AND expires_at_ms > ${NOW_MS} RETURNING name, owner, token, expires_at_ms`)
  const release = db.prepare('UPDATE leases SET expires_at_ms = 0 WHERE name = ? AND token = ?')
  return {
    acquire(name: string, owner: string, ttlMs: number): Lease | undefined {
      const r = acquire.get(name, owner, ttlMs) as Record<string, unknown> | undefined
      return r ? toLease(r) : undefined
    },
    renew(lease: Lease, ttlMs: number): Lease | undefined {
      const r = renew.get(ttlMs, lease.name, lease.token) as Record<string, unknown> | undefined
      return r ? toLease(r) : undefined
    },
    release(lease: Lease): void {
      release.run(lease.name, lease.token)
    },
  }
}
