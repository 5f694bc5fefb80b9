import { MAX_SCALE } from '../../../model/quantity.ts'
import type { X12Problem, X12Segment, X12Transaction } from './parser.ts'

/**
 * The 856 Ship Notice/Manifest as Qualink reads it: the HL (hierarchical level) tree
 * Shipment (S) → Order (O) → Item (I), the common "SOI" structure of the 856 guides.
 * Pack (P) and tare (T) levels may sit in between; only the item level carries lines.
 */
export interface ShipNoticeLine {
  /** HL01 of the item level: stable within the transaction, so a line id derives from it */
  readonly hl: string
  /** LIN product id and its qualifier: BP = buyer's part (our material), VP = vendor's part */
  readonly material: { readonly qualifier: string; readonly code: string }
  /** LIN pair qualified LT, or REF*LT within the item level */
  readonly supplierLot: string
  /** SN102 exactly as sent (a plain decimal) and SN103 */
  readonly quantity: string
  readonly uom: string
  /** PRF01 of the enclosing order level */
  readonly purchaseOrder?: string
}

export interface ShipNotice {
  /** BSN02 */
  readonly shipmentId: string
  /** BSN03 + BSN04 as RFC 3339 (UTC: the 856 carries no zone unless a DTM says so) */
  readonly shippedAt?: string
  /** N1*SF (ship from) or N1*SU (supplier): N104 and its qualifier N103 */
  readonly supplier: { readonly qualifier: string; readonly code: string; readonly name?: string }
  readonly lines: readonly ShipNoticeLine[]
}

const DECIMAL = /^\d{1,15}(\.\d+)?$/
const LEVELS = new Set(['S', 'O', 'I', 'P', 'T'])

/** Reads one 856 transaction set; every problem names the segment and element it is about. */
export function readShipNotice(tx: X12Transaction): { notice?: ShipNotice; problems: X12Problem[] } {
  const problems: X12Problem[] = []
  const fail = (s: X12Segment, message: string, element?: number) =>
    problems.push(
      element === undefined
        ? { segment: s.index, segmentId: s.id, message }
        : { segment: s.index, segmentId: s.id, element, message },
    )
  const el = (s: X12Segment, n: number) => (s.elements[n] ?? '').trim()

  let shipmentId = ''
  let shippedAt: string | undefined
  let supplier: ShipNotice['supplier'] | undefined
  const lines: ShipNoticeLine[] = []
  const hlSeen = new Map<string, { level: string; purchaseOrder?: string }>()
  let current: { level: string; seg: X12Segment; hl: string; purchaseOrder?: string } | undefined
  let item:
    | { seg: X12Segment; material?: ShipNoticeLine['material']; lot?: string; qty?: string; uom?: string }
    | undefined

  const closeItem = () => {
    if (!item || !current) return
    const s = item.seg
    if (!item.material) fail(s, 'item level has no LIN with a BP or VP product id')
    if (!item.lot) fail(s, 'item level has no supplier lot (LIN pair qualified LT or REF*LT)')
    if (!item.qty || !item.uom) fail(s, 'item level has no SN1 with quantity and unit')
    if (item.material && item.lot && item.qty && item.uom) {
      const po = current.purchaseOrder
      lines.push({
        hl: current.hl,
        material: item.material,
        supplierLot: item.lot,
        quantity: item.qty,
        uom: item.uom,
        ...(po ? { purchaseOrder: po } : {}),
      })
    }
    item = undefined
  }

  let bsnSeen = false
  for (const s of tx.body) {
    switch (s.id) {
      case 'BSN': {
        bsnSeen = true
        shipmentId = el(s, 2)
        if (!shipmentId) fail(s, 'shipment identification is required', 2)
        const date = el(s, 3)
        const time = el(s, 4)
        if (!/^\d{8}$/.test(date)) fail(s, 'date must be CCYYMMDD', 3)
        else if (time && !/^\d{4}(\d{2})?$/.test(time)) fail(s, 'time must be HHMM or HHMMSS', 4)
        else {
          const iso = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${time.slice(0, 2) || '00'}:${time.slice(2, 4) || '00'}:${time.slice(4, 6) || '00'}Z`
          if (Number.isNaN(Date.parse(iso))) fail(s, `'${date}' is not a calendar date`, 3)
          else shippedAt = iso
        }
        break
      }
      case 'HL': {
        closeItem()
        const id = el(s, 1)
        const parent = el(s, 2)
        const level = el(s, 3)
        if (!/^\d{1,12}$/.test(id)) fail(s, 'hierarchical id must be a number', 1)
        else if (hlSeen.has(id)) fail(s, `hierarchical id ${id} is used twice`, 1)
        if (parent && !hlSeen.has(parent)) fail(s, `parent ${parent} is not an earlier HL`, 2)
        if (!LEVELS.has(level)) fail(s, `level code '${level}' is not S, O, P, T or I`, 3)
        // The order level's PRF is inherited by its items, however deep pack levels nest.
        const inherited = parent ? hlSeen.get(parent)?.purchaseOrder : undefined
        hlSeen.set(id, { level, ...(inherited ? { purchaseOrder: inherited } : {}) })
        current = { level, seg: s, hl: id, ...(inherited ? { purchaseOrder: inherited } : {}) }
        if (level === 'I') item = { seg: s }
        break
      }
      case 'PRF': {
        const po = el(s, 1)
        if (!po) fail(s, 'purchase order number is required', 1)
        else if (current) {
          current.purchaseOrder = po
          hlSeen.set(current.hl, { level: current.level, purchaseOrder: po })
        }
        break
      }
      case 'N1': {
        const role = el(s, 1)
        if (role !== 'SF' && role !== 'SU') break
        const code = el(s, 4)
        if (!code) fail(s, `N1*${role} needs an identification code`, 4)
        else if (!el(s, 3)) fail(s, 'identification code qualifier is required with N104', 3)
        // SU (supplier) wins over SF (ship-from) when both are sent: it names the party we buy from.
        else if (!supplier || role === 'SU')
          supplier = { qualifier: el(s, 3), code, ...(el(s, 2) ? { name: el(s, 2) } : {}) }
        break
      }
      case 'LIN': {
        if (!item) {
          fail(s, 'LIN outside an item (HL*…*I) level')
          break
        }
        // LIN02/03, 04/05, … are (qualifier, product id) pairs.
        for (let n = 2; n + 1 < s.elements.length; n += 2) {
          const q = el(s, n)
          const v = el(s, n + 1)
          if (q && !v) fail(s, `qualifier ${q} has no product id`, n + 1)
          else if ((q === 'BP' || q === 'VP') && (!item.material || q === 'BP'))
            item.material = { qualifier: q, code: v }
          else if (q === 'LT') item.lot = v
        }
        break
      }
      case 'SN1': {
        if (!item) {
          fail(s, 'SN1 outside an item (HL*…*I) level')
          break
        }
        const qty = el(s, 2)
        const uom = el(s, 3)
        const decimals = qty.split('.')[1]?.length ?? 0
        if (!DECIMAL.test(qty) || Number(qty) === 0) fail(s, `'${qty}' is not a positive decimal quantity`, 2)
        else if (decimals > MAX_SCALE) fail(s, `more than ${MAX_SCALE} decimal places`, 2)
        else item.qty = qty
        if (!/^[A-Z0-9]{2}$/.test(uom)) fail(s, `'${uom}' is not an X12 unit of measure code (355)`, 3)
        else item.uom = uom
        break
      }
      case 'REF': {
        if (el(s, 1) !== 'LT') break
        if (!item) fail(s, 'REF*LT outside an item (HL*…*I) level')
        else if (!el(s, 2)) fail(s, 'lot number is required', 2)
        else item.lot = el(s, 2)
        break
      }
      default:
        break
    }
  }
  closeItem()
  if (!bsnSeen) fail(tx.st, 'the 856 has no BSN segment')
  if (!supplier) fail(tx.st, 'the 856 names no supplier (N1*SF or N1*SU)')
  if (lines.length === 0 && problems.length === 0) fail(tx.st, 'the 856 has no item level')
  if (problems.length > 0 || !supplier) return { problems }
  return { notice: { shipmentId, ...(shippedAt ? { shippedAt } : {}), supplier, lines }, problems }
}
