import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Qualink } from '../../src/server/qualink.ts'
import { ping } from '../event-fixtures.ts'
import { FaultProxy } from './fault-proxy.ts'
import { privatePostgresMissing } from './prerequisites.ts'
import { PrivatePostgres, startQualinkOnPostgres } from './private-postgres.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F13 (reference/perf-reliability.md §6): a network partition between Qualink and PostgreSQL
 * during ingest — a private cluster behind the TCP fault proxy, so only Qualink's links are cut.
 * Two kinds: a REJECT-style partition (connections reset and refused: Qualink must answer 503,
 * never 202) and a DROP-style one (nothing answers; TCP holds the bytes and delivers them when it
 * heals). Invariants: no acknowledged event lost or stored twice, recovery without restarting
 * Qualink, time to recover reported.
 */
faultDescribe('F13: partition between Qualink and PostgreSQL during ingest', privatePostgresMissing(), () => {
  let db: PrivatePostgres
  let proxy: FaultProxy
  let q: Qualink

  beforeAll(async () => {
    db = await PrivatePostgres.create()
    proxy = await FaultProxy.start({ port: db.port })
    q = await startQualinkOnPostgres(`postgres://postgres@${proxy.host}/postgres`, 'f13', {
      runEngine: false,
    })
  }, 60_000)
  afterAll(async () => {
    await q?.close().catch(() => {})
    await proxy?.close()
    db?.destroy()
  })

  const acked: string[] = []
  const statuses = new Map<string, number>()
  const tally = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1)
  /** One client post; a fetch that times out is the client giving up (no answer at all). */
  const post = async (timeoutMs = 5000): Promise<boolean> => {
    const e = ping()
    try {
      const r = await fetch(`${q.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(e),
        signal: AbortSignal.timeout(timeoutMs),
      })
      await r.arrayBuffer()
      tally(String(r.status))
      if (r.status === 202) acked.push(e.id as string)
      return r.status === 202
    } catch {
      tally('no answer')
      return false
    }
  }
  const load = async (n: number, timeoutMs?: number) => {
    for (let i = 0; i < n; i += 8)
      await Promise.all(Array.from({ length: Math.min(8, n - i) }, () => post(timeoutMs)))
  }
  /** Posts until the first 202; returns when it came. */
  const firstAck = async (): Promise<number> => {
    for (let i = 0; i < 400; i++) {
      if (await post()) return Date.now()
      await new Promise((r) => setTimeout(r, 25))
    }
    return Number.NaN
  }

  it('REJECT-style: 503 while cut off, recovery after the heal without a restart', async () => {
    await load(100)
    statuses.clear()
    proxy.partition('refuse')
    await load(40)
    const during = Object.fromEntries(statuses)
    expect(during['202']).toBeUndefined() // nothing acknowledged that could not be stored
    expect(during['503']).toBeGreaterThan(0)
    proxy.heal()
    const healedAt = Date.now()
    const recoveredAt = await firstAck()
    await load(100)
    const stored = (await q.store.listEvents({ allPlants: true, reason: 'test' }, { limit: 100_000 })).map(
      (e) => e.id,
    )
    report('F13 pg partition (refuse)', {
      acked,
      stored,
      faultEndedAt: healedAt,
      recoveredAt,
      detail: `answers while partitioned ${JSON.stringify(during)}; proxy ${JSON.stringify(proxy.counts)}`,
    })
  })

  it('DROP-style: nothing is lost while the link is silent, and ingest resumes after the heal', async () => {
    statuses.clear()
    proxy.partition('blackhole')
    const startedAt = Date.now()
    // Clients give up after 1.5 s; their events may still be committed after the heal (stored,
    // never acknowledged: allowed), but none may be acknowledged and lost.
    await load(16, 1500)
    const during = Object.fromEntries(statuses)
    expect(during['202']).toBeUndefined()
    proxy.heal()
    const healedAt = Date.now()
    const recoveredAt = await firstAck()
    await load(100)
    const stored = (await q.store.listEvents({ allPlants: true, reason: 'test' }, { limit: 100_000 })).map(
      (e) => e.id,
    )
    report('F13 pg partition (blackhole)', {
      acked,
      stored,
      faultEndedAt: healedAt,
      recoveredAt,
      detail: `partition lasted ${healedAt - startedAt} ms; answers while partitioned ${JSON.stringify(during)}`,
    })
  })
})
