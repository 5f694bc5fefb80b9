/**
 * Issue 11: a singleton's duty moves to another process when its holder dies. Two real
 * `qualink start --role relay` processes on one PostgreSQL database watch the same LIMS folder
 * (a lease-fenced singleton); the holder is killed with SIGKILL; the other takes the folder over
 * once the lease lapses, and every file is stored exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLims } from '../../simulators/index.ts'
import type { Store } from '../../src/store/types.ts'
import { qualinkArgs } from '../bundle.ts'
import { baseDoc, TempDir } from '../config/fixture.ts'
import { AVAILABLE, createTestDatabase, type TestDatabase } from '../dialects.ts'
import { freePort } from '../services.ts'
import { ALL, limsHardnessRow, until } from './harness.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

describe.skipIf(!AVAILABLE.postgres)('singleton takeover between two relay processes', () => {
  let db: TestDatabase
  let store: Store
  let tmp: TempDir
  const procs: ChildProcess[] = []

  const relay = async (config: string) => {
    const port = await freePort()
    const child = spawn(
      process.execPath,
      qualinkArgs('start', '--role', 'relay', '--config', config, '--port', String(port)),
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: db.location,
          // its own data folder: the anchor file would otherwise land in the checkout's ./data,
          // where a later `npm start` would find another chain's anchors
          QUALINK_DATA_DIR: tmp.dir,
          QUALINK_LOG_LEVEL: 'warn',
          ERP_SECRET: 'x',
          ERPNEXT_KEY: 'k',
          ERPNEXT_SECRET: 's',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    )
    procs.push(child)
    await until(
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true,
    )
    return child
  }
  const holder = async () =>
    (await store.sql.all('SELECT owner, token FROM leases WHERE name = ?', ['ingress:lims-p100']))[0] as
      | { owner: string; token: number }
      | undefined
  const raws = () => store.ingress.listRawDeliveries(ALL, { limit: 10 })

  beforeAll(async () => {
    db = await createTestDatabase('postgres')
    store = await db.open()
    tmp = new TempDir()
  })
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL')
    await store?.close()
    await db?.cleanup()
    tmp?.remove()
  })

  it('moves the watched folder to the surviving process within seconds; each file stored once', async () => {
    const drop = path.join(tmp.dir, 'drop')
    mkdirSync(drop)
    const doc = baseDoc()
    doc.server = { singletonLeaseMs: 1500 }
    const ingress = doc.ingress as { fileDrops: Record<string, Record<string, unknown>> }
    ingress.fileDrops['lims-p200'] = {
      ...ingress.fileDrops['lims-p200'],
      dir: './drop',
      pollMs: 100,
      settleMs: 50,
    }
    ingress.fileDrops['lims-p100'] = {
      plant: 'P100',
      translator: 'lims-csv',
      dir: './drop',
      pollMs: 100,
      settleMs: 50,
    }
    delete ingress.fileDrops['lims-p200']
    delete (doc.plants as Record<string, Record<string, unknown>>).P200!.lims
    const config = tmp.write('qualink.yaml', doc)
    const a = await relay(config)
    const b = await relay(config)
    await until(async () => (await holder()) !== undefined)
    const first = (await holder())!
    const lims = await startLims({ dir: drop })
    try {
      await lims.writeResults([limsHardnessRow('S1')])
      await until(async () => (await raws()).length === 1)
      // kill whichever process holds the folder's lease
      const victim = [a, b].find((p) => first.owner.startsWith(`${p.pid}@`))!
      const survivor = victim === a ? b : a
      victim.kill('SIGKILL')
      await lims.writeResults([limsHardnessRow('S2')])
      await until(async () => (await raws()).length === 2, 20_000)
      const now = (await holder())!
      expect(now.owner.startsWith(`${survivor.pid}@`)).toBe(true)
      expect(now.token).toBeGreaterThan(first.token)
      expect(new Set((await raws()).map((r) => r.deliveryId)).size).toBe(2)
    } finally {
      await lims.close()
    }
  }, 60_000)
})
