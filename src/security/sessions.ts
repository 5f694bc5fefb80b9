import { createHash, randomBytes } from 'node:crypto'
import { QualinkError } from '../contracts/errors.ts'
import type { Principal, Role } from '../server/auth.ts'
import { parseScrypt, verifyPassword } from '../signatures/password.ts'
import { type AttemptBackend, MemoryAttempts, SqlAttempts } from './login-attempts.ts'
import { MemorySessions, type SessionBackend } from './session-store.ts'
import type { DashboardUser } from './users.ts'

/**
 * Dashboard login: password check, attempt limits and server-side sessions.
 * Defaults follow the OWASP cheat sheets: Session Management (idle 15–30 min, absolute 4–8 h,
 * ≥ 64 bits of session id entropy; we use 256) and Authentication ("lockout after a number of
 * failed attempts for a period, with a counter reset"). Sessions live in the store once bound
 * (`persistIn`, session-store.ts): a restart keeps them, and every API process on the database
 * knows them; so do the failed-attempt counters (login-attempts.ts), so the lockout holds across
 * processes.
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

/** Environment variables that set the lockout (each a whole number of at least 1). */
const LOGIN_ENV = {
  QUALINK_LOGIN_MAX_FAILURES: 'maxFailuresPerUser',
  QUALINK_LOGIN_MAX_FAILURES_PER_IP: 'maxFailuresPerIp',
  QUALINK_LOGIN_LOCKOUT_SECONDS: 'lockoutMs',
} as const

/**
 * The lockout as a deployment sets it: failures per user id and per address before a lock, and
 * the first lock's length. A value that is not a whole number of 1 or more is refused, naming
 * the variable; nothing starts.
 */
export function loginPolicyFromEnv(env: Readonly<Record<string, string | undefined>>): Partial<LoginPolicy> {
  const out: { -readonly [K in keyof LoginPolicy]?: LoginPolicy[K] } = {}
  for (const [name, field] of Object.entries(LOGIN_ENV) as Array<
    [keyof typeof LOGIN_ENV, (typeof LOGIN_ENV)[keyof typeof LOGIN_ENV]]
  >) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    if (!/^[1-9]\d{0,8}$/.test(raw))
      throw new QualinkError(
        'QLK_CONFIG_INVALID',
        `${name}: must be a whole number of 1 or more, got '${raw}'`,
        [{ path: `/env/${name}`, message: 'a whole number of 1 or more' }],
      )
    out[field] = field === 'lockoutMs' ? Number(raw) * 1000 : Number(raw)
  }
  if (out.lockoutMs !== undefined) out.maxLockoutMs = Math.max(LOGIN_DEFAULTS.maxLockoutMs, out.lockoutMs)
  return out
}

export const SESSION_COOKIE = 'qualink_session'

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
  private attempts: AttemptBackend
  /** keyed by the SHA-256 of the session id: neither a lookup nor the store holds the secret */
  private sessions: SessionBackend = new MemorySessions()
  private readonly decoy: string

  constructor(users: readonly DashboardUser[], policy: Partial<LoginPolicy> = {}) {
    this.policy = { ...LOGIN_DEFAULTS, ...policy }
    this.users = new Map(users.map((u) => [u.id, u]))
    this.attempts = new MemoryAttempts(this.policy)
    // An unknown id pays the same scrypt cost as a real one (same parameters), so timing does
    // not reveal which ids exist; the all-zero key never matches a derived one in practice.
    const p = parseScrypt(users[0]?.passwordHash ?? '')?.params ?? { N: 2 ** 17, r: 8, p: 1 }
    this.decoy = `scrypt$${p.N}$${p.r}$${p.p}$${'A'.repeat(22)}$${'A'.repeat(43)}`
  }

  get configured(): boolean {
    return this.users.size > 0
  }

  /**
   * Keeps sessions, and (given the store's executor) the failed-attempt counters, in the store
   * from now on (startQualink binds it once the store is open).
   */
  persistIn(backend: SessionBackend, attempts?: AttemptBackend): void {
    this.sessions = backend
    if (attempts) this.attempts = attempts
  }

  /** Checks a password under the per-user and per-address limits; a success opens a session. */
  async attempt(userId: string, password: string, ip: string): Promise<LoginOutcome> {
    const userKey = { key: `user:${userId}`, limit: this.policy.maxFailuresPerUser }
    const ipKey = { key: `ip:${ip}`, limit: this.policy.maxFailuresPerIp }
    const wait = await this.attempts.reserve([userKey, ipKey])
    if (wait > 0) return { ok: false, reason: 'locked', retryAfterMs: wait }
    const user = this.users.get(userId)
    let ok = false
    try {
      ok = await verifyPassword(password, user?.passwordHash ?? this.decoy)
      ok = ok && user !== undefined
    } finally {
      await this.attempts.end(userKey, !ok)
      await this.attempts.end(ipKey, !ok)
    }
    if (!user) return { ok: false, reason: 'unknown-user' }
    if (!ok) return { ok: false, reason: 'wrong-password' }
    await this.attempts.clear(userKey.key)
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

  /**
   * Removes expired sessions and forgotten attempt counters (at each login, so the tables hold
   * live rows and a bounded rest).
   */
  async purgeExpired(): Promise<number> {
    const now = this.policy.now()
    if (this.attempts instanceof SqlAttempts) await this.attempts.purge()
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
