/**
 * Plant identity end to end (issue 6), from a qualink.yaml: the plant is P100 in Qualink and `1000`
 * in its S/4 ERP, declared once per system (`plants.P100.idMapping.<name>.plants`). A goods receipt
 * the S/4 simulator posts in plant 1000 runs supplier receipt inspection to completion through the
 * routed, mapped ports (buildRuntime): the canonical lot is in P100, the ERP documents are in 1000,
 * and the lot's pages answer a caller scoped to P100. A receipt of ERP plant 2000
 * (P200, served by the same ERP) through P100's webhook is refused at translation: its raw delivery
 * stays, dead, with QLK_PLANT_MISMATCH; no event, no run, no QMS lot.
 */
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import type { ErpS4Sim, QmsSim } from '../../simulators/index.ts'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { TempDir } from '../config/fixture.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { PLANT_SECRETS_ENV, plantConfig, startPlantSimulators } from '../faults/qualink-process.ts'
import { ACCEPT_SPLIT_60_30_10, freePort, inspectionLotOf, receiveGoods } from './helpers.ts'

const KEYS = { p100: 'plant-map-p100-key', p200: 'plant-map-p200-key' }
const plantCodes = (plants: Record<string, string>) => ({ entities: ['plant'], unknown: 'reject', plants })

/** plantConfig's S/4 + QMS plant, named P100 in Qualink, with the ERP's plant code declared. */
function mappedPlantConfig(erpUrl: string, qmsUrl: string) {
  const doc = plantConfig(erpUrl, qmsUrl) as {
    ingress: { webhooks: Record<string, { plant: string }> }
    plants: Record<string, Record<string, unknown>>
  }
  for (const w of Object.values(doc.ingress.webhooks)) w.plant = 'P100'
  const plant = doc.plants['1000']!
  doc.plants = {
    P100: {
      ...plant,
      idMapping: {
        // the goods-receipt webhook knows both plants of the ERP; it delivers P100's receipts only
        'erp-s4': plantCodes({ '1000': 'P100', '2000': 'P200' }),
        'sap-p100': plantCodes({ '1000': 'P100' }),
      },
    },
    // the same ERP serves P200 as its plant 2000
    P200: { erp: 'sap-p100', qms: 'qms-cloud', idMapping: { 'sap-p100': plantCodes({ '2000': 'P200' }) } },
  }
  return doc
}

describe.each(DIALECTS)('plant P100 is ERP plant 1000 (qualink.yaml) on %s', (dialect: Dialect) => {
  let tmp: TempDir
  let db: TestDatabase
  let store: Store
  let erp: ErpS4Sim
  let qms: QmsSim
  let q: Qualink

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    tmp = new TempDir()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    const port = await freePort()
    ;({ erp, qms } = await startPlantSimulators(port))
    const file = tmp.write('qualink.yaml', mappedPlantConfig(erp.url, qms.url))
    const rt = buildRuntime(loadConfig(file, {}), PLANT_SECRETS_ENV)
    q = await startQualink({
      ...rt.options,
      store,
      port,
      logger: pino({ level: 'silent' }),
      anchorFile: `${db.dir}/anchors.jsonl`,
      apiKeys: [
        { id: 'p100', sha256: hashApiKey(KEYS.p100), roles: ['viewer'], plants: ['P100'] },
        { id: 'p200', sha256: hashApiKey(KEYS.p200), roles: ['viewer'], plants: ['P200'] },
      ],
    })
  })
  afterEach(async () => {
    await q?.close()
    await erp?.close()
    await qms?.close()
    await store?.close()
    await db?.cleanup()
    tmp?.remove()
  })

  const get = (url: string, key: string) =>
    q.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })

  it('a receipt in ERP plant 1000 runs to completion in P100; the ERP documents carry 1000', async () => {
    await receiveGoods(erp, 'B1', '100')
    const qmsLot = await inspectionLotOf(qms, 'B1')
    const [gr] = await store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 5 })
    expect(gr!.envelope.plant).toBe('P100')
    expect(gr!.envelope.data).toMatchObject({ lot: { id: 'B1', material: 'RAW-100', plant: 'P100' } })
    // the QMS has no plant mapping: it is told the Qualink plant
    expect(qmsLot.plant).toBe('P100')

    qms.makeUsageDecision(qmsLot.id, ACCEPT_SPLIT_60_30_10)
    const run = async () => (await store.engine.listRuns(ALL, { key: 'B1', limit: 5 }))[0]
    await until(async () => (await run())?.status === 'completed', 60_000)
    expect((await run())!.plant).toBe('P100')
    // one document per bucket, all in the ERP's plant 1000; nothing was posted in a plant 'P100'
    expect(erp.state.counts.documentsByLotAndBucket).toEqual({
      'RAW-100|1000|B1': { qi: 1, unrestricted: 1, blocked: 1, scrap: 1 },
    })
    expect(erp.state.stock.find((s) => s.lot === 'RAW-100|1000|B1')!.buckets).toMatchObject({
      qi: 0,
      unrestricted: 60_000,
      blocked: 30_000,
      scrap: 10_000,
    })
    expect(await store.engine.listDeadLetters(ALL, { limit: 5 })).toHaveLength(0)

    // the lot's pages answer a caller of P100 (and not one of P200)
    await until(async () => (await get('/v1/lots/B1', KEYS.p100)).statusCode === 200)
    expect((await get('/v1/lots/B1', KEYS.p100)).json()).toMatchObject({ lot: 'B1', plant: 'P100' })
    const status = await get('/v1/lots/B1/status', KEYS.p100)
    expect(status.statusCode).toBe(200)
    expect(status.json()).toMatchObject({ plant: 'P100' })
    expect((await get('/v1/lots/B1', KEYS.p200)).statusCode).toBe(404)
  })

  it('a receipt of ERP plant 2000 through P100’s source is refused at /Plant; the raw delivery stays', async () => {
    const gr = goodsReceipt('X1', '10') as { to_MaterialDocumentItem: Array<{ Plant: string }> }
    gr.to_MaterialDocumentItem[0]!.Plant = '2000'
    expect((await s4Client(erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, gr)).status).toBe(201)
    const dead = async () =>
      (await store.ingress.listRawDeliveries(ALL, { status: 'dead', source: 'erp-s4', limit: 5 }))[0]
    await until(async () => (await dead()) !== undefined)
    const d = (await dead())!
    expect(d.lastErrorCode).toBe('QLK_PLANT_MISMATCH')
    expect(d.lastError).toBe(
      "/Plant: plant '2000' maps to plant P200, not to P100, the plant of source erp-s4",
    )
    expect(JSON.parse(d.body.toString('utf8'))).toMatchObject({ Plant: '2000', Batch: 'X1' })
    expect(await store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 5 })).toHaveLength(0)
    expect(await store.engine.listRuns(ALL, { limit: 5 })).toHaveLength(0)
    expect(qms.state.inspectionLots).toHaveLength(0)
  })
})
