import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { type ErpS4Sim, type QmsSim, startErpS4, startQms } from '../../simulators/index.ts'
import type { RunRow } from '../../src/store/engine-types.ts'
import { createTestDatabase, type Dialect, type TestDatabase } from '../dialects.ts'
import { until } from '../engine/harness.ts'
import { freePort } from '../services.ts'
import { workNonconformance } from '../workflows/helpers.ts'
import { sharedPostgresMissing } from './prerequisites.ts'
import {
  getJson,
  PLANT_SECRETS_ENV,
  plantConfig,
  type QualinkProcess,
  Scratch,
  startQualinkProcess,
} from './qualink-process.ts'
import { faultDescribe, report } from './report.ts'

/**
 * Issue 8 (Tests), the in-process check and the finished goods release with their process
 * killed mid-run: a real `qualink start` process on each dialect, the S/4 and QMS simulators,
 * and the simulator's `beforeAnswer` hook SIGKILLing the process once an ERP change is applied
 * and before its answer leaves (deterministic, no timing). A new process on the same database
 * takes the run over when the dead one's lease lapses. Invariants: each ERP effect exists once
 * where the simulator counts it (the order's hold changes, confirmations as posted — never
 * deduplicated —, the delivery's block changes, material documents per lot and bucket), the
 * QMS holds one nonconformance, the run completes.
 */
const LEASE_MS = 3000
const ORDER = 'PO-K1'
const LOT = 'FK-1'
const DELIVERY = '80000071'
const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }

const scenario = (dialect: Dialect) => () => {
  let db: TestDatabase
  let scratch: Scratch
  let erp: ErpS4Sim
  let qms: QmsSim
  let port: number
  const procs: QualinkProcess[] = []

  beforeEach(async () => {
    db = await createTestDatabase(dialect, { migrated: true })
    scratch = new Scratch()
    port = await freePort()
    erp = await startErpS4({
      // not inspection-relevant: a receipt of FG-1 lands in unrestricted stock
      materials: { 'FG-1': { inspectionRelevant: false, baseUnit: 'PC' } },
      productionOrders: [
        { ManufacturingOrder: ORDER, Material: 'FG-1', ProductionPlant: '1000', TotalQuantity: '100' },
      ],
    })
    erp.createDelivery(
      {
        DeliveryDocument: DELIVERY,
        ShipToParty: 'CUST-1',
        items: [{ Material: 'FG-1', Plant: '1000', Batch: LOT, quantity: '10' }],
      },
      'QA',
    )
    qms = await startQms({
      webhook: {
        url: `http://127.0.0.1:${port}/v1/ingress/qms`,
        secret: PLANT_SECRETS_ENV.FAULT_QMS_SECRET,
      },
    })
  })
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill()
    await erp?.close()
    await qms?.close()
    await db?.cleanup()
    scratch?.remove()
  })

  const start = async () => {
    const p = await startQualinkProcess(scratch, {
      db,
      port,
      config: plantConfig(erp.url, qms.url, {
        server: { leaseMs: LEASE_MS },
        workflows: {
          'in-process-quality-check': { enabled: true, defaults: { confirmToErp: true } },
          'finished-goods-release': { enabled: true },
        },
      }),
      env: PLANT_SECRETS_ENV,
    })
    procs.push(p)
    return p
  }
  /** SIGKILLs `p` once the ERP applied the first request matching; resolves with when */
  const killAfter = (p: QualinkProcess, method: string, path: string) =>
    new Promise<number>((resolve) => {
      erp.beforeAnswer = async (req) => {
        if (req.method !== method || !req.path.includes(path)) return
        erp.beforeAnswer = undefined
        const at = Date.now()
        await p.kill()
        resolve(at)
      }
    })
  const post = async (p: QualinkProcess, type: string, subject: string, data: Record<string, unknown>) => {
    const r = await fetch(`${p.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source: 'urn:test',
        type,
        subject,
        plant: '1000',
        data,
      }),
    })
    expect(r.status).toBe(202)
  }
  const runsOf = async (p: QualinkProcess, key: string) =>
    (await getJson<{ runs: RunRow[] }>(`${p.url}/v1/runs?key=${key}&limit=5`)).runs
  const runIs = async (p: QualinkProcess, key: string, status: string) => {
    await until(async () => (await runsOf(p, key)).some((r) => r.status === status), 60_000)
    return (await runsOf(p, key)).find((r) => r.status === status)!
  }
  /** the run's journaled steps, as the API lists them: each once however often the process died */
  const stepsOf = async (p: QualinkProcess, run: RunRow) =>
    (await getJson<{ journal: Array<{ kind: string; name: string }> }>(`${p.url}/v1/runs/${run.id}`)).journal
      .filter((j) => j.kind === 'step')
      .map((j) => j.name)
  const order = () => erp.state.productionOrders.find((o) => o.order === ORDER)!
  const confirmations = () => erp.state.confirmations.filter((c) => c.order === ORDER)
  const ncs = () => [...qms.model.nonconformances.values()].filter((n) => n.batch === LOT)

  it('in-process check: killed after the hold and again after the confirmation, each effect once', async () => {
    const a = await start()
    const killedAtHold = killAfter(a, 'PATCH', 'A_ProductionOrder_2')
    await post(a, 'mes.operation.completed.v1', ORDER, {
      operation: { productionOrder: ORDER, number: '0010', workCenter: 'L1' },
      plant: '1000',
      measurements: [{ characteristic: 'TORQUE', value: '13.6', unit: 'NM' }],
      consumed: [],
      produced: [{ lot: LOT, material: 'FG-1', quantity: { units: 10, scale: 0, uom: 'PC' } }],
      audit,
    })
    const holdKill = await killedAtHold
    expect(order()).toMatchObject({ onHold: true, holdChanges: 1 })
    expect(ncs()).toHaveLength(0) // killed between the hold and the nonconformance

    const b = await start()
    await runIs(b, ORDER, 'waiting')
    const heldAt = Date.now()
    expect(ncs()).toHaveLength(1)
    expect(order()).toMatchObject({ onHold: true, holdChanges: 1 })

    const killedAtConfirmation = killAfter(b, 'POST', 'ProdnOrdConf2')
    await workNonconformance(qms.url, ncs()[0]!.id, ['CONTAINED', 'UNDER_REVIEW'])
    const r = await fetch(`${qms.url}/api/v1/nonconformances/${ncs()[0]!.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'DISPOSITIONED',
        dispositions: [{ disposition: 'REWORK', quantity: '10', unit: 'PC' }],
      }),
    })
    expect(r.status).toBe(200)
    const confirmationKill = await killedAtConfirmation
    expect(confirmations()).toHaveLength(1) // booked; its answer never reached the worker

    const c = await start()
    const run = await runIs(c, ORDER, 'completed')
    const completedAt = Date.now()
    expect(run.result).toMatchObject({ verdict: 'dispositioned', disposition: ['REWORK'] })
    expect(order()).toMatchObject({ onHold: false, holdChanges: 2 })
    expect(confirmations()).toHaveLength(1)
    expect(confirmations()[0]!.postedOnHold).toBe(false)
    expect(ncs()).toHaveLength(1)
    expect(ncs()[0]!.status).toBe('DISPOSITION_EXECUTED')
    expect(await stepsOf(c, run)).toEqual([
      'read-specification', // v3: no plan for the material here, the configured tolerance judges
      'evaluate',
      'hold-order',
      'open-nonconformance',
      'notify-supervisor',
      'block-lot-stock', // the ERP holds no stock of the lot here: nothing to block
      'release-hold',
      'disposition-executed',
      'confirm-production',
    ])
    report(`Issue 8 in-process check SIGKILL after hold and after confirmation (${dialect})`, {
      acked: [ORDER],
      stored: [run.key],
      effects: [
        // the order's hold changes alternate on, off: a repeated pair would show as a duplicate
        ...Array.from({ length: order().holdChanges }, (_, i) => `${ORDER}/${i % 2 ? 'release' : 'hold'}`),
        ...confirmations().map((x) => `${ORDER}/${x.operation}/confirmation`),
        ...ncs().map(() => `${LOT}/nonconformance`),
      ],
      faultEndedAt: confirmationKill,
      recoveredAt: completedAt,
      detail:
        `lease ${LEASE_MS} ms; kill at hold → run waiting on the next process ${heldAt - holdKill} ms; ` +
        `kill at confirmation → run completed ${completedAt - confirmationKill} ms; run attempts ${run.attempts}`,
    })
  })

  it('in-process check: killed after the lot block and after the first disposition line, each document once', async () => {
    const lot = 'FK-2'
    const body = goodsReceipt(lot, '10', '', 'FG-1') as {
      to_MaterialDocumentItem: Array<Record<string, unknown>>
    }
    body.to_MaterialDocumentItem[0]!.EntryUnit = 'PC'
    expect((await s4Client(erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, body)).status).toBe(
      201,
    )
    const stock = () => erp.state.stock.find((s) => s.key.batch === lot)!.buckets
    const docs = () => erp.state.counts.documentsByLotAndBucket[`FG-1|1000|${lot}`]
    const a = await start()
    const killedAtBlock = killAfter(a, 'POST', 'A_MaterialDocumentHeader')
    await post(a, 'mes.operation.completed.v1', ORDER, {
      operation: { productionOrder: ORDER, number: '0010', workCenter: 'L1' },
      plant: '1000',
      measurements: [{ characteristic: 'TORQUE', value: '13.6', unit: 'NM' }],
      consumed: [],
      produced: [{ lot, material: 'FG-1', quantity: { units: 10, scale: 0, uom: 'PC' } }],
      audit,
    })
    const blockKill = await killedAtBlock
    expect(stock()).toMatchObject({ unrestricted: 0, blocked: 10_000 }) // booked; the answer was lost

    const b = await start()
    const waiting = await runIs(b, ORDER, 'waiting')
    const blockedAt = Date.now()
    expect(docs()).toMatchObject({ blocked: 1 })
    // the next process found the killed attempt's transfer by its key instead of reporting none
    const block = (
      await getJson<{ journal: Array<{ name: string; result: unknown }> }>(`${b.url}/v1/runs/${waiting.id}`)
    ).journal.find((j) => j.name === 'block-lot-stock')!.result as { documents: string[] }
    expect(block.documents).toHaveLength(1)

    const nc = [...qms.model.nonconformances.values()].find((n) => n.batch === lot)!
    const killedAtLine = killAfter(b, 'POST', 'A_MaterialDocumentHeader')
    await workNonconformance(qms.url, nc.id, ['CONTAINED', 'UNDER_REVIEW'])
    const r = await fetch(`${qms.url}/api/v1/nonconformances/${nc.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'DISPOSITIONED',
        dispositions: [
          { disposition: 'USE_AS_IS', quantity: '7', unit: 'PC' },
          { disposition: 'SCRAP', quantity: '3', unit: 'PC' },
        ],
      }),
    })
    expect(r.status).toBe(200)
    const lineKill = await killedAtLine
    expect(stock()).toMatchObject({ unrestricted: 7_000, blocked: 3_000 })
    expect(order()).toMatchObject({ onHold: true }) // stock first, hold last

    const c = await start()
    const run = await runIs(c, ORDER, 'completed')
    const completedAt = Date.now()
    expect(stock()).toMatchObject({ unrestricted: 7_000, blocked: 0, scrap: 3_000 })
    expect(docs()).toEqual({ unrestricted: 2, blocked: 1, scrap: 1 }) // receipt + line 1, block, line 2
    expect(erp.state.counts.conservationViolations).toEqual([])
    expect(order()).toMatchObject({ onHold: false, holdChanges: 2 })
    expect(await stepsOf(c, run)).toEqual([
      'read-specification', // v3: no plan for the material here, the configured tolerance judges
      'evaluate',
      'hold-order',
      'open-nonconformance',
      'notify-supervisor',
      'block-lot-stock',
      'execute-disposition-line',
      'execute-disposition-line',
      'release-hold',
      'disposition-executed',
      'confirm-production',
    ])
    report(`Issue 8 in-process check SIGKILL after the lot block and after a disposition line (${dialect})`, {
      acked: [ORDER],
      stored: [run.key],
      // the ERP's documents per lot and bucket: a repeated block or line shows as a duplicate
      effects: [
        ...Array.from({ length: docs()?.blocked ?? 0 }, () => `${lot}/block`),
        ...Array.from({ length: (docs()?.unrestricted ?? 0) - 1 }, () => `${lot}/line-1-use-as-is`), // less the receipt
        ...Array.from({ length: docs()?.scrap ?? 0 }, () => `${lot}/line-2-scrap`),
      ],
      faultEndedAt: lineKill,
      recoveredAt: completedAt,
      detail:
        `lease ${LEASE_MS} ms; kill at block → run waiting on the next process ${blockedAt - blockKill} ms; ` +
        `kill at line 1 → run completed ${completedAt - lineKill} ms; run attempts ${run.attempts}`,
    })
  })

  it('finished goods release: killed after the block removal, removed once', async () => {
    const a = await start()
    const killed = killAfter(a, 'PATCH', 'A_OutbDeliveryHeader')
    await post(a, 'qms.usage_decision.made.v1', LOT, {
      inspectionLot: `IL-${LOT}`,
      plant: '1000',
      lot: LOT,
      code: 'A1',
      valuation: 'accepted',
      stockPostings: [],
      audit,
    })
    await post(a, 'lims.result.reported.v1', LOT, {
      sample: `S-${LOT}`,
      lot: LOT,
      plant: '1000',
      tests: [{ characteristic: 'HARDNESS', value: '58', unit: 'HRC', result: 'pass' }],
      audit,
    })
    await post(a, 'mes.packaging.verified.v1', LOT, {
      lot: LOT,
      plant: '1000',
      delivery: DELIVERY,
      checks: [{ name: 'label', passed: true }],
      verified: true,
      audit,
    })
    const killedAt = await killed
    const delivery = () => erp.state.deliveries.find((d) => d.delivery === DELIVERY)!
    // created blocked (no change counted), then the removal: one change
    expect(delivery()).toMatchObject({ blockReason: '', blockChanges: 1 })

    const b = await start()
    const run = await runIs(b, LOT, 'completed')
    const completedAt = Date.now()
    expect(run.result).toMatchObject({ decision: 'released', delivery: DELIVERY })
    expect(delivery()).toMatchObject({ blockReason: '', blockChanges: 1 })
    expect(await runsOf(b, LOT)).toHaveLength(1)
    expect(await stepsOf(b, run)).toEqual(['evaluate-release', 'remove-delivery-block'])
    report(`Issue 8 finished goods release SIGKILL after the block removal (${dialect})`, {
      acked: [LOT],
      stored: [run.key],
      effects: Array.from({ length: delivery().blockChanges }, () => `${DELIVERY}/unblock`),
      faultEndedAt: killedAt,
      recoveredAt: completedAt,
      detail: `lease ${LEASE_MS} ms; kill → run completed ${completedAt - killedAt} ms; run attempts ${run.attempts}`,
    })
  })
}

faultDescribe(
  'Issue 8: SIGKILL mid-run, in-process check and release (sqlite)',
  undefined,
  scenario('sqlite'),
)
faultDescribe(
  'Issue 8: SIGKILL mid-run, in-process check and release (postgres)',
  await sharedPostgresMissing(),
  scenario('postgres'),
)
