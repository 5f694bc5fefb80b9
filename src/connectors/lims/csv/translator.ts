import type { CloudEvent } from '../../../contracts/envelope.ts'
import { type FieldProblem, QualinkError } from '../../../contracts/errors.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { type IdMappingSettings, inboundIds } from '../../../mapping/id-mapping.ts'
import { canonicalUom } from '../../../mapping/units.ts'

/** The LIMS result file (docs/simulators.md "lims"): one row per analysis of a sample. */
export const LIMS_COLUMNS = [
  'sample_id',
  'lot',
  'material',
  'analysis',
  'value',
  'unit',
  'spec_min',
  'spec_max',
  'result',
  'analyst',
  'timestamp',
] as const

type Row = Record<(typeof LIMS_COLUMNS)[number], string>

/** RFC 4180 fields: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += c
  }
  if (field !== '' || row.length > 0) {
    row.push(field)
    rows.push(row)
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''))
}

/** Parses and checks a whole file; every problem names its line. */
export function parseLimsCsv(text: string): { rows: Row[]; problems: FieldProblem[] } {
  const [header, ...body] = parseCsv(text)
  const problems: FieldProblem[] = []
  if (!header || LIMS_COLUMNS.some((c, i) => header[i]?.trim() !== c)) {
    return {
      rows: [],
      problems: [{ path: '/lines/1', message: `line 1: header must be ${LIMS_COLUMNS.join(',')}` }],
    }
  }
  const rows: Row[] = []
  body.forEach((cells, i) => {
    const line = i + 2
    if (cells.length !== LIMS_COLUMNS.length) {
      problems.push({
        path: `/lines/${line}`,
        message: `line ${line}: ${cells.length} fields, expected ${LIMS_COLUMNS.length}`,
      })
      return
    }
    const r = Object.fromEntries(LIMS_COLUMNS.map((c, j) => [c, cells[j]!.trim()])) as Row
    if (!r.sample_id || !r.lot || !r.analysis)
      problems.push({
        path: `/lines/${line}`,
        message: `line ${line}: sample_id, lot and analysis are required`,
      })
    if (r.value !== '' && !/^-?\d+(\.\d+)?$/.test(r.value))
      problems.push({
        path: `/lines/${line}/value`,
        message: `line ${line}: value '${r.value}' is not a decimal number`,
      })
    if (!['PASS', 'FAIL'].includes(r.result))
      problems.push({ path: `/lines/${line}/result`, message: `line ${line}: result must be PASS or FAIL` })
    if (Number.isNaN(Date.parse(r.timestamp)))
      problems.push({ path: `/lines/${line}/timestamp`, message: `line ${line}: timestamp is not ISO 8601` })
    rows.push(r)
  })
  return { rows, problems }
}

/**
 * LIMS CSV file → one `lims.result.reported.v1` per sample; the LIMS's lot numbers go through the
 * plant's identity mapping for this source when one is configured (entity `lot`).
 */
export function limsCsvTranslator(source: string, ids?: IdMappingSettings): Translator {
  return {
    source,
    async translate(raw, xref): Promise<CloudEvent[]> {
      const { rows, problems } = parseLimsCsv(raw.body.toString('utf8'))
      if (problems.length > 0)
        throw new QualinkError(
          'QLK_VALIDATION',
          `LIMS file ${raw.headers['file-name'] ?? raw.deliveryId} is invalid`,
          problems,
        )
      const map = inboundIds(xref, ids, raw.plant)
      const bySample = new Map<string, { line: number; rows: Row[] }>()
      rows.forEach((r, i) => {
        const seen = bySample.get(r.sample_id)
        if (seen) seen.rows.push(r)
        else bySample.set(r.sample_id, { line: i + 2, rows: [r] })
      })
      const samples = await Promise.all(
        [...bySample.entries()].map(async ([sample, { line, rows: rs }]) => ({
          sample,
          rs,
          lot: await map('lot', rs[0]!.lot, `/lines/${line}/lot`),
        })),
      )
      return samples.map(({ sample, rs, lot }) => ({
        specversion: '1.0',
        id: `${raw.deliveryId}#${sample}`,
        source: `urn:qualink:${source}`,
        type: 'lims.result.reported.v1',
        subject: lot,
        plant: raw.plant,
        data: {
          sample,
          lot,
          plant: raw.plant,
          tests: rs.map((r) => ({
            characteristic: r.analysis.toUpperCase().replace(/[^A-Z0-9_-]/g, '_'),
            ...(r.value === '' ? {} : { value: r.value }),
            ...(r.unit ? { unit: canonicalUom(r.unit) } : {}),
            result: r.result === 'PASS' ? 'pass' : 'fail',
          })),
          audit: {
            timestamp: rs[0]!.timestamp,
            operator: rs[0]!.analyst || undefined,
            sourceSystem: source,
            approvalStatus: 'approved',
          },
        },
      })) as CloudEvent[]
    },
  }
}

/** The file-drop check: a bad row rejects the whole file before anything is stored. */
export function checkLimsFile(_name: string, content: Buffer): FieldProblem[] {
  return parseLimsCsv(content.toString('utf8')).problems
}
