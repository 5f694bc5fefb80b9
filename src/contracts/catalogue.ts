import type { EventType } from './event-type.ts'
import { crmEventTypes } from './events/crm.ts'
import { ediEventTypes } from './events/edi.ts'
import { erpEventTypes } from './events/erp.ts'
import { kernelEventTypes } from './events/kernel.ts'
import { limsEventTypes } from './events/lims.ts'
import { mdEventTypes } from './events/md.ts'
import { mesEventTypes } from './events/mes.ts'
import { qmsEventTypes } from './events/qms.ts'

/**
 * Every canonical event type Qualink knows, from src/contracts/events/*.ts; schemas/ holds the
 * generated JSON Schema of each entry (src/contracts/schemas-gen.ts, checked by its test).
 */
export const catalogue: readonly EventType[] = [
  ...kernelEventTypes,
  ...erpEventTypes,
  ...ediEventTypes,
  ...qmsEventTypes,
  ...mesEventTypes,
  ...limsEventTypes,
  ...crmEventTypes,
  ...mdEventTypes,
]
