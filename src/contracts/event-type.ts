import type { TSchema } from 'typebox'

/** How the router treats an event type: business transactions vs versioned master data. */
export type Routing = 'transactional' | 'master-data'

/**
 * One versioned canonical event type. `type` is `<domain>.<object>.<verb>.v<major>`; `schema`
 * describes the CloudEvent's `data` (JSON Schema 2020-12, written in TypeBox).
 */
export interface EventType<S extends TSchema = TSchema> {
  readonly type: string
  readonly schema: S
  readonly routing: Routing
  readonly description: string
  /**
   * Present when a newer major exists: turns this version's `data` into the next major's
   * shape, so consumers and waits see one shape (DESIGN §6 "Waits match after upcasting").
   */
  readonly upcast?: { readonly to: string; readonly fn: (data: unknown) => unknown }
}

export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[1-9][0-9]*$/

export function defineEventType<S extends TSchema>(def: EventType<S>): EventType<S> {
  if (!EVENT_TYPE_PATTERN.test(def.type)) {
    throw new Error(`event type '${def.type}' does not match <domain>.<object>.<verb>.v<major>`)
  }
  return def
}

/** The major version of a type string: `qms.result.recorded.v2` → 2. */
export function majorOf(type: string): number {
  const m = /\.v([1-9][0-9]*)$/.exec(type)
  if (!m) throw new Error(`event type '${type}' has no major version`)
  return Number(m[1])
}
