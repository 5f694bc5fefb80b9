/**
 * B3 baseline: the same pipeline hand-built on graphile-worker 0.17.3 with the same durability
 * (PostgreSQL, a job committed before a webhook is acknowledged). A fastify server takes the two
 * webhooks (signature checked as Qualink checks it); three chained jobs make the same calls through
 * the same shipped connectors (so the same HTTP requests, Idempotency-Keys and read-backs):
 *   goods receipt → INSERT the lot + add_job('create_qms_lot'), one transaction;
 *   create_qms_lot: sampling plan, QMS inspection lot;
 *   usage decision → add_job('post_stock');
 *   post_stock: ERP usage decision, UD stock posting, then add_job('confirm_posting');
 *   confirm_posting: the lot's remainder and stock read back (retried by graphile-worker if open).
 * Concurrency 8, as Qualink's engine ships; pool = concurrency + 2 (graphile-worker's advice).
 */
import Fastify from 'fastify'
import { type LogFunctionFactory, Logger, type Runner, run, runMigrations } from 'graphile-worker'
import pg from 'pg'
import { verifySignature } from '../../simulators/index.ts'
import { parseDecimal } from '../../src/model/quantity.ts'
import { samplingPlan } from '../../src/rules/index.ts'
import type { ErpPort } from '../../src/workflows/ports/erp.ts'
import type { QmsPort } from '../../src/workflows/ports/qms.ts'
import { createTempDatabase } from './machine.ts'
import { commitsOf } from './pg-commits.ts'
import { SIGNING, type Sims, type SystemUnderTest } from './pipeline-harness.ts'
import { benchPorts } from './pipeline-qualink.ts'

const CONCURRENCY = 8
const silent: LogFunctionFactory = () => () => {}

const SCHEMA = `CREATE TABLE bench_lots(
  batch text PRIMARY KEY, erp_lot text NOT NULL, material text NOT NULL, plant text NOT NULL,
  qty text NOT NULL, unit text NOT NULL, supplier text, qms_lot text, confirmed boolean NOT NULL DEFAULT false)`

interface LotRow {
  batch: string
  erp_lot: string
  material: string
  plant: string
  qty: string
  unit: string
  supplier: string | null
}

function tasks(pool: pg.Pool, erp: ErpPort, qms: QmsPort) {
  const lotOf = async (batch: string): Promise<LotRow> => {
    const r = await pool.query<LotRow>('SELECT * FROM bench_lots WHERE batch = $1', [batch])
    if (!r.rows[0]) throw new Error(`unknown batch ${batch}`)
    return r.rows[0]
  }
  const ref = (l: LotRow) => ({ plant: l.plant, material: l.material, lot: l.batch })
  return {
    create_qms_lot: async (p: unknown) => {
      const l = await lotOf((p as { batch: string }).batch)
      const quantity = parseDecimal(l.qty, 3, l.unit)
      const plan = samplingPlan({
        lotSize: Math.ceil(Number(l.qty)),
        level: 'II',
        aql: '1.0',
        severity: 'normal',
      })
      const created = await qms.createInspectionLot({
        idempotencyKey: `gw:create:${l.batch}`,
        plant: l.plant,
        material: l.material,
        lot: l.batch,
        quantity,
        sampleSize: plan.unitsToInspect,
        ...(l.supplier ? { supplier: l.supplier } : {}),
        origin: '01',
      })
      await pool.query('UPDATE bench_lots SET qms_lot = $2 WHERE batch = $1', [l.batch, created.record.id])
    },
    post_stock: async (
      p: unknown,
      helpers: { addJob: (t: string, p: unknown, o?: { jobKey?: string }) => Promise<unknown> },
    ) => {
      const d = p as { batch: string; qmsLot: string; code: string; decidedBy: string; quantity: string }
      const l = await lotOf(d.batch)
      await erp.recordUsageDecision({
        idempotencyKey: `gw:ud:${d.batch}`,
        plant: l.plant,
        inspectionLot: l.erp_lot,
        valuation: 'accepted',
        code: d.code,
        decidedBy: d.decidedBy,
        reference: d.qmsLot,
      })
      await erp.postStockDisposition({
        idempotencyKey: `gw:post:${d.batch}`,
        inspectionLot: l.erp_lot,
        lot: ref(l),
        lines: [{ bucket: 'release', quantity: parseDecimal(d.quantity, 3, l.unit) }],
      })
      await helpers.addJob('confirm_posting', { batch: d.batch }, { jobKey: `confirm:${d.batch}` })
    },
    confirm_posting: async (p: unknown) => {
      const l = await lotOf((p as { batch: string }).batch)
      const left = await erp.readInspectionLotRemainder!(l.erp_lot, { plant: l.plant })
      await erp.readLotStock(ref(l))
      if ((left?.units ?? 0) > 0) throw new Error(`lot ${l.batch}: not fully posted`)
      await pool.query('UPDATE bench_lots SET confirmed = true WHERE batch = $1', [l.batch])
    },
  }
}

export async function startGraphileSut(adminUrl: string, sims: Sims): Promise<SystemUnderTest> {
  const db = await createTempDatabase(adminUrl, 'pipeline_gw')
  const pool = new pg.Pool({ connectionString: db.url, max: CONCURRENCY + 2 })
  pool.on('error', () => {})
  pool.on('connect', (c) => c.on('error', () => {}))
  const logger = new Logger(silent)
  await runMigrations({ pgPool: pool, logger })
  await pool.query(SCHEMA)
  const ports = benchPorts(sims)
  const runner: Runner = await run({
    pgPool: pool,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    logger,
    taskList: tasks(pool, ports.erp, ports.qms) as never,
  })
  const app = Fastify({ logger: false })
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body))
  const verified = (which: 'erp' | 'qms', sig: unknown, body: string) =>
    typeof sig === 'string' && verifySignature(SIGNING[which].secret, sig, body)
  app.post('/gr', async (req, reply) => {
    const body = req.body as string
    if (!verified('erp', req.headers[SIGNING.erp.signature], body)) return reply.code(401).send()
    const gr = JSON.parse(body) as Record<string, string>
    const c = await pool.connect()
    try {
      await c.query('BEGIN')
      await c.query(
        `INSERT INTO bench_lots(batch, erp_lot, material, plant, qty, unit, supplier)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (batch) DO NOTHING`,
        [
          gr.Batch,
          gr.InspectionLot,
          gr.Material,
          gr.Plant,
          gr.QuantityInEntryUnit,
          gr.EntryUnit,
          gr.Supplier ?? null,
        ],
      )
      await c.query(
        `SELECT graphile_worker.add_job('create_qms_lot', json_build_object('batch', $1::text), job_key => $2)`,
        [gr.Batch, `create:${gr.Batch}`],
      )
      await c.query('COMMIT')
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {})
      throw e
    } finally {
      c.release()
    }
    return reply.code(202).send()
  })
  app.post('/decision', async (req, reply) => {
    const body = req.body as string
    if (!verified('qms', req.headers[SIGNING.qms.signature], body)) return reply.code(401).send()
    const w = JSON.parse(body) as {
      data: {
        code: string
        decidedBy: string
        dispositions: { quantity: string }[]
        inspectionLot: { id: string; batch: string }
      }
    }
    const batch = w.data.inspectionLot.batch
    await pool.query(`SELECT graphile_worker.add_job('post_stock', $1::json, job_key => $2)`, [
      JSON.stringify({
        batch,
        qmsLot: w.data.inspectionLot.id,
        code: w.data.code,
        decidedBy: w.data.decidedBy,
        quantity: w.data.dispositions[0]?.quantity ?? '0',
      }),
      `post:${batch}`,
    ])
    return reply.code(202).send()
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  let stopped: Promise<void> | undefined
  const stopSystem = () =>
    (stopped ??= (async () => {
      await app.close()
      await runner.stop()
      await pool.end().catch(() => {})
    })())
  return {
    name: 'graphile-worker',
    goodsReceiptUrl: `${url}/gr`,
    decisionUrl: `${url}/decision`,
    completed: async () =>
      Number((await pool.query('SELECT count(*) AS n FROM bench_lots WHERE confirmed')).rows[0].n),
    commits: () => commitsOf(pool),
    counted: { adminUrl, database: db.name, stop: stopSystem },
    close: async () => {
      await stopSystem()
      await db.drop()
    },
  }
}
