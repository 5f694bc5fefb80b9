/**
 * Seeded PRNG (mulberry32) so that fault decisions replay identically for a given seed.
 * Math.random is never used for anything a test asserts on.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** True with probability `rate` (0 never draws, so rate 0 does not shift the sequence). */
  chance(rate: number): boolean
  /** Integer in [min, max]. */
  int(min: number, max: number): number
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    chance: (rate) => (rate <= 0 ? false : rate >= 1 ? true : next() < rate),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
  }
}
