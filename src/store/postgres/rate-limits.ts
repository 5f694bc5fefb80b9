import type pg from 'pg'
import type { RateLimitSettings, SharedLimits } from '../../connectors/sdk/rate-limit.ts'

type TxNow = <T>(fn: (c: pg.PoolClient, now: number) => Promise<T>) => Promise<T>

/**
 * Token buckets per egress target in PostgreSQL, so N processes together keep the configured rate
 * (issue 11). Each reservation is one transaction: the row is created or locked by one upsert,
 * refilled on the database clock (processes' clocks may disagree), and written back. A paused
 * target (Retry-After) and an open circuit are shared the same way.
 */
export class PostgresRateLimits implements SharedLimits {
  constructor(private readonly txNow: TxNow) {}

  reserve(target: string, s: RateLimitSettings) {
    return this.txNow(async (c, begun) => {
      // DO UPDATE (a no-op write) locks the row and returns it, new or old, in one statement. The
      // clock is read in RETURNING, after the lock: a time taken before waiting for it would be
      // older than the previous holder's and refill the same tokens twice.
      const r = (
        await c.query(
          `INSERT INTO rate_limits (target, tokens, updated_at_ms) VALUES ($1, $2, $3)
           ON CONFLICT (target) DO UPDATE SET target = EXCLUDED.target
           RETURNING tokens, updated_at_ms, paused_until_ms, circuit_open_until_ms,
                     (extract(epoch from clock_timestamp()) * 1000)::bigint AS now`,
          [target, s.burst, begun],
        )
      ).rows[0] as {
        tokens: number
        updated_at_ms: number
        paused_until_ms: number
        circuit_open_until_ms: number
        now: number
      }
      const now = Math.max(Number(r.now), Number(r.updated_at_ms))
      const circuitOpenForMs = Math.max(0, Number(r.circuit_open_until_ms) - now)
      if (circuitOpenForMs > 0) return { waitMs: 0, reason: 'bucket' as const, circuitOpenForMs }
      if (Number(r.paused_until_ms) > now)
        return {
          waitMs: Number(r.paused_until_ms) - now,
          reason: 'retry-after' as const,
          circuitOpenForMs: 0,
        }
      const refilled = Math.min(
        s.burst,
        Number(r.tokens) + (Math.max(0, now - Number(r.updated_at_ms)) / 1000) * s.ratePerSecond,
      )
      const take = refilled >= 1
      await c.query('UPDATE rate_limits SET tokens = $2, updated_at_ms = $3 WHERE target = $1', [
        target,
        take ? refilled - 1 : refilled,
        now,
      ])
      return {
        waitMs: take ? 0 : Math.ceil(((1 - refilled) / s.ratePerSecond) * 1000),
        reason: 'bucket' as const,
        circuitOpenForMs: 0,
      }
    })
  }

  async pause(target: string, ms: number): Promise<void> {
    await this.mark(target, 'paused_until_ms', ms)
  }

  async openCircuit(target: string, ms: number): Promise<void> {
    await this.mark(target, 'circuit_open_until_ms', ms)
  }

  private mark(target: string, column: 'paused_until_ms' | 'circuit_open_until_ms', ms: number) {
    return this.txNow((c, now) =>
      c.query(
        `INSERT INTO rate_limits (target, tokens, updated_at_ms, ${column}) VALUES ($1, 0, $2, $3)
         ON CONFLICT (target) DO UPDATE SET ${column} = GREATEST(rate_limits.${column}, EXCLUDED.${column})`,
        [target, now, now + ms],
      ),
    )
  }
}
