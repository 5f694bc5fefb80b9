/**
 * PostgreSQL commits per workflow for the B3 benchmark (bench/README.md, "B3: end-to-end pipeline",
 * how the counter is read): pg_stat_database.xact_commit of a system's database.
 */
import pg from 'pg'

/** The commit counter of `client`'s database (pg_stat_database.xact_commit, own probes included). */
export async function commitsOf(client: {
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>
}) {
  const r = await client.query(
    'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()',
  )
  return Number(r.rows[0]?.n)
}

/**
 * xact_commit of `database`, read from the admin database (the read is no transaction of its own
 * there). With `afterExit`, first waits (up to 30 s) until no backend is connected to it: a backend
 * publishes its last counts when it exits, while a live idle one holds them up to 10 s (PostgreSQL
 * 15, src/backend/utils/activity/pgstat.c), so the count read then is complete.
 */
export async function countedCommits(adminUrl: string, database: string, afterExit = false): Promise<number> {
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  try {
    for (let end = Date.now() + 30_000; afterExit && Date.now() < end; ) {
      const r = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [
        database,
      ])
      if (r.rows[0].n === 0) break
      await new Promise((res) => setTimeout(res, 50))
    }
    const r = await c.query('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1', [database])
    return Number(r.rows[0]?.n)
  } finally {
    await c.end()
  }
}
