/**
 * Issue 8 item 5: inspection plans from the ERP. A plan created in the S/4 simulator
 * (API_INSPECTIONPLAN_SRV) is read by the plant's polled plan feed (qualink.yaml `ingress.feeds`,
 * `reads: inspection-plans`), stored once however often it is re-read, distributed to the QMS (and
 * the MES broker when Mosquitto runs), replaced there by its next revision; a goods receipt's QMS
 * inspection lot then names the revision it is inspected against, the most specific scope winning.
 * Bad plan data is refused whole, naming the field.
 */
import mqtt from 'mqtt'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionPlanInput } from '../../simulators/erp-s4/inspection-plans.ts'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { type ErpS4Sim, type QmsSim, startErpS4, startQms } from '../../simulators/index.ts'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { baseDoc, problemsOf, TempDir } from '../config/fixture.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { serviceUp, uniqueName } from '../services.ts'

const BROKER = 'mqtt://127.0.0.1:1883'
const MQTT_UP = await serviceUp('mosquitto')
const FEED = 'erp-p100-plans'
const PLAN_EVENT = 'md.inspection_plan.upserted.v1'

/** a receiving plan for RAW-100 (one operation: it applies to every operation), optionally per supplier */
const plan = (upper: string, over: Partial<InspectionPlanInput> = {}): InspectionPlanInput => ({
  InspectionPlanGroup: 'QP100',
  Plant: 'P100',
  materials: [{ Material: 'RAW-100' }],
  operations: [
    {
      characteristics: [
        {
          InspectionSpecification: 'DIAMETER',
          InspectionSpecificationText: 'Diameter',
          InspSpecIsQuantitative: true,
          InspSpecLowerLimit: '11.92',
          InspSpecUpperLimit: upper,
          InspSpecTargetValue: '12.00',
          InspSpecUnit: 'mm',
          InspCharacteristicSampleSize: '5',
        },
        { InspectionSpecification: 'SURFACE', InspectionSpecificationText: 'Surface free of scratches' },
      ],
    },
  ],
  ...over,
})

describe.each(DIALECTS.filter((d) => AVAILABLE[d]))(
  'inspection plans from the S/4 plan feed on %s',
  (dialect: Dialect) => {
    const prefix = uniqueName('qlk-plan-feed')
    let db: TestDatabase
    let store: Store
    let erp: ErpS4Sim
    let qms: QmsSim
    let tmp: TempDir
    let q: Qualink | undefined

    beforeAll(async () => {
      db = await createTestDatabase(dialect, { migrated: true })
      store = await db.open()
      erp = await startErpS4({ materials: { 'RAW-100': { baseUnit: 'KG' } } })
      qms = await startQms({ port: 0 })
      tmp = new TempDir()
      const doc = baseDoc()
      const connectors = doc.connectors as Record<string, { kind?: string; config: Record<string, unknown> }>
      const allow = (doc.egress as { allowlist: Record<string, string[]> }).allowlist
      connectors['sap-p100']!.config.baseUrl = erp.url
      allow['sap-p100'] = [erp.url]
      connectors['qms-cloud']!.config.baseUrl = qms.url
      allow['qms-cloud'] = [qms.url]
      const plants = doc.plants as Record<string, Record<string, unknown>>
      if (MQTT_UP) {
        connectors['mes-p100'] = {
          kind: 'mes/mqtt',
          config: { url: BROKER, topicPrefix: prefix, clientId: uniqueName('qlk-pub') },
        }
        allow['mes-p100'] = [BROKER]
        plants.P100!.mesPublisher = 'mes-p100'
      }
      ;(doc.ingress as Record<string, unknown>).feeds = {
        [FEED]: { plant: 'P100', connector: 'sap-p100', reads: 'inspection-plans', pollMs: 100 },
        'erp-p100-feed': { plant: 'P100', connector: 'sap-p100', pollMs: 100 },
      }
      doc.workflows = {
        'inspection-plan-distribution': { enabled: true },
        'supplier-receipt-inspection': { enabled: true },
      }
      const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', doc), {}), {
        ERP_SECRET: 'x',
        ERPNEXT_KEY: 'k',
        ERPNEXT_SECRET: 's',
      })
      q = await startQualink({
        ...rt.options,
        store,
        port: 0,
        logger: pino({ level: 'silent' }),
        anchorFile: `${db.dir}/anchors.jsonl`,
      })
    })
    afterAll(async () => {
      if (MQTT_UP) {
        // Retained messages outlive the test: an empty retained payload deletes each scope's.
        const c = await mqtt.connectAsync(BROKER, { clientId: uniqueName('qlk-clean'), clean: true })
        for (const t of ['*/*', '*/SUP-7'])
          await c.publishAsync(`${prefix}/P100/specifications/RAW-100/${t}`, '', { qos: 1, retain: true })
        await c.endAsync()
      }
      await q?.close()
      await erp?.close()
      await qms?.close()
      await store?.close()
      await db?.cleanup()
      tmp?.remove()
    })

    const planEvents = () => store.listEvents(ALL, { type: PLAN_EVENT, limit: 100 })
    const raws = () => store.ingress.listRawDeliveries(ALL, { source: FEED, limit: 100 })
    const spec = (id: string) => qms.state.specifications.byId[id]
    /** the plan's distribution runs have all completed, one per version it had (QMS, then MES) */
    const distributed = (id: string, versions: number) =>
      until(async () => {
        const runs = await store.engine.listRuns(ALL, { key: `P100/${id}`, limit: 10 })
        return runs.length === versions && runs.every((r) => r.status === 'completed')
      }, 30_000)
    const GENERAL = 'QP100:1:RAW-100:*:*'
    const BY_SUPPLIER = 'QP200:1:RAW-100:SUP-7:*'
    /** the retained specification a MES line subscribing now reads for RAW-100 (any route), per supplier scope */
    const retained = async (supplier: string) => {
      const c = await mqtt.connectAsync(BROKER, { clientId: uniqueName('qlk-mes'), clean: true })
      let got: { id: string; version: number } | undefined
      c.on('message', (_t, payload) => {
        if (payload.length > 0) got = JSON.parse(payload.toString())
      })
      await c.subscribeAsync(`${prefix}/P100/specifications/RAW-100/*/${supplier}`, { qos: 1 })
      await until(() => got !== undefined, 10_000)
      await c.endAsync()
      return got!
    }
    const receipt = async (batch: string) => {
      const gr = goodsReceipt(batch, '40') as { to_MaterialDocumentItem: Array<{ Plant: string }> }
      gr.to_MaterialDocumentItem[0]!.Plant = 'P100'
      expect((await s4Client(erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, gr)).status).toBe(
        201,
      )
    }
    const qmsLot = async (batch: string) => {
      let lot: Record<string, unknown> | undefined
      await until(() => {
        lot = qms.state.inspectionLots.find((l) => l.batch === batch)
        return lot !== undefined
      }, 30_000)
      return lot!
    }

    it('stores a new plan once, however often the feed re-reads it, and makes it the QMS and MES revision', async () => {
      expect(erp.upsertInspectionPlan(plan('12.08'))).toEqual({ plan: 'QP100/1', version: '1' })
      await distributed(GENERAL, 1)
      expect(spec(GENERAL)).toMatchObject({
        plant: 'P100',
        material: 'RAW-100',
        versions: [1],
        characteristics: [
          {
            id: 'DIAMETER',
            name: 'Diameter',
            quantitative: true,
            lowerLimit: '11.92',
            upperLimit: '12.08',
            target: '12.00',
            unit: 'MM',
            sampleRule: { kind: 'fixed', sampleSize: 5 },
          },
          { id: 'SURFACE', quantitative: false, sampleRule: { kind: 'full' } },
        ],
      })
      if (MQTT_UP) expect(await retained('*')).toMatchObject({ id: GENERAL, version: 1 })

      // Re-poll from the start: the version is read again and is a duplicate (nothing new stored);
      // the cursor is back at the version's LastChangeDateTime once it was read again.
      const cursor = await store.ingress.getCursor(FEED)
      expect(Number(cursor)).toBeGreaterThan(0)
      await store.ingress.setCursor(FEED, '0')
      await until(async () => (await store.ingress.getCursor(FEED)) === cursor, 30_000)
      expect((await raws()).map((r) => r.deliveryId)).toEqual(['QP100/1/1'])
      expect((await planEvents()).map((e) => e.envelope.id)).toEqual([`${GENERAL}/v1`])
      expect(qms.state.specifications.byId[GENERAL]!.versions).toEqual([1])
    })

    it('replaces the revision with the changed plan, and the receipt lot names the most specific one', async () => {
      expect(erp.upsertInspectionPlan(plan('12.05'))).toEqual({ plan: 'QP100/1', version: '2' })
      await distributed(GENERAL, 2)
      expect(spec(GENERAL)).toMatchObject({
        versions: [1, 2],
        characteristics: [{ upperLimit: '12.05' }, {}],
      })
      if (MQTT_UP) expect(await retained('*')).toMatchObject({ id: GENERAL, version: 2 })

      await receipt('PF-1')
      expect(await qmsLot('PF-1')).toMatchObject({ specification: GENERAL, specificationVersion: 2 })

      // A plan for the material from this supplier is more specific than the material's own.
      erp.upsertInspectionPlan(
        plan('12.03', {
          InspectionPlanGroup: 'QP200',
          materials: [{ Material: 'RAW-100', Supplier: 'SUP-7' }],
        }),
      )
      await distributed(BY_SUPPLIER, 1)
      if (MQTT_UP) expect(await retained('SUP-7')).toMatchObject({ id: BY_SUPPLIER, version: 1 })
      await receipt('PF-2')
      expect(await qmsLot('PF-2')).toMatchObject({ specification: BY_SUPPLIER, specificationVersion: 1 })
      // the first lot still names the revision it was created against
      expect(qms.state.inspectionLots.find((l) => l.batch === 'PF-1')).toMatchObject({
        specification: GENERAL,
        specificationVersion: 2,
      })
      expect((await raws()).map((r) => r.deliveryId)).toEqual(['QP100/1/1', 'QP100/1/2', 'QP200/1/1'])
    })

    it('refuses a plan version with inverted limits or no material, naming the field, and stores no event', async () => {
      const before = (await planEvents()).length
      erp.upsertInspectionPlan(plan('11.50', { InspectionPlanGroup: 'QP300' }))
      erp.upsertInspectionPlan(plan('12.08', { InspectionPlanGroup: 'QP400', materials: [{ Material: '' }] }))
      const dead = async () =>
        (await store.ingress.listRawDeliveries(ALL, { status: 'dead', source: FEED, limit: 10 })).sort(
          (a, b) => (a.deliveryId < b.deliveryId ? -1 : 1),
        )
      await until(async () => (await dead()).length === 2, 30_000)
      const [inverted, noMaterial] = await dead()
      expect(inverted).toMatchObject({ deliveryId: 'QP300/1/1', lastErrorCode: 'QLK_VALIDATION' })
      expect(inverted!.lastError).toContain(
        '/to_InspPlanOperation/0/to_InspPlanOpCharacteristic/0/InspSpecLowerLimit',
      )
      expect(noMaterial).toMatchObject({ deliveryId: 'QP400/1/1', lastErrorCode: 'QLK_VALIDATION' })
      expect(noMaterial!.lastError).toContain('/to_InspPlanMaterialAssgmt/0/Material')
      expect((await planEvents()).length).toBe(before)
      expect(Object.keys(qms.state.specifications.byId).sort()).toEqual([GENERAL, BY_SUPPLIER])
    })
  },
)

describe('ingress.feeds reads', () => {
  it('refuses an unknown kind of feed, and a plan feed on a connector that offers none, at their paths', () => {
    const tmp = new TempDir()
    try {
      const doc = baseDoc()
      ;(doc.ingress as Record<string, unknown>).feeds = {
        a: { plant: 'P100', connector: 'sap-p100', reads: 'boms' },
        b: { plant: 'P100', connector: 'qms-cloud', reads: 'inspection-plans' },
      }
      const problems = problemsOf(tmp, doc).map((p) => p.path)
      expect(problems).toContain('/ingress/feeds/a/reads')
      expect(problems).toContain('/ingress/feeds/b/connector')
    } finally {
      tmp.remove()
    }
  })
})
