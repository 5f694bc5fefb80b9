/**
 * A workflow test against real `qualink start` processes (test/faults/qualink-process.ts) that a
 * test SIGKILLs and starts again on the same database and port: the per-test database, scratch
 * folder, port and simulators, the processes started, and their teardown. `inspect` opens the
 * store once the last process is gone (SQLite: its lock file names a dead pid and is taken over),
 * for what the HTTP API does not show (audit payloads).
 */
import { afterEach, beforeEach } from 'vitest'
import type { RunRow } from '../../src/store/engine-types.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, type Dialect, type TestDatabase } from '../dialects.ts'
import { until } from '../engine/harness.ts'
import { getJson, type QualinkProcess, Scratch, startQualinkProcess } from '../faults/qualink-process.ts'
import { freePort } from '../services.ts'

/** the lease of the processes: a killed worker's run is taken over once it lapses */
export const LEASE_MS = 3000

export interface ProcessPlant {
  readonly db: TestDatabase
  readonly port: number
  /** starts a simulator closed after the test (after the processes) */
  simulator<S extends { close(): Promise<void> }>(start: Promise<S>): Promise<S>
  /** starts `qualink start` with this qualink.yaml (an object) and environment */
  start(config: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<QualinkProcess>
  /** POSTs one canonical event to the running process and expects it stored (202) */
  post(p: QualinkProcess, type: string, subject: string, data: Record<string, unknown>): Promise<void>
  /** the runs the process lists for a query string (`key=…`, `workflow=…`) */
  runs(p: QualinkProcess, query: string): Promise<RunRow[]>
  /** waits until `n` runs of the query exist and all completed; returns them */
  completed(p: QualinkProcess, query: string, n: number): Promise<RunRow[]>
  /** kills every process, then reads the store directly */
  inspect<T>(read: (store: Store) => Promise<T>): Promise<T>
}

export function useProcessPlant(dialect: Dialect, plant: string): ProcessPlant {
  let db: TestDatabase
  let scratch: Scratch
  let port: number
  const procs: QualinkProcess[] = []
  const sims: Array<{ close(): Promise<void> }> = []
  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    scratch = new Scratch()
    port = await freePort()
  })
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill()
    for (const s of sims.splice(0).reverse()) await s.close()
    await db?.cleanup()
    scratch?.remove()
  })
  const runs = async (p: QualinkProcess, query: string) =>
    (await getJson<{ runs: RunRow[] }>(`${p.url}/v1/runs?${query}&limit=20`)).runs
  return {
    get db() {
      return db
    },
    get port() {
      return port
    },
    async simulator(start) {
      const s = await start
      sims.push(s)
      return s
    },
    async start(config, env) {
      const p = await startQualinkProcess(scratch, { db, port, config, env })
      procs.push(p)
      return p
    },
    async post(p, type, subject, data) {
      const r = await fetch(`${p.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({
          specversion: '1.0',
          id: crypto.randomUUID(),
          source: 'urn:test',
          type,
          subject,
          plant,
          data,
        }),
      })
      if (r.status !== 202) throw new Error(`POST /v1/events ${type}: ${r.status} ${await r.text()}`)
    },
    runs,
    async completed(p, query, n) {
      await until(async () => {
        const all = await runs(p, query)
        return all.length === n && all.every((r) => r.status === 'completed')
      }, 60_000)
      return runs(p, query)
    },
    async inspect(read) {
      for (const p of procs.splice(0)) await p.kill()
      const store = await db.open()
      try {
        return await read(store)
      } finally {
        await store.close()
      }
    },
  }
}
