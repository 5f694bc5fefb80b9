import { randomUUID } from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import { finishedGoodsRelease } from '../../src/workflows/finished-goods-release.ts'
import type { ErpPort } from '../../src/workflows/ports/erp.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { parsePrometheus } from '../observability/prom-text.ts'
import { postEvent } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }

describe.each(DIALECTS)('finished goods release end to end on %s', (dialect: Dialect) => {
  let erpPort: ErpPort

  const hub = usePlantHub(dialect, () => ({
    erp: {
      deliveries: ['F1', 'F2'].map((lot, i) => ({
        DeliveryDocument: `8000000${i + 1}`,
        ShipToParty: 'CUST-1',
        items: [{ Material: 'FG-1', Plant: '1000', Batch: lot, quantity: '10' }],
      })),
    },
    workflows: [finishedGoodsRelease()],
    deferStart: true,
  }))
  beforeEach(async () => {
    erpPort = hub.ports.erp!
    // Deliveries of finished lots start blocked until the release says otherwise.
    for (const d of ['80000001', '80000002'])
      await erpPort.setDeliveryBlock({ idempotencyKey: `init-${d}`, delivery: d, blocked: true })
    await hub.start()
  })

  const post = (type: string, subject: string, data: Record<string, unknown>) =>
    postEvent(hub.q, type, subject, data)
  const lab = (lot: string, result: 'pass' | 'fail') =>
    post('lims.result.reported.v1', lot, {
      sample: `S-${lot}-${randomUUID().slice(0, 4)}`,
      lot,
      plant: 'P100',
      tests: [{ characteristic: 'HARDNESS', value: '58', unit: 'HRC', result }],
      audit,
    })
  const packaging = (lot: string, delivery: string) =>
    post('mes.packaging.verified.v1', lot, {
      lot,
      plant: 'P100',
      delivery,
      checks: [{ name: 'label', passed: true }],
      verified: true,
      audit,
    })
  const approval = (lot: string, valuation: 'accepted' | 'rejected') =>
    post('qms.usage_decision.made.v1', lot, {
      inspectionLot: `IL-${lot}`,
      plant: 'P100',
      lot,
      code: valuation === 'accepted' ? 'A1' : 'R1',
      valuation,
      stockPostings: [],
      audit,
    })
  const blockOf = (d: string) => hub.erp.state.deliveries.find((x) => x.delivery === d)!
  const runOf = async (lot: string) => (await hub.store.engine.listRuns(ALL, { key: lot, limit: 5 }))[0]
  const awaitingRelease = async () =>
    parsePrometheus((await hub.q.app.inject({ method: 'GET', url: '/metrics' })).body).value(
      'qualink_lots_awaiting_release',
      { plant: 'P100' },
    )

  it('removes the delivery block once every checkpoint passed, in any order and with duplicates', async () => {
    expect(await awaitingRelease()).toBe(0)
    await approval('F1', 'accepted') // the approval comes first: found later by the wait
    await lab('F1', 'pass')
    await lab('F1', 'pass') // a LIMS re-export
    expect(blockOf('80000001').blockReason).not.toBe('')
    // the finished lot waits for its packaging check: one lot awaiting release (metrics.md)
    await until(async () => (await awaitingRelease()) === 1)
    await packaging('F1', '80000001')
    await until(async () => (await runOf('F1'))?.status === 'completed')
    expect((await runOf('F1'))!.result).toMatchObject({ decision: 'released', delivery: '80000001' })
    expect(blockOf('80000001')).toMatchObject({ blockReason: '', blockChanges: 2 })
    expect(await awaitingRelease()).toBe(0)
  })

  it('keeps the block when a checkpoint fails', async () => {
    await packaging('F2', '80000002')
    await lab('F2', 'fail')
    await until(async () => (await runOf('F2'))?.status === 'completed')
    expect((await runOf('F2'))!.result).toMatchObject({
      decision: 'blocked',
      checkpoints: { lab: 'failed', packaging: 'passed' },
    })
    expect(blockOf('80000002').blockReason).not.toBe('')
    expect(blockOf('80000002').blockChanges).toBe(1)
  })
})
