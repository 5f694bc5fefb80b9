/**
 * Rules benchmark: all 8 Nelson rules over a 10,000-point series, and sampling-plan lookups per second,
 * each beside its baseline in the same run. Plain script (tsx bench/rules.bench.ts); no assertions on
 * time. Baselines:
 * - run rules: a naive evaluator that re-scans each rule's whole window at every point (O(n·N)), the way
 *   a direct reading of the rule text is usually coded; its violation count must equal ours.
 * - sampling: the same lookup walking the arrows of the master table on every call instead of reading
 *   the table resolved once at load.
 */
import os from 'node:os'
import { codeLetter } from '../src/rules/sampling/code-letters.ts'
import {
  masterTable,
  normalizeAql,
  type Severity,
  samplingPlan,
  walkArrows,
} from '../src/rules/sampling/plans.ts'
import { AQLS, INSPECTION_LEVELS, type InspectionLevel } from '../src/rules/sampling/tables.ts'
import { evaluateRunRules, nelsonRules, type RunRule } from '../src/rules/spc/run-rules.ts'
import { describeMachine } from './lib/machine.ts'
import { writeResultsRow } from './lib/readme.ts'

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const rand = rng(42)
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
const N = 10_000
// in-control noise with a few shifts and a trend so that every rule has work to report
const values = Array.from(
  { length: N },
  (_, i) => gauss() + (i % 2000 > 1900 ? 1.5 : 0) + (i % 3000 < 8 ? i % 3000 : 0) * 0.4,
)
const series = { values, center: 0, sigma: 1 }
const rules = nelsonRules()

function naive(xs: readonly number[], rs: readonly RunRule[]): number {
  let count = 0
  for (let i = 0; i < xs.length; i++) {
    for (const r of rs) {
      const p = r.pattern
      const n = p.kind === 'beyond' ? 1 : p.n
      if (i - n + 1 < 0) continue
      const w = xs.slice(i - n + 1, i + 1)
      const d = w.slice(1).map((x, j) => x - w[j]!)
      let hit = false
      switch (p.kind) {
        case 'beyond':
          hit = Math.abs(xs[i]!) > p.k
          break
        case 'm-of-n-beyond': {
          const up = w.filter((x) => x > p.k).length
          const down = w.filter((x) => x < -p.k).length
          hit = (xs[i]! > p.k && up >= p.m) || (xs[i]! < -p.k && down >= p.m)
          break
        }
        case 'run-same-side':
          hit = w.every((x) => x > 0) || w.every((x) => x < 0)
          break
        case 'trend':
          hit = d.every((x) => x > 0) || d.every((x) => x < 0)
          break
        case 'alternating':
          hit = d.every((x, j) => x !== 0 && (j === 0 || x * d[j - 1]! < 0))
          break
        case 'run-within':
          hit = w.every((x) => Math.abs(x) < p.k)
          break
        case 'run-outside':
          hit =
            w.every((x) => Math.abs(x) > p.k) &&
            (!p.requireBothSides || (w.some((x) => x > p.k) && w.some((x) => x < -p.k)))
          break
      }
      if (hit) count++
    }
  }
  return count
}

function time(label: string, reps: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(reps, 3); i++) fn()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < reps; i++) fn()
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / reps
  console.log(`  ${label.padEnd(52)} ${ms.toFixed(3).padStart(9)} ms/op`)
  return ms
}

console.log(
  `machine: ${os.cpus()[0]?.model ?? 'unknown cpu'}, nproc ${os.availableParallelism()}, node ${process.version}`,
)
console.log(`\nNelson rules 1–8 over ${N} points`)
const ours = evaluateRunRules(series, rules).length
const theirs = naive(values, rules)
console.log(`  violations: ours ${ours}, naive ${theirs}${ours === theirs ? ' (agree)' : ' (DISAGREE)'}`)
const tOurs = time('evaluateRunRules (one pass per rule)', 50, () => evaluateRunRules(series, rules))
const tNaive = time('baseline: re-scan every window at every point', 5, () => naive(values, rules))
console.log(`  ratio: ${(tNaive / tOurs).toFixed(1)}× faster than baseline`)

const severities: Severity[] = ['normal', 'tightened', 'reduced']
const LOOKUPS = 200_000
const requests = Array.from({ length: LOOKUPS }, () => ({
  lotSize: 2 + Math.floor(rand() ** 3 * 600_000),
  level: INSPECTION_LEVELS[Math.floor(rand() * INSPECTION_LEVELS.length)] as InspectionLevel,
  aql: AQLS[Math.floor(rand() * AQLS.length)]!,
  severity: severities[Math.floor(rand() * 3)]!,
}))
const LETTERS = 'ABCDEFGHJKLMNPQR'
function walking(r: (typeof requests)[number]) {
  const letter = codeLetter(r.lotSize, r.level)
  const plan = walkArrows(masterTable(r.severity), LETTERS.indexOf(letter), AQLS.indexOf(normalizeAql(r.aql)))
  return { ...plan, hundredPercent: plan.sampleSize >= r.lotSize }
}
console.log(`\nSampling-plan lookups (${LOOKUPS} random lot size × level × AQL × severity)`)
const tPlan = time('samplingPlan (arrows resolved at load)', 10, () => {
  for (const r of requests) samplingPlan(r)
})
const tWalk = time('baseline: walk the arrows on every lookup', 10, () => {
  for (const r of requests) walking(r)
})
console.log(`  samplingPlan: ${Math.round((LOOKUPS / tPlan) * 1000).toLocaleString('en')} lookups/s`)
console.log(`  baseline:     ${Math.round((LOOKUPS / tWalk) * 1000).toLocaleString('en')} lookups/s`)
console.log(`  ratio: ${(tWalk / tPlan).toFixed(2)}×`)

// Its row of bench/RESULTS.md (the README section above stays hand-written: it compares two runs).
writeResultsRow(
  'rules',
  'Quality rules: Nelson rules 1–8 over 10,000 points, sampling-plan lookups',
  `Nelson rules ${tOurs.toFixed(1)} ms (${(tNaive / tOurs).toFixed(1)}× the re-scan baseline, ${ours === theirs ? 'same' : 'DIFFERENT'} violations); ${Math.round((LOOKUPS / tPlan) * 1000).toLocaleString('en')} sampling lookups/s (${(tWalk / tPlan).toFixed(2)}× walking the arrows)`,
  await describeMachine(),
)
