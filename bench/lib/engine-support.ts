import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import pg from 'pg'

/** Helpers of the engine benchmark only (bench/engine.ts); other benchmarks keep their own. */

export { fmt, median, percentile } from './stats.ts'

export interface Machine {
  readonly date: string
  readonly nproc: number
  readonly cpuModel: string
  readonly memGiB: number
  readonly loadAvgAtStart: readonly number[]
  readonly node: string
  readonly postgres?: { readonly version: string; readonly settings: Record<string, string> }
}

const PG_SETTINGS = ['fsync', 'synchronous_commit', 'wal_sync_method', 'shared_buffers', 'max_connections']

export async function describeMachine(adminUrl: string | undefined): Promise<Machine> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
  const base = {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpuModel: cpu ? cpu[1]!.trim() : (os.cpus()[0]?.model ?? 'unknown'),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
  }
  if (!adminUrl) return base
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  try {
    const version = String((await c.query('SHOW server_version')).rows[0].server_version)
    const settings: Record<string, string> = {}
    for (const s of PG_SETTINGS) settings[s] = String((await c.query(`SHOW ${s}`)).rows[0][s])
    return { ...base, postgres: { version, settings } }
  } finally {
    await c.end()
  }
}

export interface TempDatabase {
  readonly url: string
  readonly name: string
  drop(): Promise<void>
}

/**
 * `qlk_bench_<label>_<pid>_<random>` on the admin URL's server, optionally a copy of `template`
 * (a database of ours with no open connection); only that database is ever dropped.
 */
export async function createTempDatabase(
  adminUrl: string,
  label: string,
  template?: TempDatabase,
): Promise<TempDatabase> {
  const name = `qlk_bench_${label}_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template.name}` : ''}`)
  } finally {
    await admin.end()
  }
  const u = new URL(adminUrl)
  u.pathname = `/${name}`
  return {
    url: u.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl })
      await c.connect()
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await c.end()
      }
    },
  }
}
