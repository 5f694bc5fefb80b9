import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { SIMULATORS, startSimulator } from './index.ts'

describe('startSimulator', () => {
  it('starts every HTTP simulator by name with the admin endpoints', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'qlk-sims-'))
    try {
      for (const name of SIMULATORS.filter((n) => n !== 'mes')) {
        const sim = await startSimulator(name, { port: 0, dir: path.join(dir, name) })
        try {
          const res = await fetch(`${sim.url}/__sim/faults`, {
            method: 'PUT',
            body: JSON.stringify({ latencyMs: 1, seed: 3 }),
          })
          expect(res.status, name).toBe(200)
          expect(sim.faults.get().latencyMs, name).toBe(1)
          expect((await fetch(`${sim.url}/__sim/state`)).status, name).toBe(200)
        } finally {
          await sim.close()
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses an unknown name', async () => {
    await expect(startSimulator('nope' as never)).rejects.toThrow(/unknown simulator/)
  })
})
