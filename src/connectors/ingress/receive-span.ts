import { isTraceparent, startSpan } from '../../observability/tracing.ts'
import type { RawDelivery } from '../../store/types.ts'

/** The protocol a source receives over, as the span's `messaging.system` (OTel messaging conventions). */
export type SourceKind = 'mqtt' | 'nats' | 'amqp' | 'file' | 'opcua'

/** Bodies larger than this are not parsed for a CloudEvents traceparent (a LIMS CSV, an X12 file). */
const CE_PROBE_MAX_BYTES = 256 * 1024

/**
 * The CloudEvents Distributed Tracing extension's `traceparent` of a structured-mode event body
 * (cloudevents/spec, extensions/distributed-tracing.md), when the body is one; undefined for
 * anything else (not JSON, a batch, no or an invalid traceparent).
 */
export function cloudEventTraceparent(body: Buffer): string | undefined {
  if (body.length > CE_PROBE_MAX_BYTES || body[0] !== 0x7b /* { */) return undefined
  try {
    const tp = (JSON.parse(body.toString('utf8')) as { specversion?: unknown; traceparent?: unknown }) ?? {}
    return typeof tp.specversion === 'string' && isTraceparent(tp.traceparent) ? tp.traceparent : undefined
  } catch {
    // a body that only starts like JSON: no trace context to continue
    return undefined
  }
}

/**
 * Wraps a source's store call in a consumer span per delivery. The span continues the trace the
 * message carried: a `traceparent` the source put in the delivery's headers (MQTT v5 user
 * property, NATS or AMQP header), else the CloudEvents extension in a structured-mode body; else it
 * starts one. The delivery is stored with the span's traceparent, so its translation (which
 * continues `headers.traceparent`) is the span's child; with tracing off a carried traceparent
 * is stored unchanged.
 */
export function tracedReceive(
  kind: SourceKind,
  store: (d: RawDelivery) => Promise<unknown>,
): (d: RawDelivery) => Promise<unknown> {
  return async (d) => {
    const carried = isTraceparent(d.headers.traceparent)
      ? d.headers.traceparent
      : cloudEventTraceparent(d.body)
    const span = startSpan(`receive ${d.source}`, {
      kind: 'consumer',
      parent: carried ?? null,
      attributes: {
        'messaging.system': kind,
        'messaging.operation.type': 'receive',
        'qualink.ingress.source': d.source,
        'qualink.ingress.delivery_id': d.deliveryId,
        'qualink.plant': d.plant,
        'messaging.message.body.size': d.body.length,
      },
    })
    const { traceparent: _carried, ...headers } = d.headers
    const stored = span.traceparent
      ? { ...d, headers: { ...headers, traceparent: span.traceparent } }
      : { ...d, headers }
    try {
      return await span.run(() => store(stored))
    } catch (e) {
      span.fail(e)
      throw e
    } finally {
      span.end()
    }
  }
}
