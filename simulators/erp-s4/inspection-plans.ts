/**
 * Inspection plans (task list type Q) as S/4HANA's released OData API API_INSPECTIONPLAN_SRV
 * serves them (communication scenario SAP_COM_0110, "Inspection Master Data Integration"): the plan
 * header A_InspectionPlan keyed by InspectionPlanGroup, InspectionPlan (the group counter) and
 * InspectionPlanInternalVersion, with its material assignments (A_InspPlanMaterialAssgmt: Material,
 * Plant, Supplier), operations (A_InspPlanOperation) and each operation's inspection
 * characteristics (A_InspPlanOpCharacteristic, BOOCharacteristic). Entity and key names follow the
 * SAP Cloud SDK VDM of the service (help.sap.com, namespace `inspectionplan`) and the CDS view
 * I_InspectionPlanTP; the characteristic limit fields use the InspSpec… names of SAP's inspection
 * characteristic (InspSpecLowerLimit, InspSpecUpperLimit, InspSpecTargetValue).
 *
 * A change to a plan is a new internal version (as with change-number versioning): every version
 * stays readable, each with its own LastChangeDateTime, which is what a reader polls on
 * (`$filter=LastChangeDateTime ge datetimeoffset'…'`). Tests and the demo create and change plans
 * with `upsertInspectionPlan` on the simulator.
 */
import type { Router, SimRequest } from '../shared/http.ts'
import { collection, dateTimeOffset, type ODataRecord, odataError, withMeta } from './odata.ts'

export const PLAN_BASE = '/sap/opu/odata/sap/API_INSPECTIONPLAN_SRV'

export interface PlanCharacteristicInput {
  /** the master inspection characteristic (MIC) it refers to, e.g. 'DIAMETER' */
  readonly InspectionSpecification?: string
  readonly InspectionSpecificationText: string
  readonly InspSpecIsQuantitative?: boolean
  readonly InspSpecLowerLimit?: string
  readonly InspSpecUpperLimit?: string
  readonly InspSpecTargetValue?: string
  readonly InspSpecUnit?: string
  /** fixed sample size (units); absent: the lot's sampling procedure decides */
  readonly InspCharacteristicSampleSize?: string
}

export interface InspectionPlanInput {
  readonly InspectionPlanGroup: string
  readonly InspectionPlan?: string
  readonly Plant: string
  readonly InspectionPlanDesc?: string
  readonly materials: ReadonlyArray<{ readonly Material: string; readonly Supplier?: string }>
  readonly operations: ReadonlyArray<{
    readonly Operation?: string
    readonly OperationText?: string
    readonly characteristics: readonly PlanCharacteristicInput[]
  }>
}

/** One version of a plan, as stored (every version is kept). */
export interface InspectionPlanVersion {
  readonly InspectionPlanGroup: string
  readonly InspectionPlan: string
  readonly InspectionPlanInternalVersion: string
  readonly BillOfOperationsType: 'Q'
  readonly Plant: string
  readonly InspectionPlanDesc: string
  readonly LastChangeDateTime: number
  readonly materials: InspectionPlanInput['materials']
  readonly operations: InspectionPlanInput['operations']
}

const key = (v: Pick<InspectionPlanVersion, 'InspectionPlanGroup' | 'InspectionPlan'>) =>
  ({ InspectionPlanGroup: v.InspectionPlanGroup, InspectionPlan: v.InspectionPlan }) as const
const versionKey = (v: InspectionPlanVersion) => ({
  ...key(v),
  InspectionPlanInternalVersion: v.InspectionPlanInternalVersion,
  BillOfOperationsType: 'Q',
})

/** Creates the plan, or a new internal version of it when it exists; returns that version. */
export function upsertInspectionPlan(
  plans: InspectionPlanVersion[],
  input: InspectionPlanInput,
  tick: () => number,
): InspectionPlanVersion {
  const counter = input.InspectionPlan ?? '1'
  const previous = plans.filter(
    (p) => p.InspectionPlanGroup === input.InspectionPlanGroup && p.InspectionPlan === counter,
  ).length
  const v: InspectionPlanVersion = {
    InspectionPlanGroup: input.InspectionPlanGroup,
    InspectionPlan: counter,
    InspectionPlanInternalVersion: String(previous + 1),
    BillOfOperationsType: 'Q',
    Plant: input.Plant,
    InspectionPlanDesc: input.InspectionPlanDesc ?? `Inspection plan ${input.InspectionPlanGroup}`,
    LastChangeDateTime: tick(),
    materials: structuredClone(input.materials),
    operations: structuredClone(input.operations),
  }
  plans.push(v)
  return v
}

function materialRows(v: InspectionPlanVersion): ODataRecord[] {
  return v.materials.map((m, i) =>
    withMeta(
      PLAN_BASE,
      'A_InspPlanMaterialAssgmt',
      'API_INSPECTIONPLAN_SRV.A_InspPlanMaterialAssgmtType',
      { ...versionKey(v), InspPlanMatlAssignment: String(i + 1) },
      {
        ...versionKey(v),
        InspPlanMatlAssignment: String(i + 1),
        Material: m.Material,
        Plant: v.Plant,
        Supplier: m.Supplier ?? '',
      },
    ),
  )
}

function operationRows(v: InspectionPlanVersion, expand: boolean): ODataRecord[] {
  return v.operations.map((op, i) => {
    const id = String(i + 1)
    const chars = op.characteristics.map((c, j) =>
      withMeta(
        PLAN_BASE,
        'A_InspPlanOpCharacteristic',
        'API_INSPECTIONPLAN_SRV.A_InspPlanOpCharacteristicType',
        { ...versionKey(v), BOOOperationInternalID: id, BOOCharacteristic: String((j + 1) * 10) },
        {
          ...versionKey(v),
          BOOOperationInternalID: id,
          BOOCharacteristic: String((j + 1) * 10),
          InspectionSpecification: c.InspectionSpecification ?? '',
          InspectionSpecificationText: c.InspectionSpecificationText,
          InspSpecIsQuantitative: c.InspSpecIsQuantitative ?? false,
          InspSpecLowerLimit: c.InspSpecLowerLimit ?? '',
          InspSpecUpperLimit: c.InspSpecUpperLimit ?? '',
          InspSpecTargetValue: c.InspSpecTargetValue ?? '',
          InspSpecUnit: c.InspSpecUnit ?? '',
          InspCharacteristicSampleSize: c.InspCharacteristicSampleSize ?? '',
        },
      ),
    )
    return withMeta(
      PLAN_BASE,
      'A_InspPlanOperation',
      'API_INSPECTIONPLAN_SRV.A_InspPlanOperationType',
      { ...versionKey(v), BOOOperationInternalID: id },
      {
        ...versionKey(v),
        BOOOperationInternalID: id,
        Operation: op.Operation ?? String((i + 1) * 10).padStart(4, '0'),
        OperationText: op.OperationText ?? '',
        ...(expand ? { to_InspPlanOpCharacteristic: { results: chars } } : {}),
      },
    )
  })
}

function headerRow(v: InspectionPlanVersion, expand: Set<string>): ODataRecord {
  return withMeta(
    PLAN_BASE,
    'A_InspectionPlan',
    'API_INSPECTIONPLAN_SRV.A_InspectionPlanType',
    versionKey(v),
    {
      ...versionKey(v),
      Plant: v.Plant,
      InspectionPlanDesc: v.InspectionPlanDesc,
      LastChangeDateTime: dateTimeOffset(v.LastChangeDateTime),
      ...(expand.has('to_InspPlanMaterialAssgmt')
        ? { to_InspPlanMaterialAssgmt: { results: materialRows(v) } }
        : {}),
      ...(expand.has('to_InspPlanOperation')
        ? {
            to_InspPlanOperation: {
              results: operationRows(v, expand.has('to_InspPlanOperation/to_InspPlanOpCharacteristic')),
            },
          }
        : {}),
    },
  )
}

/**
 * `LastChangeDateTime ge|gt datetimeoffset'<ISO>'` is taken out of the $filter here (the generic
 * filter compares numbers and strings only); the rest of the filter applies as usual.
 */
function changedSince(req: SimRequest): { op: 'ge' | 'gt'; ms: number } | null {
  const f = req.query.get('$filter')
  const m = f ? /LastChangeDateTime\s+(ge|gt)\s+datetimeoffset'([^']+)'/.exec(f) : null
  if (!m) return null
  const ms = Date.parse(m[2]!)
  if (Number.isNaN(ms)) throw odataError(400, 'SY/530', `Invalid datetimeoffset literal '${m[2]}'`)
  const rest = f!
    .replace(m[0], '')
    .replace(/^\s*and\s+|\s+and\s*$/g, '')
    .trim()
  if (rest === '') req.query.delete('$filter')
  else req.query.set('$filter', rest)
  return { op: m[1] as 'ge' | 'gt', ms }
}

export function registerInspectionPlanRoutes(router: Router, plans: InspectionPlanVersion[]): void {
  const B = PLAN_BASE.replace(/\//g, '\\/')
  router.on('GET', new RegExp(`^${B}/A_InspectionPlan$`), (req) => {
    const since = changedSince(req)
    const expand = new Set(
      (req.query.get('$expand') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    if (expand.has('to_InspPlanOperation/to_InspPlanOpCharacteristic')) expand.add('to_InspPlanOperation')
    const rows = plans
      .filter(
        (v) =>
          !since || (since.op === 'ge' ? v.LastChangeDateTime >= since.ms : v.LastChangeDateTime > since.ms),
      )
      .sort((a, b) => a.LastChangeDateTime - b.LastChangeDateTime)
    return collection(
      req,
      rows.map((v) => headerRow(v, expand)),
    )
  })
  router.on('GET', new RegExp(`^${B}/A_InspPlanMaterialAssgmt$`), (req) =>
    collection(req, plans.flatMap(materialRows)),
  )
  router.on('GET', new RegExp(`^${B}/A_InspPlanOperation$`), (req) =>
    collection(
      req,
      plans.flatMap((v) => operationRows(v, false)),
    ),
  )
  router.on('GET', new RegExp(`^${B}/A_InspPlanOpCharacteristic$`), (req) =>
    collection(
      req,
      plans.flatMap((v) =>
        operationRows(v, true).flatMap(
          (op) => (op.to_InspPlanOpCharacteristic as { results: ODataRecord[] }).results,
        ),
      ),
    ),
  )
}
