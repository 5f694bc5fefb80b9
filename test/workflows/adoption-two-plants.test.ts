/**
 * `qualink adopt` on examples/two-plants/qualink.yaml (P100 on S/4, P200 on ERPNext, one QMS):
 * each plant is adopted through its configured connectors (adoptFromConfig, what the CLI runs)
 * into a Qualink started from that configuration (two-plants-fixture.ts), on both dialects. The
 * receipts were posted before go-live (no ERP webhooks). P200's ERP plant is its company (given
 * as `--erp-plant`), so a receipt of another company in the same ERPNext is not read. The QMS then decides both lots, and each plant's posting lands once in its own ERP only.
 * From the shared QMS each plant adopts only the open nonconformances shown to be its own (by the
 * NC's inspection lot or its batch's QMS lots); one whose plant nothing shows is left to a person.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import type { AdoptionReport } from '../../src/adoption/adopt.ts'
import { adoptFromConfig } from '../../src/adoption/from-config.ts'
import { httpAppend } from '../../src/cli/commands/adopt.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { RECEIPT_ROW, submitReceiptWithInspection } from './erpnext-receipts.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf } from './helpers.ts'
import { startTwoPlants } from './two-plants-fixture.ts'

const ACTOR = 'cli:go-live-lead'

describe.each(DIALECTS)('go-live adoption of examples/two-plants on %s', (dialect: Dialect) => {
  const closers: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close()
  })

  it('adopts P100 from S/4 and P200 from ERPNext; each run posts once in its own ERP', async () => {
    const tp = await startTwoPlants(dialect, closers, { erpWebhooks: false })
    const { s4, erpnext, qms, store } = tp
    // before go-live: B100 into QI in S/4 (plant P100); B200 into P200's QI warehouse in ERPNext;
    // B201 of another company (Plant A AG) into the same warehouse
    const gr = goodsReceipt('B100', '100') as { to_MaterialDocumentItem: Array<{ Plant: string }> }
    gr.to_MaterialDocumentItem[0]!.Plant = 'P100'
    expect((await s4Client(s4.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, gr)).status).toBe(201)
    const { qi } = await submitReceiptWithInspection(erpnext, 'Quality Inspection - P200')
    await submitReceiptWithInspection(
      erpnext,
      'Quality Inspection - P200',
      { ...RECEIPT_ROW, batch_no: 'B201' },
      'Plant A AG',
    )

    // P200's ERP code is its company; the example declares it for the webhook source (erp-p200),
    // not for the connector, so it is given as `--erp-plant "Plant B GmbH"` would give it
    const adopt = (plant: string, dryRun = false) =>
      adoptFromConfig(tp.loaded, {
        plant,
        actor: ACTOR,
        dryRun,
        append: httpAppend({ url: `http://127.0.0.1:${tp.port}`, actor: ACTOR }),
        env: tp.env,
        ...(plant === 'P200' ? { erpPlant: 'Plant B GmbH' } : {}),
      })
    const listed = (r: AdoptionReport) => r.items.map((i) => [i.subject, i.kind, i.outcome])

    expect(listed(await adopt('P200', true))).toEqual([['B200', 'receipt', 'would-adopt']])
    expect(await store.listEvents(ALL, { limit: 10 })).toHaveLength(0)
    const p100 = await adopt('P100')
    const p200 = await adopt('P200')
    expect(listed(p100)).toEqual([['B100', 'receipt', 'adopted']])
    expect(listed(p200)).toEqual([['B200', 'receipt', 'adopted']])
    expect(p200.items[0]!.eventId).toBe(`receipt-${qi.name}`)

    // each run created its QMS lot in its plant; adopting again stores nothing
    const lot100 = await inspectionLotOf(qms, 'B100')
    const lot200 = await inspectionLotOf(qms, 'B200')
    expect([lot100.plant, lot200.plant]).toEqual(['P100', 'P200'])
    expect(await adopt('P100')).toMatchObject({ adopted: 0, alreadyAdopted: 1 })
    expect(await adopt('P200')).toMatchObject({ adopted: 0, alreadyAdopted: 1 })
    expect(qms.state.inspectionLots.map((l) => l.batch).sort()).toEqual(['B100', 'B200'])

    qms.makeUsageDecision(lot100.id, ACCEPT_SPLIT_60_30_10)
    qms.makeUsageDecision(lot200.id, ACCEPT_SPLIT_60_30_10)
    const runOf = async (lot: string) => (await store.engine.listRuns(ALL, { key: lot, limit: 5 }))[0]
    await until(async () => (await runOf('B100'))?.status === 'completed', 60_000)
    await until(async () => (await runOf('B200'))?.status === 'completed', 60_000)
    expect([(await runOf('B100'))!.plant, (await runOf('B200'))!.plant]).toEqual(['P100', 'P200'])

    // P100's postings in S/4 only, one document per bucket
    expect(s4.state.counts.documentsByLotAndBucket).toEqual({
      'RAW-100|P100|B100': { qi: 1, unrestricted: 1, blocked: 1, scrap: 1 },
    })
    // P200's in ERPNext only: one Stock Entry of three rows; B201 (another company) untouched
    expect(erpnext.state.counts.submittedStockEntriesByBatch).toEqual({ B200: 3 })
    const bins = (batch: string) =>
      Object.fromEntries(erpnext.state.bins.filter((b) => b.batch === batch).map((b) => [b.warehouse, b.qty]))
    expect(bins('B200')).toEqual({
      'Quality Inspection - P200': 0,
      'Stores - P200': 60_000,
      'Quarantine - P200': 30_000,
      'Scrap - P200': 10_000,
    })
    expect(bins('B201')).toEqual({ 'Quality Inspection - P200': 100_000 })
    expect(await runOf('B201')).toBeUndefined()
    expect(await store.engine.listDeadLetters(ALL, { limit: 5 })).toHaveLength(0)
  })

  it('adopts from the shared QMS only each plant’s own open nonconformances; an undetermined one is left to a person', async () => {
    const tp = await startTwoPlants(dialect, closers, { erpWebhooks: false })
    const { qms, store } = tp
    const post = async (p: string, body: object) => {
      const r = await fetch(`${qms.url}/api/v1${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(r.status, p).toBe(201)
      return ((await r.json()) as { id: string }).id
    }
    // the QMS's inspection lots say whose a batch is: N-100 is P100's, N-200 is P200's
    const lot = (batch: string, plant: string) =>
      post('/inspection-lots', { material: 'RAW-100', batch, plant, quantity: '10', unit: 'KG' })
    const lot200 = await lot('N-200', 'P200')
    await lot('N-100', 'P100')
    const ncByLot = await post('/nonconformances', {
      title: 'Burr',
      inspectionLotId: lot200,
      severity: 'MINOR',
    })
    const ncP100 = await post('/nonconformances', { title: 'Dent', batch: 'N-100', severity: 'MINOR' })
    const ncP200 = await post('/nonconformances', { title: 'Crack', batch: 'N-200', severity: 'MAJOR' })
    const ncNowhere = await post('/nonconformances', { title: 'Odour', batch: 'N-???', severity: 'MINOR' })

    const adopt = (plant: string, dryRun = false) =>
      adoptFromConfig(tp.loaded, {
        plant,
        actor: ACTOR,
        dryRun,
        append: httpAppend({ url: `http://127.0.0.1:${tp.port}`, actor: ACTOR }),
        env: tp.env,
        ...(plant === 'P200' ? { erpPlant: 'Plant B GmbH' } : {}),
      })
    const listed = (r: AdoptionReport) =>
      Object.fromEntries(r.items.map((i) => [i.subject, `${i.outcome} ${i.kind}`]))
    const p100 = await adopt('P100')
    expect(listed(p100)).toEqual({
      [ncP100]: 'adopted nonconformance',
      [ncNowhere]: 'left-alone needs-a-person',
    })
    expect(p100.items.find((i) => i.subject === ncNowhere)!.detail).toContain(
      "the QMS serves plants P100, P200 and this nonconformance's plant is not determined",
    )
    expect(listed(await adopt('P200'))).toEqual({
      [ncByLot]: 'adopted nonconformance',
      [ncP200]: 'adopted nonconformance',
      [ncNowhere]: 'left-alone needs-a-person',
    })
    const recorded = await store.listEvents(ALL, { type: 'qms.nonconformance.opened.v1', limit: 10 })
    expect(
      Object.fromEntries(
        recorded.map((e) => [
          (e.envelope.data as { nonconformance: { id: string } }).nonconformance.id,
          e.envelope.plant,
        ]),
      ),
    ).toEqual({ [ncP100]: 'P100', [ncByLot]: 'P200', [ncP200]: 'P200' })
  })
})
