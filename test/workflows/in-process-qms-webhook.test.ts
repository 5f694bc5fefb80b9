/**
 * The in-process check's disposition arriving the way a configured plant receives it: the quality
 * engineer dispositions the nonconformance in the QMS (with its quantity split), the QMS's signed
 * webhook reaches Qualink, the QMS translator turns it into qms.nonconformance.dispositioned.v1,
 * and the held order is released. No event is posted by hand.
 */
import { describe, expect, it } from 'vitest'
import { eventLogHistory } from '../../src/projections/measurement-history.ts'
import { inProcessQualityCheck } from '../../src/workflows/in-process-check.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { postEvent } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'mes-p100', approvalStatus: 'not_required' }

describe.each(DIALECTS)('in-process check with the QMS webhook on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: {
      productionOrders: [
        { ManufacturingOrder: 'PO-7', Material: 'FG-1', ProductionPlant: '1000', TotalQuantity: '100' },
      ],
    },
    qms: { webhook: true },
    workflows: [inProcessQualityCheck()],
    ports: ({ store }) => ({ history: eventLogHistory(store) }),
  }))

  it('releases the hold when the QMS dispositions the nonconformance, through its webhook', async () => {
    await postEvent(hub.q, 'mes.operation.completed.v1', 'PO-7', {
      operation: { productionOrder: 'PO-7', number: '0010', workCenter: 'L1' },
      plant: 'P100',
      measurements: [{ characteristic: 'TORQUE', value: '13.8', unit: 'NM' }],
      consumed: [],
      produced: [{ lot: 'F7-1', material: 'FG-1', quantity: { units: 10, scale: 0, uom: 'PC' } }],
      audit,
    })
    const runs = () => hub.store.engine.listRuns(ALL, { key: 'PO-7', limit: 5 })
    await until(async () => (await runs())[0]?.status === 'waiting')
    const order = () => hub.erp.state.productionOrders.find((o) => o.order === 'PO-7')!
    expect(order().onHold).toBe(true)
    const nc = [...hub.qms.model.nonconformances.values()].find((n) => n.batch === 'F7-1')!
    const patch = (body: object) =>
      fetch(`${hub.qms.url}/api/v1/nonconformances/${nc.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect((await patch({ status: 'CONTAINED', dispositions: [] })).status).toBe(400) // lines only with a disposition
    for (const status of ['CONTAINED', 'UNDER_REVIEW']) expect((await patch({ status })).status).toBe(200)
    const done = await patch({
      status: 'DISPOSITIONED',
      dispositionedBy: 'qe.meyer',
      dispositions: [
        { disposition: 'REWORK', quantity: '8', unit: 'PC' },
        { disposition: 'SCRAP', quantity: '2', unit: 'PC' },
      ],
    })
    expect(done.status).toBe(200)
    await until(async () => (await runs())[0]?.status === 'completed')
    expect((await runs())[0]!.result).toMatchObject({
      verdict: 'dispositioned',
      disposition: ['REWORK', 'SCRAP'],
    })
    expect(order()).toMatchObject({ onHold: false, holdChanges: 2 })
    const [event] = await hub.store.listEvents(ALL, { type: 'qms.nonconformance.dispositioned.v1', limit: 5 })
    expect(event!.envelope.data).toMatchObject({
      disposition: {
        lot: 'F7-1',
        nonconformance: nc.id,
        lines: [
          { code: 'REWORK', quantity: { units: 8000, scale: 3, uom: 'PC' } },
          { code: 'SCRAP', quantity: { units: 2000, scale: 3, uom: 'PC' } },
        ],
        audit: { operator: 'qe.meyer', sourceSystem: 'qms' },
      },
    })
    expect(hub.qms.model.nonconformances.get(nc.id)!.status).toBe('DISPOSITION_EXECUTED')
  })
})
