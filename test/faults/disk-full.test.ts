import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileAnchorSink } from '../../src/audit/anchors.ts'
import { verifyAudit } from '../../src/audit/verify.ts'
import type { Qualink } from '../../src/server/qualink.ts'
import { until } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'
import { privatePostgresMissing } from './prerequisites.ts'
import { PrivatePostgres, startQualinkOnPostgres } from './private-postgres.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F12 (reference/perf-reliability.md §6): the PostgreSQL volume fills up. A private cluster
 * lives on its own small tmpfs; once it runs, a filler file takes all but a little of the space
 * and ingest continues until the database cannot write. Invariants: every answer while the
 * disk is full is 503 with a QLK_ code, never a 2xx for an event that is not stored; after
 * the filler is deleted (and the cluster started again if PostgreSQL shut itself down, as it
 * does when it cannot write WAL) ingest recovers without restarting Qualink; nothing acked is
 * lost; sealing goes on and the whole audit chain verifies.
 *
 * Needs root to mount; where mounting is not permitted the scenario is skipped with a notice
 * (failing under CI=true only when this machine can mount but something else is missing).
 */
const FS_SIZE = '160m'

function mountMissing(): string | undefined {
  const probe = mkdtempSync(path.join(os.tmpdir(), 'qlk-mount-probe-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' })
    execFileSync('umount', [probe], { stdio: 'pipe' })
    return undefined
  } catch (e) {
    return `mounting a small filesystem is not permitted here (${(e as Error).message.split('\n')[0]})`
  } finally {
    rmdirSync(probe)
  }
}

const cannotMount = mountMissing()
const body = () => {
  let pg: PrivatePostgres
  let q: Qualink
  let mounted = ''
  let anchorFile = ''

  beforeAll(async () => {
    anchorFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'qlk-f12-anchors-')), 'anchors.jsonl')
    pg = await PrivatePostgres.create({
      beforeInit: (dir) => {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_SIZE}`, 'tmpfs', dir])
        mounted = dir
      },
    })
    q = await startQualinkOnPostgres(pg.url, 'f12', { runEngine: false, anchorFile })
  }, 120_000)
  afterAll(async () => {
    await q?.close().catch(() => {})
    try {
      pg?.crash()
    } catch {
      // already stopped
    }
    if (mounted) execFileSync('umount', ['-l', mounted])
    pg?.destroy()
    if (anchorFile) rmSync(path.dirname(anchorFile), { recursive: true, force: true })
  })

  it('answers 503 while the disk is full, never 2xx unstored, and recovers when space is freed', async () => {
    const acked: string[] = []
    const refused: Record<string, number> = {}
    const post = async () => {
      const e = ping()
      const r = await fetch(`${q.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(e),
        signal: AbortSignal.timeout(20_000),
      }).catch(() => undefined)
      if (r?.status === 202) acked.push(e.id as string)
      else {
        const code = r
          ? `${r.status} ${((await r.json().catch(() => ({}))) as { code?: string }).code}`
          : 'no answer'
        refused[code] = (refused[code] ?? 0) + 1
      }
      return r?.status
    }
    for (let i = 0; i < 50; i++) await post()
    const filler = path.join(mounted, 'filler')
    const { bavail, bsize } = statfsSync(mounted)
    writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 2 * 1024 * 1024)))
    let fullAt = 0
    for (let i = 0; i < 5000 && !fullAt; i++) if ((await post()) !== 202) fullAt = Date.now()
    expect(fullAt, 'the database ran out of space').toBeGreaterThan(0)
    for (let i = 0; i < 20; i++) await post() // still full
    const refusedWhileFull = { ...refused }

    rmSync(filler)
    const freedAt = Date.now()
    const restarted = !pg.running()
    if (restarted) pg.start() // PostgreSQL shuts down when it cannot write WAL
    let recoveredAt = 0
    await until(async () => {
      if ((await post()) === 202) recoveredAt = Date.now()
      return recoveredAt > 0
    }, 60_000)
    for (let i = 0; i < 20; i++) expect(await post()).toBe(202)

    const stored = (await q.store.listEvents({ allPlants: true, reason: 'test' }, { limit: 100_000 })).map(
      (e) => e.id,
    )
    const audit = await verifyAudit(q.store, new FileAnchorSink(anchorFile))
    report('F12 disk full on the PostgreSQL volume', {
      acked,
      stored,
      faultEndedAt: freedAt,
      recoveredAt,
      detail:
        `refused while full ${JSON.stringify(refusedWhileFull)}; PostgreSQL ${restarted ? 'had shut down and was started again' : 'kept running'}; ` +
        `audit verify of the sealed part ${audit.ok ? 'ok' : `BROKEN at ${audit.firstBroken?.pos}`} (${audit.checked} links, ${audit.unsealed} unsealed); recover = space freed to first 202`,
    })
    for (const k of Object.keys(refusedWhileFull)) expect(k).toMatch(/^503 QLK_[A-Z_]+$/)
    expect(audit.ok).toBe(true) // what is sealed verifies
  })

  // This found a sealer bug that stopped sealing for good on PostgreSQL (4 of 5 runs before the
  // fix): readUnsealedAudit ordered by the text alias of txid, so '1001' sorted before '999' and
  // the chain took a lower txid after a higher one; a fresh private cluster crosses txid 1000
  // within seconds. Not caused by the full disk (the cluster log showed it before ENOSPC).
  it('keeps sealing after the disk was full; the whole chain verifies', async () => {
    await until(async () => (await q.store.countUnsealedAudit()) === 0, 15_000)
    const audit = await verifyAudit(q.store, new FileAnchorSink(anchorFile))
    expect(audit).toMatchObject({ ok: true, unsealed: 0 })
  })
}

if (cannotMount) {
  // Skipped even under CI=true: the machine itself cannot do this scenario.
  console.warn(`[fault-report] SKIPPED F12 disk full on the PostgreSQL volume: ${cannotMount}`)
  describe.skip('F12: disk full on the PostgreSQL volume', body)
} else faultDescribe('F12: disk full on the PostgreSQL volume', privatePostgresMissing(), body)
