import { describe, expect, it } from 'vitest'
import { DIALECTS, type Dialect, untilTailCaughtUp } from '../dialects.ts'
import { ping } from '../event-fixtures.ts'
import { useQualink } from '../qualink-fixture.ts'

const CE = 'application/cloudevents+json'
const BATCH = 'application/cloudevents-batch+json'

describe.each(DIALECTS)('ingest API on %s', (dialect: Dialect) => {
  const bed = useQualink(dialect, 'test')

  const post = (payload: string | object, contentType = CE, headers: Record<string, string> = {}) =>
    bed.q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': contentType, ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    })
  const count = async () =>
    (await bed.store.listEvents({ allPlants: true, reason: 'test' }, { limit: 10_000 })).length

  it('accepts a structured event with 202 after commit and answers a repeat as a duplicate', async () => {
    const e = ping({ correlationid: 'c-1' })
    const r = await post(e)
    expect(r.statusCode).toBe(202)
    const body = r.json()
    expect(body).toMatchObject({ id: e.id, correlationId: 'c-1', duplicate: false })
    expect(typeof body.seq).toBe('number')
    const again = await post(e)
    expect(again.json()).toEqual({ ...body, duplicate: true })
    expect(await count()).toBe(1)
    const got = await bed.q.app.inject({ method: 'GET', url: `/v1/events/${e.id}` })
    expect(got.json()).toMatchObject({ id: e.id, seq: body.seq, data: e.data, plant: 'P100' })
  })

  it('stores concurrent posts of the same event once', async () => {
    const e = ping()
    const rs = await Promise.all(Array.from({ length: 25 }, () => post(e)))
    expect(rs.every((r) => r.statusCode === 202)).toBe(true)
    expect(new Set(rs.map((r) => r.json().seq)).size).toBe(1)
    expect(rs.filter((r) => r.json().duplicate === false)).toHaveLength(1)
    expect(await count()).toBe(1)
  })

  it('accepts binary mode with ce-* headers', async () => {
    const r = await post({ note: 'binary' }, 'application/json', {
      'ce-specversion': '1.0',
      'ce-id': 'bin-1',
      'ce-source': 'urn:test:binary',
      'ce-type': 'qualink.test.pinged.v1',
      'ce-plant': 'P100',
      'ce-subject': 'lot-9',
      'ce-sequence': '42',
    })
    expect(r.statusCode).toBe(202)
    const [stored] = await bed.store.listEvents({ plants: ['P100'] }, { limit: 1 })
    expect(stored).toMatchObject({
      id: 'bin-1',
      subject: 'lot-9',
      sourceSequence: 42,
      correlationId: 'bin-1',
    })
    expect(stored!.envelope.data).toEqual({ note: 'binary' })
  })

  it('stores a batch whole and answers each member', async () => {
    const dup = ping()
    await post(dup)
    const r = await post([ping(), dup, ping()], BATCH)
    expect(r.statusCode).toBe(202)
    expect(r.json().results.map((x: { duplicate: boolean }) => x.duplicate)).toEqual([false, true, false])
    expect(await count()).toBe(3)
  })

  const bad: Array<
    [
      string,
      () => Promise<{
        statusCode: number
        json: () => Record<string, unknown>
        headers: Record<string, unknown>
      }>,
      number,
      string,
      string,
    ]
  > = [
    ['malformed JSON', () => post('{"specversion":'), 400, 'QLK_MALFORMED_JSON', '/'],
    ['wrong content type', () => post(ping(), 'text/plain'), 415, 'QLK_CONTENT_TYPE', '/content-type'],
    ['missing attribute', () => post(ping({ source: undefined })), 400, 'QLK_ATTRIBUTE_MISSING', '/source'],
    ['missing plant', () => post(ping({ plant: undefined })), 400, 'QLK_ATTRIBUTE_MISSING', '/plant'],
    ['schema violation', () => post(ping({ data: { n: 'x' } })), 400, 'QLK_SCHEMA_VIOLATION', '/data/n'],
    [
      'unknown type',
      () => post(ping({ type: 'qms.unknown.thing.v1' })),
      400,
      'QLK_UNKNOWN_EVENT_TYPE',
      '/type',
    ],
    ['bad time', () => post(ping({ time: 'yesterday' })), 400, 'QLK_VALIDATION', '/time'],
    ['bad extension name', () => post(ping({ Bad_Name: 'x' })), 400, 'QLK_VALIDATION', '/Bad_Name'],
    [
      'one bad member of a batch',
      () => post([ping(), ping({ data: { n: 1.5 } })], BATCH),
      400,
      'QLK_SCHEMA_VIOLATION',
      '/1/data/n',
    ],
    [
      'data shaped like an encryption envelope',
      () => post([ping(), ping({ data: { n: 1, $enc: 'v1', kid: 'k1' } })], BATCH),
      400,
      'QLK_VALIDATION',
      '/1/data/$enc',
    ],
    ['empty batch', () => post([], BATCH), 400, 'QLK_BATCH_EMPTY', ''],
    [
      'oversize body',
      () => post(ping({ data: { note: 'x'.repeat(2_000_000) } })),
      413,
      'QLK_PAYLOAD_TOO_LARGE',
      '',
    ],
  ]

  it.each(bad)('refuses %s with problem+json and stores nothing', async (_name, send, status, code, path) => {
    const r = await send()
    expect(r.statusCode).toBe(status)
    expect(String(r.headers['content-type'])).toContain('application/problem+json')
    const p = r.json()
    expect(p).toMatchObject({ status, code, type: `https://qualink.dev/errors/${code}` })
    if (path) expect((p.errors as Array<{ path: string }>).map((e) => e.path)).toContain(path)
    expect(await count()).toBe(0)
  })

  it('lists events by type, subject and after seq, and pages a tail with a cursor', async () => {
    for (let i = 0; i < 5; i++) await post(ping({ subject: i % 2 ? 'odd' : 'even', data: { n: i } }))
    const odd = (await bed.q.app.inject({ method: 'GET', url: '/v1/events?subject=odd' })).json()
    expect(odd.events.map((e: { data: { n: number } }) => e.data.n)).toEqual([1, 3])
    const after = (
      await bed.q.app.inject({ method: 'GET', url: `/v1/events?after=${odd.events[0].seq}&limit=2` })
    ).json()
    expect(after.events).toHaveLength(2)
    // the tail withholds events behind any transaction still open on the server (PostgreSQL txids
    // are cluster-wide, so another database's open transaction counts): wait for the watermark
    await untilTailCaughtUp(bed.store)
    let cursor = '0.0'
    const seen: number[] = []
    for (;;) {
      const page = (
        await bed.q.app.inject({ method: 'GET', url: `/v1/events?cursor=${cursor}&limit=2` })
      ).json()
      if (page.events.length === 0) break
      seen.push(...page.events.map((e: { data: { n: number } }) => e.data.n))
      cursor = page.nextCursor
    }
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4])
    const badQuery = await bed.q.app.inject({ method: 'GET', url: '/v1/events?after=abc' })
    expect(badQuery.statusCode).toBe(400)
    expect(badQuery.json().code).toBe('QLK_VALIDATION')
    expect((await bed.q.app.inject({ method: 'GET', url: '/v1/events/nope' })).statusCode).toBe(404)
  })

  it('exposes health, readiness and the write-path metrics', async () => {
    await post(ping())
    expect((await bed.q.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    expect((await bed.q.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({
      status: 'ready',
      dialect,
    })
    const m = (await bed.q.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(m).toMatch(/qualink_ingest_events_total\{outcome="stored"\} 1/)
    expect(m).toMatch(/qualink_group_commit_events_count 1/)
    expect(m).toContain('qualink_commit_duration_seconds_bucket')
  })
})
