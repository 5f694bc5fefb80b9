/** qualink.yaml `ingress.opcua.<source>`: an OPC UA server's measurement nodes (connectors/mes/opcua). */
import { Type } from 'typebox'
import type { FieldProblem } from '../contracts/errors.ts'
import { closed, Duration, PlantCode, SecretRef } from './schema-parts.ts'

/** OPC UA NodeId string form (Part 6 §5.3.1.10): `ns=<n>;` then i=, s=, g= or b= */
const NodeId = Type.String({
  pattern: '^(ns=\\d+;)?(i=\\d+|s=.+|g=[0-9A-Fa-f-]{36}|b=[A-Za-z0-9+/=]+)$',
  description: 'e.g. ns=2;s=Line1.Diameter',
})

const Context = Type.Object(
  {
    /** NodeId holding the production order running on the equipment */
    productionOrder: Type.Optional(NodeId),
    /** NodeId holding the routing operation number */
    operation: Type.Optional(NodeId),
    /** NodeId holding the lot being produced */
    lot: Type.Optional(NodeId),
  },
  closed,
)

const Sampling = Type.Object(
  {
    /** every Nth good value becomes a sampled result */
    every: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    /** one summary (n, mean, min, max) per window of source time */
    window: Type.Optional(Duration),
    /** no sampled results: the values only feed the completion */
    none: Type.Optional(Type.Literal(true)),
  },
  closed,
)

const Equipment = Type.String({ minLength: 1, maxLength: 128 })

export const OpcUaMeasurementConfig = Type.Object(
  {
    nodeId: NodeId,
    /** the characteristic as the in-process check names it (upper case) */
    characteristic: Type.String({ pattern: '^[A-Z0-9_-]{1,64}$' }),
    /** enterprise unit code (upper case), e.g. MM, CEL, NM */
    unit: Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,11}$' }),
    /** overrides the source's equipment */
    equipment: Type.Optional(Equipment),
    /** overrides the source's context nodes */
    context: Type.Optional(Context),
    /** default `{ none: true }`: telemetry stays out of the event log */
    sampling: Type.Optional(Sampling),
    /** what a completion reports from the values since the previous one (default last) */
    atCompletion: Type.Optional(Type.Enum(['last', 'mean', 'min', 'max'])),
    /** DataChangeFilter deadband: smaller changes are not even sent; percent needs the node's EURange */
    deadband: Type.Optional(
      Type.Object({ type: Type.Enum(['absolute', 'percent']), value: Type.Number({ minimum: 0 }) }, closed),
    ),
  },
  closed,
)

export const OpcUaConfig = Type.Object(
  {
    plant: PlantCode,
    description: Type.Optional(Type.String()),
    endpoint: Type.String({ pattern: '^opc\\.tcp://[^/\\s]+(/\\S*)?$' }),
    /** None is accepted for a loopback endpoint, or with allowInsecure (an isolated OT network) */
    securityMode: Type.Optional(Type.Enum(['None', 'Sign', 'SignAndEncrypt'])),
    securityPolicy: Type.Optional(
      Type.Enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']),
    ),
    allowInsecure: Type.Optional(Type.Boolean()),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(SecretRef),
    /** the client's PKI folder; default `<dataDir>/opcua-pki/<source>` */
    pkiDir: Type.Optional(Type.String({ minLength: 1 })),
    /** how often the server samples each node (default 250ms) */
    samplingInterval: Type.Optional(Duration),
    /** how often the server sends what changed (default 1s) */
    publishingInterval: Type.Optional(Duration),
    equipment: Equipment,
    context: Type.Optional(Context),
    measurements: Type.Array(OpcUaMeasurementConfig, { minItems: 1 }),
    /** a Boolean (rising edge) or counter (increment) node: an operation completed */
    completion: Type.Optional(
      Type.Object(
        { nodeId: NodeId, equipment: Type.Optional(Equipment), context: Type.Optional(Context) },
        closed,
      ),
    ),
    /** reconnection backoff: first delay and cap (default 1s, 30s) */
    reconnect: Type.Optional(Type.Object({ initialDelay: Duration, maxDelay: Duration }, closed)),
  },
  closed,
)

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/

type Obj = Record<string, unknown>
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Cross-field rules of one `ingress.opcua` source (the schema has already checked each field). */
export function opcUaProblems(s: Obj, at: string): FieldProblem[] {
  const out: FieldProblem[] = []
  const mode = s.securityMode ?? 'None'
  const policy = s.securityPolicy ?? 'None'
  const host = typeof s.endpoint === 'string' ? /^opc\.tcp:\/\/([^/]+)/.exec(s.endpoint)?.[1] : undefined
  if (mode === 'None' && host !== undefined && !LOOPBACK.test(host) && s.allowInsecure !== true)
    out.push({
      path: `${at}/securityMode`,
      message: `None (no signing, no encryption) only for a loopback endpoint; use Sign or SignAndEncrypt for ${host}, or set allowInsecure: true`,
    })
  if ((mode === 'None') !== (policy === 'None'))
    out.push({
      path: `${at}/securityPolicy`,
      message: `must be None exactly when securityMode is None (securityMode is ${String(mode)})`,
    })
  if ((s.username === undefined) !== (s.password === undefined))
    out.push({
      path: `${at}/${s.username === undefined ? 'username' : 'password'}`,
      message: 'username and password go together',
    })
  const seen = new Set<string>()
  const measurements = Array.isArray(s.measurements) ? s.measurements.filter(isObject) : []
  measurements.forEach((m, i) => {
    if (typeof m.nodeId === 'string') {
      if (seen.has(m.nodeId))
        out.push({ path: `${at}/measurements/${i}/nodeId`, message: `node ${m.nodeId} is subscribed twice` })
      seen.add(m.nodeId)
    }
    if (isObject(m.sampling)) {
      const set = ['every', 'window', 'none'].filter((k) => (m.sampling as Obj)[k] !== undefined)
      if (set.length !== 1)
        out.push({
          path: `${at}/measurements/${i}/sampling`,
          message: `exactly one of every, window or none (found ${set.length === 0 ? 'none' : set.join(', ')})`,
        })
    }
  })
  if (isObject(s.completion)) {
    const context = isObject(s.completion.context)
      ? s.completion.context
      : isObject(s.context)
        ? s.context
        : {}
    for (const k of ['productionOrder', 'operation'])
      if (context[k] === undefined)
        out.push({
          path: `${at}/completion/context/${k}`,
          message: `required (here or in ${at}/context): a completion names its order and operation`,
        })
    if (typeof s.completion.nodeId === 'string' && seen.has(s.completion.nodeId))
      out.push({ path: `${at}/completion/nodeId`, message: 'is also a measurement node' })
  }
  return out
}
