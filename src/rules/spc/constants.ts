/**
 * Control-chart constants computed from the normal distribution, not copied from a table: public
 * tables carry typos (e.g. n = 11 D4 printed 1.774 for 1.744, quality-domain.md §4.2). The tests compare
 * the results with published tables.
 *
 * d2(n) = E[range of n standard normals]      = ∫ 1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ dx
 * d3(n) = SD[range],  E[W²] = ∫₀^∞ 2w P(W > w) dw,  P(W ≤ w) = n ∫ φ(x) (Φ(x + w) − Φ(x))ⁿ⁻¹ dx
 * c4(n) = √(2/(n−1)) Γ(n/2) / Γ((n−1)/2)
 * Derived (SAS QC function reference, quality-domain.md §4.2): A2 = 3/(d2√n), D3 = max(0, 1 − 3d3/d2),
 * D4 = 1 + 3d3/d2, A3 = 3/(c4√n), B3 = max(0, 1 − 3√(1−c4²)/c4), B4 = 1 + 3√(1−c4²)/c4, E2 = 3/d2(2).
 */
import { invalid, requireInteger } from '../validation.ts'

export const MAX_SUBGROUP_SIZE = 100

const SQRT2 = Math.SQRT2
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI)

/** erfc with ~1e-15 relative accuracy: Taylor series of erf below 3, continued fraction above. */
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x)
  if (x < 3) {
    let term = x
    let sum = x
    const x2 = x * x
    for (let k = 1; k < 200; k++) {
      term *= -x2 / k
      const add = term / (2 * k + 1)
      sum += add
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum
  }
  // Lentz's evaluation of erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …))))
  let f = x
  let c = x
  let d = 0
  for (let k = 1; k < 300; k++) {
    const a = k / 2
    d = x + a * d
    d = d === 0 ? 1e-300 : 1 / d
    c = x + a / c
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f)
}

/** Standard normal cumulative distribution Φ. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / SQRT2)
}

export function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x)
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]

/** ln Γ(x) for x ≥ 0.5 (Lanczos, g = 7). */
export function logGamma(x: number): number {
  const z = x - 1
  let a = LANCZOS[0]!
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i)
  const t = z + 7.5
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a)
}

// Step and span of the quadrature grid. With h = 0.01 the results agree with the published 4-decimal
// tables to well under 1e-5 (checked in constants.test.ts); the grid covers ±8σ, beyond which Φ's tail
// contributes < 1e-15.
const H = 0.01
const SPAN = 8
const MAX_RANGE = 12

let phiGrid: Float64Array | null = null
function phiOnGrid(): Float64Array {
  if (phiGrid) return phiGrid
  const points = Math.round((2 * SPAN + MAX_RANGE) / H) + 1
  phiGrid = new Float64Array(points)
  for (let i = 0; i < points; i++) phiGrid[i] = normalCdf(-SPAN + i * H)
  return phiGrid
}

function checkSize(n: number): void {
  requireInteger('/subgroupSize', n, 2)
  if (n > MAX_SUBGROUP_SIZE) invalid('/subgroupSize', `must be at most ${MAX_SUBGROUP_SIZE}`)
}

const d2Cache = new Map<number, number>()
const d3Cache = new Map<number, number>()

export function d2(n: number): number {
  checkSize(n)
  const hit = d2Cache.get(n)
  if (hit !== undefined) return hit
  const phi = phiOnGrid()
  const last = Math.round((2 * SPAN) / H)
  let sum = 0
  for (let i = 0; i <= last; i++) {
    const p = phi[i]!
    const f = 1 - p ** n - (1 - p) ** n
    sum += i === 0 || i === last ? f / 2 : f
  }
  const value = sum * H
  d2Cache.set(n, value)
  return value
}

export function d3(n: number): number {
  checkSize(n)
  const hit = d3Cache.get(n)
  if (hit !== undefined) return hit
  const phi = phiOnGrid()
  const xs = Math.round((2 * SPAN) / H)
  const ws = Math.round(MAX_RANGE / H)
  const pdf = new Float64Array(xs + 1)
  for (let i = 0; i <= xs; i++) pdf[i] = normalPdf(-SPAN + i * H)
  let second = 0
  for (let j = 0; j <= ws; j++) {
    let cdf = 0
    for (let i = 0; i <= xs; i++) {
      const f = pdf[i]! * (phi[i + j]! - phi[i]!) ** (n - 1)
      cdf += i === 0 || i === xs ? f / 2 : f
    }
    const tail = 1 - n * cdf * H
    // Simpson's rule in w: the integrand starts at w = 0 where trapezoid error would dominate
    const weight = j === 0 || j === ws ? 1 : j % 2 === 1 ? 4 : 2
    second += weight * 2 * (j * H) * tail
  }
  const meanSquare = (second * H) / 3
  const mean = d2(n)
  const value = Math.sqrt(meanSquare - mean * mean)
  d3Cache.set(n, value)
  return value
}

export function c4(n: number): number {
  checkSize(n)
  return Math.sqrt(2 / (n - 1)) * Math.exp(logGamma(n / 2) - logGamma((n - 1) / 2))
}

export interface ChartConstants {
  readonly n: number
  readonly d2: number
  readonly d3: number
  readonly c4: number
  readonly A2: number
  readonly A3: number
  readonly D3: number
  readonly D4: number
  readonly B3: number
  readonly B4: number
}

export function chartConstants(n: number): ChartConstants {
  const dd2 = d2(n)
  const dd3 = d3(n)
  const cc4 = c4(n)
  const c5 = Math.sqrt(1 - cc4 * cc4)
  return {
    n,
    d2: dd2,
    d3: dd3,
    c4: cc4,
    A2: 3 / (dd2 * Math.sqrt(n)),
    A3: 3 / (cc4 * Math.sqrt(n)),
    D3: Math.max(0, 1 - (3 * dd3) / dd2),
    D4: 1 + (3 * dd3) / dd2,
    B3: Math.max(0, 1 - (3 * c5) / cc4),
    B4: 1 + (3 * c5) / cc4,
  }
}
