import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashCanonical } from '../../src/audit/canonical-json.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { toAppendEvent } from '../../src/store/append-event.ts'
import { loadMigrations } from '../../src/store/migrations.ts'
import { lockAllSql, WAIT_MATCH_CTES } from '../../src/store/postgres/engine.ts'
import { ingestAuditPayload } from '../../src/store/rows.ts'
import type { AppendRequest, Store } from '../../src/store/types.ts'
import { WriteQueue } from '../../src/store/write-queue.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { AWKWARD, ping } from '../event-fixtures.ts'

/**
 * The write path's single-round-trip form on PostgreSQL (store/postgres/append-script.ts: the
 * qlk_append_events function of migration 0027, values as array parameters) hashes the ingest
 * audit payload in SQL; run on both dialects, so both write paths are held to the same stored rows.
 */

const squash = (sql: string) => sql.replace(/\s+/g, ' ').trim()

describe('qlk_append_events (PostgreSQL migration 0027)', () => {
  it('locks and matches waits with the same SQL as the transactional write path', () => {
    const fn = loadMigrations('postgres').find((m) => m.name.includes('append_function'))
    expect(fn).toBeDefined()
    const body = squash(fn!.sql)
    expect(body).toContain(squash(lockAllSql('p_lock_keys', 'p_lock_shared')))
    expect(body).toContain(squash(WAIT_MATCH_CTES))
  })
})

function request(actor: string, ...events: Record<string, unknown>[]): AppendRequest {
  const at = new Date().toISOString()
  return { actor, events: events.map((e) => toAppendEvent(e as CloudEvent, at)) }
}

describe.each(DIALECTS)('the write path on %s', (dialect: Dialect) => {
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

  /** every ingest audit row with its stored payload, in seq order */
  async function ingestAudit() {
    const rows = await store.sql.all(
      `SELECT a.seq, a.actor, a.subject, a.payload_hash, p.payload FROM audit_log a
         JOIN audit_payloads p ON p.audit_seq = a.seq WHERE a.action = 'event.ingested' ORDER BY a.seq`,
    )
    return rows.map((r) => ({
      seq: Number(r.seq),
      actor: String(r.actor),
      subject: String(r.subject),
      payloadHash: String(r.payload_hash),
      payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    }))
  }

  it('stores ids, sources and subjects that need escaping intact, audited with their canonical payload hash', async () => {
    const events = AWKWARD.map((s, i) =>
      ping({ id: `${s} #${i}`, source: `urn:x:${s}`, subject: s, data: { note: s, n: i } }),
    )
    const [results] = await store.appendEvents([request(`actor ${AWKWARD[0]}`, ...events)])
    expect(results!.map((r) => r.duplicate)).toEqual(AWKWARD.map(() => false))
    for (const [i, e] of events.entries()) {
      const stored = await store.getEventBySeq({ allPlants: true, reason: 'test' }, results![i]!.seq)
      expect(stored).toMatchObject({ id: e.id, source: e.source, subject: e.subject })
      expect(stored!.envelope).toMatchObject({ id: e.id, source: e.source, data: e.data })
    }
    const audit = await ingestAudit()
    expect(audit).toHaveLength(events.length)
    const appended = request('x', ...events).events
    for (const [i, row] of audit.entries()) {
      const expected = ingestAuditPayload({ ...appended[i]!, seq: results![i]!.seq })
      expect(row.payload).toEqual(expected)
      expect(row.payloadHash).toBe(hashCanonical(expected))
      expect(row).toMatchObject({ actor: `actor ${AWKWARD[0]}`, subject: appended[i]!.subject })
    }
  })

  it('audits only the new events of a group, in event order, each under its request’s actor', async () => {
    const old = ping()
    const first = (await store.appendEvents([request('early', old)]))[0]![0]!
    const a = ping()
    const b = ping({ subject: undefined })
    const results = await store.appendEvents([request('r1', a, old), request('r2', b, a)])
    expect(results.map((r) => r.map((x) => x.duplicate))).toEqual([
      [false, true],
      [false, true],
    ])
    expect(results[0]![1]!.seq).toBe(first.seq)
    expect(results[1]![1]!.seq).toBe(results[0]![0]!.seq)
    const audit = await ingestAudit()
    expect(audit.map((r) => [r.actor, r.payload.id, r.payload.seq])).toEqual([
      ['early', old.id, first.seq],
      ['r1', a.id, results[0]![0]!.seq],
      ['r2', b.id, results[1]![0]!.seq],
    ])
    expect(audit[2]!.subject).toBe(`event:${b.id}`)
  })

  it('writes a large group (a batch of 500 with a duplicate) with the same rows', async () => {
    const old = ping()
    const first = (await store.appendEvents([request('early', old)]))[0]![0]!
    const events = Array.from({ length: 500 }, (_, i) => ping({ id: `big ${AWKWARD[i % 6]} ${i}` }))
    const [results] = await store.appendEvents([request('big', ...events, old)])
    expect(results!.at(-1)).toMatchObject({ seq: first.seq, duplicate: true })
    const audit = await ingestAudit()
    expect(audit.map((r) => r.actor)).toEqual(['early', ...events.map(() => 'big')])
    const appended = request('x', ...events).events
    for (const [i, row] of audit.slice(1).entries()) {
      const expected = ingestAuditPayload({ ...appended[i]!, seq: results![i]!.seq })
      expect(row.payload).toEqual(expected)
      expect(row.payloadHash).toBe(hashCanonical(expected))
    }
  })

  it('stores an event posted concurrently as per-event transactions once, every answer carrying its seq', async () => {
    const queue = new WriteQueue(store, { groupCommit: false })
    const e = ping()
    const results = await Promise.all(Array.from({ length: 16 }, () => queue.submit(request('api', e))))
    expect(new Set(results.map((r) => r[0]!.seq)).size).toBe(1)
    expect(results.filter((r) => !r[0]!.duplicate)).toHaveLength(1)
    expect(await store.listEvents({ allPlants: true, reason: 'test' }, { limit: 100 })).toHaveLength(1)
    expect(await ingestAudit()).toHaveLength(1)
    await queue.drain()
  })

  it('settles the raw delivery a small, unrouted group was translated from, in the same commit', async () => {
    const raw = await store.insertRawDelivery({
      plant: 'P100',
      source: 'test-webhook',
      deliveryId: 'd-1',
      headers: {},
      body: Buffer.from('{}'),
    })
    const results = await store.appendEvents([
      { ...request('connector:test-webhook', ping()), translatedFrom: raw.seq },
    ])
    const settled = await store.getRawDelivery({ allPlants: true, reason: 'test' }, raw.seq)
    expect(settled).toMatchObject({ status: 'translated', eventSeq: results[0]![0]!.seq })
  })
})
