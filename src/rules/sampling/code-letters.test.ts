import { describe, expect, it } from 'vitest'
import { codeLetter } from './code-letters.ts'
import { INSPECTION_LEVELS } from './tables.ts'

/*
 * Table I of MIL-STD-105E (= ANSI/ASQ Z1.4 Table I = ISO 2859-1 Table 1), written here by column
 * (one string per inspection level, one letter per lot-size range) rather than by row as in tables.ts,
 * so a transposition slip in either is caught. Source: /work/shared/reference/sampling-tables.md §3
 * (CRAN AQLSchemes, CRAN Planesmuestra/Montgomery, the pdfcoffee "AQL Sampling Chart": all 105 cells agree).
 */
const RANGES: readonly [number, number][] = [
  [2, 8],
  [9, 15],
  [16, 25],
  [26, 50],
  [51, 90],
  [91, 150],
  [151, 280],
  [281, 500],
  [501, 1200],
  [1201, 3200],
  [3201, 10000],
  [10001, 35000],
  [35001, 150000],
  [150001, 500000],
  [500001, 10_000_000],
]
const BY_LEVEL = {
  'S-1': 'AAAABBBBCCCCDDD',
  'S-2': 'AAABBBCCCDDDEEE',
  'S-3': 'AABBCCDDEEFFGGH',
  'S-4': 'AABCCDEEFGGHJJK',
  I: 'AABCCDEFGHJKLMN',
  II: 'ABCDEFGHJKLMNPQ',
  III: 'BCDEFGHJKLMNPQR',
} as const

describe('Table I: every cell, both ends of every lot-size range', () => {
  for (const level of INSPECTION_LEVELS) {
    it(`level ${level}`, () => {
      const expected = BY_LEVEL[level]
      RANGES.forEach(([lo, hi], i) => {
        expect(codeLetter(lo, level), `lot ${lo}`).toBe(expected[i])
        expect(codeLetter(hi, level), `lot ${hi}`).toBe(expected[i])
      })
    })
  }
  it('a lot of 1 reads the 2–8 row', () => {
    expect(codeLetter(1, 'III')).toBe('B')
  })
  it('rejects an unknown level and a bad lot size, naming the field', () => {
    expect(() => codeLetter(100, 'IV' as 'I')).toThrow(/\/level/)
    expect(() => codeLetter(-5, 'II')).toThrow(/\/lotSize/)
  })
})
