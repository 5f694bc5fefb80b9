/**
 * `qualink synthetic run` against the S/4 and QMS simulators: a good configuration passes every
 * step of the four workflows and leaves the ERP's physical stock, holds and blocks as they were;
 * an unreachable QMS fails the run naming the QMS step (and the receipt is still taken back); a
 * plant without designated test materials is refused before anything is touched.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { loadConfig } from '../../src/config/load.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import { runSynthetic } from '../../src/synthetic/run.ts'
import { TempDir } from '../config/fixture.ts'
import {
  physicalStock,
  type SyntheticSims,
  startSyntheticSims,
  syntheticDoc,
  TEST_DELIVERY,
  TEST_ORDER,
  WORKFLOWS,
} from './fixture.ts'

let sims: SyntheticSims
let tmp: TempDir

beforeEach(async () => {
  sims = await startSyntheticSims()
  tmp = new TempDir()
  // real stock beside the test material: the run must not touch it
  const gr = goodsReceipt('REAL1', '40', '', 'RAW-100') as {
    to_MaterialDocumentItem: Array<{ Plant: string }>
  }
  gr.to_MaterialDocumentItem[0]!.Plant = 'P100'
  expect((await s4Client(sims.erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, gr)).status).toBe(
    201,
  )
})
afterEach(async () => {
  await sims.close()
  tmp.remove()
})

describe('synthetic run', () => {
  it('passes every step of the four workflows and leaves stock, holds and blocks as they were', async () => {
    const stockBefore = physicalStock(sims.erp)
    const ordersBefore = sims.erp.state.productionOrders.map((o) => [o.order, o.onHold])
    const deliveriesBefore = sims.erp.state.deliveries.map((d) => [d.delivery, d.blockReason])
    const loaded = loadConfig(
      tmp.write('qualink.yaml', syntheticDoc({ erp: sims.erp.url, qms: sims.qms.url })),
      {},
    )

    const report = await runSynthetic(loaded, { runId: 'T0000001', env: {} })

    const failed = report.steps.filter((s) => s.status !== 'passed')
    expect(failed).toEqual([])
    expect(report.passed).toBe(true)
    expect(new Set(report.steps.map((s) => s.workflow))).toEqual(new Set(WORKFLOWS))
    expect(report.steps.map((s) => s.step)).toEqual(
      expect.arrayContaining([
        'erp.post-goods-receipt',
        'qms.create-inspection-lot',
        'erp.record-usage-decision',
        'erp.post-stock-disposition',
        'erp.block-suspect-lot',
        'erp.unblock-lot',
        'qms.cancel-inspection-lot',
        'erp.return-goods-receipt',
        'erp.verify-no-stock-left',
        'erp.hold-production-order',
        'erp.release-production-order-hold',
        'erp.set-delivery-block',
        'erp.remove-delivery-block',
      ]),
    )
    for (const s of report.steps) expect(s.ms).toBeGreaterThanOrEqual(0)

    // the ERP's physical stock is what it was; the test batch's receipt went back to the supplier
    expect(physicalStock(sims.erp)).toEqual(stockBefore)
    const testItems = sims.erp.state.materialDocuments.flatMap((d) =>
      d.items.filter((i) => i.lot.includes('QST0000001')).map((i) => i.movementType),
    )
    // receipt, UD posting to unrestricted, complaint block and unblock, return delivery
    expect(testItems.sort()).toEqual(['101', '122', '321', '343', '344'])
    expect(sims.erp.state.materialDocuments.filter((d) => d.headerText === 'QLK-SYNTH T0000001').length).toBe(
      2,
    )
    expect(sims.erp.state.productionOrders.map((o) => [o.order, o.onHold])).toEqual(ordersBefore)
    expect(sims.erp.state.deliveries.map((d) => [d.delivery, d.blockReason])).toEqual(deliveriesBefore)
    expect(sims.erp.state.productionOrders.find((o) => o.order === TEST_ORDER)?.holdChanges).toBe(2)
    expect(
      sims.erp.state.deliveries.find((d) => d.delivery === TEST_DELIVERY)?.blockChanges,
    ).toBeGreaterThanOrEqual(2)
    // the QMS records it made are cancelled
    expect(
      sims.qms.state.inspectionLots.filter((l) => l.batch === 'QST0000001').map((l) => l.status),
    ).toEqual(['CANCELLED'])
    expect(report.notes.join('\n')).toMatch(/return delivery/)
  })

  it("posts in the ERP's own plant code when the plant declares one (1000 ↔ P100), and passes", async () => {
    const doc = syntheticDoc({ erp: sims.erp.url, qms: sims.qms.url })
    ;(doc.plants as Record<string, Record<string, unknown>>).P100!.idMapping = {
      erp: { entities: ['plant'], unknown: 'reject', plants: { '1000': 'P100' } },
    }
    const stockBefore = physicalStock(sims.erp)
    const report = await runSynthetic(loadConfig(tmp.write('qualink.yaml', doc), {}), {
      runId: 'T0000003',
      env: {},
    })
    expect(report.steps.filter((s) => s.status !== 'passed')).toEqual([])
    expect(report.passed).toBe(true)
    // every document of the test batch is in ERP plant 1000: the receipt (bare connector, the
    // declared code) and the workflow calls (mapped port) alike
    const lots = sims.erp.state.materialDocuments.flatMap((d) =>
      d.items.filter((i) => i.lot.includes('QST0000003')).map((i) => i.lot),
    )
    expect(lots.length).toBe(5)
    expect(new Set(lots)).toEqual(new Set(['TEST-RAW|1000|QST0000003']))
    expect(physicalStock(sims.erp)).toEqual(stockBefore)
  })

  it('fails naming the QMS step when the QMS is unreachable, and still takes the receipt back', async () => {
    const stockBefore = physicalStock(sims.erp)
    const dead = 'http://127.0.0.1:9' // discard port: connection refused
    const doc = syntheticDoc({ erp: sims.erp.url, qms: dead })
    const loaded = loadConfig(tmp.write('qualink.yaml', doc), {})

    const report = await runSynthetic(loaded, { runId: 'T0000002', env: {} })

    expect(report.passed).toBe(false)
    const failed = report.steps.filter((s) => s.status === 'failed')
    expect(failed[0]).toMatchObject({
      workflow: 'supplier-receipt-inspection',
      step: 'qms.create-inspection-lot',
    })
    expect(failed.every((s) => s.step.startsWith('qms.'))).toBe(true)
    expect(report.steps.find((s) => s.step === 'erp.return-goods-receipt')?.status).toBe('passed')
    expect(physicalStock(sims.erp)).toEqual(stockBefore)
  })

  it('refuses a plant without designated test materials before touching anything', async () => {
    const doc = syntheticDoc({ erp: sims.erp.url, qms: sims.qms.url })
    delete (doc.plants as Record<string, Record<string, unknown>>).P100!.synthetic
    const loaded = loadConfig(tmp.write('qualink.yaml', doc), {})
    const documents = sims.erp.state.counts.materialDocuments

    const err = await runSynthetic(loaded, { env: {} }).catch((e: unknown) => e)

    expect(isQualinkError(err) && err.code).toBe('QLK_CONFIG_INVALID')
    expect(isQualinkError(err) && err.errors.map((p) => p.path)).toEqual(['/plants/P100/synthetic/materials'])
    expect(sims.erp.state.counts.materialDocuments).toBe(documents)
  })
})
