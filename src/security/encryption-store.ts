/**
 * The store as every other module sees it when encryption is configured: events are encrypted
 * on the one write path (appendEvents, which every canonical event passes — ingest route,
 * translation stage, through the write queue) and decrypted on every read that hands an event
 * to a caller (API, evidence, workflows' triggers, waits and inbox, tailing relays and
 * projections). Copies of events the engine journals as wait results are encrypted the same way.
 *
 * The data hash stays the hash of the plaintext `data` (src/store/append-event.ts computes it
 * before this layer sees the event): it is what was audited at ingest, it does not change when
 * a rotation re-encrypts a value under a new IV and key, and evidence bundles, which carry the
 * decrypted data, verify against it offline.
 *
 * A Proxy, not a subclass: both dialects get it unchanged, and every method not named here goes
 * to the real store bound to it (so `rawDatabase()` / `rawPool()` in tests still work).
 */
import { hashCanonical } from '../audit/canonical-json.ts'
import type { Fence, JournalEntry, JournalFlush, LoadedRun, RunRow } from '../store/engine-types.ts'
import type {
  AppendEvent,
  AppendRequest,
  AuditEntry,
  Store,
  StoredEvent,
  StoredRawDelivery,
} from '../store/types.ts'
import type { FieldCipher } from './encryption.ts'
import {
  encryptDerived,
  NO_SENSITIVE_VALUES,
  redactDerived,
  type SensitiveValues,
  sensitiveValuesOf,
} from './encryption-derived.ts'

type Router = Parameters<Store['engine']['setRouter']>[0]

function delegate<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, p) {
      if (Object.hasOwn(overrides, p)) return (overrides as Record<string | symbol, unknown>)[p]
      const v = Reflect.get(t, p, t) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v
    },
  })
}

export function decryptEvent(cipher: FieldCipher, e: StoredEvent): StoredEvent
export function decryptEvent(cipher: FieldCipher, e: StoredEvent | undefined): StoredEvent | undefined
export function decryptEvent(cipher: FieldCipher, e: StoredEvent | undefined): StoredEvent | undefined {
  if (!e) return e
  const envelope = cipher.decryptDeep(e.envelope)
  return envelope === e.envelope ? e : { ...e, envelope }
}

function encryptAppend(cipher: FieldCipher, e: AppendEvent): AppendEvent {
  if (!cipher.covers(e.type)) return e
  const env = JSON.parse(e.envelopeJson) as { type: string }
  return { ...e, envelopeJson: JSON.stringify(cipher.encryptEnvelope(env)) }
}

/** A journal result that carries an event (a wait's or a receive's): its envelope encrypted. */
function mapJournalEvent(entry: JournalEntry, f: (e: StoredEvent) => StoredEvent): JournalEntry {
  const r = entry.result as { event?: StoredEvent } | null
  if (!r || typeof r !== 'object' || !r.event || typeof r.event !== 'object' || !r.event.envelope)
    return entry
  return { ...entry, result: { ...r, event: f(r.event) } }
}

const parse = (v: unknown): unknown => (typeof v === 'string' ? (JSON.parse(v) as unknown) : v)

/** A run's sensitive values, from its trigger and the events it waited for or received. */
async function loadRunValues(store: Store, cipher: FieldCipher, runId: string): Promise<SensitiveValues> {
  let values = NO_SENSITIVE_VALUES
  const trigger = await store.sql.all(
    'SELECT e.envelope FROM workflow_runs r JOIN events e ON e.seq = r.trigger_event_seq WHERE r.id = ?',
    [runId],
  )
  for (const t of trigger) values = sensitiveValuesOf(cipher, cipher.decryptDeep(parse(t.envelope)), values)
  const received = await store.sql.all(
    `SELECT result FROM run_journal WHERE run_id = ? AND kind IN ('wait', 'receive') AND result IS NOT NULL`,
    [runId],
  )
  for (const r of received) {
    const ev = (parse(r.result) as { event?: { envelope?: unknown } } | null)?.event
    if (ev?.envelope) values = sensitiveValuesOf(cipher, cipher.decryptDeep(ev.envelope), values)
  }
  return values
}

/** Runs cached per process: one lookup per run, not per step. Bounded; a dropped run is looked up again. */
const RUN_CACHE_MAX = 5_000

export function withFieldEncryption(store: Store, cipher: FieldCipher): Store {
  const dec = (e: StoredEvent | undefined) => decryptEvent(cipher, e)
  const anyFields = Object.values(cipher.config.fields).some((ps) => ps.length > 0)
  const runValues = new Map<string, SensitiveValues>()
  const valuesOf = async (runId: string): Promise<SensitiveValues> => {
    if (!anyFields) return NO_SENSITIVE_VALUES
    const hit = runValues.get(runId)
    if (hit) return hit
    const v = await loadRunValues(store, cipher, runId)
    if (runValues.size >= RUN_CACHE_MAX) runValues.delete(runValues.keys().next().value!)
    runValues.set(runId, v)
    return v
  }
  // The hash is taken over the plaintext payload before its sensitive leaves are encrypted.
  const encAudit = <A extends Omit<AuditEntry, 'plant'> | undefined>(a: A, v: SensitiveValues): A => {
    if (!a) return a
    const payload = encryptDerived(cipher, a.payload, v)
    return (payload === a.payload ? a : { ...a, payload, payloadHash: hashCanonical(a.payload) }) as A
  }
  const decRun = <R extends RunRow | undefined>(r: R): R =>
    (r ? { ...r, result: cipher.decryptDeep(r.result) } : r) as R
  const decLoaded = <L extends LoadedRun | undefined>(l: L): L =>
    (l
      ? {
          ...l,
          run: decRun(l.run),
          journal: l.journal.map((j) => ({ ...j, result: cipher.decryptDeep(j.result) })),
        }
      : l) as L
  /**
   * One journal entry as stored: a journaled event's marked fields encrypted, a step result's
   * leaves that copy a marked value encrypted. A wait's or receive's event adds its marked values
   * to the run's, so steps after it in the same write are covered.
   */
  const encEntry = async (runId: string, entry: JournalEntry): Promise<JournalEntry> => {
    const values = await valuesOf(runId)
    const ev = (entry.result as { event?: StoredEvent } | null)?.event
    if ((entry.kind === 'wait' || entry.kind === 'receive') && ev?.envelope && runValues.has(runId))
      runValues.set(runId, sensitiveValuesOf(cipher, ev.envelope, values))
    const withEvent = mapJournalEvent(entry, (e) =>
      cipher.covers(e.type) ? { ...e, envelope: cipher.encryptEnvelope(e.envelope) } : e,
    )
    return entry.kind === 'step'
      ? { ...withEvent, result: encryptDerived(cipher, withEvent.result, values) }
      : withEvent
  }
  /** Every write that carries journal entries: each entry and audit payload as stored, in order. */
  const encFlush = async (
    fence: Fence,
    flush: JournalFlush | undefined,
  ): Promise<JournalFlush | undefined> => {
    if (!flush) return flush
    const entries: JournalEntry[] = []
    for (const e of flush.entries) entries.push(await encEntry(fence.runId, e))
    const values = await valuesOf(fence.runId)
    return { ...flush, entries, audits: flush.audits.map((a) => encAudit(a, values)) }
  }
  const raw = cipher.encryptsRawBodies
  const decRaw = <T extends StoredRawDelivery | undefined>(d: T): T =>
    (d && raw ? { ...d, body: cipher.decryptBody(d.body) } : d) as T
  // Raw deliveries hold what the source sent, sensitive fields included in its own format:
  // the body is encrypted whole (its body_hash is then over the stored bytes).
  const ingress = delegate(store.ingress, {
    claimRawDeliveries: async (limit, leaseMs) =>
      (await store.ingress.claimRawDeliveries(limit, leaseMs)).map(decRaw),
    listRawDeliveries: async (scope, filter) =>
      (await store.ingress.listRawDeliveries(scope, filter)).map(decRaw),
  })
  const engine = delegate(store.engine, {
    setRouter: (router: Router) =>
      store.engine.setRouter(
        router &&
          ((e: AppendEvent) => {
            if (!cipher.covers(e.type)) return router(e)
            // routing keys may read a sensitive field: the router sees the plaintext
            const env = cipher.decryptDeep(JSON.parse(e.envelopeJson) as unknown)
            return router({ ...e, envelopeJson: JSON.stringify(env) })
          }),
      ),
    getEventBySeqInternal: async (seq) => dec(await store.engine.getEventBySeqInternal(seq)),
    registerWait: async (fence, wait, exclude, flush) =>
      dec(await store.engine.registerWait(fence, wait, exclude, await encFlush(fence, flush))),
    takeInbox: async (fence, wait, flush) =>
      dec(await store.engine.takeInbox(fence, wait, await encFlush(fence, flush))),
    appendJournal: async (fence, flush) => store.engine.appendJournal(fence, (await encFlush(fence, flush))!),
    suspendRun: async (fence, flush) => store.engine.suspendRun(fence, await encFlush(fence, flush)),
    completeRun: async (fence, status, result, audit, flush) => {
      const carried = await encFlush(fence, flush)
      const values = await valuesOf(fence.runId)
      await store.engine.completeRun(
        fence,
        status,
        encryptDerived(cipher, result, values),
        encAudit(audit, values),
        carried,
      )
      runValues.delete(fence.runId)
    },
    // An upstream error may echo what was sent: the text columns get it redacted, the audit
    // payload keeps it whole, encrypted.
    deadLetterRun: async (fence, policy, errorCode, error, audit, failedAt, flush) => {
      const carried = await encFlush(fence, flush)
      const values = await valuesOf(fence.runId)
      await store.engine.deadLetterRun(
        fence,
        policy,
        errorCode,
        redactDerived(error, values),
        encAudit(audit, values),
        failedAt,
        carried,
      )
    },
    retryRun: async (fence, delayMs, errorCode, error, flush) => {
      const carried = await encFlush(fence, flush)
      return store.engine.retryRun(
        fence,
        delayMs,
        errorCode,
        redactDerived(error, await valuesOf(fence.runId)),
        carried,
      )
    },
    // a journaled event's marked fields and a step's derived leaves: every value decrypted
    loadRun: async (scope, runId) => decLoaded(await store.engine.loadRun(scope, runId)),
    // what the claim returned with each run (its journal, its trigger) decrypted as loadRun's
    claimRuns: async (owner, ttlMs, limit) =>
      (await store.engine.claimRuns(owner, ttlMs, limit)).map((r) => ({
        ...decRun(r),
        loaded: decLoaded(r.loaded),
        trigger: dec(r.trigger),
      })),
    listRuns: async (scope, filter) => (await store.engine.listRuns(scope, filter)).map(decRun),
    requestCancel: async (scope, runId, reason, audit) =>
      decRun(await store.engine.requestCancel(scope, runId, reason, audit)),
  })
  return delegate(store, {
    engine,
    ingress,
    decryptAtRest: <T>(value: T): T => cipher.decryptDeep(value),
    atRest: store,
    encryptMarkedText: <T extends string | null>(type: string, pointer: string, value: T): T =>
      cipher.encryptMarkedText(type, pointer, value),
    insertRawDelivery: (d) => store.insertRawDelivery(raw ? { ...d, body: cipher.encryptBody(d.body) } : d),
    getRawDelivery: async (scope, seq) => decRaw(await store.getRawDelivery(scope, seq)),
    appendEvents: (requests: readonly AppendRequest[]) =>
      store.appendEvents(
        requests.map((r) => ({ ...r, events: r.events.map((e) => encryptAppend(cipher, e)) })),
      ),
    getEvent: async (scope, id) => dec(await store.getEvent(scope, id)),
    getEventBySeq: async (scope, seq) => dec(await store.getEventBySeq(scope, seq)),
    listEvents: async (scope, filter) => (await store.listEvents(scope, filter)).map((e) => dec(e)!),
    tailEvents: async (scope, cursor, limit) => {
      const r = await store.tailEvents(scope, cursor, limit)
      return { ...r, events: r.events.map((e) => dec(e)!) }
    },
  })
}
