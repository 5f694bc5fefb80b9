/**
 * Issue 3's dead-letter and run operations end to end: a bug dead-letters runs mid-way, the fix is
 * deployed (a new workflow version declared compatible with the old one, a restart on the same
 * database), and the operator lists, discards, replays one and bulk-replays the rest (dry run
 * first), then shows and cancels runs. The replays run the fixed code and repeat no completed
 * effect on the ledger simulator, which does not deduplicate. On SQLite every action goes through
 * the `qualink dlq …` / `qualink runs …` CLI against the running server; on PostgreSQL through
 * the API routes the CLI calls.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { httpLedger, type LedgerServer, startLedgerServer } from '../../simulators/ledger/server.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { DeadLetter, JournalEntry, RunRow } from '../../src/store/engine-types.ts'
import type { Store } from '../../src/store/types.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { qualinkArgs } from '../bundle.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { demoEvent, injectEvent, until } from './harness.ts'

const exec = promisify(execFile)

/** v2 fixes v1's bug (a line the ledger "rejects") and declares itself compatible with v1. */
const fixed = defineWorkflow({
  ...kernelDemo,
  version: 2,
  compatibleWith: [1],
  run: (ctx, trigger) =>
    kernelDemo.run(ctx, {
      ...trigger,
      envelope: {
        ...trigger.envelope,
        data: { ...(trigger.envelope.data as object), failOnLine: undefined },
      },
    }),
})

describe.each(DIALECTS)('dead letters and runs operated after a fix on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  let ledger: LedgerServer
  let q: Qualink | undefined

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    ledger = await startLedgerServer()
  })
  afterEach(async () => {
    await q?.close()
    q = undefined
    await ledger?.close()
    await store?.close()
    await db?.cleanup()
  })

  const start = async (workflows: (typeof kernelDemo)[]) => {
    q = await startQualink({
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(db.dir, 'anchors.jsonl'),
      workflows,
      ports: { ledger: httpLedger(ledger.url) },
    })
    return q
  }
  const call = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    const r = await q!.app.inject({ method, url, payload, headers: { 'x-qualink-actor': 'alice' } })
    return { status: r.statusCode, body: r.json() }
  }
  /** the CLI as an operator runs it, against the live server */
  const cli = async (...args: string[]) =>
    (
      await exec(process.execPath, qualinkArgs(...args, '--url', q!.url), {
        timeout: 60_000,
      })
    ).stdout
  const viaCli = dialect === 'sqlite'
  const docs = (key: string) => ledger.docs.filter((d) => d.key === key)
  const openDls = async () =>
    ((await call('GET', '/v1/dead-letters?status=open')).body.deadLetters as DeadLetter[]).sort((a, b) =>
      a.key.localeCompare(b.key),
    )
  const runOf = async (key: string) => (await call('GET', `/v1/runs?key=${key}`)).body.runs[0] as RunRow

  it('discards, replays one and bulk-replays the rest with the fixed code; shows and cancels runs', async () => {
    await start([kernelDemo])
    for (const order of ['A', 'B', 'C'])
      await injectEvent(q!, demoEvent('order_received', { order, lines: 3, failOnLine: 3 }))
    await until(async () => (await openDls()).length === 3)
    for (const k of ['A', 'B', 'C']) expect(docs(k)).toHaveLength(2)
    const [dlA, , dlC] = await openDls()

    if (viaCli) {
      // each CLI call is a process start: independent ones run side by side
      const [listed, runs, show] = await Promise.all([
        cli('dlq', 'list'),
        cli('runs', 'list', '--key', 'A'),
        cli('runs', 'show', dlA!.runId),
      ])
      for (const k of ['A', 'B', 'C']) expect(listed).toMatch(new RegExp(`\\b${k}\\b.*QLK_DEMO_REJECTED`))
      expect(runs).toMatch(new RegExp(`${dlA!.runId}.*kernel-demo.*\\bA\\b.*failed.*QLK_DEMO_REJECTED`))
      const shown = JSON.parse(show)
      expect(shown).toMatchObject({ id: dlA!.runId, status: 'failed', version: 1 })
      expect(shown.journal.map((j: JournalEntry) => j.name)).toEqual(['post-line', 'post-line'])
    }

    // The fix is deployed: a restart on the same database with v2 registered beside v1.
    await q!.close()
    await start([kernelDemo, fixed])

    if (viaCli) {
      const [discarded, replayed] = await Promise.all([
        cli('dlq', 'discard', String(dlC!.id), '--reason', 'duplicate order'),
        cli('dlq', 'replay', String(dlA!.id)),
      ])
      expect(discarded).toContain(`discarded dead letter ${dlC!.id}: duplicate order`)
      expect(replayed).toContain(`replayed dead letter ${dlA!.id}`)
      const dry = await cli('dlq', 'replay', '--code', 'QLK_DEMO_REJECTED', '--dry-run')
      expect(dry).toContain('would replay 1 dead letter(s)')
      expect(dry).toMatch(/\bB\b/)
      expect(await cli('dlq', 'replay', '--code', 'QLK_DEMO_REJECTED')).toContain('replayed 1, refused 0')
    } else {
      const discard = `/v1/dead-letters/${dlC!.id}/discard`
      expect((await call('POST', discard, { reason: 'duplicate order' })).status).toBe(200)
      expect((await call('POST', `/v1/dead-letters/${dlA!.id}/replay`)).status).toBe(202)
      const dry = await call('POST', '/v1/dead-letters/replay', {
        errorCode: 'QLK_DEMO_REJECTED',
        dryRun: true,
      })
      expect(dry.body.wouldReplay.map((d: DeadLetter) => d.key)).toEqual(['B'])
      // ?wait=true: the answer once replayed (without it, 202 with the operation to poll)
      const bulk = await call('POST', '/v1/dead-letters/replay?wait=true', { errorCode: 'QLK_DEMO_REJECTED' })
      expect(bulk).toMatchObject({ status: 202, body: { replayed: [{ key: 'B' }], refused: [] } })
    }

    // Both replays ran the fixed code: line 3 posted once, lines 1–2 not repeated (their journal
    // entries are v1's); both runs now wait for their approval.
    await until(
      async () => (await runOf('A')).status === 'waiting' && (await runOf('B')).status === 'waiting',
    )
    for (const k of ['A', 'B']) {
      expect(docs(k).map((d) => d.line)).toEqual([1, 2, 3])
      const run = (await call('GET', `/v1/runs/${(await runOf(k)).id}`)).body
      const lines = run.journal.filter((j: JournalEntry) => j.name === 'post-line')
      expect(lines.map((j: JournalEntry) => j.codeVersion)).toEqual([1, 1, 2])
      expect(run.waits.map((w: { kind: string; status: string }) => [w.kind, w.status])).toEqual([
        ['event', 'waiting'],
      ])
    }
    expect(docs('C')).toHaveLength(2)
    const statuses = (
      (await call('GET', '/v1/dead-letters?status=discarded')).body.deadLetters as DeadLetter[]
    )
      .map((d) => d.key)
      .concat(
        ((await call('GET', '/v1/dead-letters?status=replayed')).body.deadLetters as DeadLetter[]).map(
          (d) => d.key,
        ),
      )
    expect(statuses.sort()).toEqual(['A', 'B', 'C'])
    expect(await openDls()).toEqual([])

    // B is withdrawn (cancel with compensation); A is approved and completes.
    const runB = await runOf('B')
    if (viaCli)
      expect(await cli('runs', 'cancel', runB.id, '--reason', 'order withdrawn')).toContain(
        `cancel requested for run ${runB.id}`,
      )
    else
      expect((await call('POST', `/v1/runs/${runB.id}/cancel`, { reason: 'order withdrawn' })).status).toBe(
        202,
      )
    await injectEvent(q!, demoEvent('approval_given', { order: 'A', approver: 'qa' }))
    await until(
      async () => (await runOf('A')).status === 'completed' && (await runOf('B')).status === 'cancelled',
    )
    const cancelled = (await call('GET', `/v1/runs/${runB.id}`)).body
    expect(cancelled.journal.find((j: JournalEntry) => j.name === 'reverse-lines')?.result).toEqual({
      reversed: 3,
    })
    expect((await runOf('A')).result).toMatchObject({
      approved: true,
      posted: docs('A')
        .slice(0, 3)
        .map((d) => d.id),
    })
    expect(docs('A').map((d) => d.line)).toEqual([1, 2, 3, 0])
  }, 240_000) // eight CLI process starts on a loaded 2-core machine
})
