/**
 * Issue 6: a polled feed with a durable cursor, configured in qualink.yaml. The S/4 simulator's
 * goods-receipt change list (ZQUALINK_GR_FEED_SRV) is read through the plant's erp/sap-s4
 * connector; each entry becomes a raw delivery and then erp.goods_receipt.posted.v1. After a
 * restart the cursor resumes: nothing is read twice, nothing is missed.
 */
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { type ErpS4Sim, startErpS4 } from '../../simulators/index.ts'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { baseDoc, problemsOf, TempDir } from '../config/fixture.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'

describe.each(DIALECTS.filter((d) => AVAILABLE[d]))(
  'goods-receipt feed from qualink.yaml on %s',
  (dialect: Dialect) => {
    let db: TestDatabase
    let store: Store
    let erp: ErpS4Sim
    let tmp: TempDir
    let q: Qualink | undefined

    beforeAll(async () => {
      db = await createTestDatabase(dialect, { migrated: true })
      store = await db.open()
      erp = await startErpS4({ materials: { 'RAW-100': { baseUnit: 'KG' } } })
      tmp = new TempDir()
    })
    afterAll(async () => {
      await q?.close()
      await erp?.close()
      await store?.close()
      await db?.cleanup()
      tmp?.remove()
    })

    const start = async (idMapping?: Record<string, unknown>) => {
      const doc = baseDoc()
      if (idMapping) (doc.plants as Record<string, Record<string, unknown>>).P100!.idMapping = idMapping
      ;(doc.connectors as Record<string, { config: Record<string, unknown> }>)['sap-p100']!.config.baseUrl =
        erp.url
      ;(doc.egress as { allowlist: Record<string, string[]> }).allowlist['sap-p100'] = [erp.url]
      ;(doc.ingress as Record<string, unknown>).feeds = {
        'erp-p100-feed': { plant: 'P100', connector: 'sap-p100', pollMs: 100, pageSize: 2 },
      }
      delete doc.workflows
      const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', doc), {}), {
        ERP_SECRET: 'x',
        ERPNEXT_KEY: 'k',
        ERPNEXT_SECRET: 's',
      })
      return startQualink({
        ...rt.options,
        store,
        port: 0,
        logger: pino({ level: 'silent' }),
        anchorFile: `${db.dir}/anchors.jsonl`,
      })
    }
    const receipt = async (batch: string, plant = 'P100') => {
      const gr = goodsReceipt(batch, '25') as { to_MaterialDocumentItem: Array<{ Plant: string }> }
      gr.to_MaterialDocumentItem[0]!.Plant = plant
      expect((await s4Client(erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, gr)).status).toBe(
        201,
      )
    }
    const receipts = () => store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 100 })

    it('reads every receipt once, in pages, and resumes from its cursor after a restart', async () => {
      q = await start()
      for (const b of ['G1', 'G2', 'G3']) await receipt(b) // more than one page of 2
      await until(async () => (await receipts()).length === 3)
      await q.close()
      q = undefined
      await receipt('G4') // while Qualink is down
      q = await start()
      await receipt('G5')
      await until(async () => (await receipts()).length === 5)
      const events = await receipts()
      expect(events.map((e) => e.subject)).toEqual(['G1', 'G2', 'G3', 'G4', 'G5'])
      expect(events[0]!.envelope.data).toMatchObject({
        lot: { id: 'G1', material: 'RAW-100', plant: 'P100' },
        bucket: 'qualityInspection',
        quantity: { units: 25_000, scale: 3, uom: 'KG' },
      })
      const raws = await store.ingress.listRawDeliveries(ALL, { limit: 100 })
      expect(raws.map((r) => r.source)).toEqual(Array(5).fill('erp-p100-feed'))
      expect(await store.ingress.getCursor('erp-p100-feed')).toBe('5')
    })

    it("maps the ERP's plant code of a feed entry; an entry of another plant is refused at /Plant", async () => {
      await q?.close()
      q = await start({
        'erp-p100-feed': { entities: ['plant'], unknown: 'pass', plants: { '1000': 'P100' } },
      })
      await receipt('G6', '1000')
      await receipt('G7', '2000')
      const dead = async () =>
        (await store.ingress.listRawDeliveries(ALL, { status: 'dead', source: 'erp-p100-feed', limit: 5 }))[0]
      const has = async (batch: string) => (await receipts()).some((e) => e.subject === batch)
      await until(async () => (await has('G6')) && (await dead()) !== undefined)
      const g6 = (await receipts()).find((e) => e.subject === 'G6')!
      expect([g6.envelope.plant, (g6.envelope.data as { lot: unknown }).lot]).toEqual([
        'P100',
        { id: 'G6', material: 'RAW-100', plant: 'P100' },
      ])
      expect((await dead())!.lastErrorCode).toBe('QLK_PLANT_MISMATCH')
      expect(JSON.parse((await dead())!.body.toString('utf8'))).toMatchObject({ Batch: 'G7', Plant: '2000' })
      expect((await receipts()).map((e) => e.subject)).not.toContain('G7')
      // both entries were read: the cursor is past the refused one too
      expect(await store.ingress.getCursor('erp-p100-feed')).toBe(String(erp.state.counts.goodsReceiptEvents))
    })

    it('refuses a feed whose connector offers none, at its path', () => {
      const doc = baseDoc()
      ;(doc.ingress as Record<string, unknown>).feeds = { f: { plant: 'P100', connector: 'qms-cloud' } }
      expect(problemsOf(tmp, doc).map((p) => [p.path, p.message])).toEqual([
        [
          '/ingress/feeds/f/connector',
          "connector 'qms-cloud' is qms/rest; only erp/sap-s4 offers a goods-receipts feed",
        ],
      ])
    })
  },
)
