/**
 * The shape of qualink.yaml (docs/configuration.md is its reference). Everything here is
 * structure; what a connector's `config` or a workflow's settings may hold is decided by that
 * connector's and that workflow's own schema (src/config/kinds.ts), validated under its path.
 * Every object refuses unknown keys: a misspelt key is an error, never a silent default.
 */
import { type Static, Type } from 'typebox'
import { SLO_INDICATORS } from '../observability/slo.ts'
import { CONNECTOR_KINDS, WORKFLOW_NAMES } from './kinds.ts'
import { FanoutConfig, IngressConfig } from './schema-ingress.ts'
import { byName, byPlant, closed, Duration, PlantCode, SecretRef } from './schema-parts.ts'
import { PlantConfig } from './schema-plant.ts'

export {
  AmqpSourceConfig,
  FanoutConfig,
  FeedConfig,
  FileDropConfig,
  IngressConfig,
  MqttConfig,
  NatsSourceConfig,
  WebhookConfig,
} from './schema-ingress.ts'
export {
  DURATION_PATTERN,
  ENV_PATTERN,
  NAME_PATTERN,
  PLANT_PATTERN,
  SecretRef,
} from './schema-parts.ts'
export {
  PlantConfig,
  RELEASE_CHECKPOINTS,
  SamplingSettings,
  SPC_RULE_IDS,
  SyntheticConfig,
} from './schema-plant.ts'

export const ServerConfig = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    dataDir: Type.Optional(Type.String({ minLength: 1 })),
    /** a PostgreSQL URL carries a password, so it is a secret reference; absent: embedded SQLite */
    databaseUrl: Type.Optional(SecretRef),
    /** engine lease; every connector's egress timeout must be shorter */
    leaseMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 600_000 })),
    /**
     * when a run's completed steps reach the journal (src/engine/run-context-deps.ts JournalMode):
     * `at-yield` (default) with the attempt's next wait, completion or failure, one commit for
     * many steps; `per-step`: one commit per step, a completed step is never re-run
     */
    journal: Type.Optional(Type.Enum(['at-yield', 'per-step'])),
    /**
     * lease of each singleton (MQTT session, watched folder, relay, scheduler): a dead holder's
     * duty moves to another process this long after its last renewal (renewed every third of it)
     */
    singletonLeaseMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 600_000 })),
    /**
     * requests per second per API key and per OIDC subject on /v1, per dashboard user on /ui, and
     * per webhook source (docs/operations.md "Abuse limits"); `callers` gives one key, subject,
     * user or `source:<name>` its own rate; `enabled: false` turns them off
     */
    limits: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          /** false: per-process buckets even on PostgreSQL (cheaper; N processes allow N times the rate) */
          shared: Type.Optional(Type.Boolean()),
          ratePerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000 })),
          burst: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
          /** every webhook source's rate (default 1,000/s, burst 5,000); `callers['source:<name>']` for one */
          webhooks: Type.Optional(
            Type.Object(
              {
                ratePerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }),
                burst: Type.Integer({ minimum: 1, maximum: 100_000 }),
              },
              closed,
            ),
          ),
          callers: Type.Optional(
            Type.Record(
              Type.String({ minLength: 1 }),
              Type.Object(
                {
                  ratePerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }),
                  burst: Type.Integer({ minimum: 1, maximum: 100_000 }),
                },
                closed,
              ),
            ),
          ),
        },
        closed,
      ),
    ),
    /** HTTPS served by Qualink itself (docs/operations.md "TLS"); paths relative to the file */
    tls: Type.Optional(
      Type.Object(
        {
          certFile: Type.String({ minLength: 1 }),
          keyFile: Type.String({ minLength: 1 }),
          /** client certificates signed by this CA are required (mutual TLS) */
          caFile: Type.Optional(Type.String({ minLength: 1 })),
          minVersion: Type.Optional(Type.Enum(['TLSv1.2', 'TLSv1.3'])),
        },
        closed,
      ),
    ),
    /** OpenTelemetry tracing (docs/operations.md "Tracing"); absent and no OTEL_EXPORTER_OTLP_ENDPOINT: off */
    tracing: Type.Optional(
      Type.Object(
        {
          /** OTLP/HTTP base URL; spans go to <url>/v1/traces; absent: traced and propagated, not exported */
          otlpEndpoint: Type.Optional(Type.String({ pattern: '^https?://[^\\s/]+(/\\S*)?$' })),
          serviceName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          /** share of new traces recorded; a sender's sampled flag is followed */
          sampleRatio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
        },
        closed,
      ),
    ),
  },
  closed,
)

export const ConnectorConfig = Type.Object(
  {
    kind: Type.Enum([...CONNECTOR_KINDS]),
    description: Type.Optional(Type.String()),
    /** validated by the connector kind's own schema (docs/connectors.md) */
    config: Type.Record(Type.String(), Type.Unknown()),
  },
  closed,
)
export type ConnectorConfig = Static<typeof ConnectorConfig>

export const WorkflowConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    /**
     * A dead-lettered run of a key: `block` (later events of the key wait until it is replayed or
     * discarded; the default) or `skip` (they run). DESIGN §6 "A poisoned key".
     */
    poisonPolicy: Type.Optional(Type.Union([Type.Literal('block'), Type.Literal('skip')])),
    /** settings for every plant; validated (after merging) by the workflow's own schema */
    defaults: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** per-plant settings, over `defaults` and over what the plant's settings imply */
    plants: Type.Optional(byPlant(Type.Record(Type.String(), Type.Unknown()))),
  },
  closed,
)
export type WorkflowConfig = Static<typeof WorkflowConfig>

/** One objective: the indicator's value per plant must stay at or below `threshold` (docs/operations.md). */
export const SloConfig = Type.Object(
  {
    description: Type.Optional(Type.String()),
    indicator: Type.Enum([...SLO_INDICATORS]),
    /** a duration (30s, 4h) for a latency leg; a count for the others */
    threshold: Type.Union([Duration, Type.Integer({ minimum: 0 })]),
    /** latency: legs completed within it; counts: created within it; awaiting creation: older than it */
    window: Duration,
    /** latency legs only (nearest rank); default 0.95 */
    quantile: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    /** default: every plant */
    plants: Type.Optional(Type.Array(PlantCode, { minItems: 1, uniqueItems: true })),
  },
  closed,
)
export type SloConfig = Static<typeof SloConfig>

/** Field-level encryption at rest (docs/operations.md "Encryption"): keys by id, never in the file. */
export const EncryptionConfig = Type.Object(
  {
    keys: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$' }), SecretRef, {
      minProperties: 1,
    }),
    /** the key id new values are written under */
    activeKey: Type.String({ minLength: 1 }),
    /** event type → JSON pointers (under /data) of its sensitive fields; `*` matches every item */
    fields: Type.Record(
      Type.String({ minLength: 1 }),
      Type.Array(Type.String({ minLength: 2 }), { minItems: 1 }),
    ),
    /** encrypt raw delivery bodies whole (default true): they carry the same data in source form */
    rawBodies: Type.Optional(Type.Boolean()),
  },
  closed,
)
export type EncryptionConfig = Static<typeof EncryptionConfig>

/** Payload retention (docs/operations.md "Retention"); audit rows themselves are never purged. */
export const RetentionConfig = Type.Object(
  {
    /** event type → how long its payload (`data`) is kept after it was recorded */
    events: Type.Record(Type.String({ minLength: 1 }), Duration),
    /**
     * per plant, event type → period over `events` for that plant's events (a customer's or a
     * regulator's period); a type only a plant lists is purged only in that plant
     */
    plants: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        Type.Object({ events: Type.Record(Type.String({ minLength: 1 }), Duration) }, closed),
      ),
    ),
    /** how long audit payloads are kept; at least the longest event retention (any plant's); absent: forever */
    auditPayloads: Type.Optional(Duration),
    /** how often the purge runs (default 1h) */
    every: Type.Optional(Duration),
  },
  closed,
)
export type RetentionConfig = Static<typeof RetentionConfig>

export const QualinkConfig = Type.Object(
  {
    version: Type.Literal(1),
    server: Type.Optional(ServerConfig),
    connectors: Type.Optional(byName(ConnectorConfig)),
    /** admin-owned: per connector, the origins (scheme://host:port) it may reach */
    egress: Type.Optional(
      Type.Object(
        {
          allowlist: byName(Type.Array(Type.String({ minLength: 1 }))),
          /**
           * per connector, addresses or CIDR blocks its allowlisted hosts may resolve to although
           * they are link-local, loopback or unspecified (docs/operations.md "Safe egress")
           */
          allowAddresses: Type.Optional(byName(Type.Array(Type.String({ minLength: 1 })))),
        },
        closed,
      ),
    ),
    ingress: Type.Optional(IngressConfig),
    fanout: Type.Optional(FanoutConfig),
    plants: byPlant(PlantConfig),
    /** the scheduled QMS–ERP comparison; a plant without its own policy only alerts */
    reconciliation: Type.Optional(Type.Object({ interval: Duration }, closed)),
    /** objectives evaluated every `evaluateEvery` (default 1m); breaches go to each plant's notify connector */
    slos: Type.Optional(
      Type.Object({ evaluateEvery: Type.Optional(Duration), objectives: byName(SloConfig) }, closed),
    ),
    workflows: Type.Optional(
      Type.Object(Object.fromEntries(WORKFLOW_NAMES.map((n) => [n, Type.Optional(WorkflowConfig)])), closed),
    ),
    security: Type.Optional(Type.Object({ encryption: Type.Optional(EncryptionConfig) }, closed)),
    retention: Type.Optional(RetentionConfig),
  },
  closed,
)
export type QualinkConfig = Static<typeof QualinkConfig>
