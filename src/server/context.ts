import type { AnchorSink } from '../audit/anchors.ts'
import type { WebhookSource } from '../connectors/ingress/webhook-source.ts'
import type { EventRegistry } from '../contracts/registry.ts'
import type { Logger } from '../observability/logger.ts'
import type { KernelMetrics } from '../observability/metrics.ts'
import type { Scope, Store } from '../store/types.ts'
import type { WriteQueue } from '../store/write-queue.ts'

/** What the HTTP layer is given; built once in server/qualink.ts. */
export interface ServerContext {
  readonly store: Store
  readonly queue: WriteQueue
  readonly registry: EventRegistry
  readonly anchors: AnchorSink
  readonly metrics: KernelMetrics
  readonly logger: Logger
  /** the plants a request may see; authentication (security issue) narrows it per caller */
  readonly scopeOf: (headers: Record<string, string | string[] | undefined>) => Scope
  readonly isShuttingDown: () => boolean
  /** asks the engine to claim due runs now (after a write that made runs due) */
  readonly wakeEngine: () => void
  /** webhook sources accepted on /v1/ingress/:source, and the hook that wakes translation */
  readonly ingress: { readonly sources: readonly WebhookSource[]; readonly onStored: () => void }
  /** brings the genealogy projection up to the log before a lot query */
  readonly catchUpProjections: () => Promise<unknown>
}
