import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { toAppendEvent } from '../../src/store/append-event.ts'
import type { AppendRequest, Store } from '../../src/store/types.ts'
import { WriteQueue } from '../../src/store/write-queue.ts'
import {
  AVAILABLE,
  createTestDatabase,
  DIALECTS,
  type Dialect,
  type TestDatabase,
  untilTailCaughtUp,
} from '../dialects.ts'
import { until } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'

function request(...events: Record<string, unknown>[]): AppendRequest {
  const at = new Date().toISOString()
  return { actor: 'test', events: events.map((e) => toAppendEvent(e as CloudEvent, at)) }
}

describe.each(DIALECTS)('store on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
  })
  afterEach(async () => {
    await store?.close()
    await db?.cleanup()
  })

  it('stores a request atomically and answers a duplicate with the original seq and correlation id', async () => {
    const a = ping({ correlationid: 'corr-a' })
    const [first] = await store.appendEvents([request(a, ping())])
    expect(first!.map((r) => r.duplicate)).toEqual([false, false])
    const [again] = await store.appendEvents([request({ ...a, correlationid: 'other' })])
    expect(again![0]).toMatchObject({ seq: first![0]!.seq, duplicate: true, correlationId: 'corr-a' })
    expect(await store.listEvents({ allPlants: true, reason: 'test' }, { limit: 10 })).toHaveLength(2)
  })

  it('stores the same (source, id) once when it appears twice in one group', async () => {
    const a = ping()
    const [r1, r2] = await store.appendEvents([request(a), request(a)])
    expect(r1![0]!.duplicate).toBe(false)
    expect(r2![0]).toMatchObject({ seq: r1![0]!.seq, duplicate: true })
    expect(await store.listEvents({ allPlants: true, reason: 'test' }, { limit: 10 })).toHaveLength(1)
  })

  it('stores concurrent duplicate submissions once', async () => {
    const queue = new WriteQueue(store)
    const e = ping()
    const results = await Promise.all(Array.from({ length: 20 }, () => queue.submit(request(e))))
    const seqs = new Set(results.map((r) => r[0]!.seq))
    expect(seqs.size).toBe(1)
    expect(results.filter((r) => !r[0]!.duplicate)).toHaveLength(1)
    expect(await store.listEvents({ allPlants: true, reason: 'test' }, { limit: 100 })).toHaveLength(1)
  })

  it('never returns another plant’s rows to a plant-scoped read', async () => {
    const mine = ping({ plant: 'P100', subject: 'lot-x' })
    const theirs = ping({ plant: 'P200', subject: 'lot-x' })
    await store.appendEvents([request(mine, theirs)])
    const scope = { plants: ['P100'] }
    const listed = await store.listEvents(scope, { subject: 'lot-x', limit: 10 })
    expect(listed.map((e) => e.plant)).toEqual(['P100'])
    expect(await store.getEvent(scope, theirs.id as string)).toBeUndefined()
    expect(await store.getEvent(scope, mine.id as string)).toBeDefined()
    await untilTailCaughtUp(store)
    const tail = await store.tailEvents(scope, { txid: '0', seq: 0 }, 10)
    expect(tail.events.map((e) => e.plant)).toEqual(['P100'])
    expect(await store.listEvents({ plants: [] }, { limit: 10 })).toEqual([])
  })

  it('writes one audit row per stored event in the same transaction, none for a duplicate', async () => {
    const e = ping()
    await store.appendEvents([request(e)])
    await store.appendEvents([request(e)])
    expect(await store.maxAuditSeq()).toBeGreaterThan(0)
    expect(await store.countUnsealedAudit()).toBe(1)
  })

  it('deduplicates raw deliveries on (source, delivery id) and keeps the exact body', async () => {
    const body = Buffer.from('<IDOC>\u00e9</IDOC>', 'utf8')
    const d = {
      plant: 'P100',
      source: 'erp-ecc',
      deliveryId: 'D-1',
      headers: { 'content-type': 'application/xml' },
      body,
    }
    const a = await store.insertRawDelivery(d)
    const b = await store.insertRawDelivery(d)
    expect(a.duplicate).toBe(false)
    expect(b).toEqual({ seq: a.seq, duplicate: true })
    const stored = await store.getRawDelivery({ plants: ['P100'] }, a.seq)
    expect(stored?.body.equals(body)).toBe(true)
    expect(stored?.status).toBe('pending')
    expect(await store.getRawDelivery({ plants: ['P200'] }, a.seq)).toBeUndefined()
  })

  it('hands a lease to one owner at a time and raises the fencing token on takeover', async () => {
    const a = await store.acquireLease('job', 'A', 60_000)
    expect(a?.token).toBe(1)
    expect(await store.acquireLease('job', 'B', 60_000)).toBeUndefined()
    const renewed = await store.renewLease(a!, 60_000)
    expect(renewed?.token).toBe(1)
    const short = await store.acquireLease('short', 'A', 1)
    await until(async () => (await store.now()) > short!.expiresAtMs, 5000)
    const taken = await store.acquireLease('short', 'B', 60_000)
    expect(taken?.token).toBe(2)
    expect(await store.renewLease(short!, 60_000)).toBeUndefined()
  })

  it('moves a fenced cursor only while its lease holds: a taken-over owner cannot move it back', async () => {
    const a = await store.acquireLease('relay:fenced', 'A', 1)
    await store.ingress.setCursor('relay:fenced', 'a-1')
    expect(await store.ingress.getCursor('relay:fenced')).toBe('a-1')
    await until(async () => (await store.now()) > a!.expiresAtMs, 5000)
    const b = await store.acquireLease('relay:fenced', 'B', 60_000)
    await store.ingress.setCursor('relay:fenced', 'b-9', b)
    await expect(store.ingress.setCursor('relay:fenced', 'a-2', a)).rejects.toMatchObject({
      code: 'QLK_LEASE_LOST',
    })
    expect(await store.ingress.getCursor('relay:fenced')).toBe('b-9')
    // a first write under a lease creates the row; under a lost lease nothing is created
    await store.ingress.setCursor('feed:new', 'c-1', b)
    await expect(store.ingress.setCursor('feed:other', 'x', a)).rejects.toMatchObject({
      code: 'QLK_LEASE_LOST',
    })
    expect(await store.ingress.getCursor('feed:new')).toBe('c-1')
    expect(await store.ingress.getCursor('feed:other')).toBeNull()
  })
})
