import type { CloudEvent } from '../../contracts/envelope.ts'
import type { InspectionSpecification } from '../../model/inspection.ts'

/**
 * One revision of an ERP's inspection plan as `md.inspection_plan.upserted.v1` (the S/4 and
 * ERPNext plan feeds): its id is the specification's id and version, so a feed that reads the
 * same revision again stores nothing new (ingest deduplicates on source and id).
 */
export function inspectionPlanUpserted(
  spec: Omit<InspectionSpecification, 'audit'>,
  source: string,
  time: string,
): CloudEvent {
  const inspectionPlan: InspectionSpecification = {
    ...spec,
    audit: { timestamp: time, sourceSystem: source, approvalStatus: 'not_required' },
  }
  return {
    specversion: '1.0',
    id: `${spec.id}/v${spec.version}`,
    source: `urn:qualink:${source}`,
    type: 'md.inspection_plan.upserted.v1',
    subject: spec.id,
    time,
    plant: spec.plant,
    data: { version: spec.version, inspectionPlan },
  } as CloudEvent
}
