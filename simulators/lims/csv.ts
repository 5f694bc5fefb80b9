/**
 * The LIMS result file format (one row per analysis result), modelled on SENAITE analysis
 * exports (quality-domain.md §6): sample, lot, analysis (keyword), result with unit and spec range.
 */
export const COLUMNS = [
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

export interface ResultRow {
  readonly sampleId: string
  readonly lot: string
  readonly material: string
  readonly analysis: string
  /** Decimal as text, exactly as the instrument reported it. */
  readonly value: string
  readonly unit: string
  readonly specMin?: string
  readonly specMax?: string
  readonly analyst: string
  /** ISO 8601 with offset. */
  readonly timestamp: string
}

function cell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

/** PASS/FAIL from the spec range; decimal strings compared as numbers is fine for a verdict column. */
export function verdict(r: ResultRow): 'PASS' | 'FAIL' {
  const v = Number(r.value)
  if (r.specMin !== undefined && r.specMin !== '' && v < Number(r.specMin)) return 'FAIL'
  if (r.specMax !== undefined && r.specMax !== '' && v > Number(r.specMax)) return 'FAIL'
  return 'PASS'
}

export function toCsv(rows: readonly ResultRow[]): string {
  const lines = [COLUMNS.join(',')]
  for (const r of rows) {
    lines.push(
      [
        r.sampleId,
        r.lot,
        r.material,
        r.analysis,
        r.value,
        r.unit,
        r.specMin ?? '',
        r.specMax ?? '',
        verdict(r),
        r.analyst,
        r.timestamp,
      ]
        .map(cell)
        .join(','),
    )
  }
  // CRLF as RFC 4180 says; many LIMS exports come from Windows hosts.
  return `${lines.join('\r\n')}\r\n`
}
