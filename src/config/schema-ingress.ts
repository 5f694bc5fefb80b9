/** qualink.yaml `ingress` (where raw deliveries come from) and `fanout` (where events go). */
import { Type } from 'typebox'
import { TRANSLATORS } from './kinds.ts'
import { OpcUaConfig } from './schema-opcua.ts'
import { byName, closed, Name, PlantCode, SecretRef } from './schema-parts.ts'

const sourceBase = {
  /** every delivery of the source belongs to this plant */
  plant: PlantCode,
  description: Type.Optional(Type.String()),
}

export const WebhookConfig = Type.Object(
  {
    ...sourceBase,
    translator: Type.Enum(TRANSLATORS.filter((t) => t.ingress === 'webhook').map((t) => t.name)),
    /** current first; two during a rotation; required unless `unsigned: true` */
    secrets: Type.Optional(Type.Array(SecretRef, { minItems: 1, maxItems: 2 })),
    /** accept deliveries without a signature: only for a source that cannot sign (config/checks.ts) */
    unsigned: Type.Optional(Type.Boolean()),
    signatureHeader: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$' })),
    /** timestamped (default, t=…,v1=…) or frappe (ERPNext: base64 HMAC of the body, no delivery id) */
    signatureScheme: Type.Optional(Type.Enum(['timestamped', 'frappe'])),
    deliveryIdHeader: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$' })),
    toleranceSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  },
  closed,
)

export const MqttConfig = Type.Object(
  {
    ...sourceBase,
    translator: Type.Enum(TRANSLATORS.filter((t) => t.ingress === 'mqtt').map((t) => t.name)),
    url: Type.String({ pattern: '^(mqtts?|wss?)://[^/]+' }),
    /** fixed per source: the broker keeps the persistent session (and its QoS 1 backlog) under it */
    clientId: Type.String({ minLength: 1, maxLength: 64 }),
    topics: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(SecretRef),
    /** map MES material codes through the identity map (xref) instead of taking them as is */
    mapMaterials: Type.Optional(Type.Boolean()),
    /** MQTT 5 (default: user properties, the trace context among them, arrive) or 3.1.1 for an older broker */
    protocolVersion: Type.Optional(Type.Union([Type.Literal(4), Type.Literal(5)])),
  },
  closed,
)

export const FileDropConfig = Type.Object(
  {
    ...sourceBase,
    translator: Type.Enum(TRANSLATORS.filter((t) => t.ingress === 'fileDrop').map((t) => t.name)),
    dir: Type.String({ minLength: 1 }),
    /** regular expression over the file name; default: every non-hidden file */
    pattern: Type.Optional(Type.String({ minLength: 1 })),
    pollMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    settleMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
  },
  closed,
)

/** a broker message body is translated like a webhook or MQTT payload of the same system */
const brokerTranslator = Type.Enum(
  TRANSLATORS.filter((t) => t.ingress !== 'fileDrop' && t.ingress !== 'opcua').map((t) => t.name),
)
const NatsServers = Type.Union([
  Type.String({ pattern: '^(nats|tls)://[^/]+' }),
  Type.Array(Type.String({ pattern: '^(nats|tls)://[^/]+' }), { minItems: 1 }),
])

/** what a polled feed reads (each through the connector that offers it) */
export const FEED_READS = ['goods-receipts', 'inspection-plans'] as const

/**
 * A polled change list with a durable cursor, read through an ERP connector that offers one
 * (erp/sap-s4: ZQUALINK_GR_FEED_SRV goods receipts, translated like its webhook; or the
 * inspection plans of API_INSPECTIONPLAN_SRV, each plan version one md.inspection_plan event per scope).
 */
export const FeedConfig = Type.Object(
  {
    ...sourceBase,
    /** name of the connector whose feed is polled (its address, credentials and allowlist) */
    connector: Name,
    /** what the feed reads; default goods-receipts */
    reads: Type.Optional(Type.Enum([...FEED_READS])),
    pollMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  closed,
)

/** a JetStream durable pull consumer: acked only after the raw delivery is committed */
export const NatsSourceConfig = Type.Object(
  {
    ...sourceBase,
    translator: brokerTranslator,
    servers: NatsServers,
    stream: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    /** the consumer's durable name: its position survives restarts */
    durable: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    filterSubject: Type.Optional(Type.String({ minLength: 1 })),
  },
  closed,
)

/** a RabbitMQ quorum queue, acked after commit; unacceptable messages go to the dead-letter exchange */
export const AmqpSourceConfig = Type.Object(
  {
    ...sourceBase,
    translator: brokerTranslator,
    /** amqp(s)://user:password@host/vhost: a secret, since it carries the credentials */
    url: SecretRef,
    queue: Type.String({ minLength: 1, maxLength: 255 }),
    deadLetterExchange: Type.String({ minLength: 1, maxLength: 255 }),
  },
  closed,
)

/** fan-out of every canonical event (a lease-fenced singleton per relay, cursor after the broker's ack) */
export const FanoutConfig = Type.Object(
  {
    nats: Type.Optional(
      Type.Object(
        {
          servers: NatsServers,
          /** subjects `<prefix>.<plant>.<type>`; the stream capturing them is the broker admin's */
          subjectPrefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' })),
        },
        closed,
      ),
    ),
    amqp: Type.Optional(
      Type.Object(
        {
          url: SecretRef,
          /** a durable topic exchange; routing keys `<plant>.<type>` */
          exchange: Type.String({ minLength: 1, maxLength: 255 }),
        },
        closed,
      ),
    ),
  },
  closed,
)

export const IngressConfig = Type.Object(
  {
    webhooks: Type.Optional(byName(WebhookConfig)),
    mqtt: Type.Optional(byName(MqttConfig)),
    /** OPC UA servers' measurement nodes: sampled results and completions become events */
    opcua: Type.Optional(byName(OpcUaConfig)),
    fileDrops: Type.Optional(byName(FileDropConfig)),
    nats: Type.Optional(byName(NatsSourceConfig)),
    amqp: Type.Optional(byName(AmqpSourceConfig)),
    feeds: Type.Optional(byName(FeedConfig)),
  },
  closed,
)
