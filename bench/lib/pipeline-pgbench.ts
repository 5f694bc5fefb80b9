/**
 * B3's physical limit: the database side of the graphile-worker pipeline (bench/lib/pipeline-graphile.ts)
 * replayed by pgbench, with no HTTP, no Node and no ERP/QMS latency. One pgbench "transaction" of the
 * script below is one workflow: the eleven commits that pipeline cannot do without, on rows of the same
 * shape (its `bench_lots` row; a job row with graphile-worker 0.17's columns and both of its partial
 * indexes, sql/000011.sql of the package), each committed on its own as there:
 *
 *   1  goods receipt: INSERT the lot + INSERT the create_qms_lot job, one transaction
 *   2  lock that job (get_job)            3  UPDATE the lot's QMS lot id     4  DELETE the job (complete_job)
 *   5  usage decision: INSERT the post_stock job
 *   6  lock it                             7  INSERT the confirm_posting job  8  DELETE post_stock
 *   9  lock confirm_posting               10  UPDATE the lot confirmed       11  DELETE confirm_posting
 *
 * Left out, so this is a floor: the pipeline's read-only transactions (each task's SELECT of its lot,
 * workers' empty get_job polls; read-only commits wait for no WAL flush), graphile-worker's add_job and
 * NOTIFY trigger logic, and every HTTP round trip. Workflows/s = pgbench tps (`-c 8`, the pipeline's
 * worker concurrency; `-j 2 -M prepared`). Commits per workflow are read from pg_stat_database after
 * pgbench has exited (its backends publish their counts on exit): eleven per workflow, plus
 * autovacuum's transactions on the database.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { runPgbenchFile } from './baselines.ts'
import { createTempDatabase } from './machine.ts'

export const FLOOR_CLIENTS = 8
export const FLOOR_COMMITS_PER_WORKFLOW = 11

const SCHEMA = `
CREATE TABLE bench_lots(
  batch text PRIMARY KEY, erp_lot text NOT NULL, material text NOT NULL, plant text NOT NULL,
  qty text NOT NULL, unit text NOT NULL, supplier text, qms_lot text, confirmed boolean NOT NULL DEFAULT false);
CREATE SEQUENCE wf_seq;
CREATE TABLE jobs (
  id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
  job_queue_id int NULL,
  task_id int NOT NULL,
  payload json DEFAULT '{}'::json NOT NULL,
  priority smallint DEFAULT 0 NOT NULL,
  run_at timestamptz DEFAULT now() NOT NULL,
  attempts smallint DEFAULT 0 NOT NULL,
  max_attempts smallint DEFAULT 25 NOT NULL CHECK (max_attempts >= 1),
  last_error text,
  created_at timestamptz DEFAULT now() NOT NULL,
  updated_at timestamptz DEFAULT now() NOT NULL,
  key text UNIQUE CHECK (length(key) > 0 AND length(key) <= 512),
  locked_at timestamptz,
  locked_by text,
  revision integer DEFAULT 0 NOT NULL,
  flags jsonb,
  is_available boolean GENERATED ALWAYS AS ((locked_at IS NULL) AND (attempts < max_attempts)) STORED NOT NULL
);
CREATE INDEX jobs_main_index ON jobs USING btree (priority, run_at) INCLUDE (id, task_id, job_queue_id)
  WHERE (is_available = true);
CREATE INDEX jobs_no_queue_index ON jobs USING btree (priority, run_at) INCLUDE (id, task_id)
  WHERE (is_available = true AND job_queue_id IS NULL);
`

// pgbench -M prepared sends :vars as bind parameters, hence the casts; `\gset` keeps a RETURNING row.
const lock = (v: string) =>
  `UPDATE jobs SET locked_at = now(), locked_by = 'worker-' || :client_id::text, attempts = attempts + 1, updated_at = now() WHERE id = :${v} AND is_available;`
const SCRIPT = `BEGIN;
INSERT INTO bench_lots(batch, erp_lot, material, plant, qty, unit, supplier) VALUES ('B' || nextval('wf_seq')::text, '10000001', 'RAW-100', '1000', '100', 'KG', 'SUP-1') RETURNING batch \\gset
INSERT INTO jobs(task_id, payload, key) VALUES (1, json_build_object('batch', :batch::text), 'create:' || :batch::text) RETURNING id AS j1 \\gset
COMMIT;
${lock('j1')}
UPDATE bench_lots SET qms_lot = 'QL-' || :j1::text WHERE batch = :batch::text;
DELETE FROM jobs WHERE id = :j1;
INSERT INTO jobs(task_id, payload, key) VALUES (2, json_build_object('batch', :batch::text, 'qmsLot', 'QL-' || :j1::text, 'code', 'A1', 'decidedBy', 'BENCH', 'quantity', '100.000'), 'post:' || :batch::text) RETURNING id AS j2 \\gset
${lock('j2')}
INSERT INTO jobs(task_id, payload, key) VALUES (3, json_build_object('batch', :batch::text), 'confirm:' || :batch::text) RETURNING id AS j3 \\gset
DELETE FROM jobs WHERE id = :j2;
${lock('j3')}
UPDATE bench_lots SET confirmed = true WHERE batch = :batch::text;
DELETE FROM jobs WHERE id = :j3;
`

export interface FloorResult {
  /** workflows/s: pgbench tps, one script run = one workflow */
  readonly perSecond: number
  readonly workflows: number
  readonly latencyAvgMs: number | null
  /** pg_stat_database.xact_commit of the database over the run ÷ workflows */
  readonly commitsPerWorkflow: number
  /** workflows in the lots table at the end, all confirmed, and jobs left over (must be 0) */
  readonly confirmed: number
  readonly jobsLeft: number
  readonly command: string
}

/** One pgbench run of the floor script on a fresh database, dropped afterwards. */
export async function runPipelineFloor(adminUrl: string, seconds: number): Promise<FloorResult> {
  const db = await createTempDatabase(adminUrl, 'pipeline_floor')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-floor-'))
  try {
    const file = path.join(dir, 'pipeline.sql')
    writeFileSync(file, SCRIPT)
    const query = async (sql: string) => {
      const c = new pg.Client({ connectionString: db.url })
      await c.connect()
      try {
        return await c.query(sql)
      } finally {
        await c.end()
      }
    }
    const read = async (sql: string) => Number((await query(sql)).rows[0].n)
    await query(SCHEMA)
    const commits = `SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`
    const c0 = await read(commits)
    const r = await runPgbenchFile(db.url, file, FLOOR_CLIENTS, seconds)
    // pgbench's backends have exited (stats published); this read's own transaction is counted once.
    const c1 = await read(commits)
    return {
      perSecond: r.tps,
      workflows: r.transactions,
      latencyAvgMs: r.latencyAvgMs,
      commitsPerWorkflow: (c1 - c0 - 1) / r.transactions,
      confirmed: await read('SELECT count(*) AS n FROM bench_lots WHERE confirmed'),
      jobsLeft: await read('SELECT count(*) AS n FROM jobs'),
      command: r.command,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await db.drop()
  }
}
