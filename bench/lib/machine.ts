import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import pg from 'pg'

const run = promisify(execFile)

export interface MachineDescription {
  readonly date: string
  readonly nproc: number
  readonly cpuModel: string
  readonly memGiB: number
  readonly loadAvgAtStart: readonly number[]
  readonly node: string
  readonly sqlite: string
  readonly git: string
  readonly postgres?: PostgresDescription
  /** the one-8kB-write section of pg_test_fsync, run on the benchmark's temp directory */
  readonly pgTestFsync?: readonly string[]
}

export interface PostgresDescription {
  readonly version: string
  readonly settings: Record<string, string>
}

function cpuModel(): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
  return m ? m[1]!.trim() : (os.cpus()[0]?.model ?? 'unknown')
}

async function gitDescribe(): Promise<string> {
  try {
    const head = (await run('git', ['rev-parse', '--short', 'HEAD'])).stdout.trim()
    const dirty = (
      await run('git', ['status', '--porcelain', '--untracked-files=normal', 'src'])
    ).stdout.trim()
    return dirty ? `${head} + uncommitted changes in src/` : head
  } catch {
    return 'unknown'
  }
}

const PG_SETTINGS = [
  'fsync',
  'synchronous_commit',
  'wal_sync_method',
  'commit_delay',
  'shared_buffers',
  'effective_cache_size',
  'max_wal_size',
  'checkpoint_timeout',
  'full_page_writes',
]

export async function describePostgres(databaseUrl: string): Promise<PostgresDescription> {
  const c = new pg.Client({ connectionString: databaseUrl })
  await c.connect()
  try {
    const version = String((await c.query('SHOW server_version')).rows[0].server_version)
    const settings: Record<string, string> = {}
    for (const s of PG_SETTINGS) settings[s] = String((await c.query(`SHOW ${s}`)).rows[0][s])
    return { version, settings }
  } finally {
    await c.end()
  }
}

export async function pgTestFsync(dir: string, seconds: number): Promise<string[]> {
  const bin = '/usr/lib/postgresql/15/bin/pg_test_fsync'
  try {
    const { stdout } = await run(bin, ['-s', String(seconds), '-f', path.join(dir, 'pg_test_fsync.out')], {
      timeout: 120_000,
    })
    const lines = stdout.split('\n')
    const from = lines.findIndex((l) => l.startsWith('Compare file sync methods using one 8kB write'))
    if (from < 0) return ['pg_test_fsync: unexpected output']
    const out: string[] = []
    for (const l of lines.slice(from + 2)) {
      if (l.trim() === '') break
      out.push(l.trim().replace(/\s+/g, ' '))
    }
    return out
  } catch (e) {
    return [`pg_test_fsync not run: ${(e as Error).message.split('\n')[0]}`]
  }
}

export async function describeMachine(): Promise<MachineDescription> {
  const db = new Database(':memory:')
  const sqlite = String((db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v)
  db.close()
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpuModel: cpuModel(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    sqlite,
    git: await gitDescribe(),
  }
}

export interface TempDatabase {
  readonly url: string
  readonly name: string
  drop(): Promise<void>
}

/** A uniquely named database on the server of `adminUrl`; only this database is ever dropped. */
export async function createTempDatabase(adminUrl: string, label: string): Promise<TempDatabase> {
  const name = `qualink_bench_${label}_${process.pid}_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const u = new URL(adminUrl)
  u.pathname = `/${name}`
  let dropped = false
  return {
    url: u.toString(),
    name,
    drop: async () => {
      if (dropped) return
      dropped = true
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

function cpuTimes(): { idle: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  // idle + iowait count as idle
  return { idle: (v[3] ?? 0) + (v[4] ?? 0), total: v.reduce((a, b) => a + b, 0) }
}

/** Share of all CPUs idle over the next `ms` milliseconds (the benchmark itself being idle). */
export async function idleFraction(ms: number): Promise<number> {
  const a = cpuTimes()
  await new Promise((r) => setTimeout(r, ms))
  const b = cpuTimes()
  return b.total === a.total ? 1 : (b.idle - a.idle) / (b.total - a.total)
}

/**
 * Other work on the box (a test suite, a build) distorts every number here. Waits until the machine
 * has been at least `minIdle` idle over half a second, up to `timeoutMs`; returns the last idle share
 * seen so the report can say how quiet each measurement started.
 */
export async function waitForQuiet(minIdle = 0.85, timeoutMs = 15_000): Promise<number> {
  const until = Date.now() + timeoutMs
  let idle = await idleFraction(500)
  while (idle < minIdle && Date.now() < until) idle = await idleFraction(500)
  return idle
}
