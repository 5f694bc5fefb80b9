/**
 * A plant whose QMS numbers materials and suppliers its own way: the S/4 ERP says RAW-100 and
 * SUP-7, the QMS knows them as Q-7100 and QV-0007, and Qualink speaks enterprise ids (MAT-ENT-100,
 * SUPP-ENT-7). Supplier receipt runs end to end with the goods receipt mapped in (ERP codes →
 * enterprise ids), the QMS inspection lot created with the QMS's codes and the stock posted with
 * the ERP's (reverse mapping on egress), all through src/mapping/id-mapping.ts and the xref store.
 */
import { describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { sapS4GoodsReceiptTranslator } from '../../src/connectors/erp/sap-s4/gr-translator.ts'
import type { IdMappingSettings, XrefRef } from '../../src/mapping/id-mapping.ts'
import { mappedErpPort, mappedQmsPort } from '../../src/workflows/ports/mapped.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf, receiveGoods } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

// the ERP also numbers the plant its own way (1000 ↔ P100), declared as qualink.yaml would
const ERP: IdMappingSettings = {
  system: 'sap-p100',
  entities: ['material', 'supplier', 'plant'],
  unknown: 'reject',
  plants: { '1000': 'P100' },
}
const QMS: IdMappingSettings = { system: 'qms-cloud', entities: ['material', 'supplier'], unknown: 'reject' }
const row = (system: string, entityType: string, externalCode: string, enterpriseId: string) => ({
  plant: 'P100',
  system,
  entityType,
  externalCode,
  enterpriseId,
})

describe.each(DIALECTS)('identity mapping on both sides of a supplier receipt on %s', (dialect: Dialect) => {
  const xref: XrefRef = {}
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' }, 'RAW-200': { baseUnit: 'KG' } }, webhook: true },
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierReceiptInspection()],
    deferStart: true,
  }))

  const start = async () => {
    await hub.store.ingress.upsertXref(
      [
        row('sap-p100', 'material', 'RAW-100', 'MAT-ENT-100'),
        row('sap-p100', 'supplier', 'SUP-7', 'SUPP-ENT-7'),
        row('qms-cloud', 'material', 'Q-7100', 'MAT-ENT-100'),
        row('qms-cloud', 'supplier', 'QV-0007', 'SUPP-ENT-7'),
      ],
      'test',
    )
    await hub.start({
      xref,
      // the hub's sources, now with the plant's mapping (a later translator of a source wins)
      translators: [sapS4GoodsReceiptTranslator('erp-s4', ERP)],
      ports: {
        erp: mappedErpPort(hub.erpConnector!, xref, ERP, 'P100'),
        qms: mappedQmsPort(hub.ports.qms!, xref, QMS, 'P100'),
      },
    })
  }
  const runOf = async (lot: string) => (await hub.store.engine.listRuns(ALL, { key: lot, limit: 5 }))[0]

  it('maps the receipt in, creates the QMS lot with its codes and posts with the ERP’s', async () => {
    await start()
    await receiveGoods(hub.erp, 'B1', '100')
    const qmsLot = await inspectionLotOf(hub.qms, 'B1')
    expect(qmsLot).toMatchObject({ material: 'Q-7100' })
    const [gr] = await hub.store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 1 })
    expect(gr!.envelope.data).toMatchObject({
      lot: { id: 'B1', material: 'MAT-ENT-100', plant: 'P100' },
      supplier: 'SUPP-ENT-7',
    })

    hub.qms.makeUsageDecision(qmsLot.id, ACCEPT_SPLIT_60_30_10)
    await until(async () => (await runOf('B1'))?.status === 'completed', 45_000)
    // the ERP saw only its own material number: one document per bucket on RAW-100
    const docs = hub.erp.state.counts.documentsByLotAndBucket['RAW-100|1000|B1']!
    expect(docs).toEqual({ qi: 1, unrestricted: 1, blocked: 1, scrap: 1 })
    expect(Object.keys(hub.erp.state.counts.documentsByLotAndBucket)).toEqual(['RAW-100|1000|B1'])
    const stock = hub.erp.state.stock.find((s) => s.lot === 'RAW-100|1000|B1')!
    expect(stock.buckets).toMatchObject({ qi: 0, unrestricted: 60_000, blocked: 30_000, scrap: 10_000 })
    expect((await runOf('B1'))!.result).toMatchObject({ score: { supplier: 'SUPP-ENT-7' } })
  })

  it('parks a receipt of an unmapped material naming the field, and resumes once it is mapped', async () => {
    await start()
    const res = await s4Client(hub.erp.url).send(
      'POST',
      `${MATDOC}/A_MaterialDocumentHeader`,
      goodsReceipt('B2', '50', '', 'RAW-200'),
    )
    expect(res.status).toBe(201)
    const parked = async () =>
      (await hub.store.ingress.listRawDeliveries(ALL, { status: 'parked', source: 'erp-s4', limit: 5 }))[0]
    await until(async () => (await parked()) !== undefined)
    const p = (await parked())!
    expect(p.lastErrorCode).toBe('QLK_XREF_MISSING')
    expect(p.lastError).toContain('sap-p100/material/RAW-200@P100')
    expect(hub.qms.state.inspectionLots).toHaveLength(0)

    // mapped on the ERP side but not on the QMS side: the QMS call fails before anything is sent
    await hub.store.ingress.upsertXref([row('sap-p100', 'material', 'RAW-200', 'MAT-ENT-200')], 'test')
    const run = async () => runOf('B2')
    await until(async () => (await run()) !== undefined)
    await until(async () => (await run())!.lastErrorCode === 'QLK_XREF_MISSING', 30_000)
    expect((await run())!.lastError).toContain("/material: no qms-cloud code for material 'MAT-ENT-200'")
    expect(hub.qms.state.inspectionLots).toHaveLength(0)
  })

  it('a changed usage decision compensates in the ERP’s codes: the QMS lot is read back in enterprise ids', async () => {
    await start()
    await receiveGoods(hub.erp, 'B3', '100')
    const qmsLot = await inspectionLotOf(hub.qms, 'B3')
    hub.qms.makeUsageDecision(qmsLot.id, { decision: 'ACCEPT', code: 'A1' })
    await until(async () => (await runOf('B3'))?.status === 'completed', 45_000)
    // the QMS lot names Q-7100; the compensation reads the ERP stock of MAT-ENT-100, sent as RAW-100
    hub.qms.changeUsageDecision(qmsLot.id, { ...ACCEPT_SPLIT_60_30_10, code: 'A3', reason: 'rework found' })
    const changed = async () =>
      (await hub.store.engine.listRuns(ALL, { key: 'B3', limit: 5 })).find(
        (r) =>
          r.status === 'completed' &&
          (r.result as { outcome?: string } | null)?.outcome === 'decision-changed',
      )
    await until(async () => (await changed()) !== undefined, 45_000)
    expect(hub.erp.state.counts.documentsByLotAndBucket).toEqual({
      'RAW-100|1000|B3': { qi: 1, unrestricted: 1, blocked: 1, scrap: 1 },
    })
    const stock = hub.erp.state.stock.find((s) => s.lot === 'RAW-100|1000|B3')!
    expect(stock.buckets).toMatchObject({ qi: 0, unrestricted: 60_000, blocked: 30_000, scrap: 10_000 })
    expect(await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).toHaveLength(0)
  })
})
