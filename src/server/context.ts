import type { SecureContextOptions, TlsOptions } from 'node:tls'
import type { AnchorSink } from '../audit/anchors.ts'
import type { WebhookSource } from '../connectors/ingress/webhook-source.ts'
import type { EventRegistry } from '../contracts/registry.ts'
import type { CapaPolicy } from '../model/supplier-status.ts'
import type { Logger } from '../observability/logger.ts'
import type { KernelMetrics } from '../observability/metrics.ts'
import type { SignatureService } from '../signatures/service.ts'
import type { Scope, Store } from '../store/types.ts'
import type { WriteQueue } from '../store/write-queue.ts'
import type { Authenticator } from './auth.ts'
import type { ApiRateLimiter } from './rate-limit.ts'

/** What the HTTP layer is given; built once in server/qualink.ts. */
export interface ServerContext {
  readonly store: Store
  readonly queue: WriteQueue
  readonly registry: EventRegistry
  readonly anchors: AnchorSink
  readonly metrics: KernelMetrics
  readonly logger: Logger
  /** the plants a request may see: the caller's API key's plants, or all on a loopback-only deployment */
  readonly scopeOf: (headers: Record<string, string | string[] | undefined>) => Scope
  /** who acts, for audit entries: the API key id when authentication is on */
  readonly actorOf: (headers: Record<string, string | string[] | undefined>, channel: 'api' | 'ui') => string
  readonly isShuttingDown: () => boolean
  /** asks the engine to claim due runs now (after a write that made runs due) */
  readonly wakeEngine: () => void
  /** webhook sources accepted on /v1/ingress/:source, and the hook that wakes translation */
  readonly ingress: { readonly sources: readonly WebhookSource[]; readonly onStored: () => void }
  /** resolves callers from API keys (disabled when none are configured) */
  readonly authenticator: Authenticator
  /** per API key / token subject limits on /v1 (absent: authentication is off) */
  readonly apiLimiter?: ApiRateLimiter
  /** certificate and key when Qualink serves HTTPS itself (server/tls.ts) */
  readonly https?: SecureContextOptions & TlsOptions
  /** electronic signatures and the two-person rule (src/signatures) */
  readonly signatures: SignatureService
  /** brings the genealogy projection up to the log before a lot query */
  readonly catchUpProjections: () => Promise<unknown>
  /** names of the workflows this deployment runs (a signed mass release needs `lot-release`) */
  readonly workflows: readonly string[]
  /** what an open supplier CAPA means for the supplier's quality status per plant (scorecard) */
  readonly capaPolicy: (plant: string) => CapaPolicy
  /** reconciliation runs here (an ERP port and a schedule): "Reconcile now" may be asked for */
  readonly reconcileConfigured?: boolean
  /** work a request started and left running (a bulk replay): shutdown waits for it before closing the store */
  readonly runInBackground?: (work: Promise<unknown>) => void
}
