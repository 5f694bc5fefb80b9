import { PostgresStore } from './postgres/store.ts'
import { SqliteStore } from './sqlite/store.ts'
import type { Store } from './types.ts'

export interface StoreConfig {
  /** postgres://… selects PostgreSQL; otherwise the embedded SQLite file is used */
  readonly databaseUrl?: string
  readonly sqliteFile?: string
  readonly readWorkers?: number
}

export const DEFAULT_SQLITE_FILE = './data/qualink.db'

export async function openStore(cfg: StoreConfig): Promise<Store> {
  if (cfg.databaseUrl && /^postgres(ql)?:\/\//.test(cfg.databaseUrl)) {
    return PostgresStore.open({ connectionString: cfg.databaseUrl })
  }
  return SqliteStore.open({ file: cfg.sqliteFile ?? DEFAULT_SQLITE_FILE, readWorkers: cfg.readWorkers })
}
