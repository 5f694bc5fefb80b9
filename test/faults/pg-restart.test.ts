import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Qualink } from '../../src/server/qualink.ts'
import { ping } from '../event-fixtures.ts'
import { privatePostgresMissing } from './prerequisites.ts'
import { PrivatePostgres, startQualinkOnPostgres } from './private-postgres.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F3 (reference/perf-reliability.md §6): PostgreSQL restarted with `-m immediate` under load.
 * Invariants: every event acknowledged with 202 is stored; Qualink reconnects by itself (no
 * process restart); time to recover is reported.
 */
faultDescribe('F3: immediate PostgreSQL restart under ingest load', privatePostgresMissing(), () => {
  let pg: PrivatePostgres
  let q: Qualink

  beforeAll(async () => {
    pg = await PrivatePostgres.create()
    q = await startQualinkOnPostgres(pg.url, 'f3', { runEngine: false })
  }, 60_000)
  afterAll(async () => {
    await q?.close().catch(() => {})
    pg?.destroy()
  })

  it('loses no acknowledged event and recovers without a restart', async () => {
    const acked: string[] = []
    let failed = 0
    const post = async () => {
      const e = ping()
      try {
        const r = await fetch(`${q.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify(e),
          signal: AbortSignal.timeout(5000),
        })
        if (r.status === 202) acked.push(e.id as string)
        else failed++
      } catch {
        failed++
      }
    }
    const load = async (n: number) => {
      for (let i = 0; i < n; i += 8) await Promise.all(Array.from({ length: 8 }, post))
    }
    await load(200)
    const before = acked.length
    pg.crash()
    const crashedAt = Date.now()
    await load(40) // answered 503 (nothing stored), never 202
    pg.start()
    const restartedAt = Date.now()
    // Recovery: the first 202 after the restart, without restarting Qualink.
    let recoveredAt = 0
    for (let i = 0; i < 200 && !recoveredAt; i++) {
      const n = acked.length
      await post()
      if (acked.length > n) recoveredAt = Date.now()
      else await new Promise((r) => setTimeout(r, 50))
    }
    expect(recoveredAt).toBeGreaterThan(0)
    await load(200)
    const all = await q.store.listEvents({ allPlants: true, reason: 'test' }, { limit: 100_000 })
    report('F3 PostgreSQL immediate restart', {
      acked,
      stored: all.map((e) => e.id),
      faultEndedAt: restartedAt,
      recoveredAt,
      detail:
        `${before} acked before the crash, ${failed} refused or failed while down; ` +
        `${recoveredAt - crashedAt} ms from the crash to the first 202 (restart included)`,
    })
    expect(failed).toBeGreaterThan(0) // the outage was real
  })
})
