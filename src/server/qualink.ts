import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { FileAnchorSink } from '../audit/anchors.ts'
import { AuditSealer } from '../audit/sealer.ts'
import { catalogue } from '../contracts/catalogue.ts'
import { EventRegistry } from '../contracts/registry.ts'
import { createLogger, type Logger } from '../observability/logger.ts'
import { KernelMetrics } from '../observability/metrics.ts'
import { openStore } from '../store/open.ts'
import type { Store } from '../store/types.ts'
import { WriteQueue } from '../store/write-queue.ts'
import { buildApp } from './app.ts'

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
}

export interface Qualink {
  readonly app: FastifyInstance
  readonly store: Store
  readonly url: string
  readonly sealer: AuditSealer
  close(): Promise<void>
}

/**
 * Composes one Qualink process: store, write queue, registry, sealer, HTTP API. `close()`
 * stops accepting, lets in-flight requests finish, drains the write queue, seals what was
 * committed, and closes the store, in that order.
 */
export async function startQualink(opts: QualinkOptions = {}): Promise<Qualink> {
  const dataDir = opts.dataDir ?? './data'
  const logger = opts.logger ?? createLogger()
  const store =
    opts.store ??
    (await openStore({ databaseUrl: opts.databaseUrl, sqliteFile: path.join(dataDir, 'qualink.db') }))
  const metrics = new KernelMetrics()
  const queue = new WriteQueue(store, {
    groupCommit: opts.groupCommit ?? true,
    metrics: metrics.writeQueue(),
  })
  const anchors = new FileAnchorSink(opts.anchorFile ?? path.join(dataDir, 'audit-anchors.jsonl'))
  const sealer = new AuditSealer(store, anchors, {
    owner: `${process.pid}@${Date.now()}`,
    intervalMs: opts.sealIntervalMs,
    onError: (e) => logger.error({ err: e }, 'audit sealer failed; will retry'),
    onSealed: (n) => metrics.auditSealed.inc(n),
  })
  let shuttingDown = false
  const app = buildApp({
    store,
    queue,
    registry: new EventRegistry(catalogue, { passthrough: opts.passthrough }),
    anchors,
    metrics,
    logger,
    scopeOf: () => ({ allPlants: true, reason: 'no authentication configured: loopback-only deployment' }),
    isShuttingDown: () => shuttingDown,
  })
  app.addHook('onClose', async () => {
    shuttingDown = true
    await queue.drain()
    await sealer.stop()
    if (!opts.store) await store.close()
  })
  const address = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 })
  sealer.start()
  return {
    app,
    store,
    url: address,
    sealer,
    close: async () => {
      shuttingDown = true
      await app.close()
    },
  }
}
