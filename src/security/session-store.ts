/**
 * Where dashboard sessions live. In the store (migration 0015, `dashboard_sessions`) when the
 * process has one, so a restart keeps people logged in and every API process behind one address
 * knows every session (no sticky routing); in memory for a DashboardLogin without a store.
 * Sessions are keyed by the SHA-256 of their id: the id itself is never stored (OWASP Session
 * Management Cheat Sheet, "session ID … considered untrusted"; a leaked table opens no session).
 */
import type { SqlExecutor } from '../store/sql-executor.ts'

export interface StoredSession {
  readonly userId: string
  readonly createdAtMs: number
  readonly lastSeenAtMs: number
}

export interface SessionBackend {
  create(idHash: string, s: StoredSession, maxSessions: number): Promise<void>
  get(idHash: string): Promise<StoredSession | undefined>
  touch(idHash: string, atMs: number): Promise<void>
  delete(idHash: string): Promise<void>
  /** removes sessions idle since before `idleBefore` or created before `createdBefore`; returns how many */
  purge(idleBefore: number, createdBefore: number): Promise<number>
}

export class MemorySessions implements SessionBackend {
  private readonly rows = new Map<string, StoredSession>()

  async create(idHash: string, s: StoredSession, maxSessions: number): Promise<void> {
    while (this.rows.size >= maxSessions) {
      const oldest = this.rows.keys().next().value
      if (oldest === undefined) break
      this.rows.delete(oldest)
    }
    this.rows.set(idHash, s)
  }

  async get(idHash: string): Promise<StoredSession | undefined> {
    return this.rows.get(idHash)
  }

  async touch(idHash: string, atMs: number): Promise<void> {
    const s = this.rows.get(idHash)
    if (s) this.rows.set(idHash, { ...s, lastSeenAtMs: atMs })
  }

  async delete(idHash: string): Promise<void> {
    this.rows.delete(idHash)
  }

  async purge(idleBefore: number, createdBefore: number): Promise<number> {
    let n = 0
    for (const [k, s] of this.rows)
      if (s.lastSeenAtMs < idleBefore || s.createdAtMs < createdBefore) {
        this.rows.delete(k)
        n++
      }
    return n
  }
}

/** Standard SQL on either dialect (store.sql). */
export class SqlSessions implements SessionBackend {
  constructor(private readonly sql: SqlExecutor) {}

  async create(idHash: string, s: StoredSession, maxSessions: number): Promise<void> {
    await this.sql.tx(async (x) => {
      await x.run(
        'INSERT INTO dashboard_sessions (id_hash, user_id, created_at_ms, last_seen_at_ms) VALUES (?, ?, ?, ?)',
        [idHash, s.userId, s.createdAtMs, s.lastSeenAtMs],
      )
      // Bounds the table under a login flood: the least recently used sessions past the cap go.
      const [count] = await x.all('SELECT COUNT(*) AS n FROM dashboard_sessions')
      const over = Number(count?.n ?? 0) - maxSessions
      if (over > 0)
        await x.run(
          `DELETE FROM dashboard_sessions WHERE id_hash IN (
             SELECT id_hash FROM dashboard_sessions ORDER BY last_seen_at_ms, id_hash LIMIT ?)`,
          [over],
        )
    })
  }

  async get(idHash: string): Promise<StoredSession | undefined> {
    const [r] = await this.sql.all(
      'SELECT user_id, created_at_ms, last_seen_at_ms FROM dashboard_sessions WHERE id_hash = ?',
      [idHash],
    )
    if (!r) return undefined
    return {
      userId: String(r.user_id),
      createdAtMs: Number(r.created_at_ms),
      lastSeenAtMs: Number(r.last_seen_at_ms),
    }
  }

  async touch(idHash: string, atMs: number): Promise<void> {
    // never moves backwards when two processes touch the same session
    await this.sql.run(
      'UPDATE dashboard_sessions SET last_seen_at_ms = ? WHERE id_hash = ? AND last_seen_at_ms < ?',
      [atMs, idHash, atMs],
    )
  }

  async delete(idHash: string): Promise<void> {
    await this.sql.run('DELETE FROM dashboard_sessions WHERE id_hash = ?', [idHash])
  }

  purge(idleBefore: number, createdBefore: number): Promise<number> {
    return this.sql.run('DELETE FROM dashboard_sessions WHERE last_seen_at_ms < ? OR created_at_ms < ?', [
      idleBefore,
      createdBefore,
    ])
  }
}
