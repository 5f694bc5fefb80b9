/**
 * MES production confirmations reach the ERP unless the order is on quality hold; then they wait
 * and are released with the hold (issue 8 item 5b). Counted in the S/4 simulator, which does not
 * deduplicate confirmations and records whether the order was on hold when each was posted.
 */
import { describe, expect, it } from 'vitest'
import { eventLogHistory } from '../../src/projections/measurement-history.ts'
import { DEFAULT_IN_PROCESS_SETTINGS, inProcessQualityCheck } from '../../src/workflows/in-process-check.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { postEvent, workNonconformance } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'mes-p100', approvalStatus: 'not_required' }

describe.each(DIALECTS)('production confirmations held with the order on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: {
      productionOrders: ['PO-7', 'PO-8'].map((o) => ({
        ManufacturingOrder: o,
        Material: 'FG-1',
        ProductionPlant: '1000',
        TotalQuantity: '100',
      })),
    },
    qms: {},
    workflows: [inProcessQualityCheck(() => ({ ...DEFAULT_IN_PROCESS_SETTINGS, confirmToErp: true }))],
    ports: ({ store }) => ({ history: eventLogHistory(store) }),
  }))

  const complete = (order: string, op: string, lot: string, torque: string, pieces: number) =>
    postEvent(hub.q, 'mes.operation.completed.v1', order, {
      operation: { productionOrder: order, number: op, workCenter: 'L1' },
      plant: 'P100',
      measurements: [{ characteristic: 'TORQUE', value: torque, unit: 'NM' }],
      consumed: [],
      produced: [{ lot, material: 'FG-1', quantity: { units: pieces, scale: 0, uom: 'PC' } }],
      audit,
    })
  const runs = (order: string) => hub.store.engine.listRuns(ALL, { key: order, limit: 20 })
  const confirmed = (order: string) => hub.erp.state.confirmations.filter((c) => c.order === order)
  const held = (order: string) => hub.erp.state.productionOrders.find((o) => o.order === order)!

  it('confirms at once when conforming; on hold, later confirmations wait and follow the release', async () => {
    // A conforming completion is confirmed straight away.
    await complete('PO-8', '0010', 'L8-1', '12.3', 10)
    await until(async () => (await runs('PO-8'))[0]?.status === 'completed')
    expect(confirmed('PO-8')).toEqual([expect.objectContaining({ operation: '0010', yieldQuantity: 10_000 })])

    // Out of tolerance: PO-7 goes on hold; two more (conforming) completions arrive meanwhile.
    await complete('PO-7', '0010', 'L7-1', '13.6', 10)
    await until(async () => (await runs('PO-7'))[0]?.status === 'waiting')
    expect(held('PO-7').onHold).toBe(true)
    await complete('PO-7', '0020', 'L7-2', '12.3', 9)
    await complete('PO-7', '0030', 'L7-3', '12.2', 8)
    // Both are stored (202 after commit) and routed into the held run's inbox in that commit:
    // still one run, nothing confirmed while the order is on hold.
    expect(
      await hub.store.listEvents(ALL, { type: 'mes.operation.completed.v1', subject: 'PO-7', limit: 10 }),
    ).toHaveLength(3)
    expect(await runs('PO-7')).toHaveLength(1)
    expect(confirmed('PO-7')).toEqual([])

    const ncs = (await (await fetch(`${hub.qms.url}/api/v1/nonconformances`)).json()) as {
      items: Array<{ id: string }>
    }
    const ncId = ncs.items[0]!.id
    await workNonconformance(hub.qms.url, ncId)
    await postEvent(hub.q, 'qms.nonconformance.dispositioned.v1', 'L7-1', {
      disposition: {
        id: 'DISP-7',
        plant: 'P100',
        lot: 'L7-1',
        nonconformance: ncId,
        lines: [{ code: 'REWORK', quantity: { units: 10, scale: 0, uom: 'PC' } }],
        audit: { ...audit, sourceSystem: 'qms' },
      },
    })
    await until(async () => {
      const all = await runs('PO-7')
      return all.length === 3 && all.every((r) => r.status === 'completed')
    }, 30_000)
    expect(held('PO-7')).toMatchObject({ onHold: false, holdChanges: 2 })
    // Each completion confirmed exactly once, in MES order, none while the order was on hold.
    expect(confirmed('PO-7').map((c) => [c.operation, c.yieldQuantity, c.postedOnHold])).toEqual([
      ['0010', 10_000, false],
      ['0020', 9_000, false],
      ['0030', 8_000, false],
    ])

    // A replayed confirmation step (same idempotency key) finds its document and posts nothing.
    const [first] = await runs('PO-8')
    const step = (await hub.store.engine.loadRun(ALL, first!.id))!.journal.find(
      (j) => j.name === 'confirm-production',
    )!
    const again = await hub.ports.erp!.confirmOperation!({
      idempotencyKey: step.idempotencyKey!,
      plant: 'P100',
      order: 'PO-8',
      operation: '0010',
      yieldQuantity: { units: 10, scale: 0, uom: 'PC' },
    })
    expect(again.alreadyDone).toBe(true)
    expect(confirmed('PO-8')).toHaveLength(1)
  })
})
