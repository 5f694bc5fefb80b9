/**
 * Issue 8 item 5 for a plant on ERPNext: a Quality Inspection Template assigned to an Item in the
 * ERPNext simulator is read by the plant's polled plan feed (qualink.yaml `ingress.feeds`,
 * `reads: inspection-plans` on an erp/erpnext connector), stored once however often it is re-read,
 * distributed to the QMS, replaced there by its next save; a Purchase Receipt's QMS inspection lot
 * (ERPNext's on_submit webhook) then names that revision. Bad template data is refused whole,
 * naming the field.
 */
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ErpNextSim, type QmsSim, startErpNext, startQms } from '../../simulators/index.ts'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { templateVersion } from '../../src/connectors/erp/erpnext/plan-feed.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { baseDoc, problemsOf, TempDir } from '../config/fixture.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort } from '../services.ts'
import { frappe, submitReceiptWithInspection } from '../workflows/erpnext-receipts.ts'

const FEED = 'erp-p200-plans'
const PLAN_EVENT = 'md.inspection_plan.upserted.v1'
const SECRET = 'frappe-plan-feed-secret'
const ENV = { ERPNEXT_KEY: 'simkey', ERPNEXT_SECRET: 'simsecret', ERP_P200_SECRET: SECRET }
const SPEC = 'RAW Receiving:RAW-200'
const T = 'Quality%20Inspection%20Template'

const parameters = (max: number | string) => [
  { specification: 'Diameter', numeric: 1, min_value: 11.92, max_value: max },
  { specification: 'Surface', numeric: 0, value: 'No scratches' },
]

describe.each(DIALECTS.filter((d) => AVAILABLE[d]))(
  'inspection plans from the ERPNext plan feed on %s',
  (dialect: Dialect) => {
    let db: TestDatabase
    let store: Store
    let erp: ErpNextSim
    let qms: QmsSim
    let tmp: TempDir
    let q: Qualink | undefined
    const saved = Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]]))

    beforeAll(async () => {
      // connectors read their credentials from the process environment, as under `qualink start`
      Object.assign(process.env, ENV)
      const port = await freePort()
      db = await createTestDatabase(dialect, { migrated: true })
      store = await db.open()
      erp = await startErpNext({
        port: 0,
        webhook: { url: `http://127.0.0.1:${port}/v1/ingress/erp-p200`, secret: SECRET },
      })
      qms = await startQms({ port: 0 })
      tmp = new TempDir()
      const doc = baseDoc()
      const connectors = doc.connectors as Record<string, { config: Record<string, unknown> }>
      const allow = (doc.egress as { allowlist: Record<string, string[]> }).allowlist
      connectors['erpnext-p200']!.config.baseUrl = erp.url
      connectors['erpnext-p200']!.config.warehouses = {
        unrestricted: 'Stores - SIM',
        qualityInspection: 'Quality Inspection - SIM',
      }
      allow['erpnext-p200'] = [erp.url]
      connectors['qms-cloud']!.config.baseUrl = qms.url
      allow['qms-cloud'] = [qms.url]
      const plants = doc.plants as Record<string, Record<string, unknown>>
      plants.P200!.sampling = { default: { level: 'II', aql: '1.0', severity: 'normal' } }
      const ingress = doc.ingress as Record<string, Record<string, unknown>>
      ingress.webhooks!['erp-p200'] = {
        plant: 'P200',
        translator: 'erpnext-purchase-receipt',
        signatureScheme: 'frappe',
        secrets: [{ secretEnv: 'ERP_P200_SECRET' }],
      }
      ingress.feeds = {
        [FEED]: { plant: 'P200', connector: 'erpnext-p200', reads: 'inspection-plans', pollMs: 100 },
      }
      doc.workflows = {
        'inspection-plan-distribution': { enabled: true },
        'supplier-receipt-inspection': { enabled: true },
      }
      const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', doc), {}), {
        ...process.env,
        ...ENV,
        ERP_SECRET: 'x',
      })
      q = await startQualink({
        ...rt.options,
        store,
        port,
        dataDir: db.dir,
        logger: pino({ level: 'silent' }),
        anchorFile: `${db.dir}/anchors.jsonl`,
      })
    })
    afterAll(async () => {
      await q?.close()
      await erp?.close()
      await qms?.close()
      await store?.close()
      await db?.cleanup()
      tmp?.remove()
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    })

    const planEvents = () => store.listEvents(ALL, { type: PLAN_EVENT, limit: 100 })
    const raws = () => store.ingress.listRawDeliveries(ALL, { source: FEED, limit: 100 })
    const spec = (id: string) => qms.state.specifications.byId[id]
    /** the QMS holds version `v` of the spec as its newest, and every distribution run has completed */
    const distributed = (id: string, v: number) =>
      until(async () => {
        const runs = await store.engine.listRuns(ALL, { key: `P200/${id}`, limit: 10 })
        return spec(id)?.versions.at(-1) === v && runs.every((r) => r.status === 'completed')
      }, 30_000)
    const versionOf = async (name: string) =>
      templateVersion((await frappe(erp, 'GET', `${T}/${encodeURIComponent(name)}`, undefined)).modified)!

    it('stores a template assigned to an Item once, however often the feed re-reads it, as the QMS revision', async () => {
      await frappe(erp, 'POST', T, {
        quality_inspection_template_name: 'RAW Receiving',
        item_quality_inspection_parameter: parameters(12.08),
      })
      await frappe(erp, 'POST', 'Item', {
        item_code: 'RAW-200',
        quality_inspection_template: 'RAW Receiving',
        inspection_required_before_purchase: 1,
      })
      // The Item is assigned after the template was saved: it rides with the template's next save.
      // (Whether the feed read the first save, with no Item yet, before the Item existed is up to
      // its polling: read then, it was refused at /items; read after, it is one more version.)
      await frappe(erp, 'PUT', `${T}/RAW%20Receiving`, {
        item_quality_inspection_parameter: parameters(12.08),
      })
      const v1 = await versionOf('RAW Receiving')
      await distributed(SPEC, v1)
      expect(spec(SPEC)).toMatchObject({
        plant: 'P200',
        material: 'RAW-200',
        characteristics: [
          {
            id: 'Diameter',
            quantitative: true,
            lowerLimit: '11.92',
            upperLimit: '12.08',
            sampleRule: { kind: 'full' },
          },
          { id: 'Surface', name: 'Surface: No scratches', quantitative: false },
        ],
      })
      const events = (await planEvents()).map((e) => e.envelope.id)
      expect(events.filter((id) => id === `${SPEC}/v${v1}`)).toHaveLength(1)
      const stored = (await raws()).map((r) => r.deliveryId).sort()
      expect(stored.filter((id) => id === `RAW Receiving/${v1}`)).toHaveLength(1)

      // Re-poll from the start: every version is read again and is a duplicate (nothing new stored).
      const cursor = await store.ingress.getCursor(FEED)
      expect(templateVersion(cursor)).toBe(v1)
      await store.ingress.setCursor(FEED, '1970-01-01 00:00:00')
      await until(async () => (await store.ingress.getCursor(FEED)) === cursor, 30_000)
      expect((await raws()).map((r) => r.deliveryId).sort()).toEqual(stored)
      expect((await planEvents()).map((e) => e.envelope.id)).toEqual(events)
      expect(spec(SPEC)!.versions.at(-1)).toBe(v1)
    })

    it('replaces the revision with the changed template, and the receipt lot names it', async () => {
      const v1 = spec(SPEC)!.versions.at(-1)!
      await frappe(erp, 'PUT', `${T}/RAW%20Receiving`, {
        item_quality_inspection_parameter: parameters('12.05'),
      })
      const v2 = await versionOf('RAW Receiving')
      expect(v2).toBeGreaterThan(v1)
      await distributed(SPEC, v2)
      expect(spec(SPEC)!.versions.slice(-2)).toEqual([v1, v2])
      expect(spec(SPEC)).toMatchObject({ characteristics: [{ upperLimit: '12.05' }, {}] })

      await submitReceiptWithInspection(erp, 'Quality Inspection - SIM')
      let lot: Record<string, unknown> | undefined
      await until(() => {
        lot = qms.state.inspectionLots.find((l) => l.batch === 'B200')
        return lot !== undefined
      }, 30_000)
      expect(lot).toMatchObject({ material: 'RAW-200', specification: SPEC, specificationVersion: v2 })
    })

    it('refuses a template with inverted limits, naming the field, and stores no event', async () => {
      const before = (await planEvents()).length
      await frappe(erp, 'POST', T, {
        quality_inspection_template_name: 'RAW Inverted',
        item_quality_inspection_parameter: [
          { specification: 'Diameter', numeric: 1, min_value: 13, max_value: 12 },
        ],
      })
      await frappe(erp, 'POST', 'Item', { item_code: 'RAW-201', quality_inspection_template: 'RAW Inverted' })
      await frappe(erp, 'PUT', `${T}/RAW%20Inverted`, {
        item_quality_inspection_parameter: [
          { specification: 'Diameter', numeric: 1, min_value: 13, max_value: 12 },
        ],
      })
      const v = await versionOf('RAW Inverted')
      let refused: Awaited<ReturnType<typeof raws>>[number] | undefined
      await until(async () => {
        refused = (await raws()).find((r) => r.deliveryId === `RAW Inverted/${v}` && r.status === 'dead')
        return refused !== undefined
      }, 30_000)
      expect(refused).toMatchObject({ lastErrorCode: 'QLK_VALIDATION' })
      expect(refused!.lastError).toContain('/item_quality_inspection_parameter/0/min_value')
      expect((await planEvents()).length).toBe(before)
      expect(Object.keys(qms.state.specifications.byId)).toEqual([SPEC])
    })
  },
)

describe('ingress.feeds reads on erp/erpnext', () => {
  it('accepts a plan feed on an erp/erpnext connector and refuses its goods-receipt feed at the connector', () => {
    const tmp = new TempDir()
    try {
      const doc = baseDoc()
      ;(doc.ingress as Record<string, unknown>).feeds = {
        plans: { plant: 'P200', connector: 'erpnext-p200', reads: 'inspection-plans' },
        receipts: { plant: 'P200', connector: 'erpnext-p200' },
      }
      expect(problemsOf(tmp, doc, ENV).map((p) => p.path)).toEqual(['/ingress/feeds/receipts/connector'])
    } finally {
      tmp.remove()
    }
  })
})
