import { QualinkError } from '../contracts/errors.ts'
import type { ResultRecord } from './inspection.ts'
import type { Lot } from './lot.ts'
import { formatDecimal } from './quantity.ts'
import { BUCKETS, bucketTotal } from './stock.ts'

/**
 * ISA-95 export of a lot with its test results, shaped after B2MML V0700 (MESA; element order from
 * MaterialLotType, MaterialLotPropertyType, TestResultType — reference/quality-domain.md §3.1).
 * One plain object tree is the source for both the JSON and the XML rendering, so they never
 * disagree. Keys are element names in schema order; arrays are repeated elements.
 */
export const B2MML_NAMESPACE = 'http://www.mesa.org/xml/B2MML'

type Node = string | Element | Node[]
interface Element {
  readonly [element: string]: Node | undefined
}

export interface Isa95Options {
  /** B2MML Status; defaults to one derived from the stock vector. */
  readonly status?: string
  readonly description?: string
  readonly storageLocation?: string
  readonly testSpecificationIds?: readonly string[]
}

const CRITERION: Record<ResultRecord['valuation'], string> = {
  accepted: 'Pass',
  rejected: 'Fail',
  undetermined: 'Undetermined',
}

function deriveStatus(lot: Lot): string {
  const b = lot.stock.buckets
  if (b.qualityInspection > 0) return 'QualityInspection'
  if (b.blocked > 0) return 'Blocked'
  if (b.unrestricted > 0) return 'Released'
  return 'Consumed'
}

function value(text: string, dataType: string, uom?: string): Element {
  return uom
    ? { ValueString: text, DataType: dataType, UnitOfMeasure: uom }
    : { ValueString: text, DataType: dataType }
}

function testResult(r: ResultRecord, index: number): Element {
  const measurement: Element | undefined =
    r.value !== undefined
      ? { MeasurementDate: r.measuredAt ?? r.audit.timestamp, Value: value(r.value, 'decimal', r.unit) }
      : r.attribute !== undefined
        ? { MeasurementDate: r.measuredAt ?? r.audit.timestamp, Value: value(r.attribute, 'string') }
        : undefined
  return {
    ID: `${r.inspectionLot}/${r.characteristic}/${r.sample ?? index + 1}`,
    EvaluationDate: r.audit.timestamp,
    EvaluatedCriterionResult: CRITERION[r.valuation],
    PropertyMeasurement: measurement,
  }
}

/** The B2MML-shaped tree: `{ MaterialLot: { ID, …, MaterialLotProperty: [...], Quantity: [...] } }`. */
export function lotToB2mml(
  lot: Lot,
  results: readonly ResultRecord[],
  opts: Isa95Options = {},
): { MaterialLot: Element } {
  const byCharacteristic = new Map<string, ResultRecord[]>()
  for (const r of results)
    byCharacteristic.set(r.characteristic, [...(byCharacteristic.get(r.characteristic) ?? []), r])
  const testProperties: Element[] = [...byCharacteristic].map(([characteristic, rs]) => ({
    ID: characteristic,
    TestResult: rs.map(testResult),
  }))
  const { uom, scale } = lot.stock
  // Bucket quantities are properties, not extra Quantity elements: a peer summing Quantity must get the lot total.
  const stockProperties: Element[] = BUCKETS.filter((b) => lot.stock.buckets[b] > 0).map((b) => ({
    ID: `Stock.${b}`,
    Value: value(formatDecimal({ units: lot.stock.buckets[b], scale, uom }), 'decimal', uom),
  }))
  const total = formatDecimal({ units: bucketTotal(lot.stock), scale, uom })
  return {
    MaterialLot: {
      ID: lot.id,
      Description: opts.description,
      HierarchyScope: { EquipmentID: lot.plant, EquipmentElementLevel: 'Site' },
      MaterialDefinitionID: lot.material,
      Status: opts.status ?? deriveStatus(lot),
      MaterialLotProperty: [...testProperties, ...stockProperties],
      StorageLocation: opts.storageLocation,
      Quantity: [{ QuantityString: total, DataType: 'decimal', UnitOfMeasure: uom }],
      MaterialTestSpecificationID: opts.testSpecificationIds ? [...opts.testSpecificationIds] : undefined,
    },
  }
}

export function lotToB2mmlJson(lot: Lot, results: readonly ResultRecord[], opts: Isa95Options = {}): string {
  return `${JSON.stringify(lotToB2mml(lot, results, opts), null, 2)}\n`
}

// XML 1.0 §2.2 Char: tab, LF, CR and U+0020 upwards (minus surrogates and U+FFFE/FFFF).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the characters XML forbids is the point
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/

export function escapeXml(text: string, path = '/'): string {
  if (XML_FORBIDDEN.test(text)) {
    // Refused rather than dropped: an audit export must carry the value exactly or not at all.
    throw new QualinkError('QLK_VALIDATION', `${path}: value contains a character XML 1.0 cannot carry`, [
      { path, message: 'must not contain control characters other than tab, LF, CR' },
    ])
  }
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

function render(name: string, node: Node | undefined, depth: number, path: string, out: string[]): void {
  if (node === undefined) return
  if (Array.isArray(node)) {
    node.forEach((n, i) => {
      render(name, n, depth, `${path}/${i}`, out)
    })
    return
  }
  const pad = '  '.repeat(depth)
  if (typeof node === 'string') {
    out.push(`${pad}<${name}>${escapeXml(node, path)}</${name}>`)
    return
  }
  out.push(`${pad}<${name}>`)
  for (const [child, n] of Object.entries(node)) render(child, n, depth + 1, `${path}/${child}`, out)
  out.push(`${pad}</${name}>`)
}

/** B2MML V0700-shaped XML for the lot, in the B2MML namespace, UTF-8. */
export function lotToB2mmlXml(lot: Lot, results: readonly ResultRecord[], opts: Isa95Options = {}): string {
  const { MaterialLot } = lotToB2mml(lot, results, opts)
  const out: string[] = []
  render('MaterialLot', MaterialLot, 0, '/MaterialLot', out)
  out[0] = `<MaterialLot xmlns="${B2MML_NAMESPACE}">`
  return `<?xml version="1.0" encoding="UTF-8"?>\n${out.join('\n')}\n`
}
