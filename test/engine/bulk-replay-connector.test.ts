import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../src/signatures/password.ts'
import type { SignerConfig } from '../../src/signatures/service.ts'
import type { DeadLetter } from '../../src/store/engine-types.ts'
import { qualinkArgs } from '../bundle.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { usageDecisionWorkflow } from '../fixtures/usage-decision-workflow.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'
import { ALL, append, demoEvent, until } from './harness.ts'

const recordDecision = usageDecisionWorkflow('dl-bulk-connector')

const PASSWORDS = { alice: 'correct horse battery staple', bob: 'Tr0ub4dor&3-but-longer' }
let signers: SignerConfig[]
beforeAll(async () => {
  signers = [
    { id: 'alice', name: 'Alice Approver', passwordHash: await hashPassword(PASSWORDS.alice), plants: ['*'] },
    { id: 'bob', name: 'Bob Reviewer', passwordHash: await hashPassword(PASSWORDS.bob), plants: ['*'] },
  ]
})

/**
 * POST /v1/dead-letters/replay (and its dry run, and `qualink dlq replay`) narrowed to a
 * connector, with the dashboard preview's semantics: a connector instance name, or `(none)` for
 * failures no connector caused. The two-person rule binds the connector-filtered request.
 */
describe.each(DIALECTS)('bulk replay filtered by connector on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' } } },
    egress: { timeoutMs: 2000 },
    workflows: [recordDecision],
    signatures: { signers, bulkReplayTwoPersonOver: 1 },
  }))
  const start = (order: string, lot: string) =>
    append(hub.store, demoEvent('order_received', { order, lines: 1, lot }, { plant: 'P100' }))
  const post = async (url: string, payload: object) => {
    const r = await hub.q.app.inject({ method: 'POST', url, payload })
    return { status: r.statusCode, body: r.json() }
  }
  const open = async () =>
    (await hub.store.engine.listDeadLetters(ALL, { status: 'open', limit: 20 })).map((d) => d.key).sort()
  const keys = (list: readonly DeadLetter[]) => list.map((d) => d.key).sort()

  it('replays only the connector’s dead letters, under the two-person rule', async () => {
    hub.erp.faults.set({ errorRate: 1, errorStatus: 503 })
    await start('O-1', '010000000001')
    await start('O-2', '010000000002')
    await start('O-3', 'RULE')
    await until(async () => (await open()).length === 3)

    const dryErp = await post('/v1/dead-letters/replay', { connector: 'erp', dryRun: true })
    expect(dryErp.status).toBe(200)
    expect(keys(dryErp.body.wouldReplay)).toEqual(['O-1', 'O-2'])
    const dryNone = await post('/v1/dead-letters/replay', { connector: '(none)', dryRun: true })
    expect(keys(dryNone.body.wouldReplay)).toEqual(['O-3'])
    const dryOther = await post('/v1/dead-letters/replay', { connector: 'qms', dryRun: true })
    expect(dryOther.body.wouldReplay).toEqual([])
    const listedNone = await hub.q.app.inject({ method: 'GET', url: '/v1/dead-letters?connector=%28none%29' })
    expect(keys(listedNone.json().deadLetters)).toEqual(['O-3'])
    const empty = await post('/v1/dead-letters/replay', { connector: '', dryRun: true })
    expect(empty.status).toBe(400)
    expect(empty.body.detail).toMatch(/connector/)

    if (dialect === 'sqlite') {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        qualinkArgs('dlq', 'replay', '--connector', 'erp', '--dry-run', '--url', hub.q.url),
        { timeout: 60_000 },
      )
      expect(stdout).toContain('would replay 2 dead letter(s)')
      expect(stdout.split('\n').filter((l) => /\bO-[12]\b.*\berp\b/.test(l))).toHaveLength(2)
      expect(stdout).not.toContain('O-3')
    }

    // Two dead letters are more than the threshold of 1: two different approvers must sign the
    // connector-filtered request; until then nothing is replayed.
    const blocked = await post('/v1/dead-letters/replay', { connector: 'erp' })
    expect(blocked.status).toBe(403)
    expect(blocked.body).toMatchObject({ code: 'QLK_SIGNATURES_REQUIRED' })
    expect(await open()).toEqual(['O-1', 'O-2', 'O-3'])
    const record = { kind: 'bulk-replay', filter: { connector: 'erp' } }
    for (const signer of ['alice', 'bob'] as const) {
      const s = await post('/v1/signatures', {
        record,
        meaning: 'approved',
        signer,
        password: PASSWORDS[signer],
      })
      expect(s.status).toBe(201)
      expect(s.body.recordId).toBe('{"connector":"erp","max":1000}')
    }
    // A signature of the unfiltered request does not stand in for the filtered one, nor back.
    const all = await post('/v1/dead-letters/replay', {})
    expect(all.body).toMatchObject({ code: 'QLK_SIGNATURES_REQUIRED' })

    const before = new Map(
      (await hub.store.engine.listDeadLetters(ALL, { limit: 20 })).map((d) => [d.key, d.id]),
    )
    const done = await post('/v1/dead-letters/replay?wait=true', { connector: 'erp' })
    expect(done.status).toBe(202)
    expect(keys(done.body.replayed)).toEqual(['O-1', 'O-2'])
    expect(done.body.refused).toEqual([])
    // The replayed runs may fail again against the still-failing ERP (new dead letters); the
    // original rows say what the bulk replay touched.
    const statusOf = async (key: string) =>
      (await hub.store.engine.listDeadLetters(ALL, { limit: 20 })).find((d) => d.id === before.get(key))
        ?.status
    expect([await statusOf('O-1'), await statusOf('O-2'), await statusOf('O-3')]).toEqual([
      'replayed',
      'replayed',
      'open',
    ])
    const replayedAudit = await hub.store.listAudit(ALL, { action: 'dead_letter.replayed', limit: 10 })
    expect(replayedAudit.map((a) => a.subject).sort()).toEqual(['O-1', 'O-2'])

    // One dead letter left without a connector: within the threshold, replayed without signatures.
    const none = await post('/v1/dead-letters/replay?wait=true', { connector: '(none)' })
    expect(none.status).toBe(202)
    expect(keys(none.body.replayed)).toEqual(['O-3'])
  })
})
