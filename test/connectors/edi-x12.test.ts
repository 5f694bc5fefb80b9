import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cursorName } from '../../src/connectors/edi/x12/control-numbers.ts'
import { parseX12, X12ParseError } from '../../src/connectors/edi/x12/parser.ts'
import {
  sendReceivingAdvice,
  type TradingPartner,
} from '../../src/connectors/edi/x12/receiving-advice-861.ts'
import {
  checkX12File,
  type ShipNoticeData,
  shipNoticeXrefRows,
  x12ShipNoticeTranslator,
} from '../../src/connectors/edi/x12/translator.ts'
import type { FileDrop } from '../../src/connectors/ingress/file-drop.ts'
import { catalogue } from '../../src/contracts/catalogue.ts'
import { EventRegistry } from '../../src/contracts/registry.ts'
import { memoryXrefResolver } from '../../src/mapping/xref.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL } from '../engine/harness.ts'
import { startX12Drop } from './x12-drop.ts'

const FIXTURES = path.join(import.meta.dirname, '../fixtures/edi')
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name))

function problemsOf(text: string | Buffer) {
  try {
    parseX12(text)
  } catch (e) {
    if (e instanceof X12ParseError) return e.problems
    throw e
  }
  return []
}

/** The supplier as a trading partner, and Qualink's own interchange identity. */
const partner: TradingPartner = {
  id: 'V-42',
  qualifier: 'ZZ',
  interchangeId: 'V42SUPPLIER',
  applicationId: 'V42SUPPLIER',
  usage: 'T',
  rejectedConditionCode: '07',
}
const self = { qualifier: 'ZZ', interchangeId: 'QUALINKP100', applicationId: 'QUALINKP100' }

describe('X12 parser', () => {
  it('reads the envelope of the sample 856: delimiters from the ISA, control numbers, one SH group', () => {
    const x = parseX12(fixture('856-valid.x12'))
    expect(x.delimiters).toEqual({ element: '*', component: '>', segment: '~' })
    expect(x).toMatchObject({
      sender: 'V42SUPPLIER',
      receiver: 'QUALINKP100',
      controlNumber: '000000101',
      usage: 'T',
    })
    expect(x.groups).toHaveLength(1)
    expect(x.groups[0]).toMatchObject({ functionalCode: 'SH', controlNumber: '101' })
    expect(x.groups[0]!.transactions.map((t) => [t.code, t.controlNumber, t.body.length])).toEqual([
      ['856', '0001', 15],
    ])
  })

  it('takes the separators from the ISA itself, not from a fixed set', () => {
    const text = fixture('856-valid.x12').toString('latin1').replaceAll('*', '|').replaceAll('~', "'")
    const x = parseX12(text)
    expect(x.delimiters).toEqual({ element: '|', component: '>', segment: "'" })
    expect(x.groups[0]!.transactions[0]!.body[0]!.elements).toEqual([
      'BSN',
      '00',
      'ASN-2025-0042',
      '20250304',
      '1015',
    ])
  })

  it('names segment index, id and element position of each envelope error', () => {
    expect(problemsOf(fixture('856-wrong-se-count.x12'))).toEqual([
      { segment: 19, segmentId: 'SE', element: 1, message: 'says 12 segments, found 17' },
    ])
    expect(problemsOf(fixture('856-missing-iea.x12'))).toEqual([
      { segment: 21, segmentId: 'IEA', message: 'interchange ends after segment 20 (GE) without IEA' },
    ])
    const wrongControl = fixture('856-valid.x12').toString('latin1').replace('GE*1*101', 'GE*1*102')
    expect(problemsOf(wrongControl)).toEqual([
      { segment: 20, segmentId: 'GE', element: 2, message: "control number '102' does not match GS06 '101'" },
    ])
    const shortIsa = fixture('856-valid.x12').toString('latin1').replace('*000000101*', '*00000101**')
    expect(problemsOf(shortIsa)[0]).toMatchObject({ segment: 1, segmentId: 'ISA' })
  })

  it('rejects a bad element inside an 856 with its position', () => {
    const problems = checkX12File('856-bad-element.x12', fixture('856-bad-element.x12'))
    expect(problems).toEqual([
      {
        path: '/segments/16/SN1/2',
        message: "segment 16 (SN102): '12O.5' is not a positive decimal quantity",
      },
      { path: '/segments/14/HL', message: 'segment 14 (HL): item level has no SN1 with quantity and unit' },
    ])
  })
})

describe('EDI X12 over folder transport with a real store', () => {
  let db: TestDatabase
  let store: Store
  let drop: FileDrop
  let inbound: string

  beforeEach(async () => {
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
    inbound = path.join(db.dir, 'edi-in')
    mkdirSync(inbound)
    drop = startX12Drop(inbound, store)
  })
  afterEach(async () => {
    await drop?.close()
    await store?.close()
    await db?.cleanup()
  })

  /**
   * The drop takes a file on the second scan that sees it unchanged; its own timer scan may be
   * that second one, so the outcome is read from where the file ended up.
   */
  async function deliver(name: string) {
    copyFileSync(path.join(FIXTURES, name), path.join(inbound, name))
    await drop.scanOnce()
    await drop.scanOnce()
    const moved = (sub: string) =>
      readdirSync(path.join(inbound, sub)).filter((f) => !f.endsWith('.error.json'))
    return { stored: moved('processed'), rejected: moved('failed') }
  }

  it('stores a valid 856, translates it to a valid ship notice event and records supplier-lot cross-references', async () => {
    expect(await deliver('856-valid.x12')).toEqual({ stored: ['856-valid.x12'], rejected: [] })
    const [raw] = await store.ingress.listRawDeliveries(ALL, { limit: 10 })
    expect(raw).toBeDefined()
    const events = await x12ShipNoticeTranslator('edi-v42').translate(raw!, memoryXrefResolver([]))
    const registry = new EventRegistry(catalogue)
    const [event] = events.map((e) => registry.validate(e))
    expect(events).toHaveLength(1)
    expect(event!.id).toBe(`${raw!.deliveryId}#101.0001`)
    expect(event!.data).toEqual({
      shipment: 'ASN-2025-0042',
      plant: 'P100',
      supplier: 'V-42',
      shippedAt: '2025-03-04T10:15:00Z',
      lines: [
        {
          line: '3',
          material: 'M-100',
          supplierLot: 'ACME-2025-118',
          purchaseOrder: '4500000017',
          quantity: { units: 500, scale: 0, uom: 'KG' },
        },
        {
          line: '4',
          material: 'M-200',
          supplierLot: 'ACME-2025-119',
          purchaseOrder: '4500000017',
          quantity: { units: 1205, scale: 1, uom: 'KG' },
        },
      ],
      interchange: { sender: 'V42SUPPLIER', controlNumber: '000000101', transaction: '0001' },
      audit: { timestamp: '2025-03-04T10:15:00Z', sourceSystem: 'edi-v42', approvalStatus: 'not_required' },
    })

    await store.ingress.upsertXref(shipNoticeXrefRows(event!.data as ShipNoticeData), 'connector:edi-v42')
    const key = { system: 'supplier:V-42', entityType: 'supplier_lot', plant: 'P100' }
    expect(await store.ingress.resolveXref({ ...key, externalCode: 'ACME-2025-119' })).toBe('ASN-2025-0042/4')
  })

  it('parks a vendor part number until its material mapping exists', async () => {
    const text = fixture('856-valid.x12').toString('latin1').replace('LIN**BP*M-200', 'LIN**VP*ACME-BAR-20')
    const raw = { ...(await deliverText(text)) }
    const translator = x12ShipNoticeTranslator('edi-v42')
    await expect(translator.translate(raw, memoryXrefResolver([]))).rejects.toMatchObject({
      code: 'QLK_XREF_MISSING',
    })
    const mapped = memoryXrefResolver([
      {
        system: 'edi-v42',
        entityType: 'material',
        externalCode: 'ACME-BAR-20',
        plant: 'P100',
        enterpriseId: 'M-200',
      },
    ])
    const [event] = await translator.translate(raw, mapped)
    expect((event!.data as ShipNoticeData).lines[1]!.material).toBe('M-200')
  })

  async function deliverText(text: string) {
    writeFileSync(path.join(inbound, 'vp.x12'), text, 'latin1')
    await drop.scanOnce()
    await drop.scanOnce()
    const [raw] = await store.ingress.listRawDeliveries(ALL, { limit: 10 })
    if (!raw) throw new Error('not stored')
    return raw
  }

  it.each([
    ['856-wrong-se-count.x12', '/segments/19/SE/1'],
    ['856-missing-iea.x12', '/segments/21/IEA'],
    ['856-bad-element.x12', '/segments/16/SN1/2'],
  ])('rejects %s whole to failed/ naming %s, and stores nothing', async (name, pointer) => {
    expect(await deliver(name)).toEqual({ stored: [], rejected: [name] })
    expect(await store.ingress.listRawDeliveries(ALL, { limit: 10 })).toEqual([])
    expect(existsSync(path.join(inbound, 'failed', name))).toBe(true)
    const report = JSON.parse(readFileSync(path.join(inbound, 'failed', `${name}.error.json`), 'utf8')) as {
      problems: { path: string }[]
    }
    expect(report.problems.map((p) => p.path)).toContain(pointer)
  })

  it('writes 861 acceptance certificates atomically with increasing, durable control numbers that round-trip', async () => {
    const outbound = path.join(db.dir, 'edi-out')
    const receipt = {
      material: 'M-100',
      supplierLot: 'ACME-2025-118',
      shipment: 'ASN-2025-0042',
      purchaseOrder: '4500000017',
    }
    const kg = (units: number) => ({ units, scale: 3, uom: 'KG' })
    const decision = {
      inspectionLot: '010000000123',
      code: 'A1',
      stockPostings: [
        { code: 'RELEASE' as const, quantity: kg(480_000) },
        { code: 'USE_AS_IS' as const, quantity: kg(5_500) },
        { code: 'RETURN_TO_VENDOR' as const, quantity: kg(12_000) },
        { code: 'SCRAP' as const, quantity: kg(2_500) },
      ],
    }
    const at = new Date('2025-03-06T14:05:00Z')
    const first = await sendReceivingAdvice({
      ingress: store.ingress,
      outboundDir: outbound,
      self,
      partner,
      decision,
      receipt,
      at,
    })
    const second = await sendReceivingAdvice({
      ingress: store.ingress,
      outboundDir: outbound,
      self,
      partner,
      decision,
      receipt,
      at,
    })
    expect([first.controlNumber, second.controlNumber]).toEqual([1, 2])
    expect(readdirSync(outbound).sort()).toEqual(['861-V-42-000000001.x12', '861-V-42-000000002.x12'])

    const x = parseX12(readFileSync(second.file))
    expect(x).toMatchObject({ sender: 'QUALINKP100', receiver: 'V42SUPPLIER', controlNumber: '000000002' })
    expect(x.groups[0]).toMatchObject({ functionalCode: 'RC', controlNumber: '2' })
    const tx = x.groups[0]!.transactions[0]!
    expect(tx.code).toBe('861')
    const seg = (id: string) => tx.body.find((s) => s.id === id)?.elements
    expect(seg('BRA')).toEqual(['BRA', '010000000123', '20250306', '00', '2'])
    expect(seg('RCD')).toEqual(['RCD', '1', '485.500', 'KG', '', '', '14.500', 'KG', '07'])
    expect(seg('LIN')).toEqual(['LIN', '', 'BP', 'M-100', 'LT', 'ACME-2025-118'])

    // The counter lives in the database: a restarted process continues from it.
    await store.close()
    store = await db.open()
    expect(await store.ingress.getCursor(cursorName('V-42'))).toBe('2')
    const third = await sendReceivingAdvice({
      ingress: store.ingress,
      outboundDir: outbound,
      self,
      partner,
      decision,
      receipt,
      at,
    })
    expect(parseX12(third.content).controlNumber).toBe('000000003')
  })

  it('burns no control number on a decision it cannot certify', async () => {
    const outbound = path.join(db.dir, 'edi-out')
    const decision = {
      inspectionLot: '010000000124',
      code: 'A1',
      stockPostings: [{ code: 'RELEASE' as const, quantity: { units: 5, scale: 0, uom: 'PALLET' } }],
    }
    const receipt = { material: 'M-100', supplierLot: 'ACME-2025-118' }
    await expect(
      sendReceivingAdvice({
        ingress: store.ingress,
        outboundDir: outbound,
        self,
        partner,
        decision,
        receipt,
      }),
    ).rejects.toMatchObject({ code: 'QLK_VALIDATION' })
    expect(await store.ingress.getCursor(cursorName('V-42'))).toBeNull()
    expect(existsSync(outbound)).toBe(false)
  })
})
