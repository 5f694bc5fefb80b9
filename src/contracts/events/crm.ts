import { Complaint } from '../../model/customer.ts'
import { defineEventType } from '../event-type.ts'
import { Strict } from './refs.ts'

/** CRM events: customer complaints that start a traceability workflow. */
export const crmEventTypes = [
  defineEventType({
    type: 'crm.complaint.opened.v1',
    routing: 'transactional',
    description: 'A customer complaint case was opened.',
    schema: Strict({ complaint: Complaint }),
  }),
]
