import { catalogue } from './catalogue.ts'
import type { EventType } from './event-type.ts'

export interface Upcasted {
  readonly type: string
  readonly data: unknown
}

/**
 * Follows `upcast` links until the newest major, so consumers and waits see one shape (DESIGN §6).
 * Pure: the catalogue is a parameter with the built-in one as default.
 */
export function upcastToLatest(
  type: string,
  data: unknown,
  types: readonly EventType[] = catalogue,
): Upcasted {
  const byType = new Map(types.map((t) => [t.type, t]))
  const seen = new Set<string>()
  let current: Upcasted = { type, data }
  for (;;) {
    const def = byType.get(current.type)
    if (!def?.upcast) return current
    if (seen.has(current.type)) throw new Error(`upcast cycle at ${current.type}`)
    seen.add(current.type)
    current = { type: def.upcast.to, data: def.upcast.fn(current.data) }
  }
}

/** The newest type an event of `type` upcasts to (itself when no newer major exists). */
export function latestTypeOf(type: string, types: readonly EventType[] = catalogue): string {
  const byType = new Map(types.map((t) => [t.type, t]))
  let t = type
  const seen = new Set<string>()
  while (byType.get(t)?.upcast && !seen.has(t)) {
    seen.add(t)
    t = byType.get(t)!.upcast!.to
  }
  return t
}
