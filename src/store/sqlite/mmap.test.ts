import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_MMAP_SIZE, SqliteStore } from './store.ts'

/** The store reads through a memory map (SqliteOptions.mmapSize) unless told not to. */
describe('SQLite store memory map', () => {
  const dirs: string[] = []
  const file = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-mmap-'))
    dirs.push(dir)
    return path.join(dir, 'qualink.db')
  }
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const mapped = async (s: SqliteStore) => Number((await s.sql.all('PRAGMA mmap_size'))[0]?.mmap_size)

  it('maps DEFAULT_MMAP_SIZE bytes by default, and what mmapSize says otherwise (0: none)', async () => {
    const a = SqliteStore.open({ file: file() })
    const b = SqliteStore.open({ file: file(), mmapSize: 0 })
    try {
      expect(DEFAULT_MMAP_SIZE).toBe(1024 * 1024 * 1024)
      expect(await mapped(a)).toBe(DEFAULT_MMAP_SIZE)
      expect(await mapped(b)).toBe(0)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('refuses a size that is not a whole number of bytes ≥ 0, naming the option, and leaves the file unlocked', async () => {
    const f = file()
    for (const bad of [-1, 1.5, Number.NaN])
      expect(() => SqliteStore.open({ file: f, mmapSize: bad })).toThrow(
        expect.objectContaining({ code: 'QLK_CONFIG_INVALID', message: expect.stringContaining('mmapSize') }),
      )
    const s = SqliteStore.open({ file: f })
    await s.close()
  })
})
