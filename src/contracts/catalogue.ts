import type { EventType } from './event-type.ts'
import { kernelEventTypes } from './events/kernel.ts'

/**
 * Every canonical event type Qualink knows. The canonical model issue fills this from
 * src/contracts/events/*.ts; schemas/ holds the generated JSON Schema of each entry.
 */
export const catalogue: readonly EventType[] = [...kernelEventTypes]
