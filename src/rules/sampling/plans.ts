import { invalid, requireInteger } from '../validation.ts'
import { type CodeLetter, codeLetter, type PlanLetter } from './code-letters.ts'
import { AQLS, type Aql, type InspectionLevel, TABLE_II_A, TABLE_II_B, TABLE_II_C } from './tables.ts'

export type Severity = 'normal' | 'tightened' | 'reduced'
export const SEVERITIES: readonly Severity[] = ['normal', 'tightened', 'reduced']

type Cell = { kind: 'plan'; ac: number; re: number } | { kind: 'down' } | { kind: 'up' } | { kind: 'none' }

interface MasterRow {
  readonly letter: PlanLetter
  readonly sampleSize: number
  readonly cells: readonly Cell[]
}

export interface ResolvedPlan {
  /** row of the master table where the plan was found; differs from the Table I letter after an arrow */
  readonly planLetter: PlanLetter
  readonly sampleSize: number
  readonly ac: number
  readonly re: number
  /** direction of the arrow followed from the starting cell, `none` when the cell itself holds the plan */
  readonly arrow: 'none' | 'down' | 'up'
}

export interface SamplingPlanRequest {
  readonly lotSize: number
  readonly level: InspectionLevel
  readonly aql: number | string
  readonly severity: Severity
}

export interface SamplingPlan extends ResolvedPlan {
  readonly lotSize: number
  readonly level: InspectionLevel
  readonly aql: Aql
  readonly severity: Severity
  /** Table I letter for the lot size and level */
  readonly codeLetter: CodeLetter
  /** the standard's rule: when the sample is not smaller than the lot, inspect every unit */
  readonly hundredPercent: boolean
  /** units to inspect: the sample size, or the whole lot when `hundredPercent` */
  readonly unitsToInspect: number
}

function parseCell(token: string, where: string): Cell {
  if (token === 'v') return { kind: 'down' }
  if (token === '^') return { kind: 'up' }
  if (token === '.') return { kind: 'none' }
  const m = /^(\d+)\/(\d+)$/.exec(token)
  if (!m) throw new Error(`sampling table cell ${where} is malformed: ${token}`)
  return { kind: 'plan', ac: Number(m[1]), re: Number(m[2]) }
}

/** Parses the printed rows of a master table; exported for the golden tests. */
export function parseMasterTable(rows: readonly string[]): MasterRow[] {
  return rows.map((row) => {
    const [letter, size, ...tokens] = row.split(/\s+/)
    if (tokens.length !== AQLS.length)
      throw new Error(`sampling table row ${letter} has ${tokens.length} cells`)
    return {
      letter: letter as PlanLetter,
      sampleSize: Number(size),
      cells: tokens.map((t, i) => parseCell(t, `${letter}@${AQLS[i]}`)),
    }
  })
}

/**
 * Follows the arrows of one column from a starting row. The arrow changes the sample size as well as
 * Ac/Re: the plan is the whole (n, Ac, Re) of the row where the walk stops (MIL-STD-105E §9.4 / Z1.4 §9.4,
 * restated in sampling-tables.md §2). Exported so the benchmark can compare it with the precomputed lookup.
 */
export function walkArrows(table: readonly MasterRow[], startRow: number, column: number): ResolvedPlan {
  const first = table[startRow]?.cells[column]
  if (!first) throw new Error(`no cell at row ${startRow}, column ${column}`)
  const arrow = first.kind === 'down' ? 'down' : first.kind === 'up' ? 'up' : 'none'
  const step = arrow === 'up' ? -1 : 1
  for (let r = startRow; r >= 0 && r < table.length; r += step) {
    const row = table[r]!
    const cell = row.cells[column]!
    if (cell.kind === 'plan')
      return { planLetter: row.letter, sampleSize: row.sampleSize, ac: cell.ac, re: cell.re, arrow }
    if (cell.kind === 'none') break
    if (arrow === 'none') break
  }
  throw new Error(`arrow from row ${table[startRow]?.letter} at AQL ${AQLS[column]} leads to no plan`)
}

const MASTER: Record<Severity, readonly MasterRow[]> = {
  normal: parseMasterTable(TABLE_II_A),
  tightened: parseMasterTable(TABLE_II_B),
  reduced: parseMasterTable(TABLE_II_C),
}

export function masterTable(severity: Severity): readonly MasterRow[] {
  return MASTER[severity]
}

// Resolved once at load: every (severity, letter A–R, AQL) cell, so a lookup is two array reads.
const RESOLVED: Record<Severity, readonly (readonly ResolvedPlan[])[]> = {
  normal: resolveAll(MASTER.normal),
  tightened: resolveAll(MASTER.tightened),
  reduced: resolveAll(MASTER.reduced),
}

function resolveAll(table: readonly MasterRow[]): ResolvedPlan[][] {
  const out: ResolvedPlan[][] = []
  for (let r = 0; r < table.length; r++) {
    if (table[r]!.letter === 'S') continue
    out.push(AQLS.map((_, c) => Object.freeze(walkArrows(table, r, c))))
  }
  return out
}

const LETTER_INDEX: Record<CodeLetter, number> = {
  A: 0,
  B: 1,
  C: 2,
  D: 3,
  E: 4,
  F: 5,
  G: 6,
  H: 7,
  J: 8,
  K: 9,
  L: 10,
  M: 11,
  N: 12,
  P: 13,
  Q: 14,
  R: 15,
}

/** Accepts `0.65`, `'0.65'`, `1`, `'1.0'`, `10`: any spelling whose numeric value is a column of the tables. */
export function normalizeAql(aql: number | string): Aql {
  const value = typeof aql === 'string' ? Number(aql.trim()) : aql
  const found = AQLS.find((a) => Number(a) === value)
  if (found === undefined || (typeof aql === 'string' && aql.trim() === '')) {
    invalid('/aql', `must be one of the preferred AQL values ${AQLS.join(', ')}`)
  }
  return found
}

/** The plan for a Table I letter and AQL, arrows already followed. */
export function resolvedPlan(severity: Severity, letter: CodeLetter, aql: number | string): ResolvedPlan {
  const table = RESOLVED[severity]
  if (!table) invalid('/severity', `must be one of ${SEVERITIES.join(', ')}`)
  const row = LETTER_INDEX[letter]
  if (row === undefined) invalid('/codeLetter', 'must be a Table I letter A–R (I, O and S are not used)')
  return table[row]![AQLS.indexOf(normalizeAql(aql))]!
}

/** Single sampling plan for a lot: Table I letter, master table of the severity, arrows, 100 % rule. */
export function samplingPlan(req: SamplingPlanRequest): SamplingPlan {
  requireInteger('/lotSize', req.lotSize, 1)
  const letter = codeLetter(req.lotSize, req.level)
  const aql = normalizeAql(req.aql)
  const plan = resolvedPlan(req.severity, letter, aql)
  const hundredPercent = plan.sampleSize >= req.lotSize
  return {
    ...plan,
    lotSize: req.lotSize,
    level: req.level,
    aql,
    severity: req.severity,
    codeLetter: letter,
    hundredPercent,
    unitsToInspect: hundredPercent ? req.lotSize : plan.sampleSize,
  }
}

export type LotDecision = 'accept' | 'reject' | 'accept-and-revert-to-normal'

/**
 * Lot decision on original inspection: accept when the count of nonconforming units (or nonconformities)
 * is ≤ Ac, reject when ≥ Re (MIL-STD-105E §4.10.1.1). On reduced inspection a count above Ac and below Re
 * accepts the lot but reinstates normal inspection (footnote † of II-C, Z1.4 §8.3.4 b).
 */
export function judgeLot(plan: Pick<ResolvedPlan, 'ac' | 're'>, nonconforming: number): LotDecision {
  requireInteger('/nonconforming', nonconforming, 0)
  if (nonconforming <= plan.ac) return 'accept'
  if (nonconforming >= plan.re) return 'reject'
  return 'accept-and-revert-to-normal'
}
