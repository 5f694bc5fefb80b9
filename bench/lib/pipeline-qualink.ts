/**
 * B3, Qualink: the real supplier-receipt-inspection workflow in a real Qualink (startQualink:
 * HTTP ingress with signature checks, translation stage, PostgreSQL store, engine with its shipped
 * concurrency of 8, audit sealer) in the benchmark process: the worker runs in-process, as
 * `qualink start` runs it. The S/4 and QMS connectors are the shipped ones, with their egress rate
 * limit raised (the shipped default of 20 requests/s would be what is measured otherwise).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import pino from 'pino'
import { sapS4Connector } from '../../src/connectors/erp/sap-s4/connector.ts'
import { sapS4GoodsReceiptTranslator } from '../../src/connectors/erp/sap-s4/gr-translator.ts'
import { qmsRestConnector } from '../../src/connectors/qms/rest/connector.ts'
import { qmsWebhookTranslator } from '../../src/connectors/qms/rest/webhook-translator.ts'
import type { JournalMode } from '../../src/engine/run-context.ts'
import type { IdMappingSettings } from '../../src/mapping/id-mapping.ts'
import { startQualink } from '../../src/server/qualink.ts'
import { PostgresStore } from '../../src/store/postgres/store.ts'
import type { Store } from '../../src/store/types.ts'
import { mappedErpPort } from '../../src/workflows/ports/mapped.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { createTempDatabase } from './machine.ts'
import { commitsOf } from './pg-commits.ts'
import { SIGNING, type Sims, type SystemUnderTest } from './pipeline-harness.ts'

export const BENCH_EGRESS = { rateLimit: { ratePerSecond: 10_000, burst: 1_000 } }

/**
 * The engine's journal mode for the benchmark's Qualink (QUALINK_BENCH_JOURNAL=at-yield|per-step;
 * default: the engine's own, per-step), printed in the results table.
 */
export const BENCH_JOURNAL: JournalMode =
  process.env.QUALINK_BENCH_JOURNAL === 'at-yield' ? 'at-yield' : 'per-step'

/** The shipped S/4 and QMS connectors against the simulators (also used by the graphile baseline). */
export function benchPorts(sims: {
  readonly erp: { readonly url: string }
  readonly qms: { readonly url: string }
}) {
  const runtime = (name: string, url: string) => ({ name, allowlist: [url], leaseMs: 30_000 })
  return {
    erp: sapS4Connector.instantiate(
      { baseUrl: sims.erp.url, egress: BENCH_EGRESS },
      runtime('erp', sims.erp.url),
    ),
    qms: qmsRestConnector.instantiate(
      { baseUrl: sims.qms.url, egress: BENCH_EGRESS },
      runtime('qms', sims.qms.url),
    ),
  }
}

/**
 * The simulators number the plant SAP-style (`1000`); the benchmark's Qualink calls it P100 and maps
 * the two as qualink.yaml's `plants.P100.idMapping.<name>.plants` would, on ingress and egress.
 */
export const plantCodes = (system: string): IdMappingSettings => ({
  system,
  entities: ['plant'],
  unknown: 'reject',
  plants: { '1000': 'P100' },
})

/** benchPorts as the benchmark's Qualink uses them: the ERP's workflow calls map P100 to `1000`. */
export function qualinkPorts(sims: Parameters<typeof benchPorts>[0]) {
  const ports = benchPorts(sims)
  return { ...ports, erp: mappedErpPort(ports.erp, {}, plantCodes('erp'), 'P100') }
}

const source = (name: string, s: (typeof SIGNING)['erp' | 'qms']) => ({
  name,
  plant: 'P100',
  secrets: [s.secret],
  signatureHeader: s.signature,
  deliveryIdHeader: s.delivery,
})

/** The two signed webhook sources every Qualink of the benchmark serves (the api role's ingress). */
export const BENCH_WEBHOOKS = [source('erp-s4', SIGNING.erp), source('qms', SIGNING.qms)]

/** The translators of those sources (run where translation runs: `all` or `worker`). */
export const benchTranslators = () => [
  sapS4GoodsReceiptTranslator('erp-s4', plantCodes('erp-s4')),
  qmsWebhookTranslator('qms'),
]

/**
 * A Qualink (one process, or an api process with workers) as the harness sees it: its webhook
 * URLs, its count of completed workflows and commits read from its database, and how to stop it.
 */
export async function qualinkSut(
  name: string,
  url: string,
  dbUrl: string,
  stop: () => Promise<void>,
  counted?: { adminUrl: string; database: string; stopSystem: () => Promise<void> },
): Promise<SystemUnderTest> {
  const probe = new pg.Client({ connectionString: dbUrl })
  await probe.connect()
  let probeEnded: Promise<void> | undefined
  const endProbe = () => (probeEnded ??= probe.end().catch(() => {}))
  return {
    ...(counted && {
      counted: {
        adminUrl: counted.adminUrl,
        database: counted.database,
        stop: async () => {
          await endProbe()
          await counted.stopSystem()
        },
      },
    }),
    name,
    goodsReceiptUrl: `${url}/v1/ingress/erp-s4`,
    decisionUrl: `${url}/v1/ingress/qms`,
    completed: async () =>
      Number(
        (await probe.query(`SELECT count(*) AS n FROM workflow_runs WHERE status = 'completed'`)).rows[0].n,
      ),
    commits: () => commitsOf(probe),
    close: async () => {
      await endProbe()
      await stop()
    },
  }
}

/**
 * The benchmark's Qualink on `store`, as \`qualink start\` composes it: the bench's signed sources
 * and translators, the supplier-receipt workflow, the simulators' ports (plant mapping included)
 * and the journal mode of BENCH_JOURNAL. Anchors go to `dir`.
 */
export function startBenchQualink(store: Store, dir: string, sims: Parameters<typeof qualinkPorts>[0]) {
  return startQualink({
    store,
    port: 0,
    logger: pino({ level: 'silent' }),
    anchorFile: path.join(dir, 'anchors.jsonl'),
    webhooks: BENCH_WEBHOOKS,
    translators: benchTranslators(),
    workflows: [supplierReceiptInspection()],
    ports: qualinkPorts(sims),
    journal: BENCH_JOURNAL,
  })
}

export async function startQualinkSut(adminUrl: string, sims: Sims): Promise<SystemUnderTest> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-pipeline-'))
  const db = await createTempDatabase(adminUrl, 'pipeline')
  const store = await PostgresStore.open({ connectionString: db.url })
  const q = await startBenchQualink(store, dir, sims)
  let stopped: Promise<void> | undefined
  const stopSystem = () =>
    (stopped ??= (async () => {
      await q.close()
      await store.close()
    })())
  return qualinkSut(
    'qualink',
    q.url,
    db.url,
    async () => {
      await stopSystem()
      await db.drop()
      rmSync(dir, { recursive: true, force: true })
    },
    { adminUrl, database: db.name, stopSystem },
  )
}
