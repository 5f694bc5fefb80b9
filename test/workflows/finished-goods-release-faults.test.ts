/**
 * Finished goods release through faults (issue 8, Tests), over the S/4 simulator on each dialect:
 * ERP 5xx, 429 and a dropped answer on the delivery block removal; LIMS, MES and QMS checkpoints
 * twice and in any order; a checkpoint after its deadline; a dead-lettered run replayed after the
 * ERP came back, and a finished run's trigger sent again. Each time the ERP's final state is
 * right, the block was removed by exactly one change (the simulator counts every change of
 * DeliveryBlockReason: the seeded block is 1, its removal 2), and the lot's audit trail tells it.
 * The process killed mid-run is in test/faults/kill-hold-and-release.test.ts.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  DEFAULT_RELEASE_SETTINGS,
  finishedGoodsRelease,
  type ReleaseSettings,
} from '../../src/workflows/finished-goods-release.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import {
  auditStory,
  ERP_FAULTS,
  replayDeadLetter,
  resend,
  startChat,
  times,
  withRetryBudget,
} from './fault-matrix.ts'
import { postEvent } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }
const LOTS = ['F1', 'F2', 'F3']
const deliveryOf = (lot: string) => `8000000${LOTS.indexOf(lot) + 1}`
const DELIVERY_PATCH = 'A_OutbDeliveryHeader'
type Checkpoint = 'lab' | 'packaging' | 'approval'

describe.each(DIALECTS)('finished goods release through faults on %s', (dialect: Dialect) => {
  let chat: Awaited<ReturnType<typeof startChat>> | undefined
  const hub = usePlantHub(dialect, () => ({
    erp: {
      deliveries: LOTS.map((lot) => ({
        DeliveryDocument: deliveryOf(lot),
        ShipToParty: 'CUST-1',
        items: [{ Material: 'FG-1', Plant: '1000', Batch: lot, quantity: '10' }],
      })),
    },
    egress: { timeoutMs: 2000 },
    deferStart: true,
  }))
  afterEach(async () => {
    await chat?.close()
    chat = undefined
  })

  /** Blocks every delivery (as shipping does for finished lots) and starts Qualink with the workflow. */
  const boot = async (settings: Partial<ReleaseSettings> = {}, maxAttempts?: number) => {
    for (const lot of LOTS)
      await hub.ports.erp!.setDeliveryBlock({
        idempotencyKey: `init-${lot}`,
        delivery: deliveryOf(lot),
        blocked: true,
        reason: 'QA',
      })
    chat = await startChat(`QLK_FGR_CHAT_${dialect.toUpperCase()}`)
    const workflow = finishedGoodsRelease(() => ({ ...DEFAULT_RELEASE_SETTINGS, ...settings }))
    await hub.start({
      workflows: [withRetryBudget(workflow, maxAttempts)],
      ports: { notify: chat.notify },
    })
  }
  const send: Record<Checkpoint, (lot: string) => Promise<void>> = {
    lab: (lot) =>
      postEvent(hub.q, 'lims.result.reported.v1', lot, {
        sample: `S-${lot}-${randomUUID().slice(0, 4)}`, // each export its own sample: a new event
        lot,
        plant: 'P100',
        tests: [{ characteristic: 'HARDNESS', value: '58', unit: 'HRC', result: 'pass' }],
        audit,
      }),
    packaging: (lot) =>
      postEvent(hub.q, 'mes.packaging.verified.v1', lot, {
        lot,
        plant: 'P100',
        delivery: deliveryOf(lot),
        checks: [{ name: 'label', passed: true }],
        verified: true,
        audit,
      }),
    approval: (lot) =>
      postEvent(hub.q, 'qms.usage_decision.made.v1', lot, {
        inspectionLot: `IL-${lot}`,
        plant: 'P100',
        lot,
        code: 'A1',
        valuation: 'accepted',
        stockPostings: [],
        audit,
      }),
  }
  const delivery = (lot: string) => hub.erp.state.deliveries.find((d) => d.delivery === deliveryOf(lot))!
  const runs = (lot: string) => hub.store.engine.listRuns(ALL, { key: lot, limit: 10 })
  const finished = async (lot: string) => {
    await until(async () => (await runs(lot)).some((r) => r.status === 'completed'), 45_000)
    return (await runs(lot)).find((r) => r.status === 'completed')!
  }
  const steps = async (runId: string) =>
    (await hub.store.engine.loadRun(ALL, runId))!.journal.filter((j) => j.kind === 'step').map((j) => j.name)
  /** released by exactly one change: the seeded block (1) and its removal (2) */
  const releasedOnce = (lot: string) =>
    expect(delivery(lot)).toMatchObject({ blockReason: '', blockChanges: 2 })

  it.each(ERP_FAULTS)('$name on the block removal: removed once', async (c) => {
    await boot()
    hub.erp.faults.set({ ...c.faults(DELIVERY_PATCH, 'PATCH'), seed: 11 })
    for (const cp of ['lab', 'packaging', 'approval'] as const) await send[cp]('F1')
    const run = await finished('F1')
    expect(run.result).toMatchObject({ decision: 'released', delivery: deliveryOf('F1') })
    expect(hub.erp.faults.counts[c.counter]).toBe(c.injected)
    releasedOnce('F1')
    expect(await steps(run.id)).toEqual(['evaluate-release', 'remove-delivery-block'])
    const story = await auditStory(
      hub.store,
      ['F1'],
      [
        'event.ingested',
        'event.ingested',
        'event.ingested',
        'workflow.step.completed:evaluate-release',
        'workflow.step.completed:remove-delivery-block',
        'workflow.completed',
      ],
    )
    expect(times(story, 'workflow.step.completed:remove-delivery-block')).toBe(1)
  })

  const ORDERS: ReadonlyArray<{ order: readonly Checkpoint[] }> = [
    { order: ['approval', 'approval', 'lab', 'lab', 'packaging'] },
    { order: ['packaging', 'packaging', 'approval', 'lab'] },
    // the second lab result arrives while the run awaits the approval
    { order: ['lab', 'packaging', 'lab', 'approval', 'approval'] },
  ]
  it.each(ORDERS)('checkpoints $order (twice, any order): one run, block removed once', async ({ order }) => {
    await boot()
    for (const cp of order) await send[cp]('F2')
    const run = await finished('F2')
    expect(run.result).toMatchObject({
      decision: 'released',
      checkpoints: { lab: 'passed', packaging: 'passed', 'qms-approval': 'passed' },
    })
    releasedOnce('F2')
    // The finished run's trigger sent again (a source resending the same message): absorbed.
    const [first] = await hub.store.listEvents(ALL, { subject: 'F2', limit: 1 })
    expect(await resend(hub.q, first!.envelope)).toMatchObject({ duplicate: true, seq: first!.seq })
    expect(await runs('F2')).toHaveLength(1)
    releasedOnce('F2')
    const story = await auditStory(
      hub.store,
      ['F2'],
      [
        ...order.map(() => 'event.ingested'),
        'workflow.step.completed:remove-delivery-block',
        'workflow.completed',
      ],
    )
    expect(times(story, 'event.ingested')).toBe(order.length)
    expect(times(story, 'workflow.step.completed:remove-delivery-block')).toBe(1)
  })

  it('a checkpoint after its deadline: escalated, block kept, then removed once', async () => {
    // generous against a loaded machine: the test posts packaging once it saw the first escalation
    await boot({ deadline: '1s', maxEscalations: 20 })
    await send.approval('F3')
    await send.lab('F3')
    const overdue = () => chat!.told('Lot F3 not released: overdue')
    await until(() => overdue() >= 1, 30_000)
    expect(delivery('F3')).toMatchObject({ blockChanges: 1 })
    expect((await runs('F3'))[0]!.status).not.toBe('completed')
    await send.packaging('F3')
    const run = await finished('F3')
    expect(run.result).toMatchObject({ decision: 'released', checkpoints: { packaging: 'passed' } })
    const escalations = (run.result as { escalations: number }).escalations
    expect(escalations).toBeGreaterThanOrEqual(1)
    expect(overdue()).toBe(escalations)
    releasedOnce('F3')
    const story = await auditStory(
      hub.store,
      ['F3'],
      [
        'workflow.step.completed:escalate',
        'workflow.step.completed:remove-delivery-block',
        'workflow.completed',
      ],
    )
    expect(times(story, 'workflow.step.completed:escalate')).toBe(escalations)
  })

  it('a checkpoint that never comes: escalated each period, then the run ends blocked', async () => {
    await boot({ deadline: '200ms', maxEscalations: 2 })
    await send.lab('F3')
    const run = await finished('F3')
    expect(run.result).toMatchObject({ decision: 'blocked', checkpoints: { packaging: 'pending' } })
    expect(await steps(run.id)).toEqual(['evaluate-release', 'escalate', 'evaluate-release', 'escalate'])
    expect(chat!.told('Lot F3 not released: overdue (1 of 2)')).toBe(1)
    expect(chat!.told('Lot F3 not released')).toBe(2)
    expect(delivery('F3')).toMatchObject({ blockChanges: 1 })
    expect(delivery('F3').blockReason).not.toBe('')
  })

  it('ERP down past the retry budget: dead letter, replayed once it is back, removed once', async () => {
    await boot({}, 2)
    hub.erp.faults.set({ errorRate: 1, errorStatus: 503, match: { path: DELIVERY_PATCH, method: 'PATCH' } })
    for (const cp of ['packaging', 'lab', 'approval'] as const) await send[cp]('F1')
    await until(async () => (await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1, 45_000)
    const [dl] = await hub.store.engine.listDeadLetters(ALL, { limit: 5 })
    // every PATCH answered 503 (which may follow a commit): the connector read back before each
    // retry, found the block still set, and gave up on this attempt as unconfirmed
    expect(dl).toMatchObject({ key: 'F1', status: 'open', errorCode: 'QLK_EGRESS_AMBIGUOUS' })
    expect(hub.erp.faults.counts.error).toBeGreaterThanOrEqual(2)
    expect(delivery('F1')).toMatchObject({ blockChanges: 1 })

    hub.erp.faults.reset()
    expect(await replayDeadLetter(hub.q, dl!)).toBe(202)
    const run = await finished('F1')
    expect(run.id).toBe(dl!.runId)
    releasedOnce('F1')
    // replaying it again finds no open dead letter; the finished run repeats nothing
    expect(await replayDeadLetter(hub.q, dl!)).toBe(404)
    expect(await steps(run.id)).toEqual(['evaluate-release', 'remove-delivery-block'])
    releasedOnce('F1')
    const story = await auditStory(
      hub.store,
      ['F1'],
      [
        'workflow.step.completed:evaluate-release',
        'workflow.dead_lettered',
        'dead_letter.replayed',
        'workflow.step.completed:remove-delivery-block',
        'workflow.completed',
      ],
    )
    expect(times(story, 'workflow.step.completed:evaluate-release')).toBe(1)
    expect(story.indexOf('dead_letter.replayed')).toBeGreaterThan(story.indexOf('workflow.dead_lettered'))
  })
})
