/**
 * erp/erpnext's go-live reads and its decision read-back against the ERPNext simulator: which
 * Purchase Receipt rows are open "inspection lots" (docs/connectors.md, erp/erpnext), and a usage
 * decision's Stock Entry posting only what entries naming its Quality Inspection have not moved.
 * Documents are counted in the simulator's state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ErpNextSim, startErpNext } from '../../simulators/erpnext/server.ts'
import { erpNextConnector } from '../../src/connectors/erp/erpnext/connector.ts'
import { ManualClock } from '../../src/connectors/sdk/index.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import { frappe, RECEIPT_ROW, submitReceiptWithInspection } from '../workflows/erpnext-receipts.ts'

const QI = 'Quality Inspection - SIM'
const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
let sim: ErpNextSim
let erp: ReturnType<typeof erpNextConnector.instantiate>

beforeEach(async () => {
  sim = await startErpNext({ port: 0 })
  process.env.QLK_TEST_ERPNEXT_KEY = 'simkey'
  process.env.QLK_TEST_ERPNEXT_SECRET = 'simsecret'
  erp = erpNextConnector.instantiate(
    {
      baseUrl: sim.url,
      apiKeyEnv: 'QLK_TEST_ERPNEXT_KEY',
      apiSecretEnv: 'QLK_TEST_ERPNEXT_SECRET',
      warehouses: {
        unrestricted: 'Stores - SIM',
        qualityInspection: QI,
        blocked: 'Quarantine - SIM',
        scrap: 'Scrap - SIM',
      },
      egress: { timeoutMs: 2000 },
    },
    { name: 'erpnext-test', allowlist: [sim.url], clock: new ManualClock() },
  )
})
afterEach(() => sim.close())

const row = (batch: string) => ({ ...RECEIPT_ROW, batch_no: batch })
/** A Stock Entry moving `qty` of the batch out of QI, naming `inspection` on its row when given. */
const moveOutOfQi = (batch: string, qty: string, to: string, inspection?: string) =>
  frappe(sim, 'POST', 'Stock%20Entry', {
    purpose: 'Material Transfer',
    docstatus: 1,
    items: [
      {
        item_code: RECEIPT_ROW.item_code,
        batch_no: batch,
        qty,
        uom: 'Kg',
        s_warehouse: QI,
        t_warehouse: to,
        ...(inspection ? { quality_inspection: inspection } : {}),
      },
    ],
  })
const entriesOf = (batch: string) =>
  sim.state.docs['Stock Entry']!.filter(
    (d) => d.docstatus === 1 && (d.items as Array<{ batch_no: string }>).some((i) => i.batch_no === batch),
  )

describe('erp/erpnext go-live reads', () => {
  it('lists Purchase Receipt rows in QI with their Quality Inspection; unexplained ones unsettled; by company', async () => {
    const open = await submitReceiptWithInspection(sim, QI, row('A1'))
    // 30 of A2 moved out by its inspection's own entry, 20 by an entry naming none
    const partly = await submitReceiptWithInspection(sim, QI, row('A2'))
    await moveOutOfQi('A2', '30', 'Stores - SIM', partly.qi.name)
    const unexplained = await submitReceiptWithInspection(sim, QI, row('A3'))
    await moveOutOfQi('A3', '20', 'Stores - SIM')
    // A4: fully posted by its inspection's entry; A5: received into Stores; A6: no inspection named
    const done = await submitReceiptWithInspection(sim, QI, row('A4'))
    await moveOutOfQi('A4', '100', 'Stores - SIM', done.qi.name)
    await submitReceiptWithInspection(sim, 'Stores - SIM', row('A5'))
    await frappe(sim, 'POST', 'Purchase%20Receipt', {
      supplier: 'SUP-9',
      posting_date: '2025-03-02',
      docstatus: 1,
      items: [{ ...row('A6'), warehouse: QI }],
    })
    await submitReceiptWithInspection(sim, QI, row('A7'), 'Other Company')

    const lots = await erp.listOpenInspectionLots({ plant: 'Sim Company' })
    expect(lots.map((l) => [l.lot, l.inspectionLot, l.toBePosted.units, l.unsettled ?? ''])).toEqual([
      ['A1', open.qi.name, 100_000, ''],
      ['A2', partly.qi.name, 70_000, ''],
      [
        'A3',
        unexplained.qi.name,
        80_000,
        `100.000 KG of it not posted by entries naming Quality Inspection ${unexplained.qi.name}, but only 80.000 KG of the batch left in ${QI}: stock left QI without naming the inspection`,
      ],
      [
        'A6',
        '',
        100_000,
        expect.stringMatching(/^Purchase Receipt MAT-PRE-\d{4}-\d{5} row 1 names no Quality Inspection$/),
      ],
    ])
    expect(lots[0]).toEqual({
      inspectionLot: open.qi.name,
      plant: 'Sim Company',
      material: 'RAW-200',
      lot: 'A1',
      supplier: 'SUP-9',
      materialDocument: { id: open.pr.name, year: 2025, item: '1' },
      quantity: kg(100),
      toBePosted: kg(100),
      decidedInErp: false,
    })
    // without a company every company's rows are read; ERPNext has no order on hold to list
    expect((await erp.listOpenInspectionLots()).map((l) => l.lot)).toContain('A7')
    expect(await erp.listHeldProductionOrders()).toEqual([])
  })

  it("a decision's Stock Entry names its inspection and posts only what its entries have not moved", async () => {
    const { qi } = await submitReceiptWithInspection(sim, QI, row('D1'))
    // the old integration released 30 of the decided 70 by an entry naming the inspection
    await moveOutOfQi('D1', '30', 'Stores - SIM', qi.name)
    const input = {
      idempotencyKey: 'run-1/post-stock',
      inspectionLot: qi.name,
      lot: { plant: 'P1', material: RECEIPT_ROW.item_code, lot: 'D1' },
      lines: [
        { bucket: 'release' as const, quantity: kg(70) },
        { bucket: 'scrap' as const, quantity: kg(30) },
      ],
    }
    const r = await erp.postStockDisposition(input)
    expect(r).toMatchObject({ alreadyDone: false })
    const ours = sim.state.docs['Stock Entry']!.find((d) => d.name === r.documents[0])!
    expect(
      (ours.items as Array<Record<string, unknown>>).map((i) => [i.t_warehouse, i.qty, i.quality_inspection]),
    ).toEqual([
      ['Stores - SIM', '40.000', qi.name],
      ['Scrap - SIM', '30.000', qi.name],
    ])
    expect(await erp.postStockDisposition(input)).toEqual({ documents: r.documents, alreadyDone: true })
    // everything decided is moved: another key posts nothing either
    expect(await erp.postStockDisposition({ ...input, idempotencyKey: 'run-2/post-stock' })).toEqual({
      documents: [entriesOf('D1')[0]!.name, r.documents[0]],
      alreadyDone: true,
    })
    expect(entriesOf('D1')).toHaveLength(2)
  })

  it('more already moved for the inspection than the decision puts there is a conflict; nothing posted', async () => {
    const { qi } = await submitReceiptWithInspection(sim, QI, row('C1'))
    await moveOutOfQi('C1', '50', 'Scrap - SIM', qi.name)
    const err = await erp
      .postStockDisposition({
        idempotencyKey: 'run-3/post-stock',
        inspectionLot: qi.name,
        lot: { plant: 'P1', material: RECEIPT_ROW.item_code, lot: 'C1' },
        lines: [
          { bucket: 'release', quantity: kg(90) },
          { bucket: 'scrap', quantity: kg(10) },
        ],
      })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect((err as PermanentError).code).toBe('QLK_REMOTE_CONFLICT')
    expect((err as Error).message).toContain(`already moved 50.000 KG of it to Scrap - SIM`)
    expect(entriesOf('C1')).toHaveLength(1)
  })
})
