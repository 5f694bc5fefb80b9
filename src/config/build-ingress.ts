/**
 * The ingress half of buildRuntime: every configured source (webhooks, MQTT, OPC UA, file drops,
 * an edi/x12 connector's inbound folder, NATS, AMQP, polling feeds) with the translator that turns
 * its raw deliveries into canonical events. Secrets are resolved here; a missing one is a problem
 * at its path, collected with the others.
 */
import path from 'node:path'
import type { AmqpSourceConfig } from '../connectors/broker/amqp.ts'
import type { NatsSourceConfig } from '../connectors/broker/nats-source.ts'
import { type X12ConnectorConfig, x12AdviceConfig } from '../connectors/edi/x12/connector.ts'
import { x12InboundDrop } from '../connectors/edi/x12/inbound.ts'
import { x12ShipNoticeTranslator } from '../connectors/edi/x12/translator.ts'
import { erpNextInspectionPlanTranslator } from '../connectors/erp/erpnext/plan-translator.ts'
import type { GoodsReceiptFeed, InspectionPlanFeed } from '../connectors/erp/sap-s4/connector.ts'
import { sapS4GoodsReceiptTranslator } from '../connectors/erp/sap-s4/gr-translator.ts'
import { sapS4InspectionPlanTranslator } from '../connectors/erp/sap-s4/plan-translator.ts'
import type { FileDropConfig } from '../connectors/ingress/file-drop.ts'
import type { MqttSourceConfig } from '../connectors/ingress/mqtt-source.ts'
import type { PollingFeedConfig } from '../connectors/ingress/polling-feed.ts'
import type { WebhookSource } from '../connectors/ingress/webhook-source.ts'
import type { FieldProblem } from '../contracts/errors.ts'
import type { Translator } from '../engine/translation-stage.ts'
import type { IdMappingSettings } from '../mapping/id-mapping.ts'
import type { StoreRef } from '../store/types.ts'
import { TRANSLATORS } from './kinds.ts'
import type { LoadedConfig } from './load.ts'
import { opcUaSources } from './opcua-runtime.ts'
import { seg } from './problems.ts'
import { resolveSecret } from './secrets.ts'

export interface IngressContext {
  readonly config: LoadedConfig['config']
  readonly baseDir: string
  readonly env: NodeJS.ProcessEnv
  /** where a missing secret is reported (buildRuntime throws them together) */
  readonly problems: FieldProblem[]
  /** the instantiated connectors by name (feeds read through them; x12 inbound folders) */
  readonly connectors: Readonly<Record<string, object>>
  readonly storeRef: StoreRef
  readonly idsOf: (plant: string, name: string) => IdMappingSettings | undefined
}

export function buildIngress(o: IngressContext) {
  const { config, baseDir, env, problems, connectors, storeRef, idsOf } = o
  const server = config.server ?? {}
  const translators: Translator[] = []
  const translatorOf = (name: string, kind: string, plant: string, mapMaterials?: boolean) => {
    const t = TRANSLATORS.find((x) => x.name === kind)!
    // an ERPNext receipt webhook reads its warehouses from the plant's erp/erpnext connector
    const erp = config.connectors?.[config.plants[plant]?.erp ?? '']
    const erpWarehouses =
      erp?.kind === 'erp/erpnext'
        ? (erp.config as { warehouses?: Record<string, string> }).warehouses
        : undefined
    translators.push(t.create(name, { mapMaterials, ids: idsOf(plant, name), erpWarehouses }))
    return t
  }
  const ingress = config.ingress ?? {}
  const webhooks: WebhookSource[] = Object.entries(ingress.webhooks ?? {}).map(([name, w]) => {
    translatorOf(name, w.translator, w.plant)
    return {
      name,
      plant: w.plant,
      secrets: w.secrets?.map((s, i) =>
        resolveSecret(s, `/ingress/webhooks/${name}/secrets/${i}`, env, baseDir, problems),
      ),
      signatureHeader: w.signatureHeader,
      signatureScheme: w.signatureScheme,
      deliveryIdHeader: w.deliveryIdHeader,
      toleranceSeconds: w.toleranceSeconds,
    }
  })
  const mqtt: MqttSourceConfig[] = Object.entries(ingress.mqtt ?? {}).map(([name, m]) => {
    translatorOf(name, m.translator, m.plant, m.mapMaterials)
    return {
      name,
      plant: m.plant,
      url: m.url,
      clientId: m.clientId,
      topics: m.topics,
      ...(m.protocolVersion ? { protocolVersion: m.protocolVersion } : {}),
      username: m.username,
      password: m.password
        ? resolveSecret(m.password, `/ingress/mqtt/${name}/password`, env, baseDir, problems)
        : undefined,
    }
  })
  const opcua = opcUaSources(ingress.opcua ?? {}, {
    // the process's data dir as `qualink start` picks it: QUALINK_DATA_DIR, server.dataDir, ./data
    dataDir: env.QUALINK_DATA_DIR
      ? path.resolve(env.QUALINK_DATA_DIR)
      : server.dataDir
        ? path.resolve(baseDir, server.dataDir)
        : path.resolve('data'),
    baseDir,
    secret: (ref, at) => resolveSecret(ref, at, env, baseDir, problems),
    translatorOf,
  })
  const fileDrops: FileDropConfig[] = Object.entries(ingress.fileDrops ?? {}).map(([name, f]) => {
    const t = translatorOf(name, f.translator, f.plant)
    return {
      name,
      plant: f.plant,
      dir: path.resolve(baseDir, f.dir),
      pattern: f.pattern === undefined ? undefined : new RegExp(f.pattern),
      pollMs: f.pollMs,
      settleMs: f.settleMs,
      check: t.checkFile,
    }
  })
  // an edi/x12 connector's inbound folder: partner interchanges stored, translated and acknowledged
  for (const [name, c] of Object.entries(config.connectors ?? {})) {
    const inbound = (c.config as Partial<X12ConnectorConfig>).inbound
    if (c.kind !== 'edi/x12' || !inbound || !connectors[name]) continue
    const advice = x12AdviceConfig(c.config as X12ConnectorConfig, name, baseDir)
    const dir = path.resolve(baseDir, inbound.dir)
    fileDrops.push(
      x12InboundDrop(
        { name, plant: inbound.plant, dir, pollMs: inbound.pollMs, settleMs: inbound.settleMs },
        advice,
        storeRef,
      ),
    )
    translators.push(x12ShipNoticeTranslator(name))
  }
  const natsSources: NatsSourceConfig[] = Object.entries(ingress.nats ?? {}).map(([name, n]) => {
    translatorOf(name, n.translator, n.plant)
    return {
      name,
      plant: n.plant,
      servers: n.servers,
      stream: n.stream,
      durable: n.durable,
      filterSubject: n.filterSubject,
    }
  })
  const amqpSources: AmqpSourceConfig[] = Object.entries(ingress.amqp ?? {}).map(([name, a]) => {
    translatorOf(name, a.translator, a.plant)
    return {
      name,
      plant: a.plant,
      url: resolveSecret(a.url, `/ingress/amqp/${seg(name)}/url`, env, baseDir, problems),
      queue: a.queue,
      deadLetterExchange: a.deadLetterExchange,
    }
  })
  const feeds: PollingFeedConfig[] = Object.entries(ingress.feeds ?? {}).flatMap(([name, f]) => {
    const connector = connectors[f.connector] as Partial<GoodsReceiptFeed & InspectionPlanFeed> | undefined
    const plans = f.reads === 'inspection-plans'
    const reader = plans ? connector?.readInspectionPlanFeed : connector?.readGoodsReceiptFeed
    if (typeof reader !== 'function') return [] // refused by checks.ts
    const erpnext = config.connectors?.[f.connector]?.kind === 'erp/erpnext'
    translators.push(
      plans
        ? (erpnext ? erpNextInspectionPlanTranslator : sapS4InspectionPlanTranslator)(
            name,
            idsOf(f.plant, name),
          )
        : sapS4GoodsReceiptTranslator(name, idsOf(f.plant, name)),
    )
    const read = reader.bind(connector)
    const pageSize = f.pageSize ?? 100
    return [{ name, plant: f.plant, pollMs: f.pollMs, fetch: (cursor) => read(cursor, pageSize) }]
  })
  return { translators, webhooks, mqtt, opcua, fileDrops, natsSources, amqpSources, feeds }
}
