/**
 * MES simulator: publishes operation completions to MQTT (QoS 1) at ISA-95 path topics
 * `<prefix>/<site>/<area>/<line>/<operation>/completed` and serves production order status over REST.
 */
import { randomUUID } from 'node:crypto'
import mqtt from 'mqtt'
import { type FaultConfig, Faults } from '../shared/faults.ts'
import { HttpError, type HttpSim, Router, startHttpSim } from '../shared/http.ts'
import { completedTopic, type LotQuantity, type Measurement, type OperationCompleted } from './payload.ts'

export interface MesOrder {
  readonly orderId: string
  readonly material: string
  readonly quantity: string
  readonly operations: string[]
  status: 'RELEASED' | 'RUNNING' | 'COMPLETED'
  completedOperations: string[]
  updatedAt: string
}

export interface MesOptions {
  readonly brokerUrl: string
  readonly clientId?: string
  /** First topic level; tests use a unique one per run. Default 'plant'. */
  readonly topicPrefix?: string
  readonly site?: string
  readonly area?: string
  readonly port?: number
  readonly host?: string
  readonly orders?: ReadonlyArray<{
    orderId: string
    material: string
    quantity: string
    operations: string[]
  }>
  readonly faults?: Partial<FaultConfig>
  readonly clock?: () => number
  /** also expose each completion on an OPC UA face (opcua-face.ts) at opc.tcp://127.0.0.1:<port> */
  readonly opcua?: { readonly port: number; readonly pkiDir: string; readonly settleMs?: number }
}

export interface CompletionInput {
  readonly orderId: string
  readonly line: string
  readonly operation: string
  readonly consumed?: LotQuantity[]
  readonly produced?: LotQuantity[]
  readonly measurements?: Measurement[]
  readonly operator?: string
  readonly startedAt?: string
}

export interface MesState {
  readonly orders: MesOrder[]
  readonly published: Array<{ topic: string; messageId: string; sequence: number; duplicate: boolean }>
  readonly http: HttpSim['stats']
  readonly faultsInjected: Faults['counts']
}

export interface MesSim {
  readonly url: string
  /** the OPC UA face's endpoint, when one was asked for */
  readonly opcuaUrl?: string
  readonly state: MesState
  readonly faults: Faults
  /** Publishes one completion (QoS 1; resolves after PUBACK) and advances the order's status. */
  completeOperation(input: CompletionInput): Promise<OperationCompleted>
  /** Publishes any completion held back by the out-of-order fault. */
  flush(): Promise<void>
  close(): Promise<void>
}

export async function startMes(opts: MesOptions): Promise<MesSim> {
  const clock = opts.clock ?? Date.now
  const faults = new Faults(opts.faults)
  const prefix = opts.topicPrefix ?? 'plant'
  const site = opts.site ?? 'site1'
  const area = opts.area ?? 'area1'
  const orders = new Map<string, MesOrder>()
  const published: MesState['published'] = []
  let sequence = 0
  let heldBack: Array<() => Promise<void>> = []
  for (const o of opts.orders ?? []) {
    orders.set(o.orderId, {
      ...o,
      status: 'RELEASED',
      completedOperations: [],
      updatedAt: new Date(clock()).toISOString(),
    })
  }

  const client = await mqtt.connectAsync(opts.brokerUrl, {
    clientId: opts.clientId ?? `qualink-mes-sim-${randomUUID().slice(0, 8)}`,
    clean: true,
    reconnectPeriod: 1000,
  })

  const publish = async (topic: string, msg: OperationCompleted, duplicate: boolean) => {
    await client.publishAsync(topic, JSON.stringify(msg), { qos: 1 })
    published.push({ topic, messageId: msg.messageId, sequence: msg.sequence, duplicate })
  }

  const router = new Router()
  const orderView = (o: MesOrder) => ({ ...o })
  router.on('GET', /^\/api\/v1\/orders$/, () => ({
    status: 200,
    body: { items: [...orders.values()].map(orderView) },
  }))
  router.on('GET', /^\/api\/v1\/orders\/([^/]+)$/, (req) => {
    const o = orders.get(req.params[0]!)
    if (!o) throw new HttpError(404, { error: `order ${req.params[0]} not found` })
    return { status: 200, body: orderView(o) }
  })
  router.on('POST', /^\/api\/v1\/orders$/, (req) => {
    const b = req.json() as Partial<MesOrder>
    if (typeof b?.orderId !== 'string' || typeof b.material !== 'string' || !Array.isArray(b.operations)) {
      throw new HttpError(400, { error: 'orderId, material and operations[] are required' })
    }
    const o: MesOrder = {
      orderId: b.orderId,
      material: b.material,
      quantity: String(b.quantity ?? '0'),
      operations: b.operations.map(String),
      status: 'RELEASED',
      completedOperations: [],
      updatedAt: new Date(clock()).toISOString(),
    }
    orders.set(o.orderId, o)
    return { status: 201, body: orderView(o) }
  })

  const state = (): MesState => ({
    orders: [...orders.values()].map(orderView),
    published: [...published],
    http: { ...http.stats },
    faultsInjected: { ...faults.counts },
  })
  const http = await startHttpSim({ host: opts.host, port: opts.port, router, faults, state })
  // Lazy: node-opcua-server is a devDependency, loaded only when the face is asked for.
  const face = opts.opcua && (await (await import('./opcua-face.ts')).startMesOpcUaFace(opts.opcua))

  const flush = async () => {
    const held = heldBack
    heldBack = []
    for (const h of held) await h()
  }

  return {
    url: http.url,
    ...(face ? { opcuaUrl: face.url } : {}),
    get state() {
      return state()
    },
    faults,
    async completeOperation(input) {
      const order = orders.get(input.orderId)
      if (order) {
        if (!order.completedOperations.includes(input.operation))
          order.completedOperations.push(input.operation)
        order.status = order.operations.every((op) => order.completedOperations.includes(op))
          ? 'COMPLETED'
          : 'RUNNING'
        order.updatedAt = new Date(clock()).toISOString()
      }
      const now = new Date(clock()).toISOString()
      sequence += 1
      const msg: OperationCompleted = {
        messageId: randomUUID(),
        sequence,
        site,
        area,
        line: input.line,
        operation: input.operation,
        orderId: input.orderId,
        segmentState: 'Completed',
        startedAt: input.startedAt ?? now,
        completedAt: now,
        operator: input.operator ?? 'operator1',
        consumed: input.consumed ?? [],
        produced: input.produced ?? [],
        measurements: input.measurements ?? [],
      }
      const topic = completedTopic(prefix, site, area, input.line, input.operation)
      const fault = faults.decideCallback()
      const job = async () => {
        await publish(topic, msg, false)
        if (fault === 'duplicate') await publish(topic, msg, true)
      }
      if (fault === 'out-of-order') heldBack.push(job)
      else {
        await job()
        await flush()
      }
      await face?.completeOperation(input)
      return msg
    },
    flush,
    async close() {
      await http.close()
      await client.endAsync()
      await face?.close()
    },
  }
}
