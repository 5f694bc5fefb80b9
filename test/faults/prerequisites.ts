/**
 * What each fault scenario needs from the machine, as a reason string when it is missing (for
 * `faultDescribe` in report.ts), or undefined when it is there.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { serviceUp } from '../services.ts'

const PG_BIN = '/usr/lib/postgresql/15/bin'
export const NATS_BIN = '/usr/sbin/nats-server'

/** A private PostgreSQL cluster (bench/lib/private-postgres.ts): the binaries, root, and a postgres user. */
export function privatePostgresMissing(): string | undefined {
  if (!existsSync(`${PG_BIN}/initdb`)) return `no ${PG_BIN}/initdb (apt-get install postgresql-15)`
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'not root: a private cluster is started as the postgres user through runuser'
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'pipe' })
  } catch {
    return 'no postgres user on this machine'
  }
  return undefined
}

export function natsServerMissing(): string | undefined {
  return existsSync(NATS_BIN) ? undefined : `no ${NATS_BIN} (apt-get install nats-server)`
}

export async function sharedPostgresMissing(): Promise<string | undefined> {
  return (await serviceUp('postgres')) ? undefined : 'the local PostgreSQL on 127.0.0.1:5432 is not answering'
}
