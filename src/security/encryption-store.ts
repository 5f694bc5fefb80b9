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
import type { JournalEntry, JournalFlush } from '../store/engine-types.ts'
import type { AppendEvent, AppendRequest, Store, StoredEvent, StoredRawDelivery } from '../store/types.ts'
import type { FieldCipher } from './encryption.ts'

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

export function withFieldEncryption(store: Store, cipher: FieldCipher): Store {
  const dec = (e: StoredEvent | undefined) => decryptEvent(cipher, e)
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
  // Every write that carries buffered journal entries encrypts the events they hold.
  const encFlush = (flush: JournalFlush | undefined): JournalFlush | undefined =>
    flush && {
      ...flush,
      entries: flush.entries.map((entry) =>
        mapJournalEvent(entry, (e) =>
          cipher.covers(e.type) ? { ...e, envelope: cipher.encryptEnvelope(e.envelope) } : e,
        ),
      ),
    }
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
      dec(await store.engine.registerWait(fence, wait, exclude, encFlush(flush))),
    takeInbox: async (fence, wait, flush) => dec(await store.engine.takeInbox(fence, wait, encFlush(flush))),
    appendJournal: (fence, flush) => store.engine.appendJournal(fence, encFlush(flush)!),
    suspendRun: (fence, flush) => store.engine.suspendRun(fence, encFlush(flush)),
    retryRun: (fence, delayMs, code, error, flush) =>
      store.engine.retryRun(fence, delayMs, code, error, encFlush(flush)),
    completeRun: (fence, status, result, audit, flush) =>
      store.engine.completeRun(fence, status, result, audit, encFlush(flush)),
    deadLetterRun: (fence, policy, code, error, audit, failedAt, flush) =>
      store.engine.deadLetterRun(fence, policy, code, error, audit, failedAt, encFlush(flush)),
    loadRun: async (scope, runId) => {
      const r = await store.engine.loadRun(scope, runId)
      return r && { ...r, journal: r.journal.map((j) => mapJournalEvent(j, (e) => decryptEvent(cipher, e))) }
    },
  })
  return delegate(store, {
    engine,
    ingress,
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
