/**
 * B3's physical limit (bench/lib/pipeline-pgbench.ts) runs for real: pgbench completes whole
 * workflows (every lot confirmed, no job left), at eleven commits each, and drops its database.
 * Nothing about speed is asserted.
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { FLOOR_COMMITS_PER_WORKFLOW, runPipelineFloor } from '../../bench/lib/pipeline-pgbench.ts'
import { serviceUp } from '../services.ts'

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

describe.skipIf(!(await serviceUp('postgres')))('B3 pgbench floor', () => {
  it('replays whole workflows of eleven commits each and leaves no database behind', async () => {
    const r = await runPipelineFloor(ADMIN_URL, 1)
    expect(r.workflows).toBeGreaterThan(0)
    // pgbench lets a script under way finish when -T runs out: whole workflows only
    expect(r.confirmed).toBe(r.workflows)
    expect(r.jobsLeft).toBe(0)
    // autovacuum's transactions on the database count there too: a little above eleven
    expect(r.commitsPerWorkflow).toBeGreaterThanOrEqual(FLOOR_COMMITS_PER_WORKFLOW)
    expect(r.commitsPerWorkflow).toBeLessThan(FLOOR_COMMITS_PER_WORKFLOW + 1)
    const c = new pg.Client({ connectionString: ADMIN_URL })
    await c.connect()
    try {
      const left = await c.query(
        `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'qualink_bench_pipeline_floor_${process.pid}_%'`,
      )
      expect(left.rows[0].n).toBe(0)
    } finally {
      await c.end()
    }
  })
})
