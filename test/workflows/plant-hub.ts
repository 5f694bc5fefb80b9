/**
 * One plant's systems around a Qualink under test: a store per dialect, the S/4, QMS and CRM
 * simulators each test asks for (their webhooks, when wanted, pointed at Qualink on a free port),
 * and Qualink started with those webhooks, their translators, the workflows and ports over the
 * simulators. `close()` tears down whatever was started, in reverse order; a setup that fails
 * half-way closes what it had started before throwing.
 */
import pino from 'pino'
import { afterEach, beforeEach } from 'vitest'
import {
  type CrmOptions,
  type CrmSim,
  type ErpS4Options,
  type ErpS4Sim,
  type QmsOptions,
  type QmsSim,
  startCrm,
  startErpS4,
  startQms,
} from '../../simulators/index.ts'
import { crmWebhookTranslator } from '../../src/connectors/crm/webhook/translator.ts'
import { sapS4Connector } from '../../src/connectors/erp/sap-s4/connector.ts'
import { sapS4GoodsReceiptTranslator } from '../../src/connectors/erp/sap-s4/gr-translator.ts'
import { qmsRestConnector } from '../../src/connectors/qms/rest/connector.ts'
import { qmsWebhookTranslator } from '../../src/connectors/qms/rest/webhook-translator.ts'
import type { EgressSettings } from '../../src/connectors/sdk/define-connector.ts'
import type { IdMappingSettings } from '../../src/mapping/id-mapping.ts'
import { memoryXrefResolver } from '../../src/mapping/xref.ts'
import type { ConnectorMetrics } from '../../src/observability/connector-metrics.ts'
import { type Qualink, type QualinkOptions, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { mappedErpPort } from '../../src/workflows/ports/mapped.ts'
import { AVAILABLE, createTestDatabase, type Dialect, type TestDatabase } from '../dialects.ts'
import { freePort } from '../services.ts'

/** A simulator's own options; `webhook: true` sends its webhooks to this Qualink, signed. */
type SimulatorSetup<O> = Omit<O, 'webhook'> & { readonly webhook?: boolean }

/** Something started beside the simulators that must stop after Qualink (a fault proxy). */
export interface Interposed {
  readonly url: string
  close(): Promise<void>
}

export interface PlantSystems {
  readonly db: TestDatabase
  readonly store: Store
  /** The simulators asked for; reading one that was not throws. */
  readonly erp: ErpS4Sim
  readonly qms: QmsSim
  readonly crm: CrmSim
}

export interface PlantHubOptions
  extends Omit<QualinkOptions, 'store' | 'port' | 'ports' | 'anchorFile' | 'connectorMetrics'> {
  /** Start the S/4 simulator (its `erp` port is added). */
  readonly erp?: SimulatorSetup<ErpS4Options>
  /** Start the QMS simulator (its `qms` port is added). */
  readonly qms?: SimulatorSetup<QmsOptions>
  /** Start the CRM simulator (webhooks only: no port). */
  readonly crm?: SimulatorSetup<CrmOptions>
  /** Qualink reaches the ERP through this instead (started after the ERP, closed after Qualink). */
  readonly erpVia?: (erp: ErpS4Sim) => Promise<Interposed>
  /** Connector instance names (default `erp`, `qms`). */
  readonly names?: { readonly erp?: string; readonly qms?: string }
  /** The `egress:` block of both simulator connectors (default none). */
  readonly egress?: EgressSettings
  /** Egress metrics of the simulator connectors, exported by Qualink as well. */
  readonly connectorMetrics?: ConnectorMetrics
  /** Ports beside the simulators' (they win over the simulator ports of the same name). */
  readonly ports?: (systems: PlantSystems) => Record<string, unknown>
  /** Leave Qualink to the test's `start()` (to seed the simulators through a port, or per test). */
  readonly deferStart?: boolean
}

/** The simulator ports as the hub builds them: `erp` and `qms` when those run. */
export interface SimulatorPorts {
  /** the S/4 connector with plant P100 mapped to the simulator's `1000` on its workflow calls */
  readonly erp?: ReturnType<typeof sapS4Connector.instantiate>
  readonly qms?: ReturnType<typeof qmsRestConnector.instantiate>
}

export interface PlantHub extends PlantSystems {
  /** Qualink's port: free when a simulator sends webhooks, else 0 (any). */
  readonly port: number
  readonly ports: SimulatorPorts
  /** The bare S/4 connector (the ERP's own codes, plant `1000`), for a test that maps it its own way. */
  readonly erpConnector?: ReturnType<typeof sapS4Connector.instantiate>
  /** The Qualink started last. */
  readonly q: Qualink
  /**
   * Starts Qualink with the hub's options, `extra` over them: its webhooks and translators are
   * added, its ports merged, the rest replaces. A running Qualink is the caller's to close first;
   * closing one twice is harmless.
   */
  start(extra?: Partial<QualinkOptions>): Promise<Qualink>
  close(): Promise<void>
}

const signedSource = (name: string, header: string) => (secret: string) => ({
  name,
  plant: 'P100',
  secrets: [secret],
  signatureHeader: `x-${header}-signature`,
  deliveryIdHeader: `x-${header}-delivery-id`,
})

/** The simulators' webhook sources as Qualink configures them (their header names). */
export const webhookSource = {
  erp: signedSource('erp-s4', 'erp'),
  qms: signedSource('qms', 'qms'),
  crm: signedSource('crm', 'crm'),
}

/**
 * The S/4 simulator numbers the plant SAP-style (`1000`, simulators/erp-s4/test-client.ts); Qualink
 * calls it P100. The hub maps the two as qualink.yaml would (`plants.P100.idMapping.<name>.plants:
 * { '1000': P100 }`): on the goods-receipt webhook (ingress) and on the ERP port (egress).
 */
export const ERP_PLANT = '1000'
export const PLANT = 'P100'
export const s4PlantMapping = (system: string): IdMappingSettings => ({
  system,
  entities: ['plant'],
  unknown: 'reject',
  plants: { [ERP_PLANT]: PLANT },
})

/** Where each simulator's webhooks arrive, signed with what, and the translator of that source. */
const INGRESS = {
  erp: {
    source: 'erp-s4',
    secret: 'erp-secret',
    translator: () => sapS4GoodsReceiptTranslator('erp-s4', s4PlantMapping('erp-s4')),
  },
  qms: { source: 'qms', secret: 'qms-secret', translator: () => qmsWebhookTranslator('qms') },
  crm: { source: 'crm', secret: 'crm-secret', translator: () => crmWebhookTranslator('crm') },
} as const

/**
 * The ERP and QMS connectors over simulators, each allowed to reach only its own simulator; the
 * ERP's workflow calls map plant P100 to the simulator's `1000` (its other calls are the bare
 * connector's: synthetic and adoption reads speak the ERP's codes).
 */
export function connectorPorts(
  urls: { erp?: string; qms?: string },
  opts: Pick<PlantHubOptions, 'names' | 'egress' | 'connectorMetrics'> = {},
): SimulatorPorts & { readonly erpConnector?: ReturnType<typeof sapS4Connector.instantiate> } {
  const runtime = (name: string, url: string) => ({
    name,
    allowlist: [url],
    leaseMs: 30_000,
    ...(opts.connectorMetrics ? { metrics: opts.connectorMetrics } : {}),
  })
  const config = (baseUrl: string) => ({ baseUrl, ...(opts.egress ? { egress: opts.egress } : {}) })
  const name = opts.names?.erp ?? 'erp'
  const erpConnector = urls.erp
    ? sapS4Connector.instantiate(config(urls.erp), runtime(name, urls.erp))
    : undefined
  return {
    ...(erpConnector
      ? {
          erpConnector,
          erp: {
            ...erpConnector,
            // unknown codes pass: a test that hands the port the ERP's own `1000` reaches plant 1000
            ...mappedErpPort(
              erpConnector,
              { current: memoryXrefResolver([]) },
              { ...s4PlantMapping(name), unknown: 'pass' },
              PLANT,
            ),
          },
        }
      : {}),
    ...(urls.qms
      ? { qms: qmsRestConnector.instantiate(config(urls.qms), runtime(opts.names?.qms ?? 'qms', urls.qms)) }
      : {}),
  }
}

export async function startPlantHub(dialect: Dialect, options: PlantHubOptions = {}): Promise<PlantHub> {
  const {
    erp: erpSetup,
    qms: qmsSetup,
    crm: crmSetup,
    erpVia,
    names,
    egress,
    connectorMetrics,
    ports: extraPorts,
    deferStart,
    ...qualinkOptions
  } = options
  const closers: Array<() => Promise<unknown>> = []
  let q: Qualink | undefined
  const close = async () => {
    const running = q
    q = undefined
    await slowly('Qualink close', () => running?.close())
    for (const c of closers.splice(0).reverse()) await slowly(c.toString(), c)
  }
  try {
    const db = await createTestDatabase(dialect, { migrated: true })
    closers.push(() => db.cleanup())
    const store = await db.open()
    closers.push(() => store.close())
    const withWebhook = [erpSetup, qmsSetup, crmSetup].some((s) => s?.webhook)
    const port = withWebhook ? await freePort() : 0
    const webhooks: NonNullable<QualinkOptions['webhooks']>[number][] = []
    const translators: NonNullable<QualinkOptions['translators']>[number][] = []
    const simulator = async <O, S extends { close(): Promise<void> }>(
      kind: keyof typeof INGRESS,
      setup: SimulatorSetup<O> | undefined,
      startSimulator: (opts: O) => Promise<S>,
    ): Promise<S | undefined> => {
      if (!setup) return undefined
      const { webhook, ...opts } = setup
      const ingress = INGRESS[kind]
      const url = `http://127.0.0.1:${port}/v1/ingress/${ingress.source}`
      const sim = await startSimulator({
        ...opts,
        ...(webhook ? { webhook: { url, secret: ingress.secret } } : {}),
      } as O)
      closers.push(() => sim.close())
      if (webhook) {
        webhooks.push(webhookSource[kind](ingress.secret))
        translators.push(ingress.translator())
      }
      return sim
    }
    const erp = await simulator('erp', erpSetup, startErpS4)
    const qms = await simulator('qms', qmsSetup, startQms)
    const crm = await simulator('crm', crmSetup, startCrm)
    let erpUrl = erp?.url
    if (erp && erpVia) {
      const via = await erpVia(erp)
      closers.push(() => via.close())
      erpUrl = via.url
    }

    const started = <T>(name: string, sim: T | undefined): T => {
      if (!sim) throw new Error(`the ${name} simulator was not started: pass the '${name}' option`)
      return sim
    }
    const { erpConnector, ...simulatorPorts } = connectorPorts(
      { erp: erpUrl, qms: qms?.url },
      { names, egress, connectorMetrics },
    )
    const hub: PlantHub = {
      db,
      store,
      get erp() {
        return started('erp', erp)
      },
      get qms() {
        return started('qms', qms)
      },
      get crm() {
        return started('crm', crm)
      },
      port,
      ports: simulatorPorts,
      ...(erpConnector ? { erpConnector } : {}),
      get q() {
        if (!q) throw new Error('Qualink has not been started: call start()')
        return q
      },
      start,
      close,
    }
    const ports = { ...simulatorPorts, ...extraPorts?.(hub) }
    async function start(extra: Partial<QualinkOptions> = {}) {
      const allWebhooks = [...webhooks, ...(qualinkOptions.webhooks ?? []), ...(extra.webhooks ?? [])]
      const allTranslators = [
        ...translators,
        ...(qualinkOptions.translators ?? []),
        ...(extra.translators ?? []),
      ]
      const started = await startQualink({
        store,
        port,
        logger: pino({ level: 'silent' }),
        anchorFile: `${db.dir}/anchors.jsonl`,
        ...(connectorMetrics ? { connectorMetrics } : {}),
        ...qualinkOptions,
        ...extra,
        ...(allWebhooks.length > 0 ? { webhooks: allWebhooks } : {}),
        ...(allTranslators.length > 0 ? { translators: allTranslators } : {}),
        ports: { ...ports, ...(extra.ports as object | undefined) },
      })
      // Closed once however often it is asked to: by the test, then by the hub's close().
      let closing: Promise<void> | undefined
      q = { ...started, close: () => (closing ??= started.close()) }
      return q
    }
    if (!deferStart) await start()
    return hub
  } catch (err) {
    await close()
    throw err
  }
}

/** Runs a teardown step; one still running after 10 s is named on stderr (a hang in CI says where). */
async function slowly(what: string, step: () => Promise<unknown> | undefined): Promise<void> {
  const t0 = Date.now()
  const warn = setInterval(
    () => console.warn(`[plant-hub] teardown step still running after ${Date.now() - t0} ms: ${what}`),
    10_000,
  )
  try {
    await step()
  } finally {
    clearInterval(warn)
  }
}

/**
 * Registers a hub per test (the test is skipped where `dialect` cannot run) and returns a view of
 * the current one for the test bodies. `options` is called per test, so each gets fresh metrics
 * and workflow instances; hooks registered before this one run before the hub starts.
 */
export function usePlantHub(dialect: Dialect, options: () => PlantHubOptions): PlantHub {
  let current: PlantHub | undefined
  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    current = await startPlantHub(dialect, options())
  })
  afterEach(async () => {
    await current?.close()
    current = undefined
  })
  // A view of the current hub: each property is read from the hub of the test that is running.
  return new Proxy({} as PlantHub, {
    get: (_view, key) => {
      if (!current) throw new Error('the plant hub runs only inside a test')
      return Reflect.get(current, key)
    },
  })
}
