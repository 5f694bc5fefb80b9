import type { FastifyInstance } from 'fastify'
import type { AuditSealer } from '../audit/sealer.ts'
import type { AmqpRelayConfig, AmqpSourceConfig } from '../connectors/broker/amqp.ts'
import type { NatsRelayConfig } from '../connectors/broker/nats-relay.ts'
import type { NatsSourceConfig } from '../connectors/broker/nats-source.ts'
import type { FileDropConfig } from '../connectors/ingress/file-drop.ts'
import type { MqttSourceConfig } from '../connectors/ingress/mqtt-source.ts'
import type { PollingFeedConfig } from '../connectors/ingress/polling-feed.ts'
import type { WebhookSource } from '../connectors/ingress/webhook-source.ts'
import type { OpcUaSourceConfig } from '../connectors/mes/opcua/source.ts'
import type { SharedLimitsRef } from '../connectors/sdk/rate-limit.ts'
import type { Engine } from '../engine/engine.ts'
import type { JournalMode } from '../engine/run-context.ts'
import type { TranslationStage, Translator } from '../engine/translation-stage.ts'
import type { WorkflowDefinition } from '../engine/workflow.ts'
import type { XrefRef } from '../mapping/id-mapping.ts'
import type { CapaPolicy } from '../model/supplier-status.ts'
import type { ConnectorMetrics } from '../observability/connector-metrics.ts'
import type { Logger } from '../observability/logger.ts'
import type { SloEvaluator, SloOptions } from '../observability/slo-evaluator.ts'
import type { TracingSettings } from '../observability/tracing.ts'
import type { DriftPolicy, Reconciler } from '../projections/reconciliation.ts'
import type { FieldCipher } from '../security/encryption.ts'
import type { OidcConfig } from '../security/oidc.ts'
import type { RetentionOptions, RetentionPurger } from '../security/retention.ts'
import type { LoginPolicy } from '../security/sessions.ts'
import type { DashboardUser } from '../security/users.ts'
import type { SignatureOptions } from '../signatures/service.ts'
import type { Store, StoreRef } from '../store/types.ts'
import type { ApiKeyConfig } from './auth.ts'
import type { ApiLimitSettings } from './rate-limit.ts'
import type { TlsSettings } from './tls.ts'

/**
 * What `startQualink` (src/server/qualink.ts) takes: the store, the HTTP listener, the workflows
 * and ports, and every ingress, relay and singleton duty of one process. Most come from
 * qualink.yaml through config/build-runtime.ts; tests and benchmarks pass them directly.
 */
export interface QualinkOptions {
  readonly dataDir?: string
  readonly databaseUrl?: string
  readonly host?: string
  readonly port?: number
  readonly groupCommit?: boolean
  readonly passthrough?: readonly string[]
  readonly logger?: Logger
  /** an existing store (tests); otherwise opened from databaseUrl / dataDir */
  readonly store?: Store
  readonly anchorFile?: string
  readonly sealIntervalMs?: number
  /** workflows this process executes (and routes events to) */
  // biome-ignore lint/suspicious/noExplicitAny: workflows of different port and config types run side by side
  readonly workflows?: readonly WorkflowDefinition<any, any>[]
  /** the ports (connectors) the workflows use */
  readonly ports?: unknown
  /** where the connectors look for limits shared across processes; bound here to the store's */
  readonly sharedLimits?: SharedLimitsRef
  /**
   * How often an idle engine looks for due work (default 100 ms). New work is claimed sooner: an
   * ingest POST and every translation pass that appended events wake the engine.
   */
  readonly enginePollMs?: number
  /**
   * Runs one process executes at once (Engine option `concurrency`; default 8). Each holds a
   * database connection only while it writes, so it may exceed the store's pool.
   */
  readonly engineConcurrency?: number
  /** where egress ports look up identity mappings (src/workflows/ports/mapped.ts); bound here to the store's */
  readonly xref?: XrefRef
  /** connectors with durable state of their own (edi/x12) reach the store through it; bound here */
  readonly storeRef?: StoreRef
  /** the egress metrics those connectors were built with: exported on /metrics, shown on /ui/connectors */
  readonly connectorMetrics?: ConnectorMetrics
  /**
   * What this process runs besides the HTTP API (default `all`): `api` stores and routes events
   * and seals the audit chain; `worker` also executes runs and translates raw deliveries
   * (competing with other workers); `relay` runs the lease-fenced singletons (ingress
   * subscriptions and watchers, fan-out relays, reconciliation, SLOs, projections).
   */
  readonly role?: ProcessRole
  /** false: the `api` role (kept for callers that predate `role`) */
  readonly runEngine?: boolean
  readonly leaseTtlMs?: number
  /** when runs' completed steps are journaled (Engine option `journal`; default `per-step`) */
  readonly journal?: JournalMode
  /** lease of each singleton (default 15 s): how soon a dead holder's duty moves elsewhere */
  readonly singletonLeaseMs?: number
  /** How long close() lets HTTP requests in flight finish before cutting their connections; default 10 s. */
  readonly shutdownGraceMs?: number
  /** webhook sources accepted on /v1/ingress/:source */
  readonly webhooks?: readonly WebhookSource[]
  /** translators from raw deliveries to canonical events, one per source */
  readonly translators?: readonly Translator[]
  /** MQTT subscriptions (each a lease-fenced singleton: one session per client id) */
  readonly mqtt?: readonly MqttSourceConfig[]
  /** OPC UA subscriptions (each a lease-fenced singleton: one client per server) */
  readonly opcua?: readonly OpcUaSourceConfig[]
  /** watched folders (each a lease-fenced singleton) */
  readonly fileDrops?: readonly FileDropConfig[]
  /** API keys (hashed) with roles and plants; none = loopback-only, every caller sees every plant */
  readonly apiKeys?: readonly ApiKeyConfig[]
  /** OIDC provider whose bearer JWTs are accepted next to the API keys */
  readonly oidc?: OidcConfig
  /** dashboard users (scrypt password hashes, roles, plants): login form and sessions on /ui */
  readonly users?: readonly DashboardUser[]
  /**
   * requests per second per API key / token subject on /v1 (qualink.yaml `server.limits`; default
   * server/rate-limit.ts); shared through the store on PostgreSQL; `false`: none
   */
  readonly apiLimits?: ApiLimitSettings | false
  /** serve HTTPS (qualink.yaml `server.tls`); the dashboard cookie is then Secure */
  readonly tls?: TlsSettings
  /** timeouts and attempt limits of dashboard login (defaults: security/sessions.ts) */
  readonly login?: Partial<LoginPolicy>
  /** signers (scrypt password hashes) and the two-person rule for bulk replay */
  readonly signatures?: SignatureOptions
  /** QMS–ERP reconciliation of finished receipt inspections (needs an `erp` port) */
  readonly reconcile?: { readonly intervalMs: number; readonly policy: (plant: string) => DriftPolicy }
  /** what an open supplier CAPA means for the supplier's status per plant (scorecard; default none) */
  readonly capaPolicy?: (plant: string) => CapaPolicy
  /** SLOs evaluated every `everyMs` (a lease-fenced singleton); transitions go to `ports.notify` */
  readonly slos?: SloOptions
  /** sensitive fields encrypted at rest (qualink.yaml `security.encryption`) */
  readonly encryption?: FieldCipher
  /** payload retention purge (qualink.yaml `retention`; a lease-fenced singleton) */
  readonly retention?: RetentionOptions
  /** OpenTelemetry tracing (qualink.yaml `server.tracing` with OTEL_* over it); absent: off */
  readonly tracing?: TracingSettings
  /** fan-out of every event to NATS JetStream (a lease-fenced singleton) */
  readonly natsRelay?: NatsRelayConfig
  /** JetStream durable consumers feeding raw deliveries (each a lease-fenced singleton) */
  readonly natsSources?: readonly NatsSourceConfig[]
  /** fan-out of every event to a RabbitMQ topic exchange (a lease-fenced singleton) */
  readonly amqpRelay?: AmqpRelayConfig
  /** RabbitMQ quorum queues feeding raw deliveries (each a lease-fenced singleton) */
  readonly amqpSources?: readonly AmqpSourceConfig[]
  /** polled change lists with durable cursors (each a lease-fenced singleton) */
  readonly feeds?: readonly PollingFeedConfig[]
}

export const PROCESS_ROLES = ['all', 'api', 'worker', 'relay'] as const
export type ProcessRole = (typeof PROCESS_ROLES)[number]

export interface Qualink {
  readonly app: FastifyInstance
  readonly store: Store
  readonly url: string
  readonly sealer: AuditSealer
  readonly engine: Engine
  readonly translation: TranslationStage
  readonly reconciler: Reconciler | undefined
  readonly sloEvaluator: SloEvaluator | undefined
  readonly retention: RetentionPurger | undefined
  /** exports the spans buffered so far (nothing when tracing is off) */
  flushTraces(): Promise<void>
  close(): Promise<void>
}
