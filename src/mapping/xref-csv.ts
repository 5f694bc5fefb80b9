import { type FieldProblem, QualinkError } from '../contracts/errors.ts'
import type { XrefRow } from './xref.ts'

/**
 * CSV bulk format for the identity map (`qualink xref import|export`), RFC 4180: comma separated,
 * double-quoted fields with "" for a quote, CRLF or LF line ends, a header row naming the columns
 * in any order. Values are taken verbatim (no trimming): SAP material numbers keep their zeros.
 */
export const XREF_COLUMNS = ['system', 'entity_type', 'external_code', 'plant', 'enterprise_id'] as const
type Column = (typeof XREF_COLUMNS)[number]

const FIELD_OF: Record<Column, keyof XrefRow> = {
  system: 'system',
  entity_type: 'entityType',
  external_code: 'externalCode',
  plant: 'plant',
  enterprise_id: 'enterpriseId',
}

interface Record_ {
  readonly line: number
  readonly fields: string[]
}

/** Splits text into records, tracking the physical line each record starts on. */
function records(text: string, problems: FieldProblem[]): Record_[] {
  const out: Record_[] = []
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  while (i < text.length) {
    const start = line
    const fields: string[] = []
    for (;;) {
      let value = ''
      if (text[i] === '"') {
        i++
        for (;;) {
          if (i >= text.length) {
            problems.push({ path: `/lines/${start}`, message: `line ${start}: quoted field is not closed` })
            break
          }
          const c = text[i]!
          if (c === '"' && text[i + 1] === '"') {
            value += '"'
            i += 2
          } else if (c === '"') {
            i++
            break
          } else {
            if (c === '\n') line++
            value += c
            i++
          }
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          problems.push({
            path: `/lines/${start}`,
            message: `line ${start}: characters after a closing quote`,
          })
          while (i < text.length && text[i] !== ',' && text[i] !== '\n') i++
        }
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') value += text[i++]
      }
      fields.push(value)
      if (text[i] === ',') {
        i++
        continue
      }
      if (text[i] === '\r') i++
      if (text[i] === '\n') {
        i++
        line++
      }
      break
    }
    const blank = fields.length === 1 && fields[0] === ''
    if (!blank) out.push({ line: start, fields })
  }
  return out
}

/**
 * Parses xref CSV. Collects every problem (bad header, wrong column count, empty value, the same
 * key mapped twice) with its line number and throws one QLK_VALIDATION listing them all, so a bulk
 * import is fixed in one pass and nothing is half-imported.
 */
export function parseXrefCsv(text: string): XrefRow[] {
  const problems: FieldProblem[] = []
  const recs = records(text, problems)
  const header = recs.shift()
  if (!header) {
    throw new QualinkError('QLK_VALIDATION', 'xref CSV is empty', [
      { path: '/lines/1', message: `line 1: header ${XREF_COLUMNS.join(',')} expected` },
    ])
  }
  const index = new Map<Column, number>()
  header.fields.forEach((name, i) => {
    if ((XREF_COLUMNS as readonly string[]).includes(name)) index.set(name as Column, i)
    else
      problems.push({
        path: `/lines/${header.line}/${name}`,
        message: `line ${header.line}: unknown column '${name}'`,
      })
  })
  for (const col of XREF_COLUMNS) {
    if (!index.has(col))
      problems.push({
        path: `/lines/${header.line}/${col}`,
        message: `line ${header.line}: missing column '${col}'`,
      })
  }
  if (problems.length > 0) throw new QualinkError('QLK_VALIDATION', `xref CSV header is invalid`, problems)

  const rows: XrefRow[] = []
  const seen = new Map<string, { line: number; enterpriseId: string }>()
  for (const rec of recs) {
    if (rec.fields.length !== header.fields.length) {
      problems.push({
        path: `/lines/${rec.line}`,
        message: `line ${rec.line}: ${rec.fields.length} fields, header has ${header.fields.length}`,
      })
      continue
    }
    const row = {} as Record<keyof XrefRow, string>
    let ok = true
    for (const col of XREF_COLUMNS) {
      const v = rec.fields[index.get(col)!]!
      if (v === '') {
        problems.push({
          path: `/lines/${rec.line}/${col}`,
          message: `line ${rec.line}: ${col} must not be empty`,
        })
        ok = false
      }
      row[FIELD_OF[col]] = v
    }
    if (!ok) continue
    const key = JSON.stringify([row.system, row.entityType, row.externalCode, row.plant])
    const prior = seen.get(key)
    if (prior && prior.enterpriseId !== row.enterpriseId) {
      problems.push({
        path: `/lines/${rec.line}/enterprise_id`,
        message: `line ${rec.line}: ${row.externalCode} is mapped to '${prior.enterpriseId}' on line ${prior.line} and to '${row.enterpriseId}' here`,
      })
      continue
    }
    if (prior) continue
    seen.set(key, { line: rec.line, enterpriseId: row.enterpriseId })
    rows.push(row)
  }
  if (problems.length > 0) {
    throw new QualinkError(
      'QLK_VALIDATION',
      `xref CSV has ${problems.length} problem(s); nothing imported`,
      problems,
    )
  }
  return rows
}

function quote(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

/** Formats rows as CSV with the standard header and LF line ends; parseXrefCsv reads it back exactly. */
export function formatXrefCsv(rows: readonly XrefRow[]): string {
  const lines = [XREF_COLUMNS.join(',')]
  for (const r of rows) lines.push(XREF_COLUMNS.map((c) => quote(r[FIELD_OF[c]])).join(','))
  return `${lines.join('\n')}\n`
}
