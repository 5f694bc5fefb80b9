/**
 * `defineConnector`: a connector declares its kind, its config schema (TypeBox), the egress
 * actions it offers (methods of the port it implements) and how to build that port from a valid
 * config and an egress client. `instantiate` validates the config with errors naming each field,
 * checks the connector's targets against the admin-owned allowlist up front, and hands it the one
 * egress client (src/connectors/sdk/egress.ts) — a connector never calls fetch itself.
 *
 * The ingress half of a connector is not declared here: a source (src/connectors/ingress: webhook,
 * MQTT, file drop, polled feed; broker and OPC UA sources) stores raw deliveries, and the
 * connector's Translator (registered by kind in src/config/kinds.ts) turns each into canonical
 * events in the translation stage (docs/connectors.md, "The ingress half").
 */
import { type Static, type TSchema, Type } from 'typebox'
import { validate } from '../../config/problems.ts'
import { tagFailedAt } from '../../engine/errors.ts'
import type { StoreRef } from '../../store/types.ts'
import { EgressAllowlist } from './allowlist.ts'
import type { Clock } from './clock.ts'
import { DEFAULT_TIMEOUT_MS, EgressClient } from './egress.ts'
import type { EgressMetrics } from './metrics.ts'
import type { SharedLimitsRef } from './rate-limit.ts'
import { ConnectorConfigError, type ConnectorEnvironment, processEnvironment } from './secrets.ts'

/** The `egress:` block every connector config may carry (timeouts, rate limit, breaker). */
export const EgressSettings = Type.Object(
  {
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000, description: 'per request' })),
    rateLimit: Type.Optional(
      Type.Object(
        {
          ratePerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 10_000 }),
          burst: Type.Integer({ minimum: 1, maximum: 10_000 }),
        },
        { additionalProperties: false },
      ),
    ),
    breaker: Type.Optional(
      Type.Object(
        {
          failureThreshold: Type.Integer({ minimum: 1, maximum: 1000 }),
          openMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
          halfOpenProbes: Type.Integer({ minimum: 1, maximum: 100 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type EgressSettings = Static<typeof EgressSettings>

export interface ConnectorContext {
  /** instance name from qualink.yaml, e.g. `sap-plant-a` */
  readonly name: string
  readonly egress: EgressClient
  readonly clock: Clock | undefined
  /** where secrets (`…Env`, `…File`) and relative paths are read (sdk/secrets.ts) */
  readonly environment: ConnectorEnvironment
  /** the store, bound by startQualink, for connectors with durable state of their own (edi/x12) */
  readonly store: StoreRef | undefined
}

export interface ConnectorDefinition<S extends TSchema, Port extends object> {
  /** `<system kind>/<product>`, e.g. `erp/sap-s4` — also its folder under src/connectors */
  readonly kind: string
  readonly description: string
  readonly configSchema: S
  /** egress actions: the port methods this connector implements */
  readonly actions: readonly (keyof Port & string)[]
  /** every base URL the connector will call; each must be on the allowlist */
  targets(config: Static<S>, environment?: ConnectorEnvironment): readonly string[]
  egressSettings?(config: Static<S>): EgressSettings | undefined
  create(config: Static<S>, ctx: ConnectorContext): Port
}

export interface ConnectorRuntime {
  readonly name: string
  /** admin-owned: scheme://host:port entries this instance may reach */
  readonly allowlist: readonly string[]
  /** admin-owned: addresses or CIDR blocks those hosts may resolve to although blocked by default */
  readonly allowAddresses?: readonly string[]
  readonly metrics?: EgressMetrics
  readonly clock?: Clock
  /** the engine lease; the egress timeout must be shorter (DESIGN §6) */
  readonly leaseMs?: number
  /** buildRuntime's env and the config file's folder; default process.env and the working directory */
  readonly environment?: ConnectorEnvironment
  /** rate limits and open circuits shared by all processes (bound by startQualink) */
  readonly sharedLimits?: SharedLimitsRef
  /** the store (bound by startQualink) */
  readonly store?: StoreRef
}

export interface Connector<S extends TSchema, Port extends object> extends ConnectorDefinition<S, Port> {
  /** validates `config` (QLK_CONFIG_INVALID naming each field) and builds the port */
  instantiate(config: unknown, runtime: ConnectorRuntime): Port
}

function invalid(kind: string, name: string, problems: Array<{ path: string; message: string }>) {
  return new ConnectorConfigError(kind, name, problems)
}

export function defineConnector<S extends TSchema, Port extends object>(
  def: ConnectorDefinition<S, Port>,
): Connector<S, Port> {
  if (!/^[a-z]+\/[a-z0-9-]+$/.test(def.kind))
    throw new Error(`connector kind '${def.kind}' must be <kind>/<name>`)
  return {
    ...def,
    instantiate(raw, runtime) {
      // Ajv through config/problems.ts, as `qualink config validate` checks the same keys: defaults
      // filled, every problem named. Not TypeBox's Value: 'typebox/value' is ~300 more modules to
      // load at start-up (about a third of TypeBox's 680), measured 2026-11-29.
      const withDefaults = structuredClone(raw) as unknown
      const problems = validate(def.configSchema, withDefaults)
      if (problems.length > 0) throw invalid(def.kind, runtime.name, problems)
      const config = withDefaults as Static<S>
      const environment = runtime.environment ?? processEnvironment()
      const allowlist = new EgressAllowlist(runtime.allowlist, { allowAddresses: runtime.allowAddresses })
      const denied = def.targets(config, environment).filter((t) => !allowlist.allows(new URL(t)))
      if (denied.length > 0)
        throw invalid(def.kind, runtime.name, [
          { path: '', message: `targets not on the egress allowlist: ${denied.join(', ')}` },
        ])
      const settings = def.egressSettings?.(config) ?? {}
      const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS
      if (runtime.leaseMs !== undefined && timeoutMs >= runtime.leaseMs)
        throw invalid(def.kind, runtime.name, [
          {
            path: '/egress/timeoutMs',
            message: `${timeoutMs} must be shorter than the engine lease (${runtime.leaseMs} ms)`,
          },
        ])
      const egress = new EgressClient({
        connector: runtime.name,
        allowlist,
        timeoutMs,
        rateLimit: settings.rateLimit,
        breaker: settings.breaker,
        metrics: runtime.metrics,
        clock: runtime.clock,
        shared: runtime.sharedLimits,
      })
      const port = def.create(config, {
        name: runtime.name,
        egress,
        clock: runtime.clock,
        environment,
        store: runtime.store,
      })
      const missing = def.actions.filter((a) => typeof port[a] !== 'function')
      if (missing.length > 0)
        throw new Error(`connector ${def.kind} does not implement ${missing.join(', ')}`)
      return namingFailures(port, def.actions, runtime.name)
    },
  }
}

/**
 * The port with every action's failure marked with the connector instance's name, so a run that
 * dead-letters on it records which connector failed (an egress failure also carries its target).
 * Other members pass through unchanged.
 */
function namingFailures<Port extends object>(port: Port, actions: readonly string[], name: string): Port {
  const wrapped = new Map<PropertyKey, unknown>()
  const tag = (e: unknown) => tagFailedAt(e, { connector: name })
  return new Proxy(port, {
    get(target, prop) {
      // read on the port itself: a getter or method sees the port, never the proxy
      const value = Reflect.get(target, prop)
      if (typeof value !== 'function' || !actions.includes(prop as string)) return value
      if (!wrapped.has(prop))
        wrapped.set(prop, (...args: unknown[]) => {
          try {
            const r = (value as (...a: unknown[]) => unknown).apply(target, args)
            return r instanceof Promise
              ? r.catch((e: unknown) => {
                  throw tag(e)
                })
              : r
          } catch (e) {
            throw tag(e)
          }
        })
      return wrapped.get(prop)
    },
  })
}
