import { type Static, Type } from 'typebox'
import { EVENT_TYPE_PATTERN } from './event-type.ts'

/**
 * The CloudEvents 1.0 envelope every canonical event travels in (github.com/cloudevents/spec,
 * spec.md: required id, source, specversion, type; optional datacontenttype, dataschema,
 * subject, time). Qualink's extensions: plant (required: every row carries its plant),
 * correlationid, causationid, traceparent (W3C Trace Context), sequence (the source's
 * monotonic counter for the subject, used to park stale updates).
 */
export const CloudEventEnvelope = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({ minLength: 1, maxLength: 200 }),
    source: Type.String({ minLength: 1, maxLength: 500 }),
    type: Type.String({ pattern: EVENT_TYPE_PATTERN.source, maxLength: 200 }),
    time: Type.Optional(Type.String({ format: 'date-time' })),
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    datacontenttype: Type.Optional(Type.Literal('application/json')),
    dataschema: Type.Optional(Type.String({ format: 'uri' })),
    plant: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$' }),
    correlationid: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    causationid: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    traceparent: Type.Optional(
      Type.String({ pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' }),
    ),
    sequence: Type.Optional(Type.Integer({ minimum: 0 })),
    data: Type.Unknown(),
  },
  // CloudEvents allows further extension attributes: lower-case alphanumeric names.
  { additionalProperties: Type.Union([Type.String(), Type.Number(), Type.Boolean()]) },
)

export type CloudEvent = Static<typeof CloudEventEnvelope> & { data: unknown }

/** Extension attribute names per CloudEvents spec §"Attribute Naming Convention". */
export const EXTENSION_NAME = /^[a-z0-9]{1,20}$/
