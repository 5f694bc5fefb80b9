/**
 * qualink.yaml's per-material settings are applied (issue 8 item 7): sampling per material group
 * in supplier receipt inspection, release checkpoints per product family in finished-goods release.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { workflowSettings } from '../../src/config/checks.ts'
import { loadConfig } from '../../src/config/load.ts'
import { samplingPlan } from '../../src/rules/index.ts'
import { finishedGoodsRelease, type ReleaseSettings } from '../../src/workflows/finished-goods-release.ts'
import type { ErpPort } from '../../src/workflows/ports/erp.ts'
import {
  type ReceiptInspectionSettings,
  supplierReceiptInspection,
} from '../../src/workflows/supplier-receipt-inspection.ts'
import { baseDoc, type Doc, problemsOf, TempDir } from '../config/fixture.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { postEvent } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }

/** P100 of the fixture with two sampling groups and two product families, in qualink.yaml terms. */
function plantDoc(): Doc {
  const d = baseDoc()
  const p100 = (d.plants as Record<string, Doc>).P100!
  p100.sampling = {
    default: { level: 'II', aql: '1.0', severity: 'normal' },
    materialGroups: { CRITICAL: { level: 'III', aql: '0.65', severity: 'tightened' } },
    materials: { 'RAW-100': 'CRITICAL' },
  }
  p100.release = {
    productFamilies: {
      implants: { checkpoints: ['lims-results', 'packaging-verification', 'qms-approval'], deadline: '2s' },
      spares: { checkpoints: ['packaging-verification'] },
    },
    materials: { 'FG-IMPLANT': 'implants', 'FG-SPARE': 'spares' },
  }
  return d
}

let tmp: TempDir
beforeEach(() => {
  tmp = new TempDir()
})
afterEach(() => tmp.remove())

/** The settings a workflow runs with in P100, as `qualink start` builds them from the file. */
function settingsOf<T>(workflow: string, d: Doc = plantDoc()): T {
  const { config } = loadConfig(tmp.write('qualink.yaml', d), {})
  const { settings, problems } = workflowSettings(workflow, 'P100', config.plants.P100!, {})
  expect(problems).toEqual([])
  return settings as T
}

describe('per-material plant settings from qualink.yaml', () => {
  it('a material naming a group or family the plant does not define is refused at its path', () => {
    const d = plantDoc()
    const p100 = (d.plants as Record<string, Doc & { sampling: Doc; release: Doc }>).P100!
    ;(p100.sampling.materials as Doc)['RAW-300'] = 'NOPE'
    ;(p100.release.materials as Doc)['FG-X'] = 'toys'
    expect(problemsOf(tmp, d)).toEqual([
      {
        path: '/plants/P100/sampling/materials/RAW-300',
        message: "names material group 'NOPE', which sampling.materialGroups does not define",
      },
      {
        path: '/plants/P100/release/materials/FG-X',
        message: "names product family 'toys', which release.productFamilies does not define",
      },
    ])
  })
})

describe.each(DIALECTS)('sampling per material group on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' }, 'RAW-200': { baseUnit: 'KG' } }, webhook: true },
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierReceiptInspection(() => settings)],
  }))
  let settings: ReceiptInspectionSettings
  beforeEach(() => {
    settings = settingsOf<ReceiptInspectionSettings>('supplier-receipt-inspection')
  })

  it('two materials in different groups get different sampling plans for the same lot size', async () => {
    for (const [batch, material] of [
      ['G1', 'RAW-100'],
      ['G2', 'RAW-200'],
    ] as const) {
      const r = await s4Client(hub.erp.url).send(
        'POST',
        `${MATDOC}/A_MaterialDocumentHeader`,
        goodsReceipt(batch, '100', '', material),
      )
      expect(r.status).toBe(201)
    }
    const lotOf = (b: string) => hub.qms.state.inspectionLots.find((l) => l.batch === b)
    await until(() => lotOf('G1') !== undefined && lotOf('G2') !== undefined)
    // RAW-100 is in CRITICAL (level III, AQL 0.65, tightened); RAW-200 in no group: the default.
    const critical = samplingPlan({ lotSize: 100, level: 'III', aql: '0.65', severity: 'tightened' })
    const standard = samplingPlan({ lotSize: 100, level: 'II', aql: '1.0', severity: 'normal' })
    expect(standard.unitsToInspect).toBe(13) // Z1.4: 100 → code F (level II), AQL 1.0 normal → n = 13
    expect(critical.unitsToInspect).not.toBe(standard.unitsToInspect)
    expect(lotOf('G1')!.sampleSize).toBe(critical.unitsToInspect)
    expect(lotOf('G2')!.sampleSize).toBe(standard.unitsToInspect)
    const planOf = async (lot: string) => {
      const [run] = await hub.store.engine.listRuns(ALL, { key: lot, limit: 1 })
      const loaded = await hub.store.engine.loadRun(ALL, run!.id)
      return loaded!.journal.find((j) => j.name === 'sampling-plan')!.result
    }
    expect(await planOf('G1')).toMatchObject({ materialGroup: 'CRITICAL', codeLetter: critical.codeLetter })
    expect(await planOf('G2')).not.toHaveProperty('materialGroup')
  })
})

describe.each(DIALECTS)('release checkpoints per product family on %s', (dialect: Dialect) => {
  let erpPort: ErpPort
  const hub = usePlantHub(dialect, () => ({
    erp: {
      deliveries: ['F1', 'F2'].map((lot, i) => ({
        DeliveryDocument: `8000000${i + 1}`,
        ShipToParty: 'CUST-1',
        items: [
          { Material: lot === 'F1' ? 'FG-IMPLANT' : 'FG-SPARE', Plant: '1000', Batch: lot, quantity: '10' },
        ],
      })),
    },
    workflows: [finishedGoodsRelease(() => settingsOf<ReleaseSettings>('finished-goods-release'))],
    deferStart: true,
  }))
  beforeEach(async () => {
    erpPort = hub.ports.erp!
    for (const d of ['80000001', '80000002'])
      await erpPort.setDeliveryBlock({ idempotencyKey: `init-${d}`, delivery: d, blocked: true })
    await hub.start()
  })
  const post = (type: string, subject: string, data: Record<string, unknown>) =>
    postEvent(hub.q, type, subject, data)
  /** The MES reports the lot produced: genealogy learns its material (and so its family). */
  const produced = (lot: string, material: string) =>
    post('mes.operation.completed.v1', lot, {
      operation: { productionOrder: `PO-${lot}`, number: '0010', workCenter: 'PACK-1' },
      plant: 'P100',
      measurements: [],
      consumed: [],
      produced: [{ lot, material, quantity: { units: 10, scale: 0, uom: 'EA' } }],
      audit,
    })
  const packaging = (lot: string, delivery: string) =>
    post('mes.packaging.verified.v1', lot, {
      lot,
      plant: 'P100',
      delivery,
      checks: [{ name: 'label', passed: true }],
      verified: true,
      audit,
    })
  const runOf = async (lot: string) => (await hub.store.engine.listRuns(ALL, { key: lot, limit: 5 }))[0]
  const blockOf = (d: string) => hub.erp.state.deliveries.find((x) => x.delivery === d)!

  it('packaging alone releases a spare part; an implant also needs the lab and the QMS', async () => {
    await produced('F1', 'FG-IMPLANT')
    await produced('F2', 'FG-SPARE')
    await packaging('F2', '80000002')
    await packaging('F1', '80000001')
    // a liveness bound, not a speed check: under a loaded CI machine a retried ERP call's backoff
    // (1, 2, 4, 8, 16 s) alone can pass 30 s (a CI run timed out here once)
    await until(async () => (await runOf('F2'))?.status === 'completed', 90_000)
    expect((await runOf('F2'))!.result).toMatchObject({
      decision: 'released',
      productFamily: 'spares',
      checkpoints: { packaging: 'passed' },
    })
    expect(blockOf('80000002').blockReason).toBe('')
    // The implant waits for its lab result and QMS approval; at its 2 s deadline it escalates and
    // the delivery stays blocked.
    await until(async () => (await runOf('F1'))?.status === 'completed', 90_000)
    expect((await runOf('F1'))!.result).toMatchObject({
      decision: 'blocked',
      productFamily: 'implants',
      checkpoints: { lab: 'pending', packaging: 'passed', 'qms-approval': 'pending' },
    })
    expect(blockOf('80000001').blockReason).not.toBe('')
    const journal = (await hub.store.engine.loadRun(ALL, (await runOf('F1'))!.id))!.journal
    expect(journal.find((j) => j.name === 'product-family')!.result).toEqual({
      material: 'FG-IMPLANT',
      family: 'implants',
    })
    expect(journal.some((j) => j.name === 'escalate')).toBe(true)
  }, 200_000)
})
