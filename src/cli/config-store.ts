/**
 * The store a configuration names, opened the way `qualink start` chooses it: DATABASE_URL over
 * server.databaseUrl; QUALINK_DATA_DIR over server.dataDir over ./data for embedded SQLite. On
 * SQLite the file belongs to one process, so a command run beside a server gets QLK_STORE_LOCKED.
 */
import os from 'node:os'
import path from 'node:path'
import type { LoadedConfig } from '../config/load.ts'
import { resolveSecret } from '../config/secrets.ts'
import { type FieldProblem, QualinkError } from '../contracts/errors.ts'
import { openStore } from '../store/open.ts'
import type { Store } from '../store/types.ts'

export async function openConfiguredStore(
  loaded: LoadedConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Store> {
  const server = loaded.config.server ?? {}
  const problems: FieldProblem[] = []
  const databaseUrl =
    env.DATABASE_URL ||
    (server.databaseUrl
      ? resolveSecret(server.databaseUrl, '/server/databaseUrl', env, loaded.baseDir, problems)
      : undefined)
  if (problems.length > 0)
    throw new QualinkError(
      'QLK_CONFIG_INVALID',
      `${loaded.files.join(' + ')}: cannot open the store`,
      problems,
    )
  const dataDir =
    env.QUALINK_DATA_DIR ?? (server.dataDir ? path.resolve(loaded.baseDir, server.dataDir) : './data')
  return openStore({ databaseUrl, sqliteFile: path.join(dataDir, 'qualink.db'), readWorkers: 0 })
}

/** Who runs a command, for the audit trail: QUALINK_OPERATOR, else the login name. */
export function operator(env: NodeJS.ProcessEnv = process.env): string {
  if (env.QUALINK_OPERATOR) return env.QUALINK_OPERATOR
  try {
    return os.userInfo().username
  } catch {
    return 'unknown-operator'
  }
}
