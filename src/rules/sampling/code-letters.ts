import { invalid, requireInteger } from '../validation.ts'
import { INSPECTION_LEVELS, type InspectionLevel, TABLE_I } from './tables.ts'

export const CODE_LETTERS = [
  'A',
  'B',
  'C',
  'D',
  'E',
  'F',
  'G',
  'H',
  'J',
  'K',
  'L',
  'M',
  'N',
  'P',
  'Q',
  'R',
] as const
/** Table I letters; `S` is reachable only through the arrows of Table II-B. */
export type CodeLetter = (typeof CODE_LETTERS)[number]
export type PlanLetter = CodeLetter | 'S'

export function isInspectionLevel(value: unknown): value is InspectionLevel {
  return typeof value === 'string' && (INSPECTION_LEVELS as readonly string[]).includes(value)
}

/**
 * Sample size code letter from Table I (MIL-STD-105E = ANSI/ASQ Z1.4 = ISO 2859-1 Table 1).
 * A lot of 1 unit is read in the 2–8 row: the resulting sample is never smaller than the lot, so the
 * plan asks for 100 % inspection anyway.
 */
export function codeLetter(lotSize: number, level: InspectionLevel): CodeLetter {
  requireInteger('/lotSize', lotSize, 1)
  if (!isInspectionLevel(level)) invalid('/level', `must be one of ${INSPECTION_LEVELS.join(', ')}`)
  const column = INSPECTION_LEVELS.indexOf(level)
  for (const [upper, letters] of TABLE_I) {
    if (lotSize <= upper) return letters[column] as CodeLetter
  }
  throw new Error('unreachable: the last Table I row has no upper bound')
}
