import { hashCanonical } from '../audit/canonical-json.ts'
import type { CloudEvent } from '../contracts/envelope.ts'
import type { AppendEvent } from './types.ts'

/** A validated CloudEvent as the write path stores it; `time` defaults to when it was received. */
export function toAppendEvent(e: CloudEvent, receivedAt: string): AppendEvent {
  const time = e.time ?? receivedAt
  const correlationId = e.correlationid ?? e.id
  return {
    plant: e.plant,
    source: e.source,
    id: e.id,
    type: e.type,
    subject: e.subject ?? null,
    time,
    correlationId,
    causationId: e.causationid ?? null,
    sourceSequence: e.sequence ?? null,
    dataHash: hashCanonical(e.data),
    envelopeJson: JSON.stringify({ ...e, time, correlationid: correlationId }),
  }
}
