/**
 * The in-process quality check through faults (issue 8, Tests), over the S/4 and QMS simulators
 * on each dialect: ERP 5xx, 429 and a dropped answer on each ERP effect (order hold, its release,
 * the production confirmation), every QMS webhook delivered twice, a disposition that reached
 * Qualink before the nonconformance was opened, a disposition after its deadline, and a
 * dead-lettered run replayed after the ERP came back; the same ERP faults on the lot's stock
 * block and on each disposition line's posting. Each time the ERP's final state is right, each
 * business effect exists once where the simulators count it (the order's hold changes: on and
 * off; confirmations as posted, never deduplicated; material documents per lot and bucket: the
 * block, the line to unrestricted, the line to scrap; nonconformances in the QMS), the lot's
 * stock adds up to its receipt, and the lot's audit trail tells it. The process killed mid-run is in test/faults/kill-hold-and-release.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { eventLogHistory } from '../../src/projections/measurement-history.ts'
import {
  DEFAULT_IN_PROCESS_SETTINGS,
  type InProcessSettings,
  inProcessQualityCheck,
} from '../../src/workflows/in-process-check.ts'
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
import { postEvent, workNonconformance } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'mes-p100', approvalStatus: 'not_required' }
const ORDER = 'PO-1'
const HOLD_PATH = 'A_ProductionOrder_2'
const CONFIRMATION_PATH = 'ProdnOrdConf2'
/** the lot's block and each disposition line are material documents (344, 343, 555) */
const STOCK_PATH = 'A_MaterialDocumentHeader'
/** how often the held run takes a step of this name (the disposition lines: once each) */
const stepsNamed = (name: string) => HELD_STEPS.filter((s) => s === name).length
/** the steps of a held run that ends dispositioned, as the journal and the audit trail name them */
const HELD_STEPS = [
  'read-specification', // v3: no plan for the material here, the configured tolerance judges
  'evaluate',
  'hold-order',
  'open-nonconformance',
  'notify-supervisor',
  'block-lot-stock',
  'execute-disposition-line', // 7 PC used as is: blocked → unrestricted
  'execute-disposition-line', // 3 PC scrapped: blocked → scrap
  'release-hold',
  'disposition-executed',
  'confirm-production',
]

describe.each(DIALECTS)('in-process quality check through faults on %s', (dialect: Dialect) => {
  let chat: Awaited<ReturnType<typeof startChat>> | undefined
  const hub = usePlantHub(dialect, () => ({
    erp: {
      // FG-1 not inspection-relevant: the produced lot's receipt lands in unrestricted stock
      materials: { 'FG-1': { inspectionRelevant: false, baseUnit: 'PC' } },
      productionOrders: [
        { ManufacturingOrder: ORDER, Material: 'FG-1', ProductionPlant: '1000', TotalQuantity: '100' },
      ],
    },
    // every QMS webhook (the disposition among them) arrives twice
    qms: { webhook: true, faults: { duplicateRate: 1, seed: 5 } },
    egress: { timeoutMs: 2000 },
    ports: ({ store }) => ({ history: eventLogHistory(store) }),
    deferStart: true,
  }))
  afterEach(async () => {
    await chat?.close()
    chat = undefined
  })

  const boot = async (settings: Partial<InProcessSettings> = {}, maxAttempts?: number) => {
    chat = await startChat(`QLK_IPC_CHAT_${dialect.toUpperCase()}`)
    const workflow = inProcessQualityCheck(() => ({
      ...DEFAULT_IN_PROCESS_SETTINGS,
      confirmToErp: true,
      ...settings,
    }))
    await hub.start({
      workflows: [withRetryBudget(workflow, maxAttempts)],
      ports: { notify: chat.notify },
    })
  }
  /** the produced lot's 10 PC received into the ERP's stock, before any fault is injected */
  const receive = async (lot: string) => {
    const body = goodsReceipt(lot, '10', '', 'FG-1') as {
      to_MaterialDocumentItem: Array<Record<string, unknown>>
    }
    body.to_MaterialDocumentItem[0]!.EntryUnit = 'PC'
    const res = await s4Client(hub.erp.url).send('POST', `${MATDOC}/${STOCK_PATH}`, body)
    expect(res.status).toBe(201)
  }
  const stock = (lot: string) => hub.erp.state.stock.find((s) => s.key.batch === lot)!.buckets
  const docs = (lot: string) => hub.erp.state.counts.documentsByLotAndBucket[`FG-1|1000|${lot}`]
  /** the MES reports the operation with a torque above the 13 Nm upper limit */
  const completeOutOfTolerance = (lot: string) =>
    postEvent(hub.q, 'mes.operation.completed.v1', ORDER, {
      operation: { productionOrder: ORDER, number: '0010', workCenter: 'L1' },
      plant: 'P100',
      measurements: [{ characteristic: 'TORQUE', value: '13.6', unit: 'NM' }],
      consumed: [{ lot: `RAW-${lot}`, material: 'RAW-100', quantity: { units: 5, scale: 0, uom: 'KG' } }],
      produced: [{ lot, material: 'FG-1', quantity: { units: 10, scale: 0, uom: 'PC' } }],
      audit,
    })
  const runs = () => hub.store.engine.listRuns(ALL, { key: ORDER, limit: 10 })
  const runIs = async (status: string) => {
    await until(async () => (await runs()).some((r) => r.status === status), 45_000)
    return (await runs()).find((r) => r.status === status)!
  }
  const order = () => hub.erp.state.productionOrders.find((o) => o.order === ORDER)!
  const ncsOf = (lot: string) => [...hub.qms.model.nonconformances.values()].filter((n) => n.batch === lot)
  const confirmations = () => hub.erp.state.confirmations.filter((c) => c.order === ORDER)
  const steps = async (runId: string) =>
    (await hub.store.engine.loadRun(ALL, runId))!.journal.filter((j) => j.kind === 'step').map((j) => j.name)
  /** the quality engineer dispositions the lot's nonconformance in the QMS; its webhook does the rest */
  const disposition = async (lot: string) => {
    const [nc] = ncsOf(lot)
    await workNonconformance(hub.qms.url, nc!.id, ['CONTAINED', 'UNDER_REVIEW'])
    const r = await fetch(`${hub.qms.url}/api/v1/nonconformances/${nc!.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'DISPOSITIONED',
        dispositionedBy: 'qe.meyer',
        dispositions: [
          { disposition: 'USE_AS_IS', quantity: '7', unit: 'PC' },
          { disposition: 'SCRAP', quantity: '3', unit: 'PC' },
        ],
      }),
    })
    expect(r.status).toBe(200)
  }
  /** held, dispositioned, released and confirmed: each ERP and QMS effect exactly once */
  const doneOnce = async (lot: string, runId: string, dispositionEvents = 1) => {
    expect(order()).toMatchObject({ onHold: false, holdChanges: 2 })
    expect(confirmations()).toHaveLength(1)
    expect(confirmations()[0]).toMatchObject({ yieldQuantity: 10_000, postedOnHold: false })
    expect(ncsOf(lot)).toHaveLength(1)
    expect(ncsOf(lot)[0]!.status).toBe('DISPOSITION_EXECUTED')
    // the block once, each line once; the receipt is the other unrestricted document
    expect(docs(lot)).toEqual({ unrestricted: 2, blocked: 1, scrap: 1 })
    expect(stock(lot)).toMatchObject({ unrestricted: 7_000, blocked: 0, scrap: 3_000 })
    expect(Object.values(stock(lot)).reduce((a, n) => a + n, 0)).toBe(10_000)
    expect(hub.erp.state.counts.conservationViolations).toEqual([])
    expect(await steps(runId)).toEqual(HELD_STEPS)
    const dispositions = await hub.store.listEvents(ALL, {
      type: 'qms.nonconformance.dispositioned.v1',
      limit: 5,
    })
    expect(dispositions).toHaveLength(dispositionEvents)
  }

  const CASES = [
    { effect: 'hold-order', path: HOLD_PATH, method: 'PATCH', fault: ERP_FAULTS[0]!, before: 'completion' },
    ...ERP_FAULTS.map((fault) => ({
      effect: 'block-lot-stock',
      path: STOCK_PATH,
      method: 'POST',
      fault,
      before: 'completion',
    })),
    ...[ERP_FAULTS[0]!, ERP_FAULTS[2]!].map((fault) => ({
      effect: 'execute-disposition-line',
      path: STOCK_PATH,
      method: 'POST',
      fault,
      before: 'disposition',
    })),
    {
      effect: 'release-hold',
      path: HOLD_PATH,
      method: 'PATCH',
      fault: ERP_FAULTS[1]!,
      before: 'disposition',
    },
    {
      effect: 'release-hold',
      path: HOLD_PATH,
      method: 'PATCH',
      fault: ERP_FAULTS[2]!,
      before: 'disposition',
    },
    {
      effect: 'confirm-production',
      path: CONFIRMATION_PATH,
      method: 'POST',
      fault: ERP_FAULTS[0]!,
      before: 'disposition',
    },
    {
      effect: 'confirm-production',
      path: CONFIRMATION_PATH,
      method: 'POST',
      fault: ERP_FAULTS[2]!,
      before: 'disposition',
    },
  ] as const
  it.each(CASES)('$fault.name on $effect, QMS webhooks twice: each effect once', async (c) => {
    await boot()
    const lot = `F-${c.effect}-${c.fault.counter}`
    await receive(lot)
    const inject = () => hub.erp.faults.set({ ...c.fault.faults(c.path, c.method), seed: 3 })
    if (c.before === 'completion') inject()
    await completeOutOfTolerance(lot)
    await runIs('waiting')
    expect(order()).toMatchObject({ onHold: true, holdChanges: 1 })
    expect(ncsOf(lot)).toHaveLength(1)
    expect(chat!.told(`Production order ${ORDER} on quality hold`)).toBe(1)
    // while the NC is open the lot's stock is blocked, with one document
    expect(stock(lot)).toMatchObject({ unrestricted: 0, blocked: 10_000 })
    expect(docs(lot)).toMatchObject({ blocked: 1 })
    if (c.before === 'disposition') inject()
    await disposition(lot)
    const run = await runIs('completed')
    expect(run.result).toMatchObject({ verdict: 'dispositioned', disposition: ['USE_AS_IS', 'SCRAP'] })
    expect(hub.erp.faults.counts[c.fault.counter]).toBe(c.fault.injected)
    expect(hub.qms.faults.counts.duplicate).toBeGreaterThan(0)
    await doneOnce(lot, run.id)
    const story = await auditStory(
      hub.store,
      [lot, ORDER],
      [
        'event.ingested', // the completion
        'event.ingested', // the disposition (its duplicate absorbed at ingress)
        ...HELD_STEPS.map((s) => `workflow.step.completed:${s}`),
        'workflow.completed',
      ],
    )
    expect(times(story, 'event.ingested')).toBe(2)
    for (const s of HELD_STEPS) expect(times(story, `workflow.step.completed:${s}`), s).toBe(stepsNamed(s))
  })

  it("another nonconformance's disposition, stored before this one was opened, does not release the hold", async () => {
    await boot()
    const lot = 'F-EARLY'
    // While the MES link was down, a nonconformance a person opened on the lot was dispositioned:
    // it reaches Qualink before the completion, and names that other nonconformance.
    await postEvent(hub.q, 'qms.nonconformance.dispositioned.v1', lot, {
      disposition: {
        id: 'DISP-EARLY',
        plant: 'P100',
        lot,
        nonconformance: 'NC-MANUAL-1',
        lines: [{ code: 'SCRAP', quantity: { units: 10, scale: 0, uom: 'PC' } }],
        audit: { ...audit, sourceSystem: 'qms' },
      },
    })
    await receive(lot)
    await completeOutOfTolerance(lot)
    // the run found the early disposition, saw it is not its own, and waits on, the order held
    await until(async () => {
      const [r] = await runs()
      if (r?.status !== 'waiting') return false
      const { journal } = (await hub.store.engine.loadRun(ALL, r.id))!
      return journal.filter((j) => j.kind === 'wait').length === 1
    }, 45_000)
    expect(order()).toMatchObject({ onHold: true, holdChanges: 1 })
    await disposition(lot)
    const run = await runIs('completed')
    expect(run.result).toMatchObject({ verdict: 'dispositioned', disposition: ['USE_AS_IS', 'SCRAP'] })
    await doneOnce(lot, run.id, 2)
    expect(await runs()).toHaveLength(1)
  })

  it('a disposition after its deadline: escalated each time, hold kept, then released once', async () => {
    await boot({ dispositionDeadline: '300ms', maxEscalations: 2 })
    const lot = 'F-LATE'
    await receive(lot)
    await completeOutOfTolerance(lot)
    const overdue = () => chat!.told('Disposition overdue')
    await until(() => overdue() === 2, 30_000)
    // past maxEscalations the run waits on without a deadline, the order still on hold
    expect((await runs())[0]!.status).toBe('waiting')
    expect(order()).toMatchObject({ onHold: true, holdChanges: 1 })
    expect(confirmations()).toHaveLength(0)
    await disposition(lot)
    const run = await runIs('completed')
    expect(overdue()).toBe(2)
    const withEscalations = [...HELD_STEPS]
    withEscalations.splice(6, 0, 'escalate-overdue-disposition', 'escalate-overdue-disposition')
    expect(await steps(run.id)).toEqual(withEscalations)
    expect(order()).toMatchObject({ onHold: false, holdChanges: 2 })
    expect(confirmations()).toHaveLength(1)
    const story = await auditStory(
      hub.store,
      [lot, ORDER],
      [
        'workflow.step.completed:hold-order',
        'workflow.step.completed:escalate-overdue-disposition',
        'workflow.step.completed:escalate-overdue-disposition',
        'workflow.step.completed:release-hold',
        'workflow.completed',
      ],
    )
    expect(story.lastIndexOf('workflow.step.completed:escalate-overdue-disposition')).toBeLessThan(
      story.indexOf('workflow.step.completed:release-hold'),
    )
  })

  it('ERP down past the retry budget at the release: dead letter, replayed once it is back, each effect once', async () => {
    await boot({}, 2)
    const lot = 'F-DL'
    await receive(lot)
    await completeOutOfTolerance(lot)
    await runIs('waiting')
    hub.erp.faults.set({ errorRate: 1, errorStatus: 503, match: { path: HOLD_PATH, method: 'PATCH' } })
    await disposition(lot)
    await until(async () => (await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1, 45_000)
    const [dl] = await hub.store.engine.listDeadLetters(ALL, { limit: 5 })
    expect(dl).toMatchObject({ key: ORDER, status: 'open', errorCode: 'QLK_EGRESS_AMBIGUOUS' })
    expect(order()).toMatchObject({ onHold: true, holdChanges: 1 })
    expect(confirmations()).toHaveLength(0)

    hub.erp.faults.reset()
    expect(await replayDeadLetter(hub.q, dl!)).toBe(202)
    const run = await runIs('completed')
    expect(run.id).toBe(dl!.runId)
    await doneOnce(lot, run.id)
    // the finished run replayed again, or its trigger sent again: nothing repeats
    expect(await replayDeadLetter(hub.q, dl!)).toBe(404)
    const [completion] = await hub.store.listEvents(ALL, { type: 'mes.operation.completed.v1', limit: 1 })
    expect(await resend(hub.q, completion!.envelope)).toMatchObject({ duplicate: true })
    expect(await runs()).toHaveLength(1)
    await doneOnce(lot, run.id)
    const story = await auditStory(
      hub.store,
      [lot, ORDER],
      [
        'workflow.step.completed:hold-order',
        'workflow.dead_lettered',
        'dead_letter.replayed',
        'workflow.step.completed:release-hold',
        'workflow.completed',
      ],
    )
    for (const s of HELD_STEPS) expect(times(story, `workflow.step.completed:${s}`), s).toBe(stepsNamed(s))
    expect(story.indexOf('dead_letter.replayed')).toBeGreaterThan(story.indexOf('workflow.dead_lettered'))
  })
})
