import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verifySignature } from '../shared/signing.ts'
import { type Receiver, startReceiver } from '../shared/test-support.ts'
import { type ErpS4Sim, startErpS4 } from './server.ts'
import { goodsReceipt, LOTS, MATDOC, type S4TestClient, s4Client } from './test-client.ts'

type One = { d: Record<string, unknown> }
type Many = { d: { results: Array<Record<string, unknown>> } }
type ErrBody = { error: { code: string; message: { value: string } } }

let sim: ErpS4Sim
let hook: Receiver
let c: S4TestClient

beforeEach(async () => {
  hook = await startReceiver()
  sim = await startErpS4({
    port: 0,
    webhook: { url: hook.url, secret: 'whsec' },
    productionOrders: [
      { ManufacturingOrder: '1000123', Material: 'FG-1', ProductionPlant: '1000', TotalQuantity: '50' },
    ],
    deliveries: [
      {
        DeliveryDocument: '80000001',
        ShipToParty: 'C-9',
        items: [{ Material: 'FG-1', Plant: '1000', Batch: 'B1', quantity: '5' }],
      },
    ],
  })
  c = s4Client(sim.url)
})
afterEach(async () => {
  await sim.close()
  await hook.close()
})

async function receive(batch: string, qty: string): Promise<string> {
  const res = await c.send('POST', `${MATDOC}/A_MaterialDocumentHeader`, goodsReceipt(batch, qty))
  expect(res.status).toBe(201)
  const body = await c.json<One>(res)
  const items = (body.d.to_MaterialDocumentItem as { results: Array<{ InspectionLot: string }> }).results
  return items[0]!.InspectionLot
}

async function lotEtag(lot: string): Promise<string> {
  const res = await c.get(`${LOTS}/A_InspectionLot('${lot}')`)
  return res.headers.get('etag')!
}

async function decide(lot: string, code = 'A'): Promise<void> {
  const res = await c.send('POST', `${LOTS}/A_InspLotUsageDecision`, {
    InspectionLot: lot,
    InspectionLotUsageDecisionCode: code,
  })
  expect(res.status).toBe(201)
}

async function postUd(
  lot: string,
  stockType: string,
  qty: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  return c.send(
    'POST',
    `${LOTS}/A_InspLotMatlDocItem`,
    { InspectionLot: lot, UsageDecisionStockType: stockType, InspLotQtyPosted: qty },
    {
      'if-match': await lotEtag(lot),
      ...extra,
    },
  )
}

describe('erp-s4 simulator', () => {
  it('refuses a modifying request without a fetched CSRF token', async () => {
    const res = await fetch(`${sim.url}${MATDOC}/A_MaterialDocumentHeader`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(goodsReceipt('B1', '10')),
    })
    expect(res.status).toBe(403)
    expect(res.headers.get('x-csrf-token')).toBe('Required')
    expect(await res.text()).toBe('CSRF token validation failed')
    await c.token()
    sim.csrf.expireAll()
    const stale = await c.send('POST', `${MATDOC}/A_MaterialDocumentHeader`, goodsReceipt('B1', '10'))
    expect(stale.status).toBe(403)
    expect(sim.state.counts.materialDocuments).toBe(0)
  })

  it('books a goods receipt into QI stock, opens an origin-01 lot, publishes webhook and feed', async () => {
    const lot = await receive('B1', '100.5')
    expect(lot).toMatch(/^01\d{10}$/)
    const st = sim.state
    expect(st.stock[0]!.buckets.qi).toBe(100_500)
    expect(st.inspectionLots[0]).toMatchObject({ origin: '01', quantity: 100_500, toBePosted: 100_500 })
    const [delivery] = await hook.waitFor(1)
    const payload = JSON.parse(delivery!.body) as Record<string, unknown>
    expect(payload).toMatchObject({
      eventType: 'GoodsReceiptPosted',
      InspectionLot: lot,
      Batch: 'B1',
      QuantityInEntryUnit: '100.500',
    })
    expect(verifySignature('whsec', String(delivery!.headers['x-erp-signature']), delivery!.body)).toBe(true)
    const feed = await c.json<Many>(
      await c.get('/sap/opu/odata/sap/ZQUALINK_GR_FEED_SRV/GoodsReceiptEvents?$filter=EventSequence gt 0'),
    )
    expect(feed.d.results.map((e) => e.InspectionLot)).toEqual([lot])
    const after = await c.json<Many>(
      await c.get('/sap/opu/odata/sap/ZQUALINK_GR_FEED_SRV/GoodsReceiptEvents?$filter=EventSequence gt 1'),
    )
    expect(after.d.results).toEqual([])
  })

  it('posts a split usage decision and answers a further posting with QA 185', async () => {
    const lot = await receive('B2', '100')
    await decide(lot, 'R')
    for (const [t, q] of [
      ['VMENGE01', '60'],
      ['VMENGE02', '30'],
      ['VMENGE04', '10'],
    ] as const) {
      expect((await postUd(lot, t, q)).status).toBe(201)
    }
    const st = sim.state
    expect(st.stock[0]!.buckets).toMatchObject({
      qi: 0,
      unrestricted: 60_000,
      scrap: 30_000,
      blocked: 10_000,
    })
    expect(st.inspectionLots[0]).toMatchObject({ toBePosted: 0, stockPostingCompleted: true })
    const again = await postUd(lot, 'VMENGE01', '60')
    expect(again.status).toBe(400)
    const err = await c.json<ErrBody>(again)
    expect(err.error.code).toBe('QA/185')
    expect(err.error.message.value).toContain('QA 185')
    const lotRead = await c.json<One>(await c.get(`${LOTS}/A_InspectionLot('${lot}')`))
    expect(lotRead.d).toMatchObject({
      InspLotQtyToFree: '60.000',
      InspLotQtyToScrap: '30.000',
      InspLotQtyToBePosted: '0.000',
      InspLotIsStockPostingCompleted: true,
    })
    const postings = await c.json<Many>(
      await c.get(`${LOTS}/A_InspLotMatlDocItem?$filter=InspectionLot eq '${lot}'`),
    )
    expect(postings.d.results).toHaveLength(3)
  })

  it('enforces ETag concurrency: stale If-Match 412, missing 428', async () => {
    const lot = await receive('B3', '10')
    const stale = await lotEtag(lot)
    await decide(lot)
    const r412 = await postUd(lot, 'VMENGE01', '1', { 'if-match': stale })
    expect(r412.status).toBe(412)
    const r428 = await c.send('POST', `${LOTS}/A_InspLotMatlDocItem`, {
      InspectionLot: lot,
      UsageDecisionStockType: 'VMENGE01',
      InspLotQtyPosted: '1',
    })
    expect(r428.status).toBe(428)
    const lotNow = await c.json<One>(await c.get(`${LOTS}/A_InspectionLot('${lot}')`))
    const viaBody = await c.send('POST', `${LOTS}/A_InspLotMatlDocItem`, {
      InspectionLot: lot,
      UsageDecisionStockType: 'VMENGE01',
      InspLotQtyPosted: '1',
      ChangedDateTime: lotNow.d.ChangedDateTime,
    })
    expect(viaBody.status).toBe(201)
    expect(sim.state.counts.lotPostings).toBe(1)
  })

  it('does not deduplicate: the same posting twice makes two documents', async () => {
    const body = goodsReceipt('B4', '5', 'QLK:run-1:gr')
    await c.send('POST', `${MATDOC}/A_MaterialDocumentHeader`, body, { 'idempotency-key': 'k1' })
    await c.send('POST', `${MATDOC}/A_MaterialDocumentHeader`, body, { 'idempotency-key': 'k1' })
    const st = sim.state
    expect(st.counts.materialDocuments).toBe(2)
    expect(st.counts.documentsByLotAndBucket['RAW-100|1000|B4']).toEqual({ qi: 2 })
    expect(st.counts.inspectionLots).toBe(2)
  })

  it('commit-then-drop: the document exists although the client saw a socket error', async () => {
    sim.faults.set({
      dropResponseRate: 1,
      times: 1,
      match: { method: 'POST', path: 'A_MaterialDocumentHeader' },
    })
    await c.token()
    await expect(
      c.send('POST', `${MATDOC}/A_MaterialDocumentHeader`, goodsReceipt('B5', '7', 'QLK:run-9:gr')),
    ).rejects.toThrow()
    expect(sim.state.faultsInjected.dropResponse).toBe(1)
    const readBack = await c.json<Many>(
      await c.get(
        `${MATDOC}/A_MaterialDocumentHeader?$filter=MaterialDocumentHeaderText eq 'QLK:run-9:gr'&$expand=to_MaterialDocumentItem`,
      ),
    )
    expect(readBack.d.results).toHaveLength(1)
    expect(sim.state.stock[0]!.buckets.qi).toBe(7_000)
  })

  it('commit-then-drop on the UD stock posting: read-back shows it, the retry gets QA 185', async () => {
    const lot = await receive('B9', '20')
    await decide(lot)
    const etag = await lotEtag(lot)
    sim.faults.set({ dropResponseRate: 1, times: 1, match: { path: 'A_InspLotMatlDocItem' } })
    const body = { InspectionLot: lot, UsageDecisionStockType: 'VMENGE01', InspLotQtyPosted: '20' }
    await expect(c.send('POST', `${LOTS}/A_InspLotMatlDocItem`, body, { 'if-match': etag })).rejects.toThrow()
    const back = await c.json<Many>(
      await c.get(`${LOTS}/A_InspLotMatlDocItem?$filter=InspectionLot eq '${lot}'`),
    )
    expect(back.d.results.map((p) => p.InspLotQtyPosted)).toEqual(['20.000'])
    const retry = await postUd(lot, 'VMENGE01', '20')
    expect((await c.json<ErrBody>(retry)).error.code).toBe('QA/185')
    expect(sim.state.counts.documentsByLotAndBucket['RAW-100|1000|B9']).toEqual({ qi: 1, unrestricted: 1 })
  })

  it('cancels a document with a reversal and refuses a second cancel', async () => {
    const res = await c.send(
      'POST',
      `${MATDOC}/A_MaterialDocumentHeader`,
      goodsReceipt('B6', '3', '', 'PLAIN'),
    )
    const doc = (await c.json<One>(res)).d
    const q = `MaterialDocumentYear='${doc.MaterialDocumentYear}'&MaterialDocument='${doc.MaterialDocument}'`
    expect((await c.send('POST', `${MATDOC}/Cancel?${q}`, {})).status).toBe(200)
    expect(sim.state.stock[0]!.buckets.qi).toBe(0)
    const second = await c.send('POST', `${MATDOC}/Cancel?${q}`, {})
    expect(second.status).toBe(400)
    expect(sim.state.counts.conservationViolations).toEqual([])
  })

  it('publishes a receipt reversal (102) by webhook and feed, naming the reversed document', async () => {
    const res = await c.send('POST', `${MATDOC}/A_MaterialDocumentHeader`, goodsReceipt('B7', '4'))
    const doc = (await c.json<One>(res)).d
    const q = `MaterialDocumentYear='${doc.MaterialDocumentYear}'&MaterialDocument='${doc.MaterialDocument}'`
    const rev = (await c.json<One>(await c.send('POST', `${MATDOC}/Cancel?${q}`, {}))).d
    const got = await hook.waitFor(2)
    const reversed = got.map((d) => JSON.parse(d.body) as Record<string, unknown>)[1]!
    expect(reversed).toMatchObject({
      eventType: 'GoodsReceiptReversed',
      MaterialDocument: rev.MaterialDocument,
      GoodsMovementType: '102',
      Batch: 'B7',
      QuantityInEntryUnit: '4.000',
      InventoryStockType: '02',
      ReversedMaterialDocument: doc.MaterialDocument,
      ReversedMaterialDocumentItem: '1',
    })
    const feed = await c.json<Many>(
      await c.get('/sap/opu/odata/sap/ZQUALINK_GR_FEED_SRV/GoodsReceiptEvents?$filter=EventSequence gt 1'),
    )
    expect(feed.d.results.map((e) => e.GoodsMovementType)).toEqual(['102'])
  })

  it('transfers between stock types with GoodsMovementCode 04 and never lets a bucket go negative', async () => {
    const lot = await receive('B7', '10')
    expect(lot).not.toBe('')
    const transfer = (mt: string, qty: string) =>
      c.send('POST', `${MATDOC}/A_MaterialDocumentHeader`, {
        GoodsMovementCode: '04',
        to_MaterialDocumentItem: [
          {
            Material: 'RAW-100',
            Plant: '1000',
            Batch: 'B7',
            GoodsMovementType: mt,
            QuantityInEntryUnit: qty,
          },
        ],
      })
    expect((await transfer('350', '4')).status).toBe(201)
    const deficit = await transfer('343', '5')
    expect(deficit.status).toBe(400)
    expect((await c.json<ErrBody>(deficit)).error.code).toBe('M7/021')
    expect(sim.state.stock[0]!.buckets).toMatchObject({ qi: 6_000, blocked: 4_000 })
    const stock = await c.json<Many>(
      await c.get(`/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod?$filter=Batch eq 'B7'`),
    )
    expect(stock.d.results.map((r) => [r.InventoryStockType, r.MatlWrhsStkQtyInMatlBaseUnit])).toEqual([
      ['02', '6.000'],
      ['07', '4.000'],
    ])
  })

  it('holds a production order and blocks a delivery under ETag control', async () => {
    const O = `/sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2('1000123')`
    const etag = (await c.get(O)).headers.get('etag')!
    expect(
      (await c.send('PATCH', O, { MfgOrderIsOnHold: true, MfgOrderHoldReason: 'NC-1' }, { 'if-match': etag }))
        .status,
    ).toBe(204)
    expect((await c.send('PATCH', O, { MfgOrderIsOnHold: false }, { 'if-match': etag })).status).toBe(412)
    const D = `/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV;v=0002/A_OutbDeliveryHeader('80000001')`
    const detag = (await c.get(D)).headers.get('etag')!
    expect((await c.send('PATCH', D, { DeliveryBlockReason: '01' }, { 'if-match': detag })).status).toBe(204)
    expect(sim.state.productionOrders[0]).toMatchObject({ onHold: true, reason: 'NC-1', holdChanges: 1 })
    expect(sim.state.deliveries[0]).toMatchObject({ blockReason: '01', blockChanges: 1 })
    const items = await c.json<Many>(
      await c.get(
        `/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV;v=0002/A_OutbDeliveryItem?$filter=Batch eq 'B1'`,
      ),
    )
    expect(items.d.results).toHaveLength(1)
  })
})
