import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { httpLedger, type LedgerServer, startLedgerServer } from '../../simulators/ledger/server.ts'
import type { Qualink } from '../../src/server/qualink.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { ALL, demoEvent, until } from '../engine/harness.ts'
import { privatePostgresMissing } from './prerequisites.ts'
import { PrivatePostgres, startQualinkOnPostgres } from './private-postgres.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F4 (reference/perf-reliability.md §6): Qualink's database sessions are killed again and again
 * (`pg_terminate_backend`) while events are ingested and runs execute. Invariants: every acked
 * event stored, every run finishes its effects once per business key, nothing stuck.
 */
faultDescribe(
  'F4: repeated pg_terminate_backend during ingest and execution',
  privatePostgresMissing(),
  () => {
    let db: PrivatePostgres
    let q: Qualink
    let ledger: LedgerServer

    beforeAll(async () => {
      db = await PrivatePostgres.create()
      ledger = await startLedgerServer()
      q = await startQualinkOnPostgres(db.url, 'f4', {
        workflows: [kernelDemo],
        ports: { ledger: httpLedger(ledger.url) },
        leaseTtlMs: 2000,
      })
    }, 60_000)
    afterAll(async () => {
      await q?.close().catch(() => {})
      await ledger?.close()
      db?.destroy()
    })

    it('loses nothing, doubles nothing, and leaves no run stuck', async () => {
      const killer = new pg.Client({ connectionString: db.url, application_name: 'qualink-f4-killer' })
      await killer.connect()
      let kills = 0
      let stop = false
      const killing = (async () => {
        while (!stop) {
          const r = await killer.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE pid <> pg_backend_pid() AND datname = 'postgres' AND application_name <> 'qualink-f4-killer'`,
          )
          kills += r.rowCount ?? 0
          await new Promise((res) => setTimeout(res, 150))
        }
      })()
      const acked: string[] = []
      for (let i = 0; i < 40; i++) {
        const e = demoEvent('order_received', { order: `F4-${i}`, lines: 2 })
        for (let attempt = 0; attempt < 20; attempt++) {
          const r = await fetch(`${q.url}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/cloudevents+json' },
            body: JSON.stringify(e),
          }).catch(() => undefined)
          if (r?.status === 202) {
            acked.push(e.id)
            break
          }
          await new Promise((res) => setTimeout(res, 50)) // a client retry with the same event id
        }
      }
      await new Promise((res) => setTimeout(res, 1500))
      stop = true
      await killing
      const killsEndedAt = Date.now()
      await killer.end()
      expect(kills).toBeGreaterThan(0)
      expect(acked).toHaveLength(40)
      await until(async () => {
        const runs = await q.store.engine.listRuns(ALL, { workflow: 'kernel-demo', limit: 100 })
        return runs.length === 40 && runs.every((r) => r.status === 'waiting')
      }, 60_000)
      const recoveredAt = Date.now()
      const applied: Record<string, number[]> = {}
      for (const d of ledger.docs) applied[d.key] = [...(applied[d.key] ?? []), d.line]
      report('F4 repeated pg_terminate_backend', {
        acked,
        stored: (await q.store.listEvents(ALL, { limit: 1000 })).map((e) => e.id),
        effects: ledger.docs.map((d) => `${d.key}/${d.line}`),
        applied,
        faultEndedAt: killsEndedAt,
        recoveredAt,
        detail: `${kills} backends terminated; recover = last kill to every run at its wait`,
      })
      for (let i = 0; i < 40; i++) expect(applied[`F4-${i}`]).toEqual([1, 2])
    })
  },
)
