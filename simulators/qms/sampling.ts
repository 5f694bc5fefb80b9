/**
 * Default sample size when the caller gives none: ANSI/ASQ Z1.4 Table I, general inspection
 * level II, normal inspection (quality-domain.md §4.1), capped at the lot size (100 % inspection).
 */
const LEVEL_II: ReadonlyArray<readonly [maxLotSize: number, sampleSize: number]> = [
  [8, 2],
  [15, 3],
  [25, 5],
  [50, 8],
  [90, 13],
  [150, 20],
  [280, 32],
  [500, 50],
  [1200, 80],
  [3200, 125],
  [10000, 200],
  [35000, 315],
  [150000, 500],
  [500000, 800],
  [Number.POSITIVE_INFINITY, 1250],
]

export function defaultSampleSize(lotSize: number): number {
  const n = LEVEL_II.find(([max]) => lotSize <= max)![1]
  return Math.max(1, Math.min(n, Math.ceil(lotSize)))
}
