import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { toAppendEvent } from '../../src/store/append-event.ts'
import { LOG_START, type LogCursor, type Store } from '../../src/store/types.ts'
import { createTestDatabase, dialectAvailable, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'

/**
 * PostgreSQL assigns seq at insert, not at commit. A transaction that inserted seq 1 and
 * commits after another transaction's seq 2 is visible must not be passed over by a reader
 * that tails the log (DESIGN §6).
 */
describe.skipIf(!(await dialectAvailable('postgres')))('tailing the log on PostgreSQL', () => {
  let db: TestDatabase
  let store: Store
  let early: pg.Client
  let late: pg.Client

  beforeEach(async () => {
    db = await createTestDatabase('postgres', { migrated: true })
    store = await db.open()
    early = new pg.Client({ connectionString: db.location })
    late = new pg.Client({ connectionString: db.location })
    await early.connect()
    await late.connect()
  })
  afterEach(async () => {
    await early?.end()
    await late?.end()
    await store?.close()
    await db?.cleanup()
  })

  async function insertIn(c: pg.Client, id: string): Promise<number> {
    const e = toAppendEvent(ping({ id }) as CloudEvent, new Date().toISOString())
    const r = await c.query(
      `INSERT INTO events (plant, source, id, type, subject, time, correlation_id, data_hash, envelope, recorded_at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) RETURNING seq`,
      [e.plant, e.source, e.id, e.type, e.subject, e.time, e.correlationId, e.dataHash, e.envelopeJson],
    )
    return Number(r.rows[0].seq)
  }

  async function drain(cursor: LogCursor, into: string[]): Promise<LogCursor> {
    for (;;) {
      const page = await store.tailEvents(ALL, cursor, 100)
      into.push(...page.events.map((e) => e.id))
      cursor = page.cursor
      if (page.events.length === 0) return cursor
    }
  }

  it('does not skip a row whose seq is lower than one already read', async () => {
    // `early` takes the older transaction id first, `late` then inserts seq 1 and stays open.
    await early.query('BEGIN')
    await early.query(`SELECT pg_current_xact_id()`)
    await late.query('BEGIN')
    const lowSeq = await insertIn(late, 'late-commit')
    const highSeq = await insertIn(early, 'early-commit')
    expect(lowSeq).toBeLessThan(highSeq)
    await early.query('COMMIT')

    const seen: string[] = []
    let cursor = LOG_START
    // Other suites' short transactions in the same cluster can hold the watermark back a moment.
    await until(async () => {
      cursor = await drain(cursor, seen)
      return seen.length > 0
    })
    expect(seen).toEqual(['early-commit'])
    // A reader tailing by plain seq would now be past seq 1 forever.
    const naive = await store.listEvents(ALL, { afterSeq: highSeq, limit: 10 })
    expect(naive).toEqual([])

    await late.query('COMMIT')
    await until(async () => {
      cursor = await drain(cursor, seen)
      return seen.length === 2
    })
    expect(seen).toEqual(['early-commit', 'late-commit'])
  })

  it('holds back rows of transactions younger than one still running, then delivers all exactly once', async () => {
    await late.query('BEGIN')
    await insertIn(late, 'slow')
    const at = new Date().toISOString()
    await store.appendEvents([
      { actor: 't', events: [toAppendEvent(ping({ id: 'fast' }) as CloudEvent, at)] },
    ])
    const seen: string[] = []
    const cursor = await drain(LOG_START, seen)
    expect(seen).toEqual([]) // below the watermark there is nothing final yet
    await late.query('COMMIT')
    let c = cursor
    await until(async () => {
      c = await drain(c, seen)
      return seen.length === 2
    })
    expect(seen.sort()).toEqual(['fast', 'slow'])
  })
})
