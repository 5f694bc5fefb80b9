/**
 * Failed-login counters per key (`user:<id>`, `ip:<address>`) with lockout and backoff. In the
 * store (migration 0021, `login_attempts`) once the dashboard is bound to one, so every API
 * process on the database counts the same failures: N processes behind one address no longer
 * give an attacker N times the attempts (OWASP Authentication Cheat Sheet, "Account Lockout";
 * OWASP API2, broken authentication). In memory for a DashboardLogin without a store.
 *
 * Attempts in flight count against the limit, so a burst of parallel guesses cannot run more
 * scrypt checks than the limit allows. An in-flight mark older than IN_FLIGHT_STALE_MS is
 * dropped: a process that died mid-check must not lock its users out for good.
 */
import type { SqlExecutor } from '../store/sql-executor.ts'

export interface AttemptPolicy {
  /** first lockout; each further lockout of the same key doubles it, up to maxLockoutMs */
  readonly lockoutMs: number
  readonly maxLockoutMs: number
  readonly now: () => number
}

export interface AttemptKey {
  readonly key: string
  /** failures before the key is locked */
  readonly limit: number
}

export interface AttemptBackend {
  /** Reserves an attempt on every key, or on none: 0 when reserved, else ms until one may try. */
  reserve(keys: readonly AttemptKey[]): Promise<number>
  /** Ends a reserved attempt; a failure at the limit locks the key, each lockout twice as long. */
  end(k: AttemptKey, failed: boolean): Promise<void>
  /** A successful login clears its user's failures and backoff. */
  clear(key: string): Promise<void>
}

/** a scrypt check takes well under a second; a mark this old belongs to a process that died */
export const IN_FLIGHT_STALE_MS = 60_000
const COUNTERS_MAX = 100_000

export function lockoutFor(policy: AttemptPolicy, lockouts: number): number {
  return Math.min(policy.lockoutMs * 2 ** (Math.max(1, lockouts) - 1), policy.maxLockoutMs)
}

interface Counter {
  failures: number
  inFlight: number
  lockouts: number
  lockedUntil: number
  lastFailureAt: number
}

/** One process's counters (no store bound). */
export class MemoryAttempts implements AttemptBackend {
  private readonly counters = new Map<string, Counter>()
  constructor(private readonly policy: AttemptPolicy) {}

  async reserve(keys: readonly AttemptKey[]): Promise<number> {
    const wait = Math.max(...keys.map((k) => this.waitMs(k)))
    if (wait > 0) return wait
    for (const { key } of keys) {
      const c = this.fresh(key) ?? { failures: 0, inFlight: 0, lockouts: 0, lockedUntil: 0, lastFailureAt: 0 }
      c.inFlight++
      this.counters.set(key, c)
    }
    if (this.counters.size > COUNTERS_MAX) this.sweep()
    return 0
  }

  async end({ key, limit }: AttemptKey, failed: boolean): Promise<void> {
    const c = this.counters.get(key)
    if (!c) return
    c.inFlight = Math.max(0, c.inFlight - 1)
    if (!failed) return
    const now = this.policy.now()
    c.failures++
    c.lastFailureAt = now
    if (c.failures >= limit) {
      c.lockouts++
      c.failures = 0
      c.lockedUntil = now + lockoutFor(this.policy, c.lockouts)
    }
  }

  async clear(key: string): Promise<void> {
    const c = this.counters.get(key)
    if (c && c.inFlight === 0) this.counters.delete(key)
    else if (c) Object.assign(c, { failures: 0, lockouts: 0, lockedUntil: 0 })
  }

  private waitMs({ key, limit }: AttemptKey): number {
    const c = this.fresh(key)
    if (!c) return 0
    const now = this.policy.now()
    if (c.lockedUntil > now) return c.lockedUntil - now
    return c.failures + c.inFlight >= limit ? this.policy.lockoutMs : 0
  }

  /** Failures quiet for lockoutMs are forgotten; lockouts (the backoff) after maxLockoutMs. */
  private fresh(key: string): Counter | undefined {
    const c = this.counters.get(key)
    if (!c) return undefined
    const quiet = this.policy.now() - c.lastFailureAt
    if (c.lockedUntil <= this.policy.now() && quiet > this.policy.lockoutMs) c.failures = 0
    if (quiet > this.policy.maxLockoutMs) c.lockouts = 0
    return c
  }

  private sweep(): void {
    const now = this.policy.now()
    for (const [k, c] of this.counters) {
      if (c.inFlight === 0 && c.lockedUntil <= now && now - c.lastFailureAt > this.policy.lockoutMs)
        this.counters.delete(k)
    }
  }
}

/**
 * The same counters as rows, in standard SQL on either dialect. Every change is one conditional
 * UPDATE (a row lock on PostgreSQL, the one writer on SQLite), so two processes never both take
 * the last attempt nor both count the lockout.
 */
export class SqlAttempts implements AttemptBackend {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly policy: AttemptPolicy,
  ) {}

  async reserve(keys: readonly AttemptKey[]): Promise<number> {
    const now = this.policy.now()
    return this.sql
      .tx(async (x) => {
        let wait = 0
        for (const k of keys) {
          await x.run(
            `INSERT INTO login_attempts (attempt_key, failures, in_flight, in_flight_at_ms, lockouts,
             locked_until_ms, last_failure_at_ms) VALUES (?, 0, 0, 0, 0, 0, 0) ON CONFLICT (attempt_key) DO NOTHING`,
            [k.key],
          )
          // Quiet failures are forgotten, an old backoff too, and stale in-flight marks dropped.
          await x.run(
            `UPDATE login_attempts SET
             failures = CASE WHEN locked_until_ms <= ? AND ? - last_failure_at_ms > ? THEN 0 ELSE failures END,
             lockouts = CASE WHEN ? - last_failure_at_ms > ? THEN 0 ELSE lockouts END,
             in_flight = CASE WHEN ? - in_flight_at_ms > ? THEN 0 ELSE in_flight END
           WHERE attempt_key = ?`,
            [now, now, this.policy.lockoutMs, now, this.policy.maxLockoutMs, now, IN_FLIGHT_STALE_MS, k.key],
          )
          const took = await x.run(
            `UPDATE login_attempts SET in_flight = in_flight + 1, in_flight_at_ms = ?
           WHERE attempt_key = ? AND locked_until_ms <= ? AND failures + in_flight < ?`,
            [now, k.key, now, k.limit],
          )
          if (took === 1) continue
          const [r] = await x.all('SELECT locked_until_ms FROM login_attempts WHERE attempt_key = ?', [k.key])
          const until = Number(r?.locked_until_ms ?? 0)
          wait = Math.max(wait, until > now ? until - now : this.policy.lockoutMs)
        }
        if (wait > 0) throw new Locked(wait)
        return 0
      })
      .catch((e: unknown) => {
        // Rolled back: no key keeps a reservation when another key refused.
        if (e instanceof Locked) return e.waitMs
        throw e
      })
  }

  async end({ key, limit }: AttemptKey, failed: boolean): Promise<void> {
    const now = this.policy.now()
    if (!failed) {
      await this.sql.run(
        `UPDATE login_attempts SET in_flight = CASE WHEN in_flight > 0 THEN in_flight - 1 ELSE 0 END
         WHERE attempt_key = ?`,
        [key],
      )
      return
    }
    const [r] = await this.sql.all(
      `UPDATE login_attempts SET in_flight = CASE WHEN in_flight > 0 THEN in_flight - 1 ELSE 0 END,
         failures = failures + 1, last_failure_at_ms = ?
       WHERE attempt_key = ? RETURNING failures, lockouts`,
      [now, key],
    )
    if (!r || Number(r.failures) < limit) return
    // Only the process whose failure reached the limit finds failures >= limit here: one lockout.
    const lockouts = Number(r.lockouts) + 1
    await this.sql.run(
      `UPDATE login_attempts SET lockouts = lockouts + 1, failures = 0, locked_until_ms = ?
       WHERE attempt_key = ? AND failures >= ?`,
      [now + lockoutFor(this.policy, lockouts), key, limit],
    )
  }

  async clear(key: string): Promise<void> {
    await this.sql.run(
      'UPDATE login_attempts SET failures = 0, lockouts = 0, locked_until_ms = 0 WHERE attempt_key = ?',
      [key],
    )
  }

  /**
   * Removes rows with nothing left to remember (no lock, no recent failure, nothing in flight),
   * then, past COUNTERS_MAX rows (ids or addresses sprayed by an attacker), the unlocked ones
   * whose last failure is oldest: the same bound the in-memory counters keep.
   */
  async purge(): Promise<number> {
    const now = this.policy.now()
    let n = await this.sql.run(
      `DELETE FROM login_attempts WHERE locked_until_ms <= ? AND ? - last_failure_at_ms > ?
         AND (in_flight = 0 OR ? - in_flight_at_ms > ?)`,
      [now, now, this.policy.maxLockoutMs, now, IN_FLIGHT_STALE_MS],
    )
    const [count] = await this.sql.all('SELECT COUNT(*) AS n FROM login_attempts')
    const over = Number(count?.n ?? 0) - COUNTERS_MAX
    if (over > 0)
      n += await this.sql.run(
        `DELETE FROM login_attempts WHERE attempt_key IN (SELECT attempt_key FROM login_attempts
           WHERE locked_until_ms <= ? ORDER BY last_failure_at_ms, attempt_key LIMIT ?)`,
        [now, over],
      )
    return n
  }
}

class Locked extends Error {
  constructor(readonly waitMs: number) {
    super(`locked for ${waitMs} ms`)
  }
}
