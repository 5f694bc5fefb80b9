import { createHash } from 'node:crypto'
import certificateManager from 'node-opcua-certificate-manager'
import opcua, { type ClientSession, type DataValue, type OPCUAClient } from 'node-opcua-client'
import type { Logger } from '../../../observability/logger.ts'
import type { RawDelivery } from '../../../store/types.ts'
import { type IngressMetrics, noopIngressMetrics } from '../../sdk/metrics.ts'
import type { OpcUaMessage } from './message.ts'
import {
  type AtCompletion,
  CompletionTrigger,
  NodeSampler,
  type Sample,
  type SamplingPolicy,
  toDecimal,
} from './sampler.ts'

// CommonJS packages: their named exports are reached through the default export under Node's ESM.
const {
  AttributeIds,
  ClientMonitoredItem,
  ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  MessageSecurityMode,
  OPCUAClient: Client,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
} = opcua
const { OPCUACertificateManager } = certificateManager

/** NodeIds read when a sample or completion is emitted: what was running on the equipment then. */
export interface OpcUaContextNodes {
  readonly productionOrder?: string
  readonly operation?: string
  readonly lot?: string
}

export interface OpcUaMeasurementConfig {
  readonly nodeId: string
  readonly characteristic: string
  readonly unit: string
  readonly equipment: string
  readonly context: OpcUaContextNodes
  readonly sampling: SamplingPolicy
  /** what a completion reports for this node from the values since the previous completion */
  readonly atCompletion: AtCompletion
  /** OPC UA DataChangeFilter deadband (Part 4 §7.22.2); percent needs the node's EURange */
  readonly deadband?: { readonly type: 'absolute' | 'percent'; readonly value: number }
}

export interface OpcUaSourceConfig {
  readonly name: string
  readonly plant: string
  readonly endpoint: string
  readonly securityMode: 'None' | 'Sign' | 'SignAndEncrypt'
  readonly securityPolicy: 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss'
  readonly username?: string
  readonly password?: string
  /** the client's PKI folder (own certificate, trusted/rejected servers) */
  readonly pkiDir: string
  readonly samplingIntervalMs: number
  readonly publishingIntervalMs: number
  readonly measurements: readonly OpcUaMeasurementConfig[]
  /** a Boolean (rising edge) or counter (increment) node marking an operation complete */
  readonly completion?: {
    readonly nodeId: string
    readonly equipment: string
    readonly context: OpcUaContextNodes
  }
  /** how long connecting, opening the session and starting the subscription may take (default 8 s) */
  readonly startTimeoutMs?: number
  /** reconnection backoff (node-opcua's connectionStrategy): first delay and cap */
  readonly reconnect?: { readonly initialDelayMs: number; readonly maxDelayMs: number }
}

export interface OpcUaSource {
  close(): Promise<void>
}

/** The delivery id: the same (endpoint, node, key) on a re-read after a reconnect is the same delivery. */
export function opcUaDeliveryId(endpoint: string, nodeId: string, key: string): string {
  return createHash('sha256')
    .update(endpoint)
    .update('\n')
    .update(nodeId)
    .update('\n')
    .update(key)
    .digest('hex')
}

/**
 * How long a start may take. The singleton awaits it while holding its lease (15 s, renewed every
 * 5 s by default): a server that is down fails the start and is tried again at the next heartbeat,
 * instead of node-opcua retrying the first connection forever under a lease nobody renews.
 */
const START_TIMEOUT_MS = 8000

function withDeadline<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  p.catch(() => undefined) // a late failure after the deadline is the one already reported
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not ready within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

const timeOf = (dv: DataValue) => (dv.sourceTimestamp ?? dv.serverTimestamp ?? new Date()).getTime()

/**
 * Subscribes to the measurement nodes (and a completion node) of one OPC UA server and stores a raw
 * delivery only for a sampled result or a completion: raw values stay here. node-opcua reconnects
 * with backoff and, after a server restart, recreates the session and its subscriptions; a value
 * re-read then is a repeat (same source time) or the same delivery id, so nothing is duplicated.
 * Deliveries are stored one at a time, in arrival order, retried until stored or closed.
 */
export async function startOpcUaSource(
  cfg: OpcUaSourceConfig,
  store: (d: RawDelivery) => Promise<unknown>,
  opts: { readonly logger?: Logger; readonly metrics?: IngressMetrics } = {},
): Promise<OpcUaSource> {
  const metrics = opts.metrics ?? noopIngressMetrics
  const log = opts.logger?.child({ source: cfg.name, endpoint: cfg.endpoint })
  const link = (state: 'connected' | 'reconnecting' | 'down') =>
    metrics.link({ source: cfg.name, target: cfg.endpoint, state })
  const client: OPCUAClient = Client.create({
    applicationName: `qualink-${cfg.name}`,
    endpointMustExist: false,
    securityMode: MessageSecurityMode[cfg.securityMode],
    securityPolicy: SecurityPolicy[cfg.securityPolicy],
    clientCertificateManager: new OPCUACertificateManager({
      rootFolder: cfg.pkiDir,
      automaticallyAcceptUnknownCertificate: cfg.securityMode === 'None',
    }),
    keepSessionAlive: true,
    connectionStrategy: {
      initialDelay: cfg.reconnect?.initialDelayMs ?? 1000,
      maxDelay: cfg.reconnect?.maxDelayMs ?? 30_000,
      maxRetry: Number.MAX_SAFE_INTEGER,
    },
  })
  client.on('backoff', (attempt, delay) => {
    link('reconnecting')
    log?.warn({ attempt, delayMs: delay }, 'OPC UA connection failed; retrying')
  })
  client.on('connection_lost', () => {
    link('reconnecting')
    log?.warn('OPC UA connection lost; reconnecting')
  })
  client.on('connection_reestablished', () => {
    link('connected')
    log?.info('OPC UA connection re-established')
  })

  let closed = false
  let chain: Promise<void> = Promise.resolve()
  const persist = (nodeId: string, key: string, message: OpcUaMessage) => {
    const delivery: RawDelivery = {
      plant: cfg.plant,
      source: cfg.name,
      deliveryId: opcUaDeliveryId(cfg.endpoint, nodeId, key),
      headers: { endpoint: cfg.endpoint, node: nodeId, kind: message.kind },
      body: Buffer.from(JSON.stringify(message)),
    }
    chain = chain.then(async () => {
      for (let attempt = 0, delay = 100; !closed; attempt++, delay = Math.min(delay * 2, 5000)) {
        try {
          await store(delivery)
          return
        } catch (e) {
          metrics.value({ source: cfg.name, outcome: 'store-failed' })
          log?.error({ err: e, attempt, node: nodeId }, 'storing an OPC UA delivery failed; retrying')
          await new Promise((r) => setTimeout(r, delay))
        }
      }
    })
  }

  const startTimeoutMs = cfg.startTimeoutMs ?? START_TIMEOUT_MS
  const giveUp = async (e: unknown): Promise<never> => {
    await client.disconnect().catch(() => undefined)
    link('down')
    throw e
  }
  const session: ClientSession = await withDeadline(
    startTimeoutMs,
    `OPC UA endpoint ${cfg.endpoint}`,
    (async () => {
      await client.connect(cfg.endpoint)
      return client.createSession(
        cfg.username
          ? { type: UserTokenType.UserName, userName: cfg.username, password: cfg.password ?? '' }
          : { type: UserTokenType.Anonymous },
      )
    })(),
  ).catch(giveUp)
  link('connected')

  const readContext = async (nodes: OpcUaContextNodes) => {
    const keys = (['productionOrder', 'operation', 'lot'] as const).filter((k) => nodes[k])
    if (keys.length === 0) return {}
    try {
      const values = await session.read(
        keys.map((k) => ({ nodeId: nodes[k]!, attributeId: AttributeIds.Value })),
      )
      const context: Record<string, string> = {}
      keys.forEach((k, i) => {
        const v = values[i]?.value.value
        if (values[i]?.statusCode.isGood() && v !== null && v !== undefined && String(v) !== '')
          context[k] = String(v)
      })
      return context
    } catch (e) {
      // Stored without context: the translator then dead-letters a completion (no order) with its body.
      log?.warn({ err: e }, 'reading OPC UA context nodes failed')
      return {}
    }
  }

  const subscription = ClientSubscription.create(session, {
    requestedPublishingInterval: cfg.publishingIntervalMs,
    requestedLifetimeCount: 100,
    requestedMaxKeepAliveCount: 10,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
    priority: 10,
  })
  const monitor = (nodeId: string, deadband?: OpcUaMeasurementConfig['deadband']) =>
    ClientMonitoredItem.create(
      subscription,
      { nodeId, attributeId: AttributeIds.Value },
      {
        samplingInterval: cfg.samplingIntervalMs,
        // enough for a few publishing intervals of values; the oldest go first when it overflows
        queueSize: Math.max(
          10,
          Math.ceil((cfg.publishingIntervalMs * 4) / Math.max(cfg.samplingIntervalMs, 1)),
        ),
        discardOldest: true,
        ...(deadband
          ? {
              filter: new DataChangeFilter({
                trigger: DataChangeTrigger.StatusValue,
                deadbandType: deadband.type === 'absolute' ? DeadbandType.Absolute : DeadbandType.Percent,
                deadbandValue: deadband.value,
              }),
            }
          : {}),
      },
      TimestampsToReturn.Both,
    )

  const samplers = new Map<string, NodeSampler>()
  const emitSample = (m: OpcUaMeasurementConfig, s: Sample) => {
    metrics.value({ source: cfg.name, outcome: 'sampled' })
    const at = new Date(s.atMs).toISOString()
    void readContext(m.context).then((context) =>
      persist(m.nodeId, s.key, {
        kind: 'sample',
        endpoint: cfg.endpoint,
        node: m.nodeId,
        equipment: m.equipment,
        characteristic: m.characteristic,
        unit: m.unit,
        value: toDecimal(s.value),
        takenAt: at,
        ...(s.summary
          ? {
              summary: {
                count: s.summary.count,
                mean: toDecimal(s.summary.mean),
                min: toDecimal(s.summary.min),
                max: toDecimal(s.summary.max),
                from: new Date(s.summary.fromMs).toISOString(),
                to: at,
              },
            }
          : {}),
        context,
      }),
    )
  }
  for (const m of cfg.measurements) {
    const sampler = new NodeSampler(m.sampling)
    samplers.set(m.nodeId, sampler)
    monitor(m.nodeId, m.deadband).on('changed', (dv: DataValue) => {
      const value = dv.value.value
      const { outcome, samples } = sampler.accept({
        value: typeof value === 'number' ? value : Number.NaN,
        atMs: timeOf(dv),
        good: dv.statusCode.isGood(),
      })
      metrics.value({ source: cfg.name, outcome })
      if (outcome === 'bad-quality')
        log?.warn({ node: m.nodeId, status: dv.statusCode.name, value }, 'OPC UA value not Good: dropped')
      for (const s of samples) emitSample(m, s)
    })
  }
  // Windows close on source time: the next value closes one, and this tick one whose node went quiet.
  const windowTicks = cfg.measurements.filter((m) => 'windowMs' in m.sampling)
  const ticker =
    windowTicks.length > 0
      ? setInterval(
          () => {
            for (const m of windowTicks)
              for (const s of samplers.get(m.nodeId)!.tick(Date.now())) emitSample(m, s)
          },
          Math.min(...windowTicks.map((m) => (m.sampling as { windowMs: number }).windowMs)),
        )
      : undefined
  ticker?.unref()

  const completion = cfg.completion
  if (completion) {
    const trigger = new CompletionTrigger()
    monitor(completion.nodeId).on('changed', (dv: DataValue) => {
      if (!dv.statusCode.isGood()) {
        metrics.value({ source: cfg.name, outcome: 'bad-quality' })
        log?.warn(
          { node: completion.nodeId, status: dv.statusCode.name },
          'OPC UA completion value not Good: ignored',
        )
        return
      }
      const raw = dv.value.value
      if (!trigger.fires(raw)) return
      metrics.value({ source: cfg.name, outcome: 'completion' })
      const atMs = timeOf(dv)
      // A counter names its completion; a Boolean edge is named by its source time.
      const key = typeof raw === 'boolean' ? `at:${new Date(atMs).toISOString()}` : `count:${String(raw)}`
      const measurements = cfg.measurements.flatMap((m) => {
        const v = samplers.get(m.nodeId)!.complete(m.atCompletion)
        return v
          ? [
              {
                characteristic: m.characteristic,
                unit: m.unit,
                value: toDecimal(v.value),
                takenAt: new Date(v.atMs).toISOString(),
              },
            ]
          : []
      })
      void readContext(completion.context).then((context) =>
        persist(completion.nodeId, key, {
          kind: 'completion',
          endpoint: cfg.endpoint,
          node: completion.nodeId,
          equipment: completion.equipment,
          completedAt: new Date(atMs).toISOString(),
          context,
          measurements,
        }),
      )
    })
  }
  await withDeadline(
    startTimeoutMs,
    `OPC UA subscription on ${cfg.endpoint}`,
    new Promise<void>((resolve, reject) => {
      subscription.once('started', () => resolve())
      subscription.once('internal_error', reject)
    }),
  ).catch(giveUp)

  return {
    async close() {
      closed = true
      if (ticker) clearInterval(ticker)
      await chain
      try {
        await subscription.terminate()
        await session.close()
      } catch (e) {
        log?.debug({ err: e }, 'closing the OPC UA session failed')
      }
      await client.disconnect()
      link('down')
    },
  }
}
