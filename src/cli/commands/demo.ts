import { createHash } from 'node:crypto'
import net from 'node:net'
import path from 'node:path'
import type { Command } from 'commander'
import { runtimeFromEnv } from '../../config/runtime.ts'
import { crmWebhookTranslator } from '../../connectors/crm/webhook/translator.ts'
import { sapS4Connector } from '../../connectors/erp/sap-s4/connector.ts'
import { sapS4GoodsReceiptTranslator } from '../../connectors/erp/sap-s4/gr-translator.ts'
import { sapS4InspectionPlanTranslator } from '../../connectors/erp/sap-s4/plan-translator.ts'
import { checkLimsFile, limsCsvTranslator } from '../../connectors/lims/csv/translator.ts'
import { mesTranslator } from '../../connectors/mes/mqtt/translator.ts'
import { qmsRestConnector } from '../../connectors/qms/rest/connector.ts'
import { qmsWebhookTranslator } from '../../connectors/qms/rest/webhook-translator.ts'
import { ConnectorMetrics } from '../../observability/connector-metrics.ts'
import { createLogger } from '../../observability/logger.ts'
import { startQualink } from '../../server/qualink.ts'
import { complaintTraceability } from '../../workflows/complaint-traceability.ts'
import { DEFAULT_RELEASE_SETTINGS, finishedGoodsRelease } from '../../workflows/finished-goods-release.ts'
import { inProcessQualityCheck } from '../../workflows/in-process-check.ts'
import { inspectionPlanDistribution } from '../../workflows/inspection-plan-distribution.ts'
import { kernelDemo } from '../../workflows/kernel-demo.ts'
import {
  DEFAULT_RECEIPT_SETTINGS,
  supplierReceiptInspection,
} from '../../workflows/supplier-receipt-inspection.ts'
import { runUntilSignal } from './start.ts'

function reachable(url: string, timeoutMs = 500): Promise<boolean> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 1883) })
    const done = (ok: boolean) => {
      s.destroy()
      resolve(ok)
    }
    s.setTimeout(timeoutMs, () => done(false))
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}

/**
 * `npm start`: Qualink on embedded SQLite in ./data with the plant simulators and a plant-day
 * traffic generator. Simulators are imported lazily: nothing else under src/ may import them.
 * The simulators keep their state in ./data/simulators/<name>.json (simulators/shared/state-file.ts),
 * so a second start resumes the same plant: the ERP's lots and documents, the QMS's inspection
 * lots, the traffic's counters, next to Qualink's own runs in qualink.db.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the demo plant: Qualink on SQLite, simulators, traffic, dashboard')
    .option('--port <port>', 'dashboard/API port', '8080')
    .option('--broker <url>', 'MQTT broker for the MES (skipped when unreachable)', 'mqtt://127.0.0.1:1883')
    .option('--tick-ms <ms>', 'plant-day rhythm: one traffic step every <ms> milliseconds', '1500')
    .option('--no-erp-outages', 'no scheduled ERP outages in the plant day (every 5 min, 30 s of 503s)')
    .action(async (opts: { port: string; broker: string; tickMs: string; erpOutages: boolean }) => {
      const rt = runtimeFromEnv()
      const logger = createLogger(process.env.QUALINK_LOG_LEVEL ?? 'error')
      const port = Number(process.env.QUALINK_PORT ?? opts.port)
      const plant = 'P100'
      const limsDir = path.join(rt.dataDir, 'lims-drop')
      const mqttUp = await reachable(opts.broker)
      // One id per data directory: the same client id on every start (the broker keeps the session,
      // so a restart resumes it) and a topic of its own, so two demos on one broker (two checkouts,
      // or the test suite's demos running side by side) never consume each other's MES traffic.
      const demoId = createHash('sha256').update(path.resolve(rt.dataDir)).digest('hex').slice(0, 12)
      const clientId = `qualink-demo-${demoId}`
      const topicPrefix = `qualink-demo/${demoId}`
      const { startLedgerServer, httpLedger } = await import('../../../simulators/ledger/server.ts')
      const { startPlantDay, DEMO_ORDERS, demoInspectionPlan } = await import(
        '../../../simulators/traffic/plant-day.ts'
      )
      const { startCrm, startErpS4, startQms } = await import('../../../simulators/index.ts')
      const simState = (name: string) => path.join(rt.dataDir, 'simulators', `${name}.json`)
      const ledger = await startLedgerServer({ stateFile: simState('ledger') })
      // The simulators call Qualink back on its fixed demo port; secrets are demo-only.
      const base = `http://127.0.0.1:${port}`
      const erp = await startErpS4({
        materials: { 'RAW-100': { baseUnit: 'KG' } },
        productionOrders: DEMO_ORDERS.map((o) => ({
          ManufacturingOrder: o,
          Material: 'FG-900',
          ProductionPlant: plant,
          TotalQuantity: '160',
        })),
        webhook: { url: `${base}/v1/ingress/erp-s4`, secret: 'demo-erp-secret' },
        stateFile: simState('erp-s4'),
      })
      // the raw material's inspection plan, once: the plan feed brings it to the QMS
      if (erp.state.inspectionPlans.length === 0) erp.upsertInspectionPlan(demoInspectionPlan(plant))
      const qms = await startQms({
        webhook: { url: `${base}/v1/ingress/qms`, secret: 'demo-qms-secret' },
        stateFile: simState('qms'),
      })
      const crm = await startCrm({
        webhook: { url: `${base}/v1/ingress/crm`, secret: 'demo-crm-secret' },
        stateFile: simState('crm'),
      })
      const connectorMetrics = new ConnectorMetrics()
      const runtime = (name: string, url: string) => {
        connectorMetrics.declare(name, name === 'qms' ? 'qms/rest' : 'erp/sap-s4')
        return { name, allowlist: [url], leaseMs: 30_000, metrics: connectorMetrics }
      }
      const erpPort = sapS4Connector.instantiate({ baseUrl: erp.url }, runtime('erp-s4', erp.url))
      const q = await startQualink({
        dataDir: rt.dataDir,
        host: '127.0.0.1',
        port,
        logger,
        workflows: [
          kernelDemo,
          supplierReceiptInspection(() => ({ ...DEFAULT_RECEIPT_SETTINGS, decisionDeadline: '2m' })),
          inProcessQualityCheck(),
          complaintTraceability(),
          finishedGoodsRelease(() => ({ ...DEFAULT_RELEASE_SETTINGS, deadline: '3m' })),
          inspectionPlanDistribution(),
        ],
        connectorMetrics,
        ports: {
          ledger: httpLedger(ledger.url),
          erp: erpPort,
          qms: qmsRestConnector.instantiate({ baseUrl: qms.url }, runtime('qms', qms.url)),
        },
        webhooks: [
          {
            name: 'erp-s4',
            plant,
            secrets: ['demo-erp-secret'],
            signatureHeader: 'x-erp-signature',
            deliveryIdHeader: 'x-erp-delivery-id',
          },
          {
            name: 'crm',
            plant,
            secrets: ['demo-crm-secret'],
            signatureHeader: 'x-crm-signature',
            deliveryIdHeader: 'x-crm-delivery-id',
          },
          {
            name: 'qms',
            plant,
            secrets: ['demo-qms-secret'],
            signatureHeader: 'x-qms-signature',
            deliveryIdHeader: 'x-qms-delivery-id',
          },
        ],
        translators: [
          mesTranslator({ source: 'mes-p100' }),
          limsCsvTranslator('lims-p100'),
          sapS4GoodsReceiptTranslator('erp-s4'),
          sapS4InspectionPlanTranslator('erp-s4-plans'),
          qmsWebhookTranslator('qms'),
          crmWebhookTranslator('crm'),
        ],
        mqtt: mqttUp
          ? [{ name: 'mes-p100', plant, url: opts.broker, clientId, topics: [`${topicPrefix}/#`] }]
          : [],
        // QMS–ERP reconciliation every 30 s; the demo only alerts (see /v1/drift, qualink_drift_open).
        reconcile: { intervalMs: 30_000, policy: () => 'alert' },
        // inspection plans polled from the ERP (API_INSPECTIONPLAN_SRV), each version once
        feeds: [
          {
            name: 'erp-s4-plans',
            plant,
            pollMs: 5000,
            fetch: (cursor) => erpPort.readInspectionPlanFeed(cursor, 100),
          },
        ],
        fileDrops: [
          { name: 'lims-p100', plant, dir: limsDir, pollMs: 1000, settleMs: 1000, check: checkLimsFile },
        ],
      })
      const traffic = await startPlantDay({
        url: q.url,
        plant,
        brokerUrl: mqttUp ? opts.broker : undefined,
        mqttTopicPrefix: topicPrefix,
        limsDir,
        erp,
        qms,
        crm,
        tickMs: Number(opts.tickMs),
        erpOutages: opts.erpOutages,
        log: (m) => console.log(`  ${m}`),
        stateFile: simState('plant-day'),
      })
      const dashboard = q.url.replace('127.0.0.1', 'localhost')
      console.log(
        [
          '',
          `  Qualink demo is running on embedded SQLite (${rt.dataDir}/qualink.db).`,
          `  Dashboard:  ${dashboard}/`,
          `  API:        ${dashboard}/v1/events   metrics: ${dashboard}/metrics`,
          `  Plant day:  ERP goods receipts (S/4-style simulator ${erp.url}) run supplier receipt inspection`,
          `              with the QMS simulator (${qms.url}); MES completions over`,
          `              ${mqttUp ? `MQTT (${opts.broker})` : 'the API (no MQTT broker found)'}; LIMS files in ${limsDir};`,
          '              packed lots released from their ERP delivery block (lab + packing + QA); shipments;',
          '              orders through the kernel-demo workflow (some rejected: see Exceptions);',
          '              now and then a usage decision comes after its deadline and the ERP is down for 30 s;',
          '              supplier CAPAs opened in the QMS, worked through 8D and closed (see KPIs);',
          "              the ERP's inspection plan polled and made the QMS specification each receipt lot names.",
          '  No authentication is configured, so Qualink listens on 127.0.0.1 only.',
          '  Press Ctrl-C to stop; running it again resumes from the same data.',
          '',
        ].join('\n'),
      )
      await runUntilSignal(
        async () => {
          await traffic.stop()
          // Webhooks already queued (a decision made in the last tick) reach Qualink before it
          // stops, bounded so a stuck delivery cannot hold the shutdown.
          await Promise.race([
            Promise.all([erp.webhooks.idle(), qms.webhooks.idle(), crm.webhooks.idle()]),
            new Promise((r) => setTimeout(r, 5000).unref()),
          ])
          await q.close()
          await Promise.all([ledger.close(), erp.close(), qms.close(), crm.close()])
          const s = traffic.stats
          console.log(
            `  stopped cleanly: ${s.receipts} receipts, ${s.decisions} usage decisions, ${s.operations} operations, ` +
              `${s.dispositions} dispositions, ${s.labFiles} lab files, ${s.packed} lots packed, ` +
              `${s.lateDecisions} late decisions, ${s.erpOutages} ERP outages, ` +
              `${s.shipments} shipments, ${s.orders} orders, ${s.capasOpened} supplier CAPAs opened (${s.capasClosed} closed)`,
          )
        },
        (m) => console.log(`  ${m}`),
      )
    })
}
