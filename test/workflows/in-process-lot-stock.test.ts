/**
 * The in-process check's effects on the produced lot's stock (issue 8 item 2), over the S/4 and
 * QMS simulators on each dialect: the lot's unrestricted stock is blocked in the ERP while its
 * nonconformance is open (a transfer out of unrestricted is refused there), each disposition line
 * is then posted from blocked stock to its bucket with one document, the lot's stock adds up to
 * what was received, and the audit trail names each step. A disposition whose lines exceed what
 * was blocked posts nothing and keeps the hold. A run started on version 1 (no lot block) and
 * waiting for its disposition finishes on version 2's code.
 */
import { describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { eventLogHistory } from '../../src/projections/measurement-history.ts'
import { DEFAULT_IN_PROCESS_SETTINGS, inProcessQualityCheck } from '../../src/workflows/in-process-check.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { auditStory, times } from './fault-matrix.ts'
import { postEvent, workNonconformance } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'mes-p100', approvalStatus: 'not_required' }
const ORDER = 'PO-7'
const pc = (n: number) => ({ units: n, scale: 0, uom: 'PC' })

describe.each(DIALECTS)(
  'in-process check: the lot stock blocked and dispositioned on %s',
  (dialect: Dialect) => {
    const hub = usePlantHub(dialect, () => ({
      erp: {
        // FG-1 is not inspection-relevant here: its production receipt lands in unrestricted stock
        materials: { 'FG-1': { inspectionRelevant: false, baseUnit: 'PC' } },
        productionOrders: [
          { ManufacturingOrder: ORDER, Material: 'FG-1', ProductionPlant: '1000', TotalQuantity: '100' },
        ],
      },
      qms: {},
      ports: ({ store }) => ({ history: eventLogHistory(store) }),
      deferStart: true,
    }))
    const boot = () => hub.start({ workflows: [inProcessQualityCheck()] })

    /** the produced lot received into the ERP's stock (10 PC, kept by the simulator at 3 decimals) */
    const receive = async (lot: string) => {
      const body = goodsReceipt(lot, '10', '', 'FG-1') as {
        to_MaterialDocumentItem: Array<Record<string, unknown>>
      }
      body.to_MaterialDocumentItem[0]!.EntryUnit = 'PC'
      const res = await s4Client(hub.erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, body)
      expect(res.status).toBe(201)
    }
    const stock = (lot: string) => hub.erp.state.stock.find((s) => s.key.batch === lot)!.buckets
    const docs = (lot: string) => hub.erp.state.counts.documentsByLotAndBucket[`FG-1|1000|${lot}`]
    const complete = (lot: string) =>
      postEvent(hub.q, 'mes.operation.completed.v1', ORDER, {
        operation: { productionOrder: ORDER, number: '0010', workCenter: 'L1' },
        plant: 'P100',
        measurements: [{ characteristic: 'TORQUE', value: '13.6', unit: 'NM' }],
        consumed: [],
        produced: [{ lot, material: 'FG-1', quantity: pc(10) }],
        audit,
      })
    const runs = () => hub.store.engine.listRuns(ALL, { key: ORDER, limit: 10 })
    const runIs = async (status: string) => {
      await until(async () => (await runs()).some((r) => r.status === status), 45_000)
      return (await runs()).find((r) => r.status === status)!
    }
    const order = () => hub.erp.state.productionOrders.find((o) => o.order === ORDER)!
    const ncOf = (lot: string) => [...hub.qms.model.nonconformances.values()].find((n) => n.batch === lot)!
    const dispose = async (lot: string, lines: Array<{ code: string; quantity: ReturnType<typeof pc> }>) => {
      const nc = ncOf(lot)
      await workNonconformance(hub.qms.url, nc.id)
      await postEvent(hub.q, 'qms.nonconformance.dispositioned.v1', lot, {
        disposition: { id: `D-${lot}`, plant: 'P100', lot, nonconformance: nc.id, lines, audit },
      })
    }
    const steps = async (runId: string) =>
      (await hub.store.engine.loadRun(ALL, runId))!.journal
        .filter((j) => j.kind === 'step')
        .map((j) => j.name)

    it('blocks the lot while the NC is open, posts each line to its bucket once, then releases the hold', async () => {
      await boot()
      const lot = 'FG-L1'
      await receive(lot)
      expect(stock(lot)).toMatchObject({ unrestricted: 10_000, blocked: 0 })
      await complete(lot)
      await runIs('waiting')
      expect(order()).toMatchObject({ onHold: true })
      expect(stock(lot)).toMatchObject({ unrestricted: 0, blocked: 10_000 })
      expect(docs(lot)).toMatchObject({ blocked: 1 })
      // the warehouse cannot move the lot: a transfer out of unrestricted is refused by the ERP
      const tryMove = await s4Client(hub.erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, {
        GoodsMovementCode: '04',
        to_MaterialDocumentItem: [
          {
            Material: 'FG-1',
            Plant: '1000',
            StorageLocation: '0001',
            Batch: lot,
            GoodsMovementType: '322',
            InventoryStockType: '01',
            QuantityInEntryUnit: '1',
            EntryUnit: 'PC',
          },
        ],
      })
      expect(tryMove.status).toBeGreaterThanOrEqual(400)
      expect(stock(lot)).toMatchObject({ unrestricted: 0, qi: 0, blocked: 10_000 })

      await dispose(lot, [
        { code: 'USE_AS_IS', quantity: pc(6) },
        { code: 'SCRAP', quantity: pc(3) },
        { code: 'REWORK', quantity: pc(1) },
      ])
      const run = await runIs('completed')
      // 6 back to unrestricted (343), 3 scrapped (555), 1 left blocked for rework: one document each
      expect(stock(lot)).toMatchObject({ unrestricted: 6_000, blocked: 1_000, scrap: 3_000 })
      expect(docs(lot)).toMatchObject({ blocked: 1, unrestricted: 2, scrap: 1 }) // unrestricted: receipt + 343
      const b = stock(lot)
      expect(Object.values(b).reduce((s, n) => s + n, 0)).toBe(10_000)
      expect(hub.erp.state.counts.conservationViolations).toEqual([])
      expect(order()).toMatchObject({ onHold: false, holdChanges: 2 })
      expect(ncOf(lot).status).toBe('DISPOSITION_EXECUTED')
      expect(await steps(run.id)).toEqual([
        'read-specification', // v3: the QMS holds no plan for FG-1 here, so the configured tolerance judges
        'evaluate',
        'hold-order',
        'open-nonconformance',
        'notify-supervisor',
        'block-lot-stock',
        'execute-disposition-line',
        'execute-disposition-line',
        'release-hold',
        'disposition-executed',
      ])
      expect(run.result).toMatchObject({
        verdict: 'dispositioned',
        lotBlock: { blocked: { units: 10_000, scale: 3, uom: 'PC' } },
        executed: [
          { line: 1, code: 'USE_AS_IS', to: 'unrestricted' },
          { line: 2, code: 'SCRAP', to: 'scrap' },
          { line: 3, code: 'REWORK', to: 'blocked', documents: [] },
        ],
      })
      const story = await auditStory(
        hub.store,
        [lot, ORDER],
        [
          'workflow.step.completed:hold-order',
          'workflow.step.completed:block-lot-stock',
          'workflow.step.completed:execute-disposition-line',
          'workflow.step.completed:execute-disposition-line',
          'workflow.step.completed:release-hold',
          'workflow.completed',
        ],
      )
      expect(times(story, 'workflow.step.completed:execute-disposition-line')).toBe(2)
      // stock first, hold last
      expect(story.lastIndexOf('workflow.step.completed:execute-disposition-line')).toBeLessThan(
        story.indexOf('workflow.step.completed:release-hold'),
      )
    })

    it('a disposition whose lines exceed the blocked stock posts nothing, names the line and keeps the hold', async () => {
      await boot()
      const lot = 'FG-L2'
      await receive(lot)
      await complete(lot)
      await runIs('waiting')
      await dispose(lot, [
        { code: 'USE_AS_IS', quantity: pc(8) },
        { code: 'SCRAP', quantity: pc(5) },
      ])
      await until(
        async () => (await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1,
        45_000,
      )
      const [dl] = await hub.store.engine.listDeadLetters(ALL, { limit: 5 })
      expect(dl).toMatchObject({ key: ORDER, errorCode: 'QLK_DISPOSITION_EXCEEDS_BLOCKED' })
      expect(JSON.stringify(dl)).toMatch(/line 2 \(SCRAP 5 PC\)/)
      expect(stock(lot)).toMatchObject({ unrestricted: 0, blocked: 10_000, scrap: 0 })
      expect(docs(lot)).toMatchObject({ blocked: 1, unrestricted: 1 }) // the block and the receipt only
      expect(order()).toMatchObject({ onHold: true, holdChanges: 1 })
    })

    it('a lot the ERP holds no stock of yet: nothing to block, the lines post nothing, the hold is released', async () => {
      await boot()
      const lot = 'FG-L3'
      await complete(lot)
      const waiting = await runIs('waiting')
      const journal = (await hub.store.engine.loadRun(ALL, waiting.id))!.journal
      expect(journal.find((j) => j.name === 'block-lot-stock')!.result).toEqual({
        lot,
        documents: [],
        blocked: null,
        inQualityInspection: null,
      })
      await dispose(lot, [{ code: 'USE_AS_IS', quantity: pc(10) }])
      const run = await runIs('completed')
      expect(run.result).toMatchObject({ lotBlock: { documents: [], blocked: null }, executed: [] })
      expect(docs(lot)).toBeUndefined()
      expect(order()).toMatchObject({ onHold: false, holdChanges: 2 })
    })

    it("a lot another process had blocked already (a complaint): this run blocks nothing and lifts no one else's block", async () => {
      await boot()
      const lot = 'FG-L6'
      await receive(lot)
      // a complaint run blocked the lot's stock before the operation was reported (344, its own document)
      const complaintBlock = await s4Client(hub.erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, {
        GoodsMovementCode: '04',
        MaterialDocumentHeaderText: 'complaint CMP-1',
        to_MaterialDocumentItem: [
          {
            Material: 'FG-1',
            Plant: '1000',
            StorageLocation: '0001',
            Batch: lot,
            GoodsMovementType: '344',
            InventoryStockType: '01',
            QuantityInEntryUnit: '10',
            EntryUnit: 'PC',
          },
        ],
      })
      expect(complaintBlock.status).toBe(201)
      await complete(lot)
      const waiting = await runIs('waiting')
      const block = (await hub.store.engine.loadRun(ALL, waiting.id))!.journal.find(
        (j) => j.name === 'block-lot-stock',
      )!
      expect(block.result).toMatchObject({ documents: [], blocked: null })
      await dispose(lot, [{ code: 'USE_AS_IS', quantity: pc(10) }])
      const run = await runIs('completed')
      expect(run.result).toMatchObject({ executed: [] })
      // the complaint's block stands: nothing went back to unrestricted
      expect(stock(lot)).toMatchObject({ unrestricted: 0, blocked: 10_000 })
      expect(docs(lot)).toEqual({ unrestricted: 1, blocked: 1 })
      expect(order()).toMatchObject({ onHold: false, holdChanges: 2 })
    })

    it('a second hold of the same order and lot, after the first was dispositioned, blocks the lot again', async () => {
      await boot()
      const lot = 'FG-L7'
      await receive(lot)
      await complete(lot)
      await runIs('waiting')
      await dispose(lot, [{ code: 'USE_AS_IS', quantity: pc(10) }])
      await until(async () => (await runs()).filter((r) => r.status === 'completed').length === 1, 45_000)
      expect(stock(lot)).toMatchObject({ unrestricted: 10_000, blocked: 0 })
      await complete(lot) // the next operation of the order is out of tolerance too
      await until(async () => (await runs()).some((r) => r.status === 'waiting'), 45_000)
      expect(stock(lot)).toMatchObject({ unrestricted: 0, blocked: 10_000 })
      // two blocks, each with its own document (keyed by its nonconformance), and one release line
      expect(docs(lot)).toEqual({ unrestricted: 2, blocked: 2 })
    })

    it('a lot received into quality inspection is left to its inspection lot: nothing blocked, nothing posted', async () => {
      await boot()
      const lot = 'FG-L5'
      // FG-2 is inspection-relevant (the simulator's default): its receipt lands in QI with an inspection lot
      const body = goodsReceipt(lot, '10', '', 'FG-2') as {
        to_MaterialDocumentItem: Array<Record<string, unknown>>
      }
      body.to_MaterialDocumentItem[0]!.EntryUnit = 'PC'
      expect(
        (await s4Client(hub.erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, body)).status,
      ).toBe(201)
      await postEvent(hub.q, 'mes.operation.completed.v1', ORDER, {
        operation: { productionOrder: ORDER, number: '0010', workCenter: 'L1' },
        plant: 'P100',
        measurements: [{ characteristic: 'TORQUE', value: '13.6', unit: 'NM' }],
        consumed: [],
        produced: [{ lot, material: 'FG-2', quantity: pc(10) }],
        audit,
      })
      const waiting = await runIs('waiting')
      const block = (await hub.store.engine.loadRun(ALL, waiting.id))!.journal.find(
        (j) => j.name === 'block-lot-stock',
      )!
      expect(block.result).toEqual({
        lot,
        documents: [],
        blocked: null,
        inQualityInspection: { units: 10_000, scale: 3, uom: 'PC' },
      })
      expect(hub.erp.state.stock.find((s) => s.key.batch === lot)!.buckets).toMatchObject({
        qi: 10_000,
        blocked: 0,
      })
      await dispose(lot, [{ code: 'USE_AS_IS', quantity: pc(10) }])
      await runIs('completed')
      // the lot's only document is its receipt; the QI stock waits for its inspection lot's decision
      expect(hub.erp.state.counts.documentsByLotAndBucket[`FG-2|1000|${lot}`]).toEqual({ qi: 1 })
      expect(order()).toMatchObject({ onHold: false, holdChanges: 2 })
    })

    it('a run started on version 1 and waiting for its disposition finishes on version 2 without QLK_NONDETERMINISM', async () => {
      // Version 1's step sequence is version 2's under a v1 snapshot (no `lotStock`): registered
      // as version 1 with v1's configuration, it is the old code as far as the journal can tell.
      const v2 = inProcessQualityCheck()
      const v1 = { ...v2, version: 1, compatibleWith: undefined, config: () => DEFAULT_IN_PROCESS_SETTINGS }
      await hub.start({ workflows: [v1] })
      const lot = 'FG-L4'
      await receive(lot)
      await complete(lot)
      const waiting = await runIs('waiting')
      expect(waiting.version).toBe(1)
      expect(stock(lot)).toMatchObject({ unrestricted: 10_000, blocked: 0 }) // v1 did not block
      await hub.q.close()
      await hub.start({ workflows: [v2] })
      await dispose(lot, [{ code: 'SCRAP', quantity: pc(10) }])
      const run = await runIs('completed')
      expect(run.id).toBe(waiting.id)
      expect(await steps(run.id)).toEqual([
        'evaluate',
        'hold-order',
        'open-nonconformance',
        'notify-supervisor',
        'release-hold',
        'disposition-executed',
      ])
      // a v1 run blocked nothing, so it posts nothing: the stock stays as the plant left it
      expect(stock(lot)).toMatchObject({ unrestricted: 10_000, blocked: 0, scrap: 0 })
      expect(order()).toMatchObject({ onHold: false, holdChanges: 2 })
      expect(ncOf(lot).status).toBe('DISPOSITION_EXECUTED')
    })
  },
)
