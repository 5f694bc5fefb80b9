import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startLims } from '../../simulators/index.ts'
import { type FileDrop, startFileDrop } from '../../src/connectors/ingress/file-drop.ts'
import { startPollingFeed } from '../../src/connectors/ingress/polling-feed.ts'
import { checkLimsFile, limsCsvTranslator } from '../../src/connectors/lims/csv/translator.ts'
import { catalogue } from '../../src/contracts/catalogue.ts'
import { EventRegistry } from '../../src/contracts/registry.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL } from '../engine/harness.ts'

const row = (sampleId: string, value: string) => ({
  sampleId,
  lot: 'F-9001',
  material: 'M-900',
  analysis: 'hardness',
  value,
  unit: 'HRC',
  specMin: '55',
  specMax: '60',
  analyst: 'lab.tech',
  timestamp: '2026-11-27T08:00:00Z',
})

describe('file-drop ingress with the LIMS simulator', () => {
  let db: TestDatabase
  let store: Store
  let drop: FileDrop
  let now = 0

  beforeEach(async () => {
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
    drop = startFileDrop(
      {
        name: 'lims',
        plant: 'P100',
        dir: path.join(db.dir, 'lims'),
        pollMs: 60_000,
        settleMs: 2000,
        clock: () => now,
        check: checkLimsFile,
      },
      (d) => store.insertRawDelivery(d),
    )
  })
  afterEach(async () => {
    await drop?.close()
    await store?.close()
    await db?.cleanup()
  })

  const raws = () => store.ingress.listRawDeliveries(ALL, { limit: 100 })

  it('takes a file only once it is complete, then moves it to processed/', async () => {
    const lims = await startLims({ dir: path.join(db.dir, 'lims') })
    try {
      // A LIMS that writes in place: the half file has the final name.
      const slow = await lims.beginSlowWrite([row('S1', '57.1'), row('S2', '58.0')], { inPlace: true })
      await slow.writeHalf()
      now = Date.now() + 500 // the writer paused half a second: unchanged, but not settled
      await drop.scanOnce()
      await drop.scanOnce()
      expect(await raws()).toEqual([]) // still being written: never read early
      const finalPath = await slow.finish()
      now = Date.now() + 2500
      await drop.scanOnce() // sees the new size
      const { stored } = await drop.scanOnce() // unchanged and settled: complete
      expect(stored).toEqual([path.basename(finalPath)])
      expect(existsSync(path.join(db.dir, 'lims', 'processed', path.basename(finalPath)))).toBe(true)
      const [raw] = await raws()
      const events = await limsCsvTranslator('lims').translate(raw!, {
        resolve: async () => undefined,
        reverse: async () => undefined,
      })
      const registry = new EventRegistry(catalogue)
      expect(events.map((e) => registry.validate(e).data)).toMatchObject([
        {
          sample: 'S1',
          lot: 'F-9001',
          tests: [{ characteristic: 'HARDNESS', value: '57.1', result: 'pass' }],
        },
        { sample: 'S2' },
      ])
    } finally {
      await lims.close()
    }
  })

  it('rejects a file with a bad row whole, naming the line, and stores nothing', async () => {
    const lims = await startLims({ dir: path.join(db.dir, 'lims') })
    try {
      const [file] = await lims.writeResults([row('S1', '57.1'), row('S2', 'n/a')])
      const name = path.basename(file!)
      now = Date.now() + 2500
      // The drop's own first scan may already have seen the file, so it can be taken on
      // either of these two passes; it must be rejected exactly once.
      const rejected = [...(await drop.scanOnce()).rejected, ...(await drop.scanOnce()).rejected]
      expect(rejected).toEqual([name])
      expect(await raws()).toEqual([])
      const report = JSON.parse(
        readFileSync(path.join(db.dir, 'lims', 'failed', `${name}.error.json`), 'utf8'),
      )
      expect(report.problems[0].message).toMatch(/^line 3: value 'n\/a' is not a decimal number/)
    } finally {
      await lims.close()
    }
  })
})

describe('polling feed with a durable cursor', () => {
  it('stores items, advances the cursor after them, and resumes from it', async () => {
    const db = await createTestDatabase('sqlite', { migrated: true })
    const store = await db.open()
    try {
      const feed = Array.from({ length: 5 }, (_, i) => ({
        id: `GR-${i + 1}`,
        cursor: String(i + 1),
        body: Buffer.from(`{"n":${i + 1}}`),
      }))
      let available = 3
      const cfg = {
        name: 'erp-gr-feed',
        plant: 'P100',
        pollMs: 60_000,
        fetch: async (cursor: string | null) => feed.slice(Number(cursor ?? 0), available),
      }
      const a = startPollingFeed(cfg, store, () => {})
      await a.pollOnce()
      await a.close()
      expect(await store.ingress.getCursor('erp-gr-feed')).toBe('3')
      available = 5
      const b = startPollingFeed(cfg, store, () => {})
      await b.pollOnce()
      await b.close()
      const raws = await store.ingress.listRawDeliveries(ALL, { limit: 100 })
      expect(raws.map((r) => r.deliveryId)).toEqual(['GR-1', 'GR-2', 'GR-3', 'GR-4', 'GR-5'])
      // Re-reading from an older cursor (crash before the cursor moved) stores nothing twice.
      await store.ingress.setCursor('erp-gr-feed', '1')
      const c = startPollingFeed(cfg, store, () => {})
      await c.pollOnce()
      await c.close()
      expect(await store.ingress.listRawDeliveries(ALL, { limit: 100 })).toHaveLength(5)
      writeFileSync(path.join(db.dir, 'touch'), '')
    } finally {
      await store.close()
      await db.cleanup()
    }
  })
})
