/** bench/RESULTS.md is rewritten row by row: a benchmark replaces its own row and machine section only. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { MachineDescription } from '../../bench/lib/machine.ts'
import { writeResultsRow } from '../../bench/lib/readme.ts'

const machine = (date: string): MachineDescription => ({
  date,
  nproc: 2,
  cpuModel: 'Test CPU',
  memGiB: 4,
  loadAvgAtStart: [0.5, 0.4, 0.3],
  node: 'v20.0.0',
  sqlite: '3.0.0',
  git: 'abc1234',
})

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('writeResultsRow', () => {
  it('adds rows sorted by key, replaces a benchmark’s own row and machine section, keeps the others', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-results-'))
    dirs.push(dir)
    const file = path.join(dir, 'RESULTS.md')
    writeResultsRow(
      'pipeline',
      'B3',
      'first | run',
      machine('2026-01-01T10:00:00.000Z'),
      undefined,
      undefined,
      file,
    )
    writeResultsRow(
      'engine',
      'Kernel II',
      'drain | 1',
      machine('2026-01-02T10:00:00.000Z'),
      undefined,
      ['fdatasync 1 ops/sec'],
      file,
    )
    writeResultsRow(
      'pipeline',
      'B3',
      'second run',
      machine('2026-01-03T10:00:00.000Z'),
      undefined,
      undefined,
      file,
    )
    const text = readFileSync(file, 'utf8')
    const rows = text.split('\n').filter((l) => l.startsWith('| `'))
    expect(rows).toEqual([
      '| `engine` | Kernel II | drain \\| 1 | 2026-01-02 10:00 UTC, load 0.5 on 2 cores | abc1234 |',
      '| `pipeline` | B3 | second run | 2026-01-03 10:00 UTC, load 0.5 on 2 cores | abc1234 |',
    ])
    expect(text).not.toContain('first')
    expect(text.match(/^## Machine: pipeline$/gm)).toHaveLength(1)
    expect(text).toContain('pg_test_fsync one 8 kB write: fdatasync 1 ops/sec')
    expect(text.startsWith('# Benchmark results\n')).toBe(true)
  })
})
