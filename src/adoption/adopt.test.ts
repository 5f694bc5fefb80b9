/**
 * The adoption plan's placement rules, from given ERP and QMS reads (the reads themselves and the
 * runs are tested end to end over the simulators: test/workflows/adoption*.test.ts). Every planned
 * event is valid against the canonical catalogue.
 */
import { describe, expect, it } from 'vitest'
import { catalogue } from '../contracts/catalogue.ts'
import { EventRegistry } from '../contracts/registry.ts'
import { quantity } from '../model/quantity.ts'
import type {
  AdoptionErpPort,
  AdoptionQmsPort,
  HeldProductionOrder,
  OpenErpInspectionLot,
  OpenNonconformance,
  QmsLotWithReference,
} from '../workflows/ports/adoption.ts'
import type { NonconformanceView } from '../workflows/ports/qms.ts'
import { planAdoption } from './adopt.ts'

const KG = (n: number) => quantity(n, 3, 'KG')

const erpLot = (id: string, lot: string, more: Partial<OpenErpInspectionLot> = {}): OpenErpInspectionLot => ({
  inspectionLot: id,
  plant: '1000',
  material: 'RAW-100',
  lot,
  materialDocument: { id: `50000${id.slice(-5)}`, year: 2026, item: '1' },
  quantity: KG(10),
  toBePosted: KG(10),
  decidedInErp: false,
  ...more,
})

const qmsLot = (id: string, lot: string, more: Partial<QmsLotWithReference> = {}): QmsLotWithReference => ({
  id,
  plant: '1000',
  material: 'RAW-100',
  lot,
  quantity: KG(10),
  sampleSize: 2,
  status: 'released',
  externalRef: '',
  ...more,
})

function plan(
  erp: { lots?: OpenErpInspectionLot[]; orders?: HeldProductionOrder[] },
  qms: { lots?: QmsLotWithReference[]; ncs?: OpenNonconformance[] },
  qmsPlants?: readonly string[],
) {
  const erpPort: AdoptionErpPort = {
    listOpenInspectionLots: async () => erp.lots ?? [],
    listHeldProductionOrders: async () => erp.orders ?? [],
  }
  const qmsPort: AdoptionQmsPort = {
    findInspectionLots: async ({ lot }) => (qms.lots ?? []).filter((l) => l.lot === lot),
    listOpenNonconformances: async () => qms.ncs ?? [],
    getInspectionLot: async (id) => (qms.lots ?? []).find((l) => l.id === id) ?? null,
  }
  return planAdoption({
    plant: 'P100',
    erp: erpPort,
    qms: qmsPort,
    actor: 'cli:tester',
    now: new Date('2026-11-27T06:00:00Z'),
    ...(qmsPlants ? { qmsPlants } : {}),
  })
}

const summary = (items: Awaited<ReturnType<typeof plan>>) => items.map((i) => [i.subject, i.kind])

describe('adoption plan', () => {
  it('continues the QMS lot that names the ERP lot among several, and refuses to guess among unnamed ones', async () => {
    const items = await plan(
      { lots: [erpLot('010000000001', 'B1'), erpLot('010000000002', 'B2', { text: 'IL-9' })] },
      {
        lots: [
          qmsLot('IL-1', 'B1', { externalRef: 'LEGACY-010000000001' }),
          qmsLot('IL-2', 'B1', { externalRef: 'LEGACY-010000000099' }),
          qmsLot('IL-8', 'B2'),
          qmsLot('IL-9', 'B2', { status: 'usage_decision' }),
        ],
      },
    )
    expect(summary(items)).toEqual([
      ['B1', 'receipt-inspecting'],
      ['B2', 'receipt-decided'],
    ])
    expect(items.map((i) => (i.event!.data as { adoption: unknown }).adoption)).toEqual([
      { qmsInspectionLot: 'IL-1' },
      { qmsInspectionLot: 'IL-9' },
    ])
    // the canonical lot is in the Qualink plant; the ERP's own code (1000) stays at the edge
    expect(
      items.map((i) => [i.event!.plant, (i.event!.data as { lot: { plant: string } }).lot.plant]),
    ).toEqual([
      ['P100', 'P100'],
      ['P100', 'P100'],
    ])
    const unnamed = await plan(
      { lots: [erpLot('010000000003', 'B3')] },
      { lots: [qmsLot('IL-3', 'B3'), qmsLot('IL-4', 'B3')] },
    )
    expect(summary(unnamed)).toEqual([['B3', 'needs-a-person']])
    expect(unnamed[0]!.detail).toContain('IL-3, IL-4')
    expect(unnamed[0]!.event).toBeUndefined()
  })

  it('leaves a batch whose QMS lot was cancelled, and ERP lots sharing one QMS lot, to a person', async () => {
    const items = await plan(
      {
        lots: [
          erpLot('010000000005', 'B5'),
          erpLot('010000000006', 'B6'),
          erpLot('010000000007', 'B6'),
          erpLot('010000000008', 'B8'),
        ],
      },
      {
        lots: [
          qmsLot('IL-5', 'B5', { status: 'cancelled' }),
          qmsLot('IL-6', 'B6'),
          qmsLot('IL-X', 'B8', { material: 'OTHER' }),
        ],
      },
    )
    expect(summary(items)).toEqual([
      ['B5', 'needs-a-person'],
      ['B6', 'needs-a-person'],
      ['B6', 'needs-a-person'],
      ['B8', 'receipt'], // a QMS lot of another material is not this receipt's
    ])
    expect(items[0]!.detail).toContain('cancelled')
  })

  it('leaves an ERP lot the ERP cannot settle, or that names no inspection lot, to a person, with no event', async () => {
    const items = await plan(
      {
        lots: [
          erpLot('MAT-QA-2026-00001', 'B9', {
            toBePosted: KG(4),
            unsettled: 'stock left QI without naming the inspection',
          }),
          erpLot('', 'B10'),
          erpLot('MAT-QA-2026-00003', 'B11'),
        ],
      },
      { lots: [qmsLot('IL-9', 'B9', { status: 'usage_decision' })] },
    )
    expect(summary(items)).toEqual([
      ['B9', 'needs-a-person'],
      ['B10', 'needs-a-person'],
      ['B11', 'receipt'],
    ])
    expect(items[0]!.detail).toBe(
      '0.004 KG of 0.010 KG in QI (ERP inspection lot MAT-QA-2026-00001): stock left QI without naming the inspection',
    )
    expect(items[1]!.detail).toContain('the ERP names no inspection lot')
    expect(items.filter((i) => i.event).map((i) => i.event!.id)).toEqual(['receipt-MAT-QA-2026-00003'])
  })

  it('adopts a hold only with exactly one open NC on its batch; other open NCs are recorded; every event is valid', async () => {
    const nc = (id: string, lot?: string): NonconformanceView => ({
      id,
      title: `NC ${id}`,
      severity: 'major',
      status: 'open',
      ...(lot ? { lot } : {}),
    })
    const order = (o: string, lot: string): HeldProductionOrder => ({
      order: o,
      plant: '1000',
      material: 'FG-1',
      lot,
      reason: 'legacy',
    })
    const items = await plan(
      {
        lots: [erpLot('010000000001', 'B1')],
        orders: [order('PO-1', 'F1'), order('PO-2', 'F2'), order('PO-3', 'F3'), order('PO-4', '')],
      },
      { ncs: [nc('NC-1', 'F1'), nc('NC-2', 'F2'), nc('NC-3', 'F2'), nc('NC-4')] },
    )
    expect(summary(items)).toEqual([
      ['B1', 'receipt'],
      ['PO-1', 'held-order'],
      ['PO-2', 'needs-a-person'],
      ['PO-3', 'needs-a-person'],
      ['PO-4', 'needs-a-person'],
      ['NC-2', 'nonconformance'],
      ['NC-3', 'nonconformance'],
      ['NC-4', 'nonconformance'],
    ])
    expect(items.map((i) => i.event?.id).filter(Boolean)).toEqual([
      'receipt-010000000001',
      'hold-PO-1-NC-1',
      'nc-NC-2',
      'nc-NC-3',
      'nc-NC-4',
    ])
    const registry = new EventRegistry(catalogue)
    for (const i of items) if (i.event) expect(() => registry.validate(i.event, '')).not.toThrow()
  })

  it('adopts from a QMS shared by plants only the nonconformances shown to be this plant’s', async () => {
    const nc = (id: string, more: Partial<OpenNonconformance>): OpenNonconformance => ({
      id,
      title: id,
      severity: 'major',
      status: 'open',
      ...more,
    })
    const items = await plan(
      { lots: [erpLot('010000000001', 'B-OWN', { unsettled: 'x' })] },
      {
        lots: [
          qmsLot('IL-1', 'B-1', { plant: 'P100' }),
          qmsLot('IL-2', 'B-2', { plant: 'P200' }),
          qmsLot('IL-3', 'B-MIX', { plant: 'P100' }),
          qmsLot('IL-4', 'B-MIX', { plant: 'P200' }),
          qmsLot('IL-5', 'B-5', { plant: '9999' }),
        ],
        ncs: [
          nc('NC-LOT-OWN', { inspectionLot: 'IL-1' }), // its inspection lot is P100's
          nc('NC-LOT-OTHER', { inspectionLot: 'IL-2', lot: 'B-1' }), // the inspection lot wins: P200's
          nc('NC-BATCH-OWN', { lot: 'B-1' }),
          nc('NC-BATCH-OTHER', { lot: 'B-2' }),
          nc('NC-BATCH-MIX', { lot: 'B-MIX' }),
          nc('NC-FOREIGN', { lot: 'B-5' }),
          nc('NC-NOTHING', {}),
          nc('NC-ERP', { lot: 'B-ERP' }),
          nc('NC-UNMAPPED', { lot: 'QB-9', unsettled: "lot 'QB-9' has no mapping" }),
        ],
      },
      ['P100', 'P200'],
    )
    const byId = Object.fromEntries(items.map((i) => [i.subject, i]))
    expect(
      Object.fromEntries(items.filter((i) => i.subject.startsWith('NC')).map((i) => [i.subject, i.kind])),
    ).toEqual({
      'NC-LOT-OWN': 'nonconformance',
      'NC-BATCH-OWN': 'nonconformance',
      'NC-BATCH-MIX': 'needs-a-person',
      'NC-FOREIGN': 'needs-a-person',
      'NC-NOTHING': 'needs-a-person',
      'NC-ERP': 'needs-a-person',
      'NC-UNMAPPED': 'needs-a-person',
    })
    expect(byId['NC-BATCH-MIX']!.detail).toContain('batch B-MIX has QMS inspection lots in plants P100, P200')
    expect(byId['NC-FOREIGN']!.detail).toContain("plant '9999'")
    expect(byId['NC-NOTHING']!.detail).toContain('names neither an inspection lot nor a batch')
    expect(byId['NC-UNMAPPED']!.detail).toContain("lot 'QB-9' has no mapping")
    expect(byId['NC-LOT-OWN']!.event).toMatchObject({
      plant: 'P100',
      data: { nonconformance: { plant: 'P100' } },
    })

    // the batch in this plant's ERP inspection stock shows it is this plant's
    const own = await plan(
      { lots: [erpLot('010000000002', 'B-ERP')] },
      { ncs: [nc('NC-ERP', { lot: 'B-ERP' })] },
      ['P100', 'P200'],
    )
    expect(summary(own)).toEqual([
      ['B-ERP', 'receipt'],
      ['NC-ERP', 'nonconformance'],
    ])
    // a QMS serving this plant only: every open nonconformance is this plant's, as before
    expect(summary(await plan({}, { ncs: [nc('NC-NOTHING', {})] }))).toEqual([
      ['NC-NOTHING', 'nonconformance'],
    ])
  })
})
