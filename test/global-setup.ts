import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { PostgresStore } from '../src/store/postgres/store.ts'
import { SqliteStore } from '../src/store/sqlite/store.ts'
import { buildBundle } from './bundle.ts'
import { checkServices, PG_ADMIN_URL, uniqueName } from './services.ts'

/**
 * Probes the local services once per `npm test`. With CI=true every service a suite needs is
 * required: an unreachable one fails the run here, before any suite can skip it. With PostgreSQL
 * up it also migrates one database that suites asking for `createTestDatabase(d, { migrated: true })`
 * copy (test/dialects.ts), and drops it when the run ends. The same suites copy a SQLite file
 * migrated here as well, removed when the run ends. And it bundles the qualink command once, for
 * every test that spawns it (test/bundle.ts), removed when the run ends. And it fails the run when
 * a test wrote into the checkout's ./data (the demo's folder): a Qualink started without a data
 * folder of its own puts its audit anchors there, and the next `npm start` then finds another
 * chain's anchors and reports its own chain as rewritten (seen once: a relay process on PostgreSQL).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const report = await checkServices()
  const down = report.filter((s) => !s.up)
  project.provide('pgMigratedTemplate', '')
  if (down.length > 0) {
    const names = down.map((s) => `${s.name} (${s.address})`).join(', ')
    if (process.env.CI === 'true') {
      throw new Error(`CI=true and these services are unreachable: ${names}. .ci/run must start them.`)
    }
    console.warn(`\n*** NOTICE: services unreachable, their suites will be SKIPPED: ${names} ***\n`)
  }
  const sqliteDir = mkdtempSync(path.join(os.tmpdir(), 'qualink-template-'))
  const sqliteTemplate = path.join(sqliteDir, 'qualink.db')
  // closing the only connection checkpoints the WAL into the file: a plain copy of it is complete
  await SqliteStore.open({ file: sqliteTemplate, readWorkers: 0 }).close()
  project.provide('sqliteMigratedTemplate', sqliteTemplate)
  const bundle = await buildBundle()
  project.provide('qualinkBundle', bundle.entry)
  const checkoutData = path.resolve(import.meta.dirname, '..', 'data')
  const hadData = existsSync(checkoutData)
  const removeFiles = async () => {
    rmSync(sqliteDir, { recursive: true, force: true })
    bundle.remove()
    if (!hadData && existsSync(checkoutData)) {
      const files = readdirSync(checkoutData).join(', ')
      rmSync(checkoutData, { recursive: true, force: true })
      process.exitCode = 1 // vitest only prints an error thrown here ("error during close")
      throw new Error(`a test wrote into ${checkoutData} (${files}); give it a data folder of its own`)
    }
  }
  if (!report.some((s) => s.name === 'postgres' && s.up)) return removeFiles
  const template = uniqueName('qlk_tpl').toLowerCase()
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL })
    await c.connect()
    try {
      await c.query(sql)
    } finally {
      await c.end()
    }
  }
  await admin(`CREATE DATABASE ${template}`)
  const store = await PostgresStore.open({
    connectionString: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${template}`),
  })
  await store.close()
  project.provide('pgMigratedTemplate', template)
  return async () => {
    try {
      await admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`)
    } finally {
      await removeFiles() // last: it throws when a test wrote into ./data
    }
  }
}
