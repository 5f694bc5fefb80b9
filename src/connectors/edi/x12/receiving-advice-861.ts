import { mkdir, open, rename } from 'node:fs/promises'
import path from 'node:path'
import { QualinkError } from '../../../contracts/errors.ts'
import type { DispositionCode } from '../../../model/nonconformance.ts'
import { add, formatDecimal, type Quantity } from '../../../model/quantity.ts'
import type { IngressStore } from '../../../store/ingress-types.ts'
import { isaControl, nextControlNumber } from './control-numbers.ts'
import { isaSegment, x12Stamp } from './envelope.ts'

/** One side of an interchange: ISA05/06 (or 07/08) and GS02 (or GS03). */
export interface EdiParty {
  readonly qualifier: string
  readonly interchangeId: string
  readonly applicationId: string
}

export interface TradingPartner extends EdiParty {
  /** the counter key and file-name part, e.g. the enterprise supplier id */
  readonly id: string
  /** ISA15 */
  readonly usage: 'P' | 'T'
  /**
   * RCD08 for rejected quantities (code list 412). Required by RCD's C060708 rule whenever
   * RCD06 is sent; which code a partner expects is in its implementation guide, so it is
   * configured rather than guessed.
   */
  readonly rejectedConditionCode: string
}

/** The fields of `qms.usage_decision.made.v1` an acceptance certificate needs. */
export interface UsageDecision {
  readonly inspectionLot: string
  readonly code: string
  readonly stockPostings: readonly { readonly code: DispositionCode; readonly quantity: Quantity }[]
}

/** What the partner knows the receipt by: their lot and our material, from the 856. */
export interface ReceiptReference {
  readonly material: string
  readonly supplierLot: string
  readonly shipment?: string
  readonly purchaseOrder?: string
}

/** Dispositions that keep the goods: the rest go back, are scrapped or reworked at the supplier's cost. */
const ACCEPTING: ReadonlySet<DispositionCode> = new Set(['RELEASE', 'USE_AS_IS'])

export function acceptance(postings: UsageDecision['stockPostings']): {
  accepted: Quantity
  rejected: Quantity
} {
  const first = postings[0]
  if (!first) {
    throw new QualinkError(
      'QLK_VALIDATION',
      'a usage decision without stock postings has nothing to certify',
      [{ path: '/stockPostings', message: 'must hold at least one posting' }],
    )
  }
  const zero: Quantity = { units: 0, scale: first.quantity.scale, uom: first.quantity.uom }
  let accepted = zero
  let rejected = zero
  postings.forEach((p, i) => {
    if (ACCEPTING.has(p.code)) accepted = add(accepted, p.quantity, `/stockPostings/${i}/quantity`)
    else rejected = add(rejected, p.quantity, `/stockPostings/${i}/quantity`)
  })
  return { accepted, rejected }
}

/** Renders one 861 interchange (ISA/GS*RC/ST*861 … SE/GE/IEA) under control number `control`. */
export function renderReceivingAdvice(o: {
  readonly self: EdiParty
  readonly partner: TradingPartner
  readonly decision: UsageDecision
  readonly receipt: ReceiptReference
  readonly control: number
  readonly at: Date
}): string {
  const { accepted, rejected } = acceptance(o.decision.stockPostings)
  const uom = accepted.uom
  // X12 355 unit codes are two characters; a longer enterprise code needs a mapping first.
  if (!/^[A-Z0-9]{2}$/.test(uom)) {
    throw new QualinkError('QLK_VALIDATION', `unit ${uom} has no X12 (355) code`, [
      { path: '/stockPostings/0/quantity/uom', message: 'must be a two-character X12 unit code' },
    ])
  }
  const values = [
    o.decision.inspectionLot,
    o.receipt.material,
    o.receipt.supplierLot,
    o.receipt.shipment ?? '',
  ]
  values.push(o.receipt.purchaseOrder ?? '', o.self.applicationId, o.partner.applicationId)
  // A value holding a delimiter would shift every later element: refuse rather than escape (X12 has no escape).
  const bad = values.find((v) => /[*~>\r\n]/.test(v))
  if (bad !== undefined) {
    throw new QualinkError('QLK_VALIDATION', `'${bad}' contains an X12 delimiter (* ~ >)`, [
      { path: '/receipt', message: 'values must not contain * ~ > or line breaks' },
    ])
  }
  const { ccyymmdd, hhmm } = x12Stamp(o.at)
  const ctl = isaControl(o.control)
  const body: string[][] = [
    ['ST', '861', '0001'],
    // BRA04 = 2: acceptance certificate (code list 962), the answer to a usage decision.
    ['BRA', o.decision.inspectionLot, ccyymmdd, '00', '2'],
  ]
  if (o.receipt.shipment) body.push(['REF', 'SI', o.receipt.shipment])
  if (o.receipt.purchaseOrder) body.push(['REF', 'PO', o.receipt.purchaseOrder])
  body.push(['DTM', '050', ccyymmdd])
  // RCD02/03 accepted; RCD06/07/08 the quantity in question with its condition (rule C060708).
  const rcd = ['RCD', '1', formatDecimal(accepted), uom]
  if (rejected.units > 0) rcd.push('', '', formatDecimal(rejected), uom, o.partner.rejectedConditionCode)
  body.push(rcd)
  body.push(['LIN', '', 'BP', o.receipt.material, 'LT', o.receipt.supplierLot])
  body.push(['CTT', '1'])
  body.push(['SE', String(body.length + 1), '0001'])
  const isa = isaSegment(o.self, o.partner, o.at, o.control)
  const segments = [
    isa,
    [
      'GS',
      'RC',
      o.self.applicationId,
      o.partner.applicationId,
      ccyymmdd,
      hhmm,
      String(o.control),
      'X',
      '004010',
    ],
    ...body,
    ['GE', '1', String(o.control)],
    ['IEA', '1', ctl],
  ]
  // One segment a line: the terminator stays `~`; the newline is for people reading the file.
  return segments.map((s) => `${s.join('*')}~\n`).join('')
}

/** The file name of an 861 to a partner under a control number. */
export function adviceFileName(partner: TradingPartner, control: number): string {
  return `861-${partner.id.replace(/[^A-Za-z0-9_-]/g, '_')}-${isaControl(control)}.x12`
}

/**
 * Writes a rendered interchange to `outboundDir` under a hidden temporary name, fsyncs it and
 * renames it into place, so a partner's pickup never sees half a file.
 */
export async function writeInterchange(outboundDir: string, name: string, content: string): Promise<string> {
  await mkdir(outboundDir, { recursive: true })
  const temp = path.join(outboundDir, `.${name}.part`)
  const fh = await open(temp, 'w')
  try {
    await fh.writeFile(content, 'latin1')
    await fh.sync()
  } finally {
    await fh.close()
  }
  const file = path.join(outboundDir, name)
  await rename(temp, file)
  return file
}

/** Takes the next control number, renders the 861 and writes it (writeInterchange). */
export async function sendReceivingAdvice(o: {
  readonly ingress: Pick<IngressStore, 'nextCounter'>
  readonly outboundDir: string
  readonly self: EdiParty
  readonly partner: TradingPartner
  readonly decision: UsageDecision
  readonly receipt: ReceiptReference
  readonly at?: Date
}): Promise<{ file: string; controlNumber: number; content: string }> {
  // Rendered once before the counter moves so a decision that cannot be certified burns no number.
  renderReceivingAdvice({ ...o, control: 1, at: o.at ?? new Date() })
  const control = await nextControlNumber(o.ingress, o.partner.id)
  const content = renderReceivingAdvice({ ...o, control, at: o.at ?? new Date() })
  const file = await writeInterchange(o.outboundDir, adviceFileName(o.partner, control), content)
  return { file, controlNumber: control, content }
}
