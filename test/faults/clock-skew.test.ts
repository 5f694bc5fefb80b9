import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { ErpS4Sim, QmsSim } from '../../simulators/index.ts'
import { signPayload } from '../../simulators/shared/signing.ts'
import type { RunRow } from '../../src/store/engine-types.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'
import { freePort } from '../services.ts'
import { receiveGoods } from '../workflows/helpers.ts'
import { sharedPostgresMissing } from './prerequisites.ts'
import {
  auditVerifyProcess,
  getJson,
  PLANT_SECRETS_ENV,
  plantConfig,
  type QualinkProcess,
  Scratch,
  startPlantSimulators,
  startQualinkProcess,
} from './qualink-process.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F11 (reference/perf-reliability.md §6): clock skew of ±5 min on the middleware. Two real
 * `qualink start` processes on one PostgreSQL database run under libfaketime (Debian's
 * `faketime`), one 5 minutes ahead, one 5 minutes behind; the database, the simulators and the
 * test keep the true time. Invariants:
 * - webhook signatures: the simulators sign with the true time; with a tolerance of 600 s both
 *   skewed processes accept a fresh signature and refuse one 20 minutes old or ahead (401);
 * - retries: a run whose QMS call fails is due again after its backoff on the database clock
 *   (due − last update is the backoff, not the backoff ± 5 minutes), so skewed workers neither
 *   fire retries early en masse nor delay them by the skew;
 * - audit: events ingested alternately through both processes are audited in the database's
 *   sequence with non-decreasing database times, and `qualink audit verify` passes.
 * SQLite has no separate database clock (one process owns the file and its clock), so this runs
 * on PostgreSQL only.
 */
const FAKETIME = '/usr/bin/faketime'
const TOLERANCE_S = 600

function faketimeMissing(): string | undefined {
  if (!existsSync(FAKETIME)) return `no ${FAKETIME} (apt-get install faketime)`
  // libfaketime must take effect on node itself (it intercepts clock_gettime).
  const skewed = Number(
    execFileSync(FAKETIME, ['-f', '+5m', process.execPath, '-e', 'console.log(Date.now())']).toString(),
  )
  return Math.abs(skewed - Date.now() - 300_000) < 60_000 ? undefined : 'faketime does not shift node’s clock'
}

faultDescribe(
  'F11: clock skew ±5 min on two Qualink processes (postgres)',
  faketimeMissing() ?? (await sharedPostgresMissing()),
  () => {
    let db: TestDatabase
    let store: Store
    let erp: ErpS4Sim
    let qms: QmsSim
    let scratch: Scratch
    const procs: QualinkProcess[] = []

    beforeEach(async () => {
      db = await createTestDatabase('postgres', { migrated: true })
      store = await db.open()
      scratch = new Scratch() // one configuration and data folder (anchor file) for both processes
    })
    afterEach(async () => {
      for (const p of procs.splice(0)) await p.kill()
      await erp?.close()
      await qms?.close()
      await store?.close()
      await db?.cleanup()
      scratch?.remove()
    })

    const skewed = async (offset: string, port: number) => {
      const p = await startQualinkProcess(scratch, {
        db,
        port,
        config: plantConfig(erp.url, qms.url, {}, { toleranceSeconds: TOLERANCE_S }),
        env: { ...PLANT_SECRETS_ENV, FAKETIME_DONT_FAKE_MONOTONIC: '1' },
        prefix: [FAKETIME, '-f', offset],
      })
      procs.push(p)
      return p
    }
    /** Posts an ERP webhook signed at `t` (unix seconds), as the S/4 simulator would. */
    const signedPost = async (p: QualinkProcess, body: string, t: number, deliveryId: string) =>
      (
        await fetch(`${p.url}/v1/ingress/erp-s4`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-erp-signature': signPayload(PLANT_SECRETS_ENV.FAULT_ERP_SECRET, t, body),
            'x-erp-delivery-id': deliveryId,
          },
          body,
        })
      ).status

    it('accepts fresh signatures, refuses stale ones, keeps retries and audit on the database clock', async () => {
      const portAhead = await freePort()
      ;({ erp, qms } = await startPlantSimulators(portAhead)) // the simulators' webhooks go to the +5 min one
      const ahead = await skewed('+5m', portAhead)
      const behind = await skewed('-5m', await freePort())

      // Every inspection-lot creation fails: the receipt's run retries with backoff.
      qms.faults.set({
        errorRate: 1,
        errorStatus: 503,
        match: { method: 'POST', path: '/inspection-lots' },
        seed: 1,
      })
      await receiveGoods(erp, 'B1', '100')
      await until(() => typeof erp.webhooks.deliveries[0]?.status === 'number')
      const delivered = erp.webhooks.deliveries[0]!
      expect(delivered.status, 'a fresh simulator signature at +5 min').toBe(202)

      const now = Math.floor(Date.now() / 1000)
      const statuses = {
        freshBehind: await signedPost(behind, delivered.body, now, 'fresh-behind'),
        staleAhead: await signedPost(ahead, delivered.body, now - 1200, 'stale-ahead'),
        staleBehind: await signedPost(behind, delivered.body, now - 1200, 'stale-behind'),
        futureAhead: await signedPost(ahead, delivered.body, now + 1200, 'future-ahead'),
      }
      expect(statuses).toEqual({ freshBehind: 202, staleAhead: 401, staleBehind: 401, futureAhead: 401 })

      // Retries: each due time is its backoff after the failure, both read on the database clock.
      const runs = async () => (await getJson<{ runs: RunRow[] }>(`${ahead.url}/v1/runs?key=B1&limit=5`)).runs
      const gaps: number[] = []
      await until(async () => {
        const r = (await runs())[0]
        if (r?.status === 'pending' && r.attempts > 0 && r.dueAtMs !== null && r.leaseOwner === null) {
          const gap = r.dueAtMs - r.updatedAtMs
          if (gaps.at(-1) !== gap) gaps.push(gap)
        }
        return (r?.attempts ?? 0) >= 3
      }, 60_000)
      qms.faults.reset()
      const healedAt = Date.now()
      await until(async () => qms.state.inspectionLots.some((l) => l.batch === 'B1'), 60_000)
      const recoveredAt = Date.now()
      for (const g of gaps) expect(g, `retry due ${g} ms after the failure`).toBeGreaterThanOrEqual(0)
      for (const g of gaps) expect(g).toBeLessThan(60_000) // a skew would show as ±300,000 ms

      // Audit: alternate ingest through both processes.
      const ids: string[] = []
      for (let i = 0; i < 10; i++) {
        const e = ping()
        const r = await fetch(`${(i % 2 === 0 ? ahead : behind).url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify(e),
        })
        expect(r.status).toBe(202)
        ids.push(e.id as string)
      }
      const rows = await store.sql.all('SELECT seq, at_ms FROM audit_log ORDER BY seq')
      const at = rows.map((r) => Number(r.at_ms))
      // Database time, not either process's (±5 min): every stamp lies within the database's
      // clock up to now, and the sequence never steps back by more than concurrent transactions
      // can (a stamp is the database time at its transaction's start, the seq is taken at insert:
      // a CI run saw a run's audit row 2 ms "older" than the ingest row inserted before it).
      const dbNow = await store.now()
      expect(Math.max(...at)).toBeLessThanOrEqual(dbNow)
      const stepsBack = at.slice(1).map((t, i) => at[i]! - t)
      expect(Math.max(0, ...stepsBack)).toBeLessThan(1_000)
      const events = await store.listEvents(ALL, { limit: 1000 })
      const order = events.filter((e) => ids.includes(e.id)).map((e) => e.id)
      await until(async () => (await store.countUnsealedAudit()) === 0, 30_000)
      for (const p of procs.splice(0)) await p.kill()
      const verify = await auditVerifyProcess({ ...db, dir: path.join(scratch.dir, 'data') })
      report('F11 clock skew ±5 min (postgres)', {
        acked: ids,
        stored: events.map((e) => e.id),
        applied: { ingest: order.map((id) => ids.indexOf(id)) },
        faultEndedAt: healedAt,
        recoveredAt,
        detail:
          `webhooks ${JSON.stringify(statuses)} + simulator's own at +5 min ${delivered.status}; ` +
          `retry due − failure ${gaps.join(', ')} ms (DB clock); audit rows ${rows.length}, verify ${verify.report.ok ? 'ok' : 'BROKEN'}; ` +
          `recover = QMS healed to inspection lot created`,
      })
      expect(verify.code).toBe(0)
    })
  },
)
