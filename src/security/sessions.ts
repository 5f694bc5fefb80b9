import { createHash, randomBytes } from 'node:crypto'
import type { Principal, Role } from '../server/auth.ts'
import { parseScrypt, verifyPassword } from '../signatures/password.ts'
import { MemorySessions, type SessionBackend } from './session-store.ts'
import type { DashboardUser } from './users.ts'

/**
 * Dashboard login: password check, attempt limits and server-side sessions.
 * Defaults follow the OWASP cheat sheets: Session Management (idle 15–30 min, absolute 4–8 h,
 * ≥ 64 bits of session id entropy; we use 256) and Authentication ("lockout after a number of
 * failed attempts for a period, with a counter reset"). Sessions live in the store once bound
 * (`persistIn`, session-store.ts): a restart keeps them, and every API process on the database
 * knows them; attempt counters stay per process.
 */
export interface LoginPolicy {
  /** a session unused this long ends (polling partials do not count as use) */
  readonly idleMs: number
  /** a session ends this long after login, whatever its use */
  readonly absoluteMs: number
  /** failed logins for one user id before it is locked */
  readonly maxFailuresPerUser: number
  /** failed logins from one address before it is locked (many people may share a NAT address) */
  readonly maxFailuresPerIp: number
  /** first lockout; each further lockout of the same key doubles it, up to maxLockoutMs */
  readonly lockoutMs: number
  readonly maxLockoutMs: number
  /** set Secure even over plain HTTP: TLS is terminated by a proxy in front of Qualink */
  readonly secureCookie: boolean
  /** sessions kept at most; the oldest is dropped past it (bounds memory under abuse) */
  readonly maxSessions: number
  /** clock (tests move it instead of sleeping) */
  readonly now: () => number
}

const MINUTE = 60_000
export const LOGIN_DEFAULTS: LoginPolicy = {
  idleMs: 30 * MINUTE,
  absoluteMs: 8 * 60 * MINUTE,
  maxFailuresPerUser: 5,
  maxFailuresPerIp: 20,
  lockoutMs: 15 * MINUTE,
  maxLockoutMs: 24 * 60 * MINUTE,
  secureCookie: false,
  maxSessions: 10_000,
  now: () => Date.now(),
}

export const SESSION_COOKIE = 'qualink_session'
const COUNTERS_MAX = 100_000

/** The value of one cookie in a Cookie header (RFC 6265 §4.2.1), or undefined. */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : header
  if (!text) return undefined
  for (const part of text.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Strict (no cross-site request
 * carries it), Path=/ui (never sent to /v1, which stays key- or token-only). No Max-Age: it ends
 * with the browser; the server enforces the idle and absolute timeouts.
 */
export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/ui; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`
}

interface Counter {
  failures: number
  inFlight: number
  lockouts: number
  lockedUntil: number
  lastFailureAt: number
}

/**
 * Failed attempts per key (`user:<id>`, `ip:<address>`). Attempts in flight count against the
 * limit, so a burst of parallel guesses cannot run more scrypt checks than the limit allows.
 */
export class AttemptLimiter {
  private readonly counters = new Map<string, Counter>()
  constructor(private readonly policy: LoginPolicy) {}

  /** ms until the key may try again; 0 when it may try now */
  waitMs(key: string, limit: number): number {
    const c = this.fresh(key)
    if (!c) return 0
    const now = this.policy.now()
    if (c.lockedUntil > now) return c.lockedUntil - now
    return c.failures + c.inFlight >= limit ? this.policy.lockoutMs : 0
  }

  begin(key: string): void {
    const c = this.fresh(key) ?? { failures: 0, inFlight: 0, lockouts: 0, lockedUntil: 0, lastFailureAt: 0 }
    c.inFlight++
    this.counters.set(key, c)
    if (this.counters.size > COUNTERS_MAX) this.sweep()
  }

  /** Ends an attempt; a failure at the limit locks the key, each lockout twice as long as the last. */
  end(key: string, failed: boolean, limit: number): void {
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
      c.lockedUntil = now + Math.min(this.policy.lockoutMs * 2 ** (c.lockouts - 1), this.policy.maxLockoutMs)
    }
  }

  /** A successful login clears its user's record. */
  clear(key: string): void {
    const c = this.counters.get(key)
    if (c && c.inFlight === 0) this.counters.delete(key)
    else if (c) Object.assign(c, { failures: 0, lockouts: 0, lockedUntil: 0 })
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

export interface Session {
  readonly userId: string
  readonly name: string
  readonly roles: readonly Role[]
  readonly plants: readonly string[]
  readonly createdAt: number
  readonly lastSeenAt: number
}

export type LoginOutcome =
  | { readonly ok: true; readonly user: DashboardUser; readonly sessionId: string }
  | {
      readonly ok: false
      readonly reason: 'unknown-user' | 'wrong-password' | 'locked'
      /** for `locked`: how long until another try is accepted */
      readonly retryAfterMs?: number
    }

const digest = (id: string) => createHash('sha256').update(id).digest('hex')
/** the last-use time of a session is written at most this often (or a tenth of the idle timeout) */
const TOUCH_EVERY_MS = 60_000

/** Users, attempt limits and sessions of one process's dashboard. */
export class DashboardLogin {
  readonly policy: LoginPolicy
  private readonly users: ReadonlyMap<string, DashboardUser>
  private readonly limiter: AttemptLimiter
  /** keyed by the SHA-256 of the session id: neither a lookup nor the store holds the secret */
  private sessions: SessionBackend = new MemorySessions()
  private readonly decoy: string

  constructor(users: readonly DashboardUser[], policy: Partial<LoginPolicy> = {}) {
    this.policy = { ...LOGIN_DEFAULTS, ...policy }
    this.users = new Map(users.map((u) => [u.id, u]))
    this.limiter = new AttemptLimiter(this.policy)
    // An unknown id pays the same scrypt cost as a real one (same parameters), so timing does
    // not reveal which ids exist; the all-zero key never matches a derived one in practice.
    const p = parseScrypt(users[0]?.passwordHash ?? '')?.params ?? { N: 2 ** 17, r: 8, p: 1 }
    this.decoy = `scrypt$${p.N}$${p.r}$${p.p}$${'A'.repeat(22)}$${'A'.repeat(43)}`
  }

  get configured(): boolean {
    return this.users.size > 0
  }

  /** Keeps sessions in the store from now on (startQualink binds it once the store is open). */
  persistIn(backend: SessionBackend): void {
    this.sessions = backend
  }

  /** Checks a password under the per-user and per-address limits; a success opens a session. */
  async attempt(userId: string, password: string, ip: string): Promise<LoginOutcome> {
    const userKey = `user:${userId}`
    const ipKey = `ip:${ip}`
    const wait = Math.max(
      this.limiter.waitMs(userKey, this.policy.maxFailuresPerUser),
      this.limiter.waitMs(ipKey, this.policy.maxFailuresPerIp),
    )
    if (wait > 0) return { ok: false, reason: 'locked', retryAfterMs: wait }
    this.limiter.begin(userKey)
    this.limiter.begin(ipKey)
    const user = this.users.get(userId)
    let ok = false
    try {
      ok = await verifyPassword(password, user?.passwordHash ?? this.decoy)
      ok = ok && user !== undefined
    } finally {
      this.limiter.end(userKey, !ok, this.policy.maxFailuresPerUser)
      this.limiter.end(ipKey, !ok, this.policy.maxFailuresPerIp)
    }
    if (!user) return { ok: false, reason: 'unknown-user' }
    if (!ok) return { ok: false, reason: 'wrong-password' }
    this.limiter.clear(userKey)
    return { ok: true, user, sessionId: await this.open(user) }
  }

  /**
   * The live session a cookie names; `touch` counts this request as use (idle timeout). The
   * last-use time is written at most every TOUCH_EVERY_MS (idle is then exact to within it), so a
   * busy dashboard does not write on every request.
   */
  async session(cookieHeader: string | string[] | undefined, touch = false): Promise<Session | undefined> {
    const id = cookieValue(cookieHeader, SESSION_COOKIE)
    if (!id || !/^[\w-]{43}$/.test(id)) return undefined
    const key = digest(id)
    const s = await this.sessions.get(key)
    if (!s) return undefined
    const now = this.policy.now()
    const user = this.users.get(s.userId)
    // a user removed from the users file has no session any more
    if (!user || now - s.lastSeenAtMs > this.policy.idleMs || now - s.createdAtMs > this.policy.absoluteMs) {
      await this.sessions.delete(key)
      return undefined
    }
    let lastSeenAt = s.lastSeenAtMs
    if (touch && now - lastSeenAt >= Math.min(TOUCH_EVERY_MS, this.policy.idleMs / 10)) {
      await this.sessions.touch(key, now)
      lastSeenAt = now
    }
    return {
      userId: user.id,
      name: user.name,
      roles: user.roles,
      plants: user.plants,
      createdAt: s.createdAtMs,
      lastSeenAt,
    }
  }

  /** The caller a session cookie stands for, with its user's roles and plants (read now, from the users file). */
  async principalOf(
    cookieHeader: string | string[] | undefined,
    touch: boolean,
  ): Promise<Principal | undefined> {
    const s = await this.session(cookieHeader, touch)
    if (!s) return undefined
    return {
      id: s.userId,
      roles: new Set(s.roles),
      scope: s.plants.includes('*')
        ? { allPlants: true, reason: `dashboard user ${s.userId}` }
        : { plants: [...s.plants] },
      via: 'session',
      name: s.name,
    }
  }

  /** Ends the session a cookie names, for every process; returns it when there was one. */
  async logout(cookieHeader: string | string[] | undefined): Promise<Session | undefined> {
    const s = await this.session(cookieHeader)
    const id = cookieValue(cookieHeader, SESSION_COOKIE)
    if (s && id) await this.sessions.delete(digest(id))
    return s
  }

  /** Removes expired sessions (at each login, so the table holds live ones and a bounded rest). */
  purgeExpired(): Promise<number> {
    const now = this.policy.now()
    return this.sessions.purge(now - this.policy.idleMs, now - this.policy.absoluteMs)
  }

  private async open(user: DashboardUser): Promise<string> {
    const now = this.policy.now()
    await this.purgeExpired()
    // 256 bits from the CSPRNG; a new id at every login, so no id chosen before login survives it.
    const id = randomBytes(32).toString('base64url')
    await this.sessions.create(
      digest(id),
      { userId: user.id, createdAtMs: now, lastSeenAtMs: now },
      this.policy.maxSessions,
    )
    return id
  }
}
