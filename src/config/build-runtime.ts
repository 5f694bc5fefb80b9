/**
 * `buildRuntime`: a validated qualink.yaml → the part of QualinkOptions it decides (ingress
 * sources with their translators, connectors behind plant-routing ports, enabled workflows
 * with their per-plant settings). Secrets are read here, at start, from the environment or files;
 * a missing one is a QLK_CONFIG_INVALID problem at its path, listed with all the others.
 */
import path from 'node:path'
import type { AmqpRelayConfig } from '../connectors/broker/amqp.ts'
import type { NatsRelayConfig } from '../connectors/broker/nats-relay.ts'
import type { SharedLimitsRef } from '../connectors/sdk/rate-limit.ts'
import { ConnectorConfigError } from '../connectors/sdk/secrets.ts'
import { type FieldProblem, isQualinkError, QualinkError } from '../contracts/errors.ts'
import { PermanentError } from '../engine/errors.ts'
import { parseDuration } from '../engine/retry.ts'
import type { IdMappingSettings, XrefRef } from '../mapping/id-mapping.ts'
import { ConnectorMetrics } from '../observability/connector-metrics.ts'
import type { SloIndicator } from '../observability/slo.ts'
import { buildFieldCipher } from '../security/encryption-config.ts'
import { retentionProblems } from '../security/retention.ts'
import type { QualinkOptions } from '../server/qualink.ts'
import { apiLimitsFrom } from '../server/rate-limit.ts'
import type { StoreRef } from '../store/types.ts'
import { markSyntheticEvents, testMaterials } from '../synthetic/mark.ts'
import {
  ediByPlant,
  erpByPlant,
  mesByPlant,
  notifyByPlant,
  type PlantRoutedErpPort,
  type PlantRoutedMesPort,
  type PlantRoutedNotifyPort,
  type PlantRoutedQmsPort,
  qmsByPlant,
} from '../workflows/ports/by-plant.ts'
import type { EdiPort } from '../workflows/ports/edi.ts'
import type { ErpPort } from '../workflows/ports/erp.ts'
import { mappedErpPort, mappedQmsPort } from '../workflows/ports/mapped.ts'
import type { MesPort } from '../workflows/ports/mes.ts'
import type { NotifyPort } from '../workflows/ports/notify.ts'
import type { QmsPort } from '../workflows/ports/qms.ts'
import { buildIngress } from './build-ingress.ts'
import { workflowSettings } from './checks.ts'
import { idMappingSettings } from './id-mapping-settings.ts'
import { CONNECTORS, WORKFLOWS } from './kinds.ts'
import type { LoadedConfig } from './load.ts'
import { seg } from './problems.ts'
import { resolveSecret } from './secrets.ts'

/** What every configured workflow gets as `ctx.ports`: each call goes to its plant's connector. */
export interface ConfiguredPorts {
  readonly erp: PlantRoutedErpPort
  readonly qms: PlantRoutedQmsPort
  readonly notify?: PlantRoutedNotifyPort
  /** the plants with a `mesPublisher` (inspection specifications to their MES) */
  readonly mes?: PlantRoutedMesPort
  readonly edi?: EdiPort
}

export type RuntimeFragment = Pick<
  QualinkOptions,
  | 'dataDir'
  | 'databaseUrl'
  | 'host'
  | 'port'
  | 'leaseTtlMs'
  | 'journal'
  | 'singletonLeaseMs'
  | 'webhooks'
  | 'translators'
  | 'mqtt'
  | 'opcua'
  | 'fileDrops'
  | 'natsSources'
  | 'feeds'
  | 'amqpSources'
  | 'natsRelay'
  | 'amqpRelay'
  | 'workflows'
  | 'connectorMetrics'
  | 'sharedLimits'
  | 'xref'
  | 'apiLimits'
  | 'tls'
  | 'slos'
  | 'reconcile'
  | 'capaPolicy'
  | 'tracing'
  | 'encryption'
  | 'retention'
  | 'storeRef'
>

export interface ConfiguredRuntime {
  readonly options: RuntimeFragment & { readonly ports: ConfiguredPorts }
  readonly ports: ConfiguredPorts
  /** connector instances by name (tests, diagnostics) */
  readonly connectors: Readonly<Record<string, object>>
  readonly plants: readonly string[]
  /** one line: plants, connectors, sources, workflows */
  readonly summary: string
}

const DEFAULT_LEASE_MS = 30_000

export function buildRuntime(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): ConfiguredRuntime {
  const { config, baseDir } = loaded
  const problems: FieldProblem[] = []
  const server = config.server ?? {}
  const leaseMs = server.leaseMs ?? DEFAULT_LEASE_MS

  const connectors: Record<string, object> = {}
  const connectorMetrics = new ConnectorMetrics()
  // bound to the store by startQualink: on PostgreSQL every process shares each target's limits
  const sharedLimits: SharedLimitsRef = {}
  // bound to the store by startQualink: EDI control numbers and sent interchanges live in it
  const storeRef: StoreRef = {}
  for (const [name, c] of Object.entries(config.connectors ?? {})) {
    const kind = CONNECTORS[c.kind]!
    try {
      connectorMetrics.declare(name, c.kind)
      connectors[name] = kind.connector.instantiate(c.config, {
        name,
        allowlist: config.egress?.allowlist[name] ?? [],
        allowAddresses: config.egress?.allowAddresses?.[name],
        leaseMs,
        metrics: connectorMetrics,
        environment: { env, baseDir },
        sharedLimits,
        store: storeRef,
      })
    } catch (e) {
      if (e instanceof ConnectorConfigError)
        for (const p of e.problems)
          problems.push({ path: `/connectors/${seg(name)}/config${p.path}`, message: p.message })
      else if (e instanceof PermanentError || isQualinkError(e))
        problems.push({ path: `/connectors/${seg(name)}`, message: e.message })
      else throw e
    }
  }

  const plants = Object.keys(config.plants)
  // bound to the store by startQualink: egress ports map enterprise ids to each system's codes
  const xref: XrefRef = {}
  const idsOf = (plant: string, name: string) => idMappingSettings(config, plant, name)
  const routes = <P>(
    role: 'erp' | 'qms' | 'notify' | 'mesPublisher' | 'edi',
    mapped: (port: P, ids: IdMappingSettings | undefined, plant: string) => P = (port) => port,
  ): Record<string, P> => {
    const out: Record<string, P> = {}
    for (const [code, p] of Object.entries(config.plants)) {
      const ref = p[role]
      if (ref !== undefined && connectors[ref])
        out[code] = mapped(connectors[ref] as P, idsOf(code, ref), code)
    }
    return out
  }
  const notifyRoutes = routes<NotifyPort>('notify')
  const mesRoutes = routes<MesPort>('mesPublisher')
  const ediRoutes = routes<EdiPort>('edi')
  const ports: ConfiguredPorts = {
    erp: erpByPlant(routes<ErpPort>('erp', (port, ids, plant) => mappedErpPort(port, xref, ids, plant))),
    qms: qmsByPlant(routes<QmsPort>('qms', (port, ids, plant) => mappedQmsPort(port, xref, ids, plant))),
    ...(Object.keys(notifyRoutes).length > 0 ? { notify: notifyByPlant(notifyRoutes) } : {}),
    ...(Object.keys(mesRoutes).length > 0 ? { mes: mesByPlant(mesRoutes) } : {}),
    ...(Object.keys(ediRoutes).length > 0 ? { edi: ediByPlant(ediRoutes) } : {}),
  }

  const { translators, webhooks, mqtt, opcua, fileDrops, natsSources, amqpSources, feeds } = buildIngress({
    config,
    baseDir,
    env,
    problems,
    connectors,
    storeRef,
    idsOf,
  })
  const fanout = config.fanout ?? {}
  const natsRelay: NatsRelayConfig | undefined = fanout.nats && {
    servers: fanout.nats.servers,
    subjectPrefix: fanout.nats.subjectPrefix,
  }
  const amqpRelay: AmqpRelayConfig | undefined = fanout.amqp && {
    url: resolveSecret(fanout.amqp.url, '/fanout/amqp/url', env, baseDir, problems),
    exchange: fanout.amqp.exchange,
  }

  const workflows = Object.entries(config.workflows ?? {})
    .filter(([, wf]) => wf !== undefined && wf.enabled !== false)
    .map(([name, wf]) => {
      const def = WORKFLOWS[name]!
      const byPlant = new Map(
        plants.map((plant) => [
          plant,
          workflowSettings(name, plant, config.plants[plant]!, {
            defaults: wf?.defaults,
            plants: wf?.plants as Record<string, Record<string, unknown>> | undefined,
          }).settings,
        ]),
      )
      const created = def.create((plant) => {
        if (!byPlant.has(plant))
          throw new PermanentError(
            'QLK_CONFIG_INVALID',
            `workflow ${name}: plant '${plant}' is not configured`,
          )
        return structuredClone(byPlant.get(plant))
      })
      return wf?.poisonPolicy ? { ...created, poisonPolicy: wf.poisonPolicy } : created
    })

  const databaseUrl = server.databaseUrl
    ? resolveSecret(server.databaseUrl, '/server/databaseUrl', env, baseDir, problems)
    : undefined
  const encryption = config.security?.encryption
    ? buildFieldCipher(config.security.encryption, env, baseDir, problems)
    : undefined
  const retention = config.retention && {
    events: Object.fromEntries(
      Object.entries(config.retention.events).map(([t, d]) => [t, parseDuration(d)]),
    ),
    ...(config.retention.plants
      ? {
          plants: Object.fromEntries(
            Object.entries(config.retention.plants).map(([plant, o]) => [
              plant,
              Object.fromEntries(Object.entries(o.events).map(([t, d]) => [t, parseDuration(d)])),
            ]),
          ),
        }
      : {}),
    auditPayloadsMs:
      config.retention.auditPayloads === undefined
        ? undefined
        : parseDuration(config.retention.auditPayloads),
    everyMs: parseDuration(config.retention.every ?? '1h'),
  }
  problems.push(...retentionProblems(retention))
  if (problems.length > 0)
    throw new QualinkError('QLK_CONFIG_INVALID', `${loaded.files.join(' + ')}: cannot start`, problems)

  const options = {
    dataDir: server.dataDir === undefined ? undefined : path.resolve(baseDir, server.dataDir),
    databaseUrl,
    host: server.host,
    port: server.port,
    leaseTtlMs: leaseMs,
    journal: server.journal,
    singletonLeaseMs: server.singletonLeaseMs,
    tracing: server.tracing,
    apiLimits: server.limits?.enabled === false ? (false as const) : apiLimitsFrom(server.limits),
    tls: server.tls && {
      certFile: path.resolve(baseDir, server.tls.certFile),
      keyFile: path.resolve(baseDir, server.tls.keyFile),
      caFile: server.tls.caFile === undefined ? undefined : path.resolve(baseDir, server.tls.caFile),
      minVersion: server.tls.minVersion,
    },
    webhooks,
    // events about designated test materials are marked synthetic (docs/operations.md)
    translators: markSyntheticEvents(translators, testMaterials(config.plants)),
    mqtt,
    opcua,
    fileDrops,
    natsSources,
    amqpSources,
    feeds,
    natsRelay,
    amqpRelay,
    workflows,
    ports,
    connectorMetrics,
    sharedLimits,
    storeRef,
    xref,
    slos: config.slos && {
      everyMs: parseDuration(config.slos.evaluateEvery ?? '1m'),
      objectives: Object.entries(config.slos.objectives).map(([name, o]) => ({
        name,
        indicator: o.indicator as SloIndicator,
        threshold: typeof o.threshold === 'string' ? parseDuration(o.threshold) : o.threshold,
        windowMs: parseDuration(o.window),
        quantile: o.quantile,
        plants: o.plants ?? plants,
      })),
    },
    encryption,
    retention,
    reconcile: config.reconciliation && {
      intervalMs: parseDuration(config.reconciliation.interval),
      policy: (plant: string) => config.plants[plant]?.reconciliation?.policy ?? 'alert',
    },
    capaPolicy: (plant: string) => config.plants[plant]?.supplierQuality?.onCorrectiveAction ?? 'none',
  }
  const summary =
    `${plants.length} plant${plants.length === 1 ? '' : 's'} (${plants.join(', ')}), ` +
    `${Object.keys(connectors).length} connectors, ` +
    `${webhooks.length + mqtt.length + fileDrops.length + natsSources.length + amqpSources.length + feeds.length} ingress sources, ` +
    `${workflows.length} workflow${workflows.length === 1 ? '' : 's'} (${workflows.map((w) => w.name).join(', ') || 'none'})`
  return { options, ports, connectors, plants, summary }
}
