/**
 * A throwaway PostgreSQL cluster on its own port, for the fault tests (test/faults/, which restart
 * or kill the database) and for benchmarks that need server settings the shared service on 5432
 * does not have (bench/genealogy.ts `--pg-private`). The shared service is never touched.
 */
import { execFileSync } from 'node:child_process'
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './free-port.ts'

const BIN = '/usr/lib/postgresql/15/bin'

/** True when this machine can run a private PostgreSQL cluster (binaries, a postgres user, root). */
export function privatePostgresPossible(): boolean {
  return existsSync(`${BIN}/initdb`) && typeof process.getuid === 'function' && process.getuid() === 0
}

function uid(name: string): number {
  return Number(execFileSync('id', ['-u', name]).toString().trim())
}

export interface PrivatePostgresOptions {
  /** Prepares the cluster's folder before initdb (e.g. mounts a small filesystem on it). */
  readonly beforeInit?: (dir: string) => void
  /**
   * Server settings written to the cluster's postgresql.conf before its first start, e.g.
   * `{ shared_buffers: '4GB', effective_cache_size: '12GB' }`. Names are PostgreSQL parameter
   * names (letters, digits, `_`, `.`); values must not contain quotes or line breaks.
   */
  readonly settings?: Readonly<Record<string, string>>
}

function settingsLines(settings: Readonly<Record<string, string>>): string {
  let out = ''
  for (const [name, value] of Object.entries(settings)) {
    if (!/^[a-z][a-z0-9_.]*$/.test(name))
      throw new Error(`PrivatePostgres settings: name '${name}' is not a PostgreSQL parameter name`)
    if (/['\\\r\n]/.test(value) || value === '')
      throw new Error(
        `PrivatePostgres settings: ${name} must be a non-empty value without quotes or line breaks`,
      )
    out += `${name} = '${value}'\n`
  }
  return out
}

/**
 * The cluster is owned by the `postgres` user (initdb and postgres refuse to run as root) and
 * listens on 127.0.0.1 only, trust authentication, fsync on.
 */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`
  }

  private static asPostgres(args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'pipe' })
  }

  static async create(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    // Checked before anything is created: a bad setting leaves no folder behind.
    const extra = settingsLines(options.settings ?? {})
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-pg-'))
    try {
      options.beforeInit?.(dir)
      chmodSync(dir, 0o700)
      chownSync(dir, uid('postgres'), -1)
      const pg = new PrivatePostgres(dir, await freePort())
      PrivatePostgres.asPostgres([
        `${BIN}/initdb`,
        '-D',
        `${dir}/data`,
        '-A',
        'trust',
        '-U',
        'postgres',
        '--no-sync',
      ])
      // Later lines win in postgresql.conf; the file stays the postgres user's.
      if (extra) appendFileSync(`${dir}/data/postgresql.conf`, `\n# PrivatePostgres settings\n${extra}`)
      pg.start()
      return pg
    } catch (e) {
      try {
        rmSync(dir, { recursive: true, force: true })
      } catch {
        // e.g. a filesystem beforeInit mounted there: its owner unmounts it
      }
      throw e
    }
  }

  start(): void {
    PrivatePostgres.asPostgres([
      `${BIN}/pg_ctl`,
      '-D',
      `${this.dir}/data`,
      '-l',
      `${this.dir}/log`,
      '-w',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=on`,
      'start',
    ])
  }

  /** True while the postmaster runs (`pg_ctl status`). */
  running(): boolean {
    try {
      PrivatePostgres.asPostgres([`${BIN}/pg_ctl`, '-D', `${this.dir}/data`, 'status'])
      return true
    } catch {
      return false
    }
  }

  /** `pg_ctl stop -m immediate`: the database crashes; recovery replays its WAL on start. */
  crash(): void {
    PrivatePostgres.asPostgres([`${BIN}/pg_ctl`, '-D', `${this.dir}/data`, '-m', 'immediate', 'stop'])
  }

  destroy(): void {
    try {
      this.crash()
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * A private cluster for a benchmark, with `settings`, destroyed by `close()` and also when the
 * process is interrupted (SIGINT/SIGTERM) or exits without calling it.
 */
export async function benchPostgres(
  settings: Readonly<Record<string, string>>,
): Promise<{ readonly pg: PrivatePostgres; close(): void }> {
  if (!privatePostgresPossible())
    throw new Error(`a private PostgreSQL cluster needs ${BIN}/initdb, root and a postgres user`)
  const pg = await PrivatePostgres.create({ settings })
  let closed = false
  const close = () => {
    if (closed) return
    closed = true
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal).off('exit', close)
    pg.destroy()
  }
  const onSignal = (signal: NodeJS.Signals) => {
    close()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal).on('exit', close)
  return { pg, close }
}
