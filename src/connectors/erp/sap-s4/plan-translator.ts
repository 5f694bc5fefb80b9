/**
 * An S/4HANA inspection plan version (API_INSPECTIONPLAN_SRV A_InspectionPlan with its material
 * assignments, operations and characteristics, as read by plan-feed.ts) → one
 * `md.inspection_plan.upserted.v1` per scope it defines. Mapping (docs/connectors.md):
 *
 * - one specification per material assignment (A_InspPlanMaterialAssgmt: Material, optionally
 *   Supplier); a plan with several operations gives one per operation as well, its `route` the
 *   operation number (Operation); a plan with one operation applies to every operation (no route);
 * - `version` is InspectionPlanInternalVersion: a change in S/4 is a new internal version;
 * - the specification id names the plan and the scope:
 *   `<InspectionPlanGroup>:<InspectionPlan>:<material>:<supplier|*>:<route|*>` (no `/`: the id is a path
 *   segment of the QMS API);
 * - a characteristic (A_InspPlanOpCharacteristic) is identified by its master inspection
 *   characteristic (InspectionSpecification), else by BOOCharacteristic; limits, target and unit
 *   from InspSpecLowerLimit / InspSpecUpperLimit / InspSpecTargetValue / InspSpecUnit; a fixed
 *   InspCharacteristicSampleSize becomes a fixed sample, without one the characteristic is
 *   inspected on every unit the lot's sample holds (`full`).
 *
 * Bad plan data (no material, inverted limits, a target outside them, no characteristic…) is
 * refused as a whole with QLK_VALIDATION naming the field's path in the plan: nothing of the
 * version becomes an event, and its raw delivery stays, dead, to be replayed once S/4 is fixed.
 */
import type { CloudEvent } from '../../../contracts/envelope.ts'
import { type FieldProblem, QualinkError } from '../../../contracts/errors.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { type IdMappingSettings, inboundIds, mapOptional, sourcePlant } from '../../../mapping/id-mapping.ts'
import type { Characteristic } from '../../../model/inspection.ts'
import { inspectionPlanUpserted } from '../plan-event.ts'

type Row = Record<string, unknown>
const DECIMAL = /^[+-]?\d{1,15}(\.\d{1,9})?$/

function refuse(path: string, message: string, what: string): never {
  const problem: FieldProblem = { path, message }
  throw new QualinkError('QLK_VALIDATION', `inspection plan ${what}: ${path} ${message}`, [problem])
}

const text = (v: unknown): string =>
  typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : ''
const rows = (v: unknown): Row[] => (Array.isArray(v) ? (v as Row[]) : [])

/** A limit as a canonical decimal (S/4 sends DEC as text; '' means not set). */
function decimal(c: Row, field: string, at: string, what: string): string | undefined {
  const v = text(c[field])
  if (v === '') return undefined
  if (!DECIMAL.test(v)) refuse(`${at}/${field}`, `'${v}' is not a decimal number`, what)
  return v
}

function characteristic(c: Row, at: string, what: string): Characteristic {
  const id = text(c.InspectionSpecification) || text(c.BOOCharacteristic)
  if (id === '') refuse(`${at}/BOOCharacteristic`, 'required: the characteristic number', what)
  const name = text(c.InspectionSpecificationText)
  if (name === '') refuse(`${at}/InspectionSpecificationText`, 'required: what is inspected', what)
  const lowerLimit = decimal(c, 'InspSpecLowerLimit', at, what)
  const upperLimit = decimal(c, 'InspSpecUpperLimit', at, what)
  const target = decimal(c, 'InspSpecTargetValue', at, what)
  if (lowerLimit !== undefined && upperLimit !== undefined && Number(lowerLimit) > Number(upperLimit))
    refuse(`${at}/InspSpecLowerLimit`, `${lowerLimit} is above InspSpecUpperLimit ${upperLimit}`, what)
  if (
    target !== undefined &&
    ((lowerLimit !== undefined && Number(target) < Number(lowerLimit)) ||
      (upperLimit !== undefined && Number(target) > Number(upperLimit)))
  )
    refuse(`${at}/InspSpecTargetValue`, `${target} is outside the limits`, what)
  const quantitative = c.InspSpecIsQuantitative === true
  if (quantitative && lowerLimit === undefined && upperLimit === undefined)
    refuse(`${at}/InspSpecUpperLimit`, 'a quantitative characteristic needs a lower or an upper limit', what)
  const unit = text(c.InspSpecUnit).toUpperCase()
  if (unit !== '' && !/^[A-Z][A-Z0-9_]{0,11}$/.test(unit))
    refuse(`${at}/InspSpecUnit`, `'${unit}' is not a unit code`, what)
  const size = text(c.InspCharacteristicSampleSize)
  if (size !== '' && !/^[1-9]\d{0,8}$/.test(size))
    refuse(`${at}/InspCharacteristicSampleSize`, `'${size}' is not a positive whole number`, what)
  return {
    id,
    name,
    quantitative,
    ...(target !== undefined ? { target } : {}),
    ...(lowerLimit !== undefined ? { lowerLimit } : {}),
    ...(upperLimit !== undefined ? { upperLimit } : {}),
    ...(unit !== '' ? { unit } : {}),
    sampleRule: size !== '' ? { kind: 'fixed', sampleSize: Number(size) } : { kind: 'full' },
    required: true,
  }
}

/** Each operation's characteristics, with the operation number (refused when an operation has none). */
function operations(
  plan: Row,
  what: string,
): Array<{ operation: string; characteristics: Characteristic[] }> {
  const ops = rows(plan.to_InspPlanOperation)
  if (ops.length === 0) refuse('/to_InspPlanOperation', 'required: at least one operation', what)
  const seen = new Set<string>()
  return ops.map((op, i) => {
    const at = `/to_InspPlanOperation/${i}`
    const operation = text(op.Operation) || text(op.BOOOperationInternalID)
    if (operation === '') refuse(`${at}/Operation`, 'required: the operation number', what)
    if (seen.has(operation)) refuse(`${at}/Operation`, `operation ${operation} appears twice`, what)
    seen.add(operation)
    const chars = rows(op.to_InspPlanOpCharacteristic)
    if (chars.length === 0)
      refuse(`${at}/to_InspPlanOpCharacteristic`, 'required: at least one characteristic', what)
    const ids = new Set<string>()
    const characteristics = chars.map((c, j) => {
      const ch = characteristic(c, `${at}/to_InspPlanOpCharacteristic/${j}`, what)
      if (ids.has(ch.id))
        refuse(`${at}/to_InspPlanOpCharacteristic/${j}`, `characteristic ${ch.id} appears twice`, what)
      ids.add(ch.id)
      return ch
    })
    return { operation, characteristics }
  })
}

/**
 * erp-s4 inspection plan version → `md.inspection_plan.upserted.v1` per scope. The plant, materials
 * and suppliers go through the plant's identity mapping for this source when one is configured;
 * a plan of another plant than the source's is refused with QLK_PLANT_MISMATCH at `/Plant`.
 */
export function sapS4InspectionPlanTranslator(source: string, ids?: IdMappingSettings): Translator {
  return {
    source,
    async translate(raw, xref): Promise<CloudEvent[]> {
      const plan = JSON.parse(raw.body.toString('utf8')) as Row
      const group = text(plan.InspectionPlanGroup)
      const counter = text(plan.InspectionPlan)
      const what = `${group || '?'}/${counter || '?'}`
      if (group === '') refuse('/InspectionPlanGroup', 'required: the task list group', what)
      if (counter === '') refuse('/InspectionPlan', 'required: the group counter', what)
      const internal = text(plan.InspectionPlanInternalVersion)
      if (!/^0*[1-9]\d{0,8}$/.test(internal))
        refuse('/InspectionPlanInternalVersion', `'${internal}' is not a positive version number`, what)
      const version = Number(internal)
      const map = inboundIds(xref, ids, raw.plant)
      const plant = await sourcePlant(map, text(plan.Plant), { plant: raw.plant, source, field: '/Plant' })
      const changed = Number(plan.LastChangeDateTime)
      if (!Number.isSafeInteger(changed) || changed <= 0)
        refuse('/LastChangeDateTime', 'required: when the plan version was changed', what)
      const time = new Date(changed).toISOString()
      const ops = operations(plan, what)
      const assignments = rows(plan.to_InspPlanMaterialAssgmt)
      if (assignments.length === 0)
        refuse('/to_InspPlanMaterialAssgmt', 'required: the plan is assigned to no material', what)
      const events: CloudEvent[] = []
      for (const [i, a] of assignments.entries()) {
        const at = `/to_InspPlanMaterialAssgmt/${i}`
        if (text(a.Material) === '')
          refuse(`${at}/Material`, 'required: the material the plan inspects', what)
        const material = await map('material', text(a.Material), `${at}/Material`)
        const supplier = await mapOptional(map, 'supplier', text(a.Supplier), `${at}/Supplier`)
        for (const op of ops) {
          const route = ops.length > 1 ? op.operation : undefined
          const id = [group, counter, material, supplier || '*', route ?? '*'].join(':')
          events.push(
            inspectionPlanUpserted(
              {
                id,
                plant,
                material,
                ...(route ? { route } : {}),
                ...(supplier ? { supplier } : {}),
                version,
                characteristics: op.characteristics,
              },
              source,
              time,
            ),
          )
        }
      }
      const scopes = new Set(events.map((e) => e.subject))
      if (scopes.size !== events.length)
        refuse('/to_InspPlanMaterialAssgmt', 'a material and supplier are assigned twice', what)
      return events
    },
  }
}
