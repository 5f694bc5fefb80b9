import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { type Qualink, type QualinkOptions, startQualink } from '../../src/server/qualink.ts'

// One implementation, shared with the benchmarks that need server settings of their own.
export { PrivatePostgres, privatePostgresPossible } from '../../bench/lib/private-postgres.ts'

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
