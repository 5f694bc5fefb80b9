/**
 * Inspection plans read from S/4HANA's released OData API API_INSPECTIONPLAN_SRV (communication
 * scenario SAP_COM_0110; entity names as in SAP's Cloud SDK VDM of the service, help.sap.com
 * "inspectionplan"): A_InspectionPlan with its material assignments (to_InspPlanMaterialAssgmt) and
 * operations with their characteristics (to_InspPlanOperation/to_InspPlanOpCharacteristic), polled
 * on LastChangeDateTime. Each plan version (InspectionPlanGroup, InspectionPlan,
 * InspectionPlanInternalVersion) becomes one raw delivery whose id names that version, so a
 * re-read of a version already stored is a duplicate and stores nothing new.
 *
 * The cursor is the LastChangeDateTime (epoch ms) of the last version read, and the next poll reads
 * `ge` that instant: versions changed in the same instant are not skipped (the ones already read
 * deduplicate on their id). A page therefore must be larger than the number of plan versions that
 * can share one LastChangeDateTime.
 */
import type { FeedItem } from './gr-feed.ts'
import type { ODataClient } from './odata.ts'

export const PLAN_SERVICE = '/sap/opu/odata/sap/API_INSPECTIONPLAN_SRV'
const EXPAND = 'to_InspPlanMaterialAssgmt,to_InspPlanOperation/to_InspPlanOpCharacteristic'

/** Edm.DateTimeOffset `/Date(<ms>+0000)/` → epoch ms (null when it is not one). */
function epochMs(v: unknown): number | null {
  const m = typeof v === 'string' ? /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(v) : null
  return m ? Number(m[1]) : null
}

/** OData v2 JSON minus `__metadata`, navigation `{ results }` flattened to arrays, all levels. */
export function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain)
  if (typeof v !== 'object' || v === null) return v
  const o = v as Record<string, unknown>
  if (Array.isArray(o.results) && Object.keys(o).length === 1) return plain(o.results)
  return Object.fromEntries(
    Object.entries(o)
      .filter(([k]) => k !== '__metadata')
      .map(([k, x]) => [k, plain(x)]),
  )
}

export async function readInspectionPlanFeed(
  odata: ODataClient,
  after: string | null,
  top: number,
): Promise<FeedItem[]> {
  const since = after === null ? 0 : Number(after)
  if (!Number.isSafeInteger(since) || since < 0)
    throw new RangeError(`plan feed cursor '${after}' is not a LastChangeDateTime`)
  const filter = encodeURIComponent(`LastChangeDateTime ge datetimeoffset'${new Date(since).toISOString()}'`)
  const rows = await odata.getCollection(
    `${PLAN_SERVICE}/A_InspectionPlan?$filter=${filter}&$orderby=LastChangeDateTime&$top=${top}&$expand=${EXPAND}`,
    `read inspection plans changed since ${new Date(since).toISOString()}`,
  )
  return rows.map((r) => {
    const plan = plain(r) as Record<string, unknown>
    const changed = epochMs(plan.LastChangeDateTime)
    const id = `${plan.InspectionPlanGroup}/${plan.InspectionPlan}/${plan.InspectionPlanInternalVersion}`
    return {
      id,
      // an entry without a readable change time keeps the cursor where it was
      cursor: String(changed ?? since),
      body: Buffer.from(JSON.stringify({ ...plan, LastChangeDateTime: changed ?? plan.LastChangeDateTime })),
      headers: { 'content-type': 'application/json', 'feed-entity': 'A_InspectionPlan' },
    }
  })
}
