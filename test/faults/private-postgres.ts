import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { type Qualink, type QualinkOptions, startQualink } from '../../src/server/qualink.ts'
import { freePort } from '../services.ts'

const BIN = '/usr/lib/postgresql/15/bin'

/** True when this machine can run a private PostgreSQL cluster (binaries, a postgres user, root). */
export function privatePostgresPossible(): boolean {
  return existsSync(`${BIN}/initdb`) && typeof process.getuid === 'function' && process.getuid() === 0
}

/**
 * A silent Qualink on `databaseUrl` (any port) with a fresh data directory named after the fault
 * (`qlk-f3-…`); `extra` adds workflows, ports, or `runEngine: false` for an ingest-only process.
 */
export async function startQualinkOnPostgres(
  databaseUrl: string,
  fault: string,
  extra: Partial<QualinkOptions> = {},
): Promise<Qualink> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `qlk-${fault}-`))
  const q = await startQualink({
    databaseUrl,
    dataDir,
    port: 0,
    logger: pino({ level: 'silent' }),
    ...extra,
  }).catch((e: unknown) => {
    rmSync(dataDir, { recursive: true, force: true })
    throw e
  })
  // The data directory holds only this process's files (anchors, keys): gone once it is closed.
  return {
    ...q,
    close: () => q.close().finally(() => rmSync(dataDir, { recursive: true, force: true })),
  }
}

function uid(name: string): number {
  return Number(execFileSync('id', ['-u', name]).toString().trim())
}

/**
 * A throwaway PostgreSQL cluster on its own port, owned by the `postgres` user (initdb and
 * postgres refuse to run as root), for tests that restart or kill the database. The shared
 * service on 5432 is never touched.
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

  /** `beforeInit` prepares the cluster's folder first (e.g. mounts a small filesystem on it). */
  static async create(beforeInit?: (dir: string) => void): Promise<PrivatePostgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-pg-'))
    beforeInit?.(dir)
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
    pg.start()
    return pg
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
