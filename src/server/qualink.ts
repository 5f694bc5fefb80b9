import path from 'node:path'
import { FileAnchorSink } from '../audit/anchors.ts'
import { AuditSealer } from '../audit/sealer.ts'
import { startAmqpRelay, startAmqpSource } from '../connectors/broker/amqp.ts'
import { startNatsRelay } from '../connectors/broker/nats-relay.ts'
import { startNatsSource } from '../connectors/broker/nats-source.ts'
import { startFileDrop } from '../connectors/ingress/file-drop.ts'
import { startMqttSource } from '../connectors/ingress/mqtt-source.ts'
import { startPollingFeed } from '../connectors/ingress/polling-feed.ts'
import { tracedReceive } from '../connectors/ingress/receive-span.ts'
import { catalogue } from '../contracts/catalogue.ts'
import { QualinkError } from '../contracts/errors.ts'
import { EventRegistry } from '../contracts/registry.ts'
import { Engine } from '../engine/engine.ts'
import { periodicDuty, resourceDuty, Singleton, type SingletonOptions } from '../engine/singleton.ts'
import { TranslationStage } from '../engine/translation-stage.ts'
import { createLogger } from '../observability/logger.ts'
import { KernelMetrics } from '../observability/metrics.ts'
import { SloEvaluator, type SloNotifier } from '../observability/slo-evaluator.ts'
import { tracedStore } from '../observability/store-spans.ts'
import { enableTracing, type TracingHandle } from '../observability/tracing.ts'
import { GENEALOGY_PROJECTION, GenealogyProjector } from '../projections/genealogy-projector.ts'
import { eventLogHistory } from '../projections/measurement-history.ts'
import { type QmsDecisionReader, Reconciler } from '../projections/reconciliation.ts'
import { SupplierScorecardProjector } from '../projections/supplier-scorecard.ts'
import { genealogyTraceability } from '../projections/traceability-port.ts'
import { withFieldEncryption } from '../security/encryption-store.ts'
import { SqlAttempts } from '../security/login-attempts.ts'
import { RETENTION_LEASE, RetentionPurger, retentionDuty } from '../security/retention.ts'
import { SqlSessions } from '../security/session-store.ts'
import { DashboardLogin } from '../security/sessions.ts'
import { checkUsers } from '../security/users.ts'
import { SignatureService } from '../signatures/service.ts'
import { openStore } from '../store/open.ts'
import type { Store } from '../store/types.ts'
import { WriteQueue } from '../store/write-queue.ts'
import type { ErpPort } from '../workflows/ports/erp.ts'
import { buildApp } from './app.ts'
import { Authenticator } from './auth.ts'
import type { Qualink, QualinkOptions } from './qualink-options.ts'
import { ApiRateLimiter, DEFAULT_API_LIMITS } from './rate-limit.ts'
import { reconciliationDuty } from './reconcile-duty.ts'
import { httpsOptions } from './tls.ts'

export { PROCESS_ROLES, type ProcessRole, type Qualink, type QualinkOptions } from './qualink-options.ts'

/**
 * Composes one Qualink process: store, write queue, registry, sealer, HTTP API. `close()`
 * stops accepting, lets in-flight requests finish, drains the write queue, seals what was
 * committed, and closes the store, in that order.
 */
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

export async function startQualink(opts: QualinkOptions = {}): Promise<Qualink> {
  // Certificate files first: a bad path fails before anything is opened.
  const https = opts.tls ? httpsOptions(opts.tls) : undefined
  const login = https ? { ...opts.login, secureCookie: true } : opts.login
  const dashboard = opts.users?.length ? new DashboardLogin(checkUsers(opts.users), login) : undefined
  const auth = new Authenticator(opts.apiKeys ?? [], { oidc: opts.oidc, dashboard })
  const host = opts.host ?? '127.0.0.1'
  if (!auth.enabled && !LOOPBACK.has(host)) {
    throw new QualinkError(
      'QLK_CONFIG_INVALID',
      `refusing to listen on ${host} without authentication: configure API keys, OIDC or dashboard users, or bind to 127.0.0.1`,
      [
        {
          path: '/server/host',
          message: 'must be a loopback address while no API keys, OIDC or users are configured',
        },
      ],
    )
  }
  const dataDir = opts.dataDir ?? './data'
  const logger = opts.logger ?? createLogger()
  const opened =
    opts.store ??
    (await openStore({ databaseUrl: opts.databaseUrl, sqliteFile: path.join(dataDir, 'qualink.db') }))
  // Every module below sees the decrypting store; only rotation and retention read raw rows.
  const decrypting = opts.encryption ? withFieldEncryption(opened, opts.encryption) : opened
  // With tracing on, each store call made inside a trace is a span (observability/store-spans.ts).
  const store = opts.tracing ? tracedStore(decrypting) : decrypting
  // Dashboard sessions and failed-login counters in the store: kept across restarts and shared
  // by every API process, so a lockout holds whichever process the next guess reaches.
  dashboard?.persistIn(new SqlSessions(store.sql), new SqlAttempts(store.sql, dashboard.policy))
  const metrics = new KernelMetrics(opts.connectorMetrics)
  if (opts.sharedLimits && store.rateLimits) opts.sharedLimits.current = store.rateLimits
  if (opts.storeRef) opts.storeRef.current = store
  if (opts.xref)
    opts.xref.current = {
      resolve: (k) => store.ingress.resolveXref(k),
      reverse: (s, t, id, plant) => store.ingress.reverseXref(s, t, id, plant),
    }
  const queue = new WriteQueue(store, {
    groupCommit: opts.groupCommit ?? true,
    metrics: metrics.writeQueue(),
  })
  const anchors = new FileAnchorSink(opts.anchorFile ?? path.join(dataDir, 'audit-anchors.jsonl'))
  const sealer = new AuditSealer(store, anchors, {
    owner: `${process.pid}@${Date.now()}`,
    leaseTtlMs: opts.singletonLeaseMs,
    intervalMs: opts.sealIntervalMs,
    onError: (e) => logger.error({ err: e }, 'audit sealer failed; will retry'),
    onSealed: (n) => metrics.auditSealed.inc(n),
  })
  const projector = new GenealogyProjector(store)
  const scorecard = new SupplierScorecardProjector(store)
  let catchingUp: Promise<unknown> = Promise.resolve()
  // One catch-up at a time per process; the cursor's compare-and-set guards across processes.
  const catchUp = () => {
    catchingUp = catchingUp
      .then(() => projector.catchUp())
      .then(() => scorecard.catchUp())
      .catch((e) => logger.error({ err: e }, 'projection failed'))
    return catchingUp
  }
  // Store-backed ports every process has: measurement history (SPC) and genealogy (traceability).
  const ports = {
    history: eventLogHistory(store),
    trace: genealogyTraceability(store, () => catchUp()),
    ...(opts.ports as Record<string, unknown> | undefined),
  }
  const engine = new Engine({
    store,
    workflows: opts.workflows ?? [],
    ports,
    owner: `${process.pid}@${Date.now()}`,
    leaseTtlMs: opts.leaseTtlMs,
    pollMs: opts.enginePollMs,
    concurrency: opts.engineConcurrency,
    journal: opts.journal,
    logger,
    metrics: metrics.engine(),
  })
  metrics.observeEngine(store.engine, store.sql)
  const registry = new EventRegistry(catalogue, { passthrough: opts.passthrough })
  const translation = new TranslationStage({
    store,
    queue,
    registry,
    translators: opts.translators ?? [],
    logger,
    onAppended: () => engine.wake(),
  })
  const owner = `${process.pid}@${Date.now()}`
  const singleton = (name: string, duty: Pick<SingletonOptions, 'run' | 'halt'>) =>
    new Singleton({ store, name, owner, logger, ttlMs: opts.singletonLeaseMs, ...duty })
  const projection = singleton(`projection:${GENEALOGY_PROJECTION}`, periodicDuty(catchUp, 500, 0))
  const storeRaw = async (d: Parameters<Store['insertRawDelivery']>[0]) => {
    const r = await store.insertRawDelivery(d)
    translation.wake()
    return r
  }
  const sources: Singleton[] = [
    ...(opts.mqtt ?? []).map((cfg) =>
      singleton(
        `ingress:${cfg.name}`,
        resourceDuty(() =>
          startMqttSource(cfg, tracedReceive('mqtt', storeRaw), (e) =>
            logger.warn({ err: e, source: cfg.name }, 'MQTT source error'),
          ),
        ),
      ),
    ),
    ...(opts.opcua ?? []).map((cfg) =>
      singleton(
        `ingress:${cfg.name}`,
        // node-opcua is loaded only when an OPC UA source is configured: importing it costs ~2 s and
        // ~70 MB (measured on this machine) that every other deployment, the demo included, would pay.
        resourceDuty(async () => {
          const { startOpcUaSource } = await import('../connectors/mes/opcua/source.ts')
          return startOpcUaSource(cfg, tracedReceive('opcua', storeRaw), {
            logger,
            metrics: opts.connectorMetrics,
          })
        }),
      ),
    ),
    ...(opts.fileDrops ?? []).map((cfg) =>
      singleton(
        `ingress:${cfg.name}`,
        resourceDuty(() => startFileDrop(cfg, tracedReceive('file', storeRaw))),
      ),
    ),
    ...(opts.natsSources ?? []).map((cfg) =>
      singleton(
        `ingress:${cfg.name}`,
        resourceDuty(() => startNatsSource(cfg, tracedReceive('nats', storeRaw))),
      ),
    ),
    ...(opts.feeds ?? []).map((cfg) =>
      singleton(
        `ingress:${cfg.name}`,
        resourceDuty((lease) => startPollingFeed(cfg, store, () => translation.wake(), lease)),
      ),
    ),
    ...(opts.amqpSources ?? []).map((cfg) =>
      singleton(
        `ingress:${cfg.name}`,
        resourceDuty(() => startAmqpSource(cfg, tracedReceive('amqp', storeRaw))),
      ),
    ),
  ]
  const erpPort = (opts.ports as { erp?: ErpPort } | undefined)?.erp
  const reconciler =
    opts.reconcile && erpPort
      ? new Reconciler(
          store,
          erpPort,
          opts.reconcile.policy,
          logger,
          (opts.ports as { qms?: QmsDecisionReader } | undefined)?.qms,
        )
      : undefined
  if (reconciler && opts.reconcile) {
    const duty = reconciliationDuty(store, reconciler, {
      intervalMs: opts.reconcile.intervalMs,
      owner,
      logger,
    })
    sources.push(singleton('reconciliation', duty))
  }
  const sloEvaluator = opts.slos?.objectives.length
    ? new SloEvaluator(
        store,
        (opts.ports as { notify?: SloNotifier } | undefined)?.notify,
        opts.slos.objectives,
        {
          logger,
          onDecision: (d) => metrics.sloDecision(d),
        },
      )
    : undefined
  metrics.sloObjectives = opts.slos?.objectives ?? []
  if (sloEvaluator && opts.slos) {
    const pass = () => sloEvaluator.runOnce().catch((e) => logger.error({ err: e }, 'SLO evaluation failed'))
    sources.push(singleton('slo-evaluation', periodicDuty(pass, opts.slos.everyMs)))
  }
  const retention = opts.retention && new RetentionPurger(store, opts.retention, logger)
  if (retention && opts.retention)
    sources.push(singleton(RETENTION_LEASE, retentionDuty(retention, opts.retention.everyMs, logger)))
  if (opts.amqpRelay) {
    const cfg = opts.amqpRelay
    sources.push(
      singleton(
        `relay:${cfg.name ?? 'amqp'}`,
        resourceDuty((lease) => startAmqpRelay(store, cfg, lease)),
      ),
    )
  }
  if (opts.natsRelay) {
    const cfg = opts.natsRelay
    sources.push(
      singleton(
        `relay:${cfg.name ?? 'nats'}`,
        resourceDuty((lease) => startNatsRelay(store, cfg, lease)),
      ),
    )
  }
  let shuttingDown = false
  /** bulk replays answered at once and still running (they stop between two replays at shutdown) */
  const background = new Set<Promise<unknown>>()
  let tracing: TracingHandle | undefined
  const app = buildApp({
    store,
    queue,
    registry,
    anchors,
    metrics,
    logger,
    scopeOf: (headers) => auth.principal(headers).scope,
    actorOf: (headers, channel) => {
      if (auth.enabled) return `${channel}:${auth.principal(headers).id}`
      const declared = headers['x-qualink-actor']
      return `${channel}:${typeof declared === 'string' && /^[\w.@:-]{1,64}$/.test(declared) ? declared : 'anonymous'}`
    },
    authenticator: auth,
    apiLimiter:
      auth.enabled && opts.apiLimits !== false
        ? new ApiRateLimiter(opts.apiLimits ?? DEFAULT_API_LIMITS, store.rateLimits)
        : undefined,
    signatures: new SignatureService(store, opts.signatures),
    isShuttingDown: () => shuttingDown,
    wakeEngine: () => engine.wake(),
    ingress: { sources: opts.webhooks ?? [], onStored: () => translation.wake() },
    catchUpProjections: catchUp,
    https,
    capaPolicy: opts.capaPolicy ?? (() => 'none'),
    workflows: (opts.workflows ?? []).map((w) => w.name),
    reconcileConfigured: reconciler !== undefined,
    runInBackground: (work) => {
      background.add(work)
      void work.finally(() => background.delete(work))
    },
  })
  // Requests in flight, so a shutdown that waits on one can say which (see close()).
  const inFlight = new Map<string, { readonly what: string; readonly sinceMs: number }>()
  app.addHook('onRequest', async (req) => {
    inFlight.set(req.id, { what: `${req.method} ${req.url.split('?')[0]}`, sinceMs: Date.now() })
  })
  app.addHook('onRequestAbort', async (req) => {
    inFlight.delete(req.id)
  })
  // Events this process stored may have made runs due: claim them now, not at the next poll. A
  // webhook (/v1/ingress/…) stored a raw delivery, no event: its translation pass wakes the engine
  // once the events are appended, so a claim now would find nothing its delivery made due.
  app.addHook('onResponse', async (req) => {
    inFlight.delete(req.id)
    if (req.method === 'POST' && !req.url.startsWith('/v1/ingress/')) engine.wake()
  })
  // Each shutdown step that takes longer than 15 s is named (log and process warning), so a
  // hung shutdown says where it hangs; the step is still awaited: nothing is cut short.
  const step = async (name: string, run: () => Promise<unknown>) => {
    const t0 = Date.now()
    const slow = setInterval(() => {
      const msg = `shutdown step '${name}' still running after ${Date.now() - t0} ms`
      logger.warn({ step: name }, msg)
      process.emitWarning(msg, 'QualinkShutdownWarning')
    }, 15_000)
    try {
      await run()
    } finally {
      clearInterval(slow)
    }
  }
  app.addHook('onClose', async () => {
    shuttingDown = true
    await step('background operations', () => Promise.all(background))
    await step('sources', () => Promise.all(sources.map((x) => x.stop())))
    await step('translation', () => translation.stop())
    await step('write queue', () => queue.drain())
    await step('engine', () => engine.stop())
    await step('projection', () => projection.stop())
    await step('projection catch-up', () => catchingUp)
    await step('sealer', () => sealer.stop())
    if (!opts.store) await step('store', () => store.close())
    // Last: the spans of everything stopped above are ended, and are exported now.
    await tracing?.shutdown()
  })
  const address = await app.listen({ host, port: opts.port ?? 8080 })
  if (opts.tracing) tracing = enableTracing(opts.tracing, { warn: (m) => logger.warn(m) })
  sealer.start()
  const role = opts.role ?? (opts.runEngine === false ? 'api' : 'all')
  if (role === 'relay' || role === 'all') {
    projection.start()
    for (const x of sources) x.start()
  }
  if (role === 'worker' || role === 'all') {
    translation.start()
    await engine.start()
  }
  return {
    app,
    store,
    url: address,
    sealer,
    engine,
    translation,
    reconciler,
    sloEvaluator,
    retention,
    flushTraces: async () => tracing?.forceFlush(),
    close: async () => {
      shuttingDown = true
      // Fastify lets requests in flight finish before the onClose steps run. One that never
      // finishes would hold the shutdown forever: after the grace it is named and its connection
      // cut (its client gets no answer, so nothing it sent counts as acknowledged).
      const closing = app.close()
      const cut = setTimeout(() => {
        const now = Date.now()
        for (const r of inFlight.values())
          process.emitWarning(
            `request ${r.what} still in flight ${now - r.sinceMs} ms into shutdown: cutting its connection`,
            'QualinkShutdownWarning',
          )
        app.server.closeAllConnections()
      }, opts.shutdownGraceMs ?? 10_000)
      try {
        await closing
      } finally {
        clearTimeout(cut)
      }
    },
  }
}
