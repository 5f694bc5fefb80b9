import { QualinkError } from '../contracts/errors.ts'
import type { ResultRecord } from '../model/inspection.ts'
import { lotToB2mmlJson, lotToB2mmlXml } from '../model/isa95.ts'
import type { Lot } from '../model/lot.ts'
import { rescale } from '../model/quantity.ts'
import type { Scope, Store } from '../store/types.ts'

const BUCKETS = [
  'unrestricted',
  'qualityInspection',
  'blocked',
  'scrap',
  'returned',
  'sample',
  'reserves',
] as const
const VALUATION: Record<string, ResultRecord['valuation']> = {
  pass: 'accepted',
  fail: 'rejected',
  out_of_specification: 'rejected',
  not_tested: 'undetermined',
}

/**
 * A lot as B2MML V0700 MaterialLot with its test results (ISA-95): the stock vector from the
 * genealogy projection, the results from the LIMS reports about the lot.
 */
export async function exportLotIsa95(store: Store, scope: Scope, lotId: string, format: 'xml' | 'json') {
  const node = await store.genealogy.getLot(scope, lotId)
  if (!node) return undefined
  const quantities = Object.entries(node.stock).filter(([b]) => (BUCKETS as readonly string[]).includes(b))
  const uoms = new Set(quantities.map(([, q]) => q.uom))
  if (uoms.size > 1) {
    throw new QualinkError(
      'QLK_UNIT_CONVERSION',
      `lot ${lotId} holds stock in several units: ${[...uoms].join(', ')}`,
      [{ path: '/stock', message: 'must be in one unit to export as one MaterialLot quantity' }],
    )
  }
  const scale = Math.max(0, ...quantities.map(([, q]) => q.scale))
  const uom = [...uoms][0] ?? 'EA'
  const buckets = Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Record<(typeof BUCKETS)[number], number>
  for (const [b, q] of quantities) buckets[b as (typeof BUCKETS)[number]] = rescale(q, scale).units
  const received = Object.values(buckets).reduce((a, b) => a + b, 0)
  const events = await store.listEvents(scope, {
    subject: lotId,
    type: 'lims.result.reported.v1',
    limit: 10_000,
  })
  const results: ResultRecord[] = events.flatMap((e) => {
    const d = e.envelope.data as {
      sample: string
      inspectionLot?: string
      plant: string
      tests: Array<{ characteristic: string; value?: string; unit?: string; result: string }>
      audit: ResultRecord['audit']
    }
    return d.tests.map((t) => ({
      inspectionLot: d.inspectionLot ?? d.sample,
      plant: d.plant,
      characteristic: t.characteristic,
      sample: d.sample,
      ...(t.value !== undefined ? { value: t.value } : {}),
      ...(t.unit !== undefined ? { unit: t.unit } : {}),
      valuation: VALUATION[t.result] ?? 'undetermined',
      audit: d.audit,
    }))
  })
  const lot: Lot = {
    id: node.lot,
    plant: node.plant,
    material: node.material ?? 'UNKNOWN',
    ...(node.supplier ? { supplier: node.supplier } : {}),
    stock: { uom, scale, received, transferredOut: 0, buckets },
    audit: {
      timestamp: new Date(await store.now()).toISOString(),
      sourceSystem: 'qualink',
      approvalStatus: 'not_required',
    },
  }
  return format === 'xml' ? lotToB2mmlXml(lot, results) : lotToB2mmlJson(lot, results)
}
