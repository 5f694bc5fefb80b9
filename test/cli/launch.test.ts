/**
 * bin/launch.js: `qualink` runs the bundle only while it is at least as new as every source file
 * and the lock file; a source touched after the build sends it back to the sources (never stale).
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { currentBundle as choose } from '../../bin/launch.js'

describe('which program qualink runs', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  /** A package tree with every file dated `at` (seconds since the epoch). */
  function tree(at: number, withBundle: boolean): string {
    const root = mkdtempSync(path.join(os.tmpdir(), 'qlk-launch-'))
    dirs.push(root)
    const files = ['src/cli/main.ts', 'src/store/sqlite/migrations/0001_log.sql', 'simulators/qms/server.ts']
    files.push('package-lock.json')
    if (withBundle) files.push('dist/qualink.js')
    for (const f of files) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true })
      writeFileSync(path.join(root, f), '')
      utimesSync(path.join(root, f), at, at)
    }
    return root
  }
  const touch = (root: string, f: string, at: number) => utimesSync(path.join(root, f), at, at)

  it('runs the bundle built after every source, and the sources once any of them is newer', () => {
    const t = 1_800_000_000
    const root = tree(t, true)
    touch(root, 'dist/qualink.js', t + 10)
    expect(choose(root)).toBe(path.join(root, 'dist', 'qualink.js'))
    for (const [f, i] of [
      ['src/store/sqlite/migrations/0001_log.sql', 1],
      ['simulators/qms/server.ts', 2],
      ['package-lock.json', 3],
    ] as const) {
      touch(root, f, t + 10 + i)
      expect(choose(root), `${f} newer than the bundle`).toBeUndefined()
      touch(root, 'dist/qualink.js', t + 10 + i) // rebuilt
      expect(choose(root)).toBe(path.join(root, 'dist', 'qualink.js'))
    }
  })

  it('runs the sources when there is no bundle', () => {
    expect(choose(tree(1_800_000_000, false))).toBeUndefined()
  })
})
