import type { SharedLimits } from '../connectors/sdk/rate-limit.ts'
import type { EngineStore } from './engine-types.ts'
import type { GenealogyStore } from './genealogy-types.ts'
import type { IngressStore } from './ingress-types.ts'
import type { SqlExecutor } from './sql-executor.ts'

/**
 * The narrow Store interface every other module talks to. Two dialects implement it
 * (src/store/sqlite, src/store/postgres); dialect-specific SQL lives only there.
 */

/** Every read takes a scope. `allPlants` is for internal machinery (sealer, relay), never for callers. */
export type Scope =
  | { readonly plants: readonly string[] }
  | { readonly allPlants: true; readonly reason: string }

export function scopeIncludes(scope: Scope, plant: string): boolean {
  return 'allPlants' in scope || scope.plants.includes(plant)
}

/** A canonical event as the log stores it. `envelope` is the full CloudEvent JSON. */
export interface StoredEvent {
  readonly seq: number
  readonly plant: string
  readonly source: string
  readonly id: string
  readonly type: string
  readonly subject: string | null
  readonly time: string
  readonly correlationId: string
  readonly causationId: string | null
  readonly sourceSequence: number | null
  readonly dataHash: string
  readonly envelope: Record<string, unknown>
  readonly recordedAtMs: number
}

export interface AppendEvent {
  readonly plant: string
  readonly source: string
  readonly id: string
  readonly type: string
  readonly subject: string | null
  readonly time: string
  readonly correlationId: string
  readonly causationId: string | null
  readonly sourceSequence: number | null
  readonly dataHash: string
  readonly envelopeJson: string
}

/** The events of one request: atomic together, audited under one actor. */
export interface AppendRequest {
  readonly events: readonly AppendEvent[]
  readonly actor: string
  /**
   * The business action's own audit rows (a mass release's execution), written in the same
   * transaction as the events, after their `event.ingested` rows: both are stored or neither.
   * Written whether the events are new or duplicates (a repeated execution is audited again).
   */
  readonly audit?: readonly AuditEntry[]
  /**
   * The raw delivery these events were translated from (its seq): settled `translated` (its
   * `event_seq` the first event's) in the same transaction, so the translation stage needs no
   * commit of its own for it. A failed commit leaves it as it was, like the events.
   */
  readonly translatedFrom?: number
}

export interface AppendResult {
  readonly id: string
  readonly source: string
  readonly seq: number
  readonly correlationId: string
  readonly duplicate: boolean
}

/**
 * A position in the log for tailing readers. On PostgreSQL `seq` is assigned at insert, not
 * commit, so tailers order by (txid, seq) and read only transactions below the snapshot's xmin:
 * a row from a transaction still running can never be passed over. On SQLite (one writer)
 * txid is always 0 and the order is seq.
 */
export interface LogCursor {
  readonly txid: string
  readonly seq: number
}

export const LOG_START: LogCursor = { txid: '0', seq: 0 }

export function encodeCursor(c: LogCursor): string {
  return `${c.txid}.${c.seq}`
}

export function decodeCursor(s: string): LogCursor | undefined {
  const m = /^(\d{1,20})\.(\d{1,15})$/.exec(s)
  return m ? { txid: m[1]!, seq: Number(m[2]) } : undefined
}

export interface EventFilter {
  readonly type?: string
  readonly subject?: string
  readonly afterSeq?: number
  readonly limit: number
}

export interface AuditEntry {
  readonly plant: string
  readonly actor: string
  readonly action: string
  readonly subject: string
  readonly correlationId: string | null
  readonly payload: unknown
  /**
   * The hash of the plaintext payload, when `payload` is stored with encrypted values
   * (src/security/encryption-store.ts): the chain covers plaintext, so a rotation, which
   * changes every ciphertext, never changes a hash. Absent: the hash of `payload`.
   */
  readonly payloadHash?: string
}

export interface AuditRow {
  readonly seq: number
  readonly txid: string
  readonly plant: string
  readonly atMs: number
  readonly actor: string
  readonly action: string
  readonly subject: string
  readonly correlationId: string | null
  readonly payloadHash: string
}

export interface ChainLink {
  readonly pos: number
  readonly auditSeq: number
  /** the audit row's txid: the sealer's cursor is (txid, seq), see LogCursor */
  readonly auditTxid: string
  readonly prevHash: string
  readonly hash: string
}

/** A chain link joined with its audit row (null when the row is missing: a delete). */
export interface ChainRecord extends ChainLink {
  readonly row: AuditRow | null
}

export interface Lease {
  readonly name: string
  readonly owner: string
  /** fencing token: strictly increases every time the lease changes hands */
  readonly token: number
  readonly expiresAtMs: number
}

export interface RawDelivery {
  readonly plant: string
  readonly source: string
  readonly deliveryId: string
  readonly headers: Record<string, string>
  readonly body: Buffer
}

export interface StoredRawDelivery extends RawDelivery {
  readonly seq: number
  readonly bodyHash: string
  readonly receivedAtMs: number
  readonly status: 'pending' | 'translated' | 'parked' | 'dead'
  readonly attempts: number
  readonly lastErrorCode: string | null
  readonly lastError: string | null
  readonly eventSeq: number | null
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres'
  /** The durable execution engine's tables (runs, journal, waits, inbox, dead letters). */
  readonly engine: EngineStore
  /** Raw deliveries' translation stage and the identity mapping it needs. */
  readonly ingress: IngressStore
  /** The genealogy projection (lots, edges, shipments) and its cursor. */
  readonly genealogy: GenealogyStore
  /** Standard SQL that runs unchanged on both dialects (`?` placeholders), for shared store parts. */
  readonly sql: SqlExecutor
  /**
   * Every value encrypted at rest in `value` decrypted (src/security/encryption-store.ts), for
   * readers that go through `sql` to a column holding encrypted values (audit payloads). Absent
   * when no encryption is configured.
   */
  readonly decryptAtRest?: <T>(value: T) => T
  /**
   * The same store without decryption: its event and run reads answer marked values as their
   * stored envelopes (`{"$enc":"v1","kid",…}`), for sealed exports (src/audit/evidence.ts).
   * Absent when no encryption is configured.
   */
  readonly atRest?: Store
  /**
   * A text field a projection copies out of an event (e.g. a CAPA's title into the scorecard),
   * as the projection stores it: the JSON of an encrypted value when qualink.yaml marks the
   * field (`type`, `pointer` under /data), otherwise unchanged. Absent without encryption.
   */
  readonly encryptMarkedText?: <T extends string | null>(type: string, pointer: string, value: T) => T
  /**
   * Egress rate limits and open circuits shared by all processes on this database; absent on the
   * embedded SQLite store, whose single process keeps them in memory.
   */
  readonly rateLimits?: SharedLimits
  /** The database's clock in epoch ms: due times and lease expiry never use a worker's clock. */
  now(): Promise<number>

  /** One transaction for all requests (group commit). Throws if the commit fails: nothing stored. */
  appendEvents(requests: readonly AppendRequest[]): Promise<AppendResult[][]>
  getEvent(scope: Scope, id: string): Promise<StoredEvent | undefined>
  getEventBySeq(scope: Scope, seq: number): Promise<StoredEvent | undefined>
  listEvents(scope: Scope, filter: EventFilter): Promise<StoredEvent[]>
  /** Event counts per plant and type (dashboards). */
  eventCounts(scope: Scope): Promise<Array<{ plant: string; type: string; count: number }>>
  /** Committed events after `cursor`, below the visibility watermark, in a stable order. */
  tailEvents(
    scope: Scope,
    cursor: LogCursor,
    limit: number,
  ): Promise<{ events: StoredEvent[]; cursor: LogCursor }>

  insertRawDelivery(d: RawDelivery): Promise<{ seq: number; duplicate: boolean }>
  getRawDelivery(scope: Scope, seq: number): Promise<StoredRawDelivery | undefined>

  /** Writes an audit row outside any business write (operations such as config changes). */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>
  /** Audit rows of a subject or action, newest last (evidence, tests, the dashboard). */
  listAudit(scope: Scope, filter: { subject?: string; action?: string; limit: number }): Promise<AuditRow[]>
  /** Committed, unsealed audit rows below the watermark, in chain order. */
  readUnsealedAudit(limit: number): Promise<AuditRow[]>
  chainHead(): Promise<ChainLink | undefined>
  /** Appends links only while `lease` is still held (fenced); returns false when it is not. */
  appendChain(links: readonly ChainLink[], lease: Lease): Promise<boolean>
  readChain(fromPos: number, limit: number): Promise<ChainRecord[]>
  /** Audit rows with no chain link and above the head: sealed later, not yet verifiable. */
  countUnsealedAudit(): Promise<number>
  maxAuditSeq(): Promise<number>

  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | undefined>
  renewLease(lease: Lease, ttlMs: number): Promise<Lease | undefined>
  releaseLease(lease: Lease): Promise<void>

  close(): Promise<void>
}

/**
 * A store bound later: configuration builds connectors before any store is open, and startQualink
 * binds the one it opened here (connectors that keep durable state, e.g. EDI control numbers).
 */
export interface StoreRef {
  current?: Store
}
