import { latestTypeOf, upcastToLatest } from '../contracts/upcast.ts'
import type { StoredEvent } from '../store/types.ts'

/**
 * A stored event as workflows see it: in the newest major of its type (DESIGN §6, issue 4 "so
 * consumers see one shape"). The log keeps what was sent; only the view handed to a run's
 * trigger and waits is upcast, so the id, sequence and data hash stay those of the stored event.
 */
export function upcastStoredEvent(e: StoredEvent): StoredEvent {
  if (latestTypeOf(e.type) === e.type) return e
  const up = upcastToLatest(e.type, e.envelope.data)
  return { ...e, type: up.type, envelope: { ...e.envelope, type: up.type, data: up.data } }
}
