import { Type } from 'typebox'
import { InspectionSpecification } from '../../model/inspection.ts'
import { Material, Plant, Supplier } from '../../model/master-data.ts'
import { defineEventType } from '../event-type.ts'
import { Strict } from './refs.ts'

/**
 * Master data upserts carry a monotonic `version` per record, so a late older upsert can be
 * recognised and parked; they are routed apart from transactional events (routing 'master-data').
 */
const Version = Type.Integer({ minimum: 1, description: 'Monotonic version of this master record' })

export const mdEventTypes = [
  defineEventType({
    type: 'md.plant.upserted.v1',
    routing: 'master-data',
    description: 'A plant was created or changed.',
    schema: Strict({ version: Version, plant: Plant }),
  }),
  defineEventType({
    type: 'md.material.upserted.v1',
    routing: 'master-data',
    description: 'A material master was created or changed.',
    schema: Strict({ version: Version, material: Material }),
  }),
  defineEventType({
    type: 'md.supplier.upserted.v1',
    routing: 'master-data',
    description: 'A supplier was created or changed (including its qualification state).',
    schema: Strict({ version: Version, supplier: Supplier }),
  }),
  defineEventType({
    type: 'md.inspection_plan.upserted.v1',
    routing: 'master-data',
    description: 'An inspection plan / specification was created or changed.',
    schema: Strict({ version: Version, inspectionPlan: InspectionSpecification }),
  }),
]
