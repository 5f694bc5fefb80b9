import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { ReadPool } from './read-pool.ts'
import { SqliteStore } from './store.ts'

/** The read workers: a query in flight keeps the process alive; a closed pool answers nothing late. */
describe('SQLite read pool', () => {
  const dirs: string[] = []
  const dir = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'qlk-readpool-'))
    dirs.push(d)
    return d
  }
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('a process whose only pending work is a pool read waits for the answer', async () => {
    const d = dir()
    await SqliteStore.open({ file: path.join(d, 'q.db') }).close()
    // A script that awaits nothing but a read on the worker thread (listEvents reads there).
    const script = path.join(d, 'read.mts')
    const store = pathToFileURL(path.resolve('src/store/sqlite/store.ts')).href
    writeFileSync(
      script,
      `import { SqliteStore } from ${JSON.stringify(store)}
const s = SqliteStore.open({ file: ${JSON.stringify(path.join(d, 'q.db'))}, readWorkers: 1 })
const rows = await s.eventCounts({ allPlants: true, reason: 'test' })
console.log('answered', rows.length)
await s.close()
`,
    )
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 })
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toBe('answered 0')
    expect(r.status).toBe(0)
  })

  it('close() rejects a query still in flight instead of leaving it unanswered', async () => {
    const d = dir()
    const file = path.join(d, 'q.db')
    await SqliteStore.open({ file }).close()
    const pool = new ReadPool(file, 1)
    // A recursive count long enough to still be running when the pool closes.
    const slow = pool.query(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000000) SELECT count(*) AS c FROM n',
      [],
    )
    await new Promise((r) => setTimeout(r, 50))
    await pool.close()
    const unanswered = new Promise((resolve) =>
      setTimeout(() => resolve('still pending after 5 s'), 5000).unref(),
    )
    await expect(Promise.race([slow, unanswered])).rejects.toThrow(/read worker exited/)
  })
})
