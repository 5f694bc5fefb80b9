import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ResultRow } from './csv.ts'
import { type LimsSim, startLims } from './server.ts'

let dir: string
let sim: LimsSim

const row = (sampleId: string, value: string): ResultRow => ({
  sampleId,
  lot: 'FG-B1',
  material: 'FG-1',
  analysis: 'pH',
  value,
  unit: 'pH',
  specMin: '6.5',
  specMax: '7.5',
  analyst: 'Doe, J.',
  timestamp: '2025-03-01T10:00:00+01:00',
})
const csvFiles = async () => (await readdir(dir)).filter((f) => f.endsWith('.csv')).sort()

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'qlk-lims-'))
  sim = await startLims({ dir, port: 0 })
})
afterEach(async () => {
  await sim.close()
  await rm(dir, { recursive: true, force: true })
})

describe('lims simulator', () => {
  it('writes a complete CSV with the documented columns and a verdict', async () => {
    const [file] = await sim.writeResults([row('S-1', '7.1'), row('S-2', '8.0')])
    const text = await readFile(file!, 'utf8')
    expect(text.split('\r\n')).toEqual([
      'sample_id,lot,material,analysis,value,unit,spec_min,spec_max,result,analyst,timestamp',
      'S-1,FG-B1,FG-1,pH,7.1,pH,6.5,7.5,PASS,"Doe, J.",2025-03-01T10:00:00+01:00',
      'S-2,FG-B1,FG-1,pH,8.0,pH,6.5,7.5,FAIL,"Doe, J.",2025-03-01T10:00:00+01:00',
      '',
    ])
  })

  it('a half-written file is invisible as *.csv until it is renamed complete', async () => {
    const w = await sim.beginSlowWrite([row('S-3', '7.0'), row('S-4', '7.2')])
    await w.writeHalf()
    expect(await csvFiles()).toEqual([])
    expect(path.basename(w.currentPath)).toMatch(/^\..*\.part$/)
    const final = await w.finish()
    expect(await csvFiles()).toEqual([path.basename(final)])
    expect((await readFile(final, 'utf8')).trimEnd().split('\r\n')).toHaveLength(3)
  })

  it('in-place mode exposes a partial *.csv, as a careless LIMS does', async () => {
    const w = await sim.beginSlowWrite([row('S-5', '7.0'), row('S-6', '7.2')], { inPlace: true })
    await w.writeHalf()
    const partial = await readFile(w.finalPath, 'utf8')
    expect(await csvFiles()).toHaveLength(1)
    expect(partial.endsWith('\r\n')).toBe(false)
    await w.finish()
  })

  it('re-exports a file (duplicate) and writes out of order on demand', async () => {
    sim.faults.set({ duplicateRate: 1, times: 1 })
    const files = await sim.writeResults([row('S-7', '7.0')])
    expect(files).toHaveLength(2)
    expect(await readFile(files[0]!, 'utf8')).toBe(await readFile(files[1]!, 'utf8'))
    sim.faults.set({ outOfOrderRate: 1, times: 1 })
    await sim.writeResults([row('S-8', '7.0')])
    expect(sim.state.files.map((f) => f.name).some((n) => n.includes('S-8'))).toBe(false)
    await sim.writeResults([row('S-9', '7.0')])
    const order = sim.state.files.map((f) => f.name.replace(/^results-\d+-|\.csv$/g, ''))
    expect(order.slice(-2)).toEqual(['S-9', 'S-8'])
  })
})
