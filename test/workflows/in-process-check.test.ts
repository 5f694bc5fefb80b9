import { describe, expect, it } from 'vitest'
import { workflowSettings } from '../../src/config/checks.ts'
import type { PlantConfig } from '../../src/config/schema.ts'
import { eventLogHistory } from '../../src/projections/measurement-history.ts'
import {
  DEFAULT_IN_PROCESS_SETTINGS,
  type InProcessSettings,
  inProcessQualityCheck,
} from '../../src/workflows/in-process-check.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { postEvent, workNonconformance } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'mes-p100', approvalStatus: 'not_required' }
const ORDERS = ['PO-1', 'PO-2', 'PO-3']

describe.each(DIALECTS)('in-process quality check end to end on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: {
      productionOrders: ORDERS.map((o) => ({
        ManufacturingOrder: o,
        Material: 'FG-1',
        ProductionPlant: '1000',
        TotalQuantity: '100',
      })),
    },
    qms: {},
    workflows: [inProcessQualityCheck()],
    ports: ({ store }) => ({ history: eventLogHistory(store) }),
  }))

  const post = (type: string, subject: string, data: Record<string, unknown>) =>
    postEvent(hub.q, type, subject, data)
  const complete = (order: string, lot: string, torque: string) =>
    post('mes.operation.completed.v1', order, {
      operation: { productionOrder: order, number: '0010', workCenter: 'L1' },
      plant: 'P100',
      measurements: [{ characteristic: 'TORQUE', value: torque, unit: 'NM' }],
      consumed: [],
      produced: [{ lot, material: 'FG-1', quantity: { units: 10, scale: 0, uom: 'PC' } }],
      audit,
    })
  const runs = async (order: string) => hub.store.engine.listRuns(ALL, { key: order, limit: 20 })
  const held = (order: string) => hub.erp.state.productionOrders.find((o) => o.order === order)!

  it('holds the order, opens an NC and keeps the hold until the disposition, then releases', async () => {
    for (const [i, t] of ['12.3', '12.2', '12.4', '12.3'].entries()) await complete('PO-1', `F1-${i}`, t)
    await until(async () => (await runs('PO-1')).filter((r) => r.status === 'completed').length === 4)
    expect(
      (await runs('PO-1')).every((r) => (r.result as { verdict: string }).verdict === 'conforming'),
    ).toBe(true)
    expect(held('PO-1').onHold).toBe(false)

    await complete('PO-2', 'F2-1', '13.6') // above the 13 Nm upper limit
    await until(async () => (await runs('PO-2'))[0]?.status === 'waiting')
    expect(held('PO-2')).toMatchObject({ onHold: true, holdChanges: 1 })
    const scrape = async () => (await hub.q.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(await scrape()).toMatch(/qualink_orders_on_quality_hold\{plant="P100"\} 1/)
    const ncs = (await (await fetch(`${hub.qms.url}/api/v1/nonconformances`)).json()) as
      | { items?: Array<{ id: string; lot?: string; batch?: string; severity: string }> }
      | Array<{ id: string }>
    const list = Array.isArray(ncs) ? ncs : (ncs.items ?? [])
    expect(list).toHaveLength(1)
    const ncId = list[0]!.id

    // The quality engineer works the NC in the QMS; its disposition arrives as a canonical event.
    await workNonconformance(hub.qms.url, ncId)
    expect(held('PO-2').onHold).toBe(true)
    await post('qms.nonconformance.dispositioned.v1', 'F2-1', {
      disposition: {
        id: 'DISP-1',
        plant: 'P100',
        lot: 'F2-1',
        nonconformance: ncId,
        lines: [{ code: 'REWORK', quantity: { units: 10, scale: 0, uom: 'PC' } }],
        audit: { ...audit, sourceSystem: 'qms' },
      },
    })
    await until(async () => (await runs('PO-2'))[0]?.status === 'completed')
    expect(held('PO-2')).toMatchObject({ onHold: false, holdChanges: 2 })
    expect(await scrape()).not.toMatch(/qualink_orders_on_quality_hold\{plant="P100"\} [1-9]/)
    expect((await runs('PO-2'))[0]!.result).toMatchObject({
      verdict: 'dispositioned',
      disposition: ['REWORK'],
    })
    const nc = (await (await fetch(`${hub.qms.url}/api/v1/nonconformances/${ncId}`)).json()) as {
      status: string
    }
    expect(nc.status).toBe('DISPOSITION_EXECUTED')
  })

  it('escalates each overdue disposition deadline, keeps the hold, and releases on a late disposition', async () => {
    await hub.q.close()
    await hub.start({
      workflows: [
        inProcessQualityCheck(() => ({
          ...DEFAULT_IN_PROCESS_SETTINGS,
          dispositionDeadline: '150ms',
          maxEscalations: 2,
        })),
      ],
    })
    await complete('PO-1', 'F9-1', '13.7')
    const escalations = async () => {
      const run = (await runs('PO-1'))[0]
      if (!run) return 0
      const loaded = await hub.store.engine.loadRun(ALL, run.id)
      return loaded!.journal.filter((j) => j.name === 'escalate-overdue-disposition').length
    }
    await until(async () => (await escalations()) === 2)
    // past maxEscalations the run waits on without a deadline: still waiting, still on hold
    await until(async () => (await runs('PO-1'))[0]?.status === 'waiting')
    expect(held('PO-1').onHold).toBe(true)
    const nc = (await runs('PO-1'))[0]!
    const ncId = (
      (await hub.store.engine.loadRun(ALL, nc.id))!.journal.find((j) => j.name === 'open-nonconformance')!
        .result as { record: { id: string } }
    ).record.id
    await workNonconformance(hub.qms.url, ncId)
    await post('qms.nonconformance.dispositioned.v1', 'F9-1', {
      disposition: {
        id: 'DISP-9',
        plant: 'P100',
        lot: 'F9-1',
        nonconformance: ncId,
        lines: [{ code: 'SCRAP', quantity: { units: 10, scale: 0, uom: 'PC' } }],
        audit: { ...audit, sourceSystem: 'qms' },
      },
    })
    await until(async () => (await runs('PO-1'))[0]?.status === 'completed')
    expect(await escalations()).toBe(2)
    expect((await runs('PO-1'))[0]!.result).toMatchObject({
      verdict: 'dispositioned',
      disposition: ['SCRAP'],
    })
    expect(held('PO-1')).toMatchObject({ onHold: false, holdChanges: 2 })
  })

  it('holds on an SPC run-rule violation inside the spec limits', async () => {
    // Baseline 12.3 ± 0.25 (σ): two of three points beyond 2σ (12.8) on the same side is WE rule 2.
    for (const [i, t] of ['12.3', '12.85', '12.2'].entries()) await complete('PO-3', `F3-${i}`, t)
    await until(async () => (await runs('PO-3')).filter((r) => r.status === 'completed').length === 3)
    await complete('PO-3', 'F3-9', '12.9')
    await until(async () => (await runs('PO-3')).some((r) => r.status === 'waiting'))
    const waiting = (await runs('PO-3')).find((r) => r.status === 'waiting')!
    const journal = (await hub.store.engine.loadRun(ALL, waiting.id))!.journal
    const findings = journal.find((j) => j.name === 'evaluate')!.result as Array<{
      spec: { status: string }
      rules: Array<{ ruleId: string }>
    }>
    expect(findings[0]!.spec.status).toBe('pass')
    expect(findings[0]!.rules.map((r) => r.ruleId)).toContain('we-2')
    expect(held('PO-3').onHold).toBe(true)
  })

  it('a plant configured for Nelson rules holds on a steady rise inside the limits, a trend no WE rule sees', async () => {
    // qualink.yaml `plants.P100.spc.ruleSet: nelson` → the workflow's run rules (config/kinds.ts)
    const plant = { erp: 'erp', qms: 'qms', spc: { ruleSet: 'nelson' } } as unknown as PlantConfig
    const { settings, problems } = workflowSettings('in-process-quality-check', 'P100', plant, {})
    expect(problems).toEqual([])
    expect((settings as InProcessSettings).runRules).toEqual(
      Array.from({ length: 8 }, (_, i) => `nelson-${i + 1}`),
    )
    await hub.q.close()
    await hub.start({ workflows: [inProcessQualityCheck(() => settings as InProcessSettings)] })
    // Baseline 12.3 ± 0.25 (σ): 12.0 … 12.5 stays within 1.2σ; six rising points are Nelson rule 3.
    for (const [i, t] of ['12.0', '12.1', '12.2', '12.3', '12.4'].entries())
      await complete('PO-2', `F2-${i}`, t)
    await until(async () => (await runs('PO-2')).filter((r) => r.status === 'completed').length === 5)
    expect(held('PO-2').onHold).toBe(false)
    await complete('PO-2', 'F2-5', '12.5')
    await until(async () => (await runs('PO-2')).some((r) => r.status === 'waiting'))
    const waiting = (await runs('PO-2')).find((r) => r.status === 'waiting')!
    const findings = (await hub.store.engine.loadRun(ALL, waiting.id))!.journal.find(
      (j) => j.name === 'evaluate',
    )!.result as Array<{ spec: { status: string }; rules: Array<{ ruleId: string }> }>
    expect(findings[0]!.spec.status).toBe('pass')
    expect(findings[0]!.rules.map((r) => r.ruleId)).toEqual(['nelson-3'])
    expect(held('PO-2').onHold).toBe(true)
  })
})
