/**
 * Smoke test of the B3 pipeline benchmark's harness (bench/lib/pipeline-harness.ts) on a tiny
 * workload: every workflow completes through Qualink and through the graphile-worker baseline, and
 * the ERP and QMS simulators' records show no duplicate effect and nothing lost. No timing is
 * asserted (performance is for bench/ only). Node-RED is left out: it is installed on demand.
 */
import { describe, expect, it } from 'vitest'
import { startGraphileSut } from '../../bench/lib/pipeline-graphile.ts'
import { closedLoop, type Sims, type SystemUnderTest, startSims } from '../../bench/lib/pipeline-harness.ts'
import { startQualinkSut } from '../../bench/lib/pipeline-qualink.ts'
import { serviceUp } from '../services.ts'

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres'
const N = 5

async function smoke(label: string, start: (sims: Sims) => Promise<SystemUnderTest>) {
  const sims = await startSims(N, `${label}${Date.now().toString(36)}`)
  let sut: SystemUnderTest | undefined
  try {
    sut = await start(sims)
    return await closedLoop(sims, sut, 2, 60_000)
  } finally {
    await sut?.close()
    await sims.close()
  }
}

describe.skipIf(!(await serviceUp('postgres')))('B3 pipeline benchmark harness (tiny workload)', () => {
  for (const [label, start] of [
    ['qualink', (s: Sims) => startQualinkSut(ADMIN_URL, s)],
    ['graphile-worker', (s: Sims) => startGraphileSut(ADMIN_URL, s)],
  ] as const) {
    it(`${label}: ${N} receipts inspected, decided and posted once each`, async () => {
      const r = await smoke(label.slice(0, 2), start)
      expect(r.failures).toEqual([])
      expect(r.completed).toBe(N)
      expect(r.receiptToPostingMs).toHaveLength(N)
      expect(r.decisionToPostingMs).toHaveLength(N)
      expect({ duplicates: r.duplicates, lost: r.lost }).toEqual({ duplicates: 0, lost: 0 })
    })
  }
})
