/**
 * Go-live adoption of a plant whose ERP and QMS number things their own way (qualink.yaml
 * `plants.P100.idMapping`), end to end on both dialects: Qualink started from a configuration the
 * way `qualink start` starts it, the S/4 and QMS simulators holding what the old integration left
 * in flight in their own codes (ERP: plant 1000, RAW-100, batch B-U1; QMS: Q-100, batch QB-U1;
 * enterprise: MAT-100, LOT-U1), and adopt run as the CLI runs it (adoptFromConfig, events through
 * POST /v1/events, the xref rows read through GET /v1/xref). The events carry enterprise ids; a
 * receipt of a material without a mapping is listed for a person; the runs finish with each ERP
 * effect one document in the simulator (which does not deduplicate); adopting again starts nothing.
 */
import path from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { type ErpS4Sim, type QmsSim, startErpS4, startQms } from '../../simulators/index.ts'
import type { AdoptionReport } from '../../src/adoption/adopt.ts'
import { adoptFromConfig } from '../../src/adoption/from-config.ts'
import { apiXref, httpAppend } from '../../src/cli/commands/adopt.ts'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { startQualink } from '../../src/server/qualink.ts'
import type { ErpPort } from '../../src/workflows/ports/erp.ts'
import { TempDir } from '../config/fixture.ts'
import { createTestDatabase, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort } from '../services.ts'
import { inspectionLotOf, workNonconformance } from './helpers.ts'

const ACTOR = 'cli:go-live-lead'
const SECRET = 'qms-secret'
const ERP_IDS = {
  system: 'sap-p100',
  entities: ['material', 'supplier', 'lot', 'plant'],
  unknown: 'reject',
  plants: { '1000': 'P100' },
}
const QMS_IDS = { system: 'qms-cloud', entities: ['material', 'lot'], unknown: 'reject' }
const XREF = (
  [
    ['sap-p100', 'material', 'RAW-100', 'MAT-100'],
    ['sap-p100', 'material', 'FG-1', 'MAT-FG1'],
    ['sap-p100', 'supplier', 'SUP-7', 'SUPP-7'],
    ['sap-p100', 'lot', 'B-U1', 'LOT-U1'],
    ['sap-p100', 'lot', 'B-U2', 'LOT-U2'],
    ['sap-p100', 'lot', 'B-X1', 'LOT-X1'],
    ['sap-p100', 'lot', 'FG-H1', 'LOT-FGH1'],
    ['qms-cloud', 'material', 'Q-100', 'MAT-100'],
    ['qms-cloud', 'lot', 'QB-U1', 'LOT-U1'],
    ['qms-cloud', 'lot', 'QB-U2', 'LOT-U2'],
    ['qms-cloud', 'lot', 'QFG-H1', 'LOT-FGH1'],
  ] as const
).map(([system, entityType, externalCode, enterpriseId]) => ({
  system,
  entityType,
  externalCode,
  enterpriseId,
  plant: 'P100',
}))

describe.each(DIALECTS)('go-live adoption through identity mapping on %s', (dialect: Dialect) => {
  const closers: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close()
  })

  async function start() {
    const tmp = new TempDir()
    closers.push(async () => tmp.remove())
    const port = await freePort()
    const erp: ErpS4Sim = await startErpS4({
      port: 0,
      materials: { 'RAW-100': { baseUnit: 'KG' }, 'RAW-999': { baseUnit: 'KG' } },
      productionOrders: [
        {
          ManufacturingOrder: 'PO-H1',
          Material: 'FG-1',
          ProductionPlant: '1000',
          TotalQuantity: '10',
          Batch: 'FG-H1',
        },
      ],
    })
    closers.push(() => erp.close())
    const qms: QmsSim = await startQms({
      port: 0,
      webhook: { url: `http://127.0.0.1:${port}/v1/ingress/qms-p100`, secret: SECRET },
    })
    closers.push(() => qms.close())
    const file = tmp.write('qualink.yaml', {
      version: 1,
      connectors: {
        erp: { kind: 'erp/sap-s4', config: { baseUrl: erp.url, egress: { timeoutMs: 2000 } } },
        qms: { kind: 'qms/rest', config: { baseUrl: qms.url, egress: { timeoutMs: 2000 } } },
      },
      egress: { allowlist: { erp: [erp.url], qms: [qms.url] } },
      ingress: {
        webhooks: {
          'qms-p100': {
            plant: 'P100',
            translator: 'qms-rest-webhook',
            secrets: [{ secretEnv: 'QMS_WEBHOOK_SECRET' }],
            signatureHeader: 'x-qms-signature',
            deliveryIdHeader: 'x-qms-delivery-id',
          },
        },
      },
      plants: {
        // the QMS's webhooks are mapped with the same rows as its connector (system qms-cloud)
        P100: { erp: 'erp', qms: 'qms', idMapping: { erp: ERP_IDS, qms: QMS_IDS, 'qms-p100': QMS_IDS } },
      },
      workflows: {
        'supplier-receipt-inspection': { enabled: true },
        'in-process-quality-check': { enabled: true },
      },
    })
    const env = { QMS_WEBHOOK_SECRET: SECRET }
    const loaded = loadConfig(file, {})
    const rt = buildRuntime(loaded, env)
    const db = await createTestDatabase(dialect)
    closers.push(() => db.cleanup())
    const store = await db.open()
    closers.push(() => store.close())
    await store.ingress.upsertXref(XREF, 'test')
    const q = await startQualink({
      ...rt.options,
      store,
      port,
      dataDir: db.dir,
      anchorFile: path.join(db.dir, 'anchors.jsonl'),
      logger: pino({ level: 'silent' }),
    })
    closers.push(() => q.close())
    const url = `http://127.0.0.1:${port}`
    const adopt = (dryRun = false) =>
      adoptFromConfig(loaded, {
        plant: 'P100',
        actor: ACTOR,
        dryRun,
        append: httpAppend({ url, actor: ACTOR }),
        xref: apiXref({ url, actor: ACTOR }),
        env,
      })
    // the old integration spoke the ERP's own codes: the bare connector
    return { erp, qms, store, adopt, bareErp: rt.connectors.erp as ErpPort }
  }

  it('adopts in enterprise ids, leaves an unmapped material to a person, and the runs finish once', async () => {
    const { erp, qms, store, adopt, bareErp } = await start()
    const receive = async (batch: string, qty: string, material = 'RAW-100') =>
      expect(
        (
          await s4Client(erp.url).send(
            'POST',
            `${MATDOC}/A_MaterialDocumentHeader`,
            goodsReceipt(batch, qty, '', material),
          )
        ).status,
      ).toBe(201)
    const qmsPost = async (p: string, body: object) => {
      const r = await fetch(`${qms.url}/api/v1${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(r.status, p).toBe(201)
      return (await r.json()) as { id: string }
    }
    // in flight at cut-over, in each system's own codes
    await receive('B-U1', '100')
    const u1 = await qmsPost('/inspection-lots', {
      material: 'Q-100',
      batch: 'QB-U1',
      plant: 'P100',
      quantity: '100',
      unit: 'KG',
    })
    await receive('B-U2', '50')
    await receive('B-X1', '20', 'RAW-999') // no mapping for RAW-999
    await bareErp.setProductionOrderHold({
      idempotencyKey: 'legacy-h1',
      order: 'PO-H1',
      onHold: true,
      reason: 'legacy',
    })
    const nc = await qmsPost('/nonconformances', { title: 'Torque', batch: 'QFG-H1', severity: 'MAJOR' })

    const outcomes = (r: AdoptionReport) =>
      Object.fromEntries(r.items.map((i) => [i.subject, `${i.outcome} ${i.kind}`]))
    const dry = await adopt(true)
    expect(outcomes(dry)).toEqual({
      'LOT-U1': 'would-adopt receipt-inspecting',
      'LOT-U2': 'would-adopt receipt',
      'B-X1': 'left-alone needs-a-person',
      'PO-H1': 'would-adopt held-order',
    })
    expect(dry.items.find((i) => i.subject === 'B-X1')!.detail).toContain(
      "material 'RAW-999' from sap-p100 in plant P100 has no mapping",
    )
    expect(await store.listEvents(ALL, { limit: 10 })).toHaveLength(0)

    const first = await adopt()
    expect(first).toMatchObject({ adopted: 3, alreadyAdopted: 0, leftAlone: 1 })
    const events = await store.listEvents(ALL, { limit: 20 })
    const receipts = events.filter((e) => e.envelope.type === 'erp.goods_receipt.posted.v1')
    expect(
      receipts.map((e) => e.envelope.data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toMatchObject([
      {
        lot: { id: 'LOT-U1', material: 'MAT-100', plant: 'P100' },
        supplier: 'SUPP-7',
        adoption: { qmsInspectionLot: u1.id },
      },
      { lot: { id: 'LOT-U2', material: 'MAT-100', plant: 'P100' }, supplier: 'SUPP-7' },
    ])
    const hold = events.find((e) => e.envelope.type === 'mes.operation.completed.v1')!
    expect(hold.envelope.data).toMatchObject({ adoption: { nonconformance: nc.id, lot: 'LOT-FGH1' } })

    const runOf = async (key: string) => (await store.engine.listRuns(ALL, { key, limit: 5 }))[0]
    // LOT-U2's QMS lot is created in the QMS's codes
    await until(async () => qms.state.inspectionLots.some((l) => l.batch === 'QB-U2'), 30_000)
    expect(qms.state.inspectionLots.find((l) => l.batch === 'QB-U2')).toMatchObject({ material: 'Q-100' })
    await until(async () => (await runOf('LOT-U1'))?.status === 'waiting', 30_000)
    await until(async () => (await runOf('LOT-U2'))?.status === 'waiting', 30_000)
    await until(async () => (await runOf('PO-H1'))?.status === 'waiting', 30_000)

    // adopting again stores and starts nothing
    const runs = (await store.engine.listRuns(ALL, { limit: 50 })).length
    expect(await adopt()).toMatchObject({ adopted: 0, alreadyAdopted: 3, leftAlone: 1 })
    expect((await store.engine.listRuns(ALL, { limit: 50 })).length).toBe(runs)
    expect(qms.state.inspectionLots).toHaveLength(2)

    // the QMS decides and dispositions; its webhooks (QMS codes) reach the adopted runs
    qms.makeUsageDecision(u1.id, { decision: 'ACCEPT', code: 'A1' })
    qms.makeUsageDecision((await inspectionLotOf(qms, 'QB-U2')).id, {
      decision: 'REJECT',
      code: 'R1',
      dispositions: [{ disposition: 'SCRAP', quantity: '50' }],
    })
    await workNonconformance(qms.url, nc.id, ['CONTAINED', 'UNDER_REVIEW'])
    const disposition = await fetch(`${qms.url}/api/v1/nonconformances/${nc.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'DISPOSITIONED',
        dispositionedBy: 'qe.meyer',
        dispositions: [{ disposition: 'REWORK', quantity: '10', unit: 'PC' }],
      }),
    })
    expect(disposition.status).toBe(200)
    for (const key of ['LOT-U1', 'LOT-U2', 'PO-H1'])
      await until(async () => (await runOf(key))?.status === 'completed', 45_000)

    // the ERP saw only its own codes, one document per effect
    expect(erp.state.counts.documentsByLotAndBucket).toEqual({
      'RAW-100|1000|B-U1': { qi: 1, unrestricted: 1 },
      'RAW-100|1000|B-U2': { qi: 1, scrap: 1 },
      'RAW-999|1000|B-X1': { qi: 1 },
    })
    expect(erp.state.productionOrders.find((o) => o.order === 'PO-H1')).toMatchObject({
      onHold: false,
      holdChanges: 2,
    })
    expect(await store.engine.listDeadLetters(ALL, { limit: 5 })).toHaveLength(0)
  })
})
