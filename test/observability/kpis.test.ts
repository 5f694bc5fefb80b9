import { randomUUID } from 'node:crypto'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { type ErpS4Sim, type QmsSim, startErpS4, startQms } from '../../simulators/index.ts'
import { sapS4Connector } from '../../src/connectors/erp/sap-s4/connector.ts'
import { sapS4GoodsReceiptTranslator } from '../../src/connectors/erp/sap-s4/gr-translator.ts'
import { qmsRestConnector } from '../../src/connectors/qms/rest/connector.ts'
import { qmsWebhookTranslator } from '../../src/connectors/qms/rest/webhook-translator.ts'
import { EVENT_EXAMPLES } from '../../src/contracts/events/examples.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { inProcessQualityCheck } from '../../src/workflows/in-process-check.ts'
import { mappedErpPort } from '../../src/workflows/ports/mapped.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort, webhookSource } from '../workflows/helpers.ts'
import { PLANT, s4PlantMapping } from '../workflows/plant-hub.ts'
import { parsePrometheus } from './prom-text.ts'

const KEYS = { p100: 'kpi-viewer-p100-key', admin: 'kpi-admin-key' }
const auth = (key: string) => ({ authorization: `Bearer ${key}` })
const audit = (EVENT_EXAMPLES['qms.nonconformance.dispositioned.v1'] as { disposition: { audit: object } })
  .disposition.audit
const mesAudit = {
  timestamp: '2026-11-27T08:00:00Z',
  sourceSystem: 'mes-p100',
  approvalStatus: 'not_required',
}

interface Day {
  day: string
  count: number
  p50Seconds: number | null
  p90Seconds: number | null
}
/** the days that have data, as [count, p50, p90] (independent of which UTC day the test ran on) */
const withData = (days: Day[]) =>
  days.filter((d) => d.count > 0).map((d) => [d.count, d.p50Seconds, d.p90Seconds])
const total = (days: Array<{ count: number }>) => days.reduce((n, d) => n + d.count, 0)

/**
 * The outcome KPIs from real runs: goods receipts released through the ERP and QMS simulators,
 * a rejected decision that dead-letters, drift healed by reconciliation, a nonconformance held
 * and dispositioned, CAPAs posted to the log; read through GET /v1/kpis, /metrics and the
 * dashboard under a P100-only API key, on both dialects. Expected durations come from the run
 * journal and the event log read through the store API, not from the KPI queries.
 */
describe.each(DIALECTS)('outcome KPIs on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  let erp: ErpS4Sim
  let qms: QmsSim
  let q: Qualink

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    erp = await startErpS4({
      materials: { 'RAW-100': { baseUnit: 'KG' } },
      productionOrders: [
        { ManufacturingOrder: 'PO-2', Material: 'FG-1', ProductionPlant: '1000', TotalQuantity: '100' },
      ],
      webhook: { url: `${base}/v1/ingress/erp-s4`, secret: 'erp-secret' },
    })
    qms = await startQms({ webhook: { url: `${base}/v1/ingress/qms`, secret: 'qms-secret' } })
    const runtime = (name: string, url: string) => ({ name, allowlist: [url], leaseMs: 30_000 })
    q = await startQualink({
      store,
      port,
      logger: pino({ level: 'silent' }),
      anchorFile: `${db.dir}/anchors.jsonl`,
      webhooks: [webhookSource.erp('erp-secret'), webhookSource.qms('qms-secret')],
      // the simulator's plant 1000 is P100 (mapped both ways, as in test/workflows/plant-hub.ts)
      translators: [
        sapS4GoodsReceiptTranslator('erp-s4', s4PlantMapping('erp-s4')),
        qmsWebhookTranslator('qms'),
      ],
      workflows: [supplierReceiptInspection(), inProcessQualityCheck()],
      ports: {
        erp: mappedErpPort(
          sapS4Connector.instantiate({ baseUrl: erp.url }, runtime('erp', erp.url)),
          {},
          s4PlantMapping('erp'),
          PLANT,
        ),
        qms: qmsRestConnector.instantiate({ baseUrl: qms.url }, runtime('qms', qms.url)),
      },
      apiKeys: [
        { id: 'viewer-p100', sha256: hashApiKey(KEYS.p100), roles: ['viewer'], plants: ['P100'] },
        { id: 'admin', sha256: hashApiKey(KEYS.admin), roles: ['admin'], plants: ['*'] },
      ],
      // The test drives the reconciliation pass itself.
      reconcile: { intervalMs: 3_600_000, policy: () => 'heal' },
    })
  })
  afterEach(async () => {
    await q?.close()
    await erp?.close()
    await qms?.close()
    await store?.close()
    await db?.cleanup()
  })

  const get = (url: string, key = KEYS.p100) => q.app.inject({ method: 'GET', url, headers: auth(key) })
  const post = async (type: string, subject: string, data: unknown, extra: object = {}) => {
    const r = await q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json', ...auth(KEYS.admin) },
      payload: JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source: 'urn:test:kpis',
        type,
        subject,
        plant: 'P100',
        data,
        ...extra,
      }),
    })
    expect(r.statusCode).toBe(202)
  }
  const runOf = async (key: string) => (await store.engine.listRuns(ALL, { key, limit: 5 }))[0]
  const receive = async (batch: string, qty: string) =>
    expect(
      (await s4Client(erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, goodsReceipt(batch, qty)))
        .status,
    ).toBe(201)
  const decide = async (
    batch: string,
    decision: 'ACCEPT' | 'REJECT',
    lines: Array<['USE_AS_IS' | 'REWORK', string]>,
  ) => {
    const find = () => qms.state.inspectionLots.find((l) => l.batch === batch)
    await until(() => find() !== undefined)
    qms.makeUsageDecision(String(find()!.id), {
      decision,
      code: decision === 'ACCEPT' ? 'A2' : 'R1',
      dispositions: lines.map(([disposition, quantity]) => ({ disposition, quantity })),
    })
  }
  /** seconds between a run's trigger reaching Qualink and its first journal entry named `end` */
  const journaled = async (
    key: string,
    start: (j: { kind: string; name: string }) => boolean | 'trigger',
    end: (j: { kind: string; name: string; result: unknown }) => boolean,
  ) => {
    const run = (await runOf(key))!
    const loaded = (await store.engine.loadRun(ALL, run.id))!
    const trigger = (await store.engine.getEventBySeqInternal(run.triggerEventSeq!))!
    const s = loaded.journal.find((j) => start(j) === true)?.completedAtMs ?? trigger.recordedAtMs
    const e = loaded.journal.find(end)!.completedAtMs
    return (e - s) / 1000
  }

  it('reports releases, containment, CAPA response, heals and dead letters per plant and day', async () => {
    // Two receipts released; the second decided a moment later, so the two cycle times differ.
    await receive('B1', '100')
    await receive('B2', '50')
    await decide('B1', 'ACCEPT', [
      ['USE_AS_IS', '60'],
      ['REWORK', '40'],
    ])
    await until(async () => (await runOf('B1'))?.status === 'completed', 45_000)
    await decide('B2', 'ACCEPT', [['USE_AS_IS', '50']])
    await until(async () => (await runOf('B2'))?.status === 'completed', 45_000)
    const confirmed = (j: { kind: string; name: string }) => j.kind === 'step' && j.name === 'confirm-posting'
    const releases = [
      await journaled('B1', () => 'trigger', confirmed),
      await journaled('B2', () => 'trigger', confirmed),
    ]
    releases.sort((a, b) => a - b)

    // A rejected decision the ERP refuses to post as release: one dead letter.
    await receive('B3', '20')
    await decide('B3', 'REJECT', [['USE_AS_IS', '20']])
    await until(async () => (await store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1, 45_000)

    // Someone releases blocked stock of B1 in the ERP by hand; reconciliation heals it.
    const manual = await s4Client(erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, {
      GoodsMovementCode: '04',
      MaterialDocumentHeaderText: 'manual release',
      to_MaterialDocumentItem: [
        {
          Material: 'RAW-100',
          Plant: '1000',
          Batch: 'B1',
          GoodsMovementType: '343',
          InventoryStockType: '07',
          QuantityInEntryUnit: '30',
          EntryUnit: 'KG',
        },
      ],
    })
    expect(manual.status).toBe(201)
    await q.reconciler!.runOnce()

    // An out-of-tolerance completion holds PO-2 and opens an NC; the overview shows the hold.
    await post('mes.operation.completed.v1', 'PO-2', {
      operation: { productionOrder: 'PO-2', number: '0010', workCenter: 'L1' },
      plant: 'P100',
      measurements: [{ characteristic: 'TORQUE', value: '13.6', unit: 'NM' }],
      consumed: [],
      produced: [{ lot: 'F2-1', material: 'FG-1', quantity: { units: 10, scale: 0, uom: 'PC' } }],
      audit: mesAudit,
    })
    await until(async () => (await runOf('PO-2'))?.status === 'waiting')
    const overview = await get('/ui')
    expect(overview.statusCode).toBe(200)
    expect(overview.body).toMatch(
      /<svg class="chart" data-chart="hold-aging-orders"[^>]*aria-label="Orders on quality hold by age \(1\): &lt;1h: 1,/,
    )
    // B1 and B2 are released and B3 is dead-lettered: no lot awaits its decision
    expect(overview.body).toMatch(
      /data-chart="hold-aging-lots"[^>]*aria-label="Lots awaiting a usage decision by age \(0\):/,
    )
    expect(overview.body).toMatch(
      /data-chart="latency-receipt-to-erp-posting"[^>]*aria-label="receipt-to-erp-posting, last 7 days \(2\):/,
    )
    expect(overview.body).not.toMatch(/style="/) // the CSP forbids inline styles

    const nc = (await store.engine.loadRun(ALL, (await runOf('PO-2'))!.id))!.journal.find(
      (j) => j.name === 'open-nonconformance',
    )!.result as { record: { id: string } }
    const disposition = (id: string, lot: string, ncId: string) => ({
      disposition: {
        id,
        plant: 'P100',
        lot,
        nonconformance: ncId,
        lines: [{ code: 'USE_AS_IS', quantity: { units: 10, scale: 0, uom: 'PC' } }],
        audit,
      },
    })
    // The quality engineer works the NC through its lifecycle in the QMS before disposition.
    for (const status of ['CONTAINED', 'UNDER_REVIEW', 'DISPOSITIONED']) {
      const r = await fetch(`${qms.url}/api/v1/nonconformances/${nc.record.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status }),
      })
      expect(r.status, status).toBe(200)
    }
    await post('qms.nonconformance.dispositioned.v1', 'F2-1', disposition('DISP-1', 'F2-1', nc.record.id))
    await until(async () => (await runOf('PO-2'))?.status === 'completed', 45_000)
    const containedByRun = await journaled(
      'PO-2',
      (j) => j.kind === 'step' && j.name === 'open-nonconformance',
      (j) => j.kind === 'wait' && j.name.startsWith('qms.nonconformance.dispositioned@'),
    )
    // An NC opened in the QMS itself, contained from the events alone.
    const ncExample = (EVENT_EXAMPLES['qms.nonconformance.opened.v1'] as { nonconformance: object })
      .nonconformance
    await post('qms.nonconformance.opened.v1', 'NC-77', {
      nonconformance: { ...ncExample, id: 'NC-77', plant: 'P100', lots: ['L-77'] },
    })
    await post('qms.nonconformance.dispositioned.v1', 'L-77', disposition('DISP-77', 'L-77', 'NC-77'))
    const [opened77, disp77] = await Promise.all(
      ['qms.nonconformance.opened.v1', 'qms.nonconformance.dispositioned.v1'].map(
        async (type) =>
          (await store.listEvents(ALL, { type, limit: 10 })).find(
            (e) => e.subject === 'NC-77' || e.subject === 'L-77',
          )!,
      ),
    )
    const containedByEvents = (disp77!.recordedAtMs - opened77!.recordedAtMs) / 1000

    // Supplier CAPAs: answered in 36 h in P100 and in P200 (another plant); one without a supplier.
    const capa = (EVENT_EXAMPLES['qms.capa.opened.v1'] as { correctiveAction: object }).correctiveAction
    const closedAt = (await store.now()) - 3_600_000
    const openedAt = closedAt - 36 * 3_600_000
    const capaPair = async (id: string, plant: string, supplier?: string) => {
      const ca = { ...capa, id, plant, ...(supplier ? { supplier } : {}) }
      if (!supplier) delete (ca as { supplier?: string }).supplier
      await post(
        'qms.capa.opened.v1',
        id,
        { correctiveAction: ca },
        { plant, time: new Date(openedAt).toISOString() },
      )
      await post(
        'qms.capa.closed.v1',
        id,
        { correctiveAction: { ...ca, status: 'closed', eightDStep: 'D8' }, effective: true },
        { plant, time: new Date(closedAt).toISOString() },
      )
    }
    await capaPair('CAPA-1', 'P100', 'V-42')
    await capaPair('CAPA-2', 'P200', 'V-42')
    await capaPair('CAPA-3', 'P100')

    const r = await get('/v1/kpis')
    expect(r.statusCode).toBe(200)
    const k = r.json()
    expect(k.days).toHaveLength(14)
    expect(k.plants.map((p: { plant: string }) => p.plant)).toEqual(['P100'])
    expect(k.outOfScope).toEqual({ plants: 1, samples: 1 }) // P200's CAPA: counted, not shown
    const p = k.plants[0]
    if (total(p.lotRelease) === 2 && withData(p.lotRelease).length === 1)
      expect(withData(p.lotRelease)).toEqual([[2, releases[0], releases[1]]])
    else
      expect(
        withData(p.lotRelease)
          .map((d) => d[1] as number)
          .sort((a, b) => a - b),
      ).toEqual(releases) // across midnight
    expect(releases[0]).toBeGreaterThan(0)
    const contained = [containedByRun, containedByEvents].sort((a, b) => a - b)
    expect(total(p.ncContainment)).toBe(2)
    if (withData(p.ncContainment).length === 1)
      expect(withData(p.ncContainment)).toEqual([[2, contained[0], contained[1]]])
    expect(withData(p.capaResponse)).toEqual([[1, 36 * 3600, 36 * 3600]])
    expect(total(p.driftHealed)).toBe(1)
    expect(total(p.deadLetters)).toBe(1)
    expect(Object.keys(p.deadLettersByWorkflow)).toEqual(['supplier-receipt-inspection'])

    // An admin sees P200; a P100 viewer asking for P200 gets only its count.
    const all = (await get('/v1/kpis', KEYS.admin)).json()
    expect(all.plants.map((x: { plant: string }) => x.plant)).toEqual(['P100', 'P200'])
    expect(withData(all.plants[1].capaResponse)).toEqual([[1, 36 * 3600, 36 * 3600]])
    expect(all.outOfScope).toEqual({ plants: 0, samples: 0 })
    const hidden = (await get('/v1/kpis?plant=P200')).json()
    expect(hidden.plants).toEqual([])
    expect(hidden.outOfScope).toEqual({ plants: 1, samples: 1 })

    // Bad input names the field and rule, with a stable code.
    const bad = await get('/v1/kpis?from=2026-13-01')
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ code: 'QLK_VALIDATION' })
    expect(JSON.stringify(bad.json())).toContain('/querystring/from')
    const reversed = await get('/v1/kpis?from=2026-11-20&to=2026-11-10')
    expect(reversed.statusCode).toBe(400)
    expect(reversed.json()).toMatchObject({ code: 'QLK_VALIDATION', detail: 'from must not be after to' })

    // The gauges over their windows.
    const m = parsePrometheus((await get('/metrics', KEYS.admin)).body)
    const P100 = { plant: 'P100' }
    expect(m.value('qualink_kpi_duration_count', { ...P100, kpi: 'lot-release' })).toBe(2)
    expect(m.value('qualink_kpi_duration_seconds', { ...P100, kpi: 'lot-release', quantile: '0.9' })).toBe(
      releases[1],
    )
    expect(m.value('qualink_kpi_duration_count', { ...P100, kpi: 'nc-containment' })).toBe(2)
    expect(m.value('qualink_kpi_duration_seconds', { ...P100, kpi: 'capa-response', quantile: '0.5' })).toBe(
      36 * 3600,
    )
    expect(m.value('qualink_kpi_drift_healed_last_day', P100)).toBe(1)
    expect(
      m.value('qualink_kpi_dead_letters_opened_last_day', {
        ...P100,
        workflow: 'supplier-receipt-inspection',
      }),
    ).toBe(1)

    // The KPI page: a sparkline per KPI for P100 only, and the hidden plant counted.
    const page = await get('/ui/kpis')
    expect(page.statusCode).toBe(200)
    for (const kpi of ['lot-release', 'nc-containment', 'capa-response', 'drift-healed', 'dead-letters'])
      expect(page.body).toContain(`<svg class="spark" data-chart="P100-${kpi}"`)
    expect(page.body).not.toContain('data-plant="P200"')
    expect(page.body).toContain('data-out-of-scope="1"')
    const refused = await get('/ui/kpis?from=2026-02-30')
    expect(refused.statusCode).toBe(400)
    expect(refused.body).toContain('from must be a calendar date YYYY-MM-DD')
  })
})
