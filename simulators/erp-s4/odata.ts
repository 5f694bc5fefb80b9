/**
 * OData v2 JSON conventions as S/4HANA's Gateway emits them: `{ d: { results } }` for sets,
 * `{ d: {...} }` for one entity, `__metadata` with uri/type/etag, `/Date(ms)/` literals and the
 * `{ error: { code, message: { lang, value } } }` error body.
 */
import { HttpError, type SimRequest, type SimResponse } from '../shared/http.ts'

export type ODataValue =
  | string
  | number
  | boolean
  | null
  | ODataRecord
  | ODataRecord[]
  | { results: ODataRecord[] }
export interface ODataRecord {
  [field: string]: ODataValue | undefined
}

export function odataError(status: number, code: string, message: string): HttpError {
  return new HttpError(status, {
    error: {
      code,
      message: { lang: 'en', value: message },
      innererror: { application: { component_id: 'QM-IM' } },
    },
  })
}

/** Edm.DateTimeOffset as Gateway writes it in JSON. */
export function dateTimeOffset(ms: number): string {
  return `/Date(${ms}+0000)/`
}

/** Edm.DateTime (date only fields such as PostingDate). */
export function dateTime(ms: number): string {
  return `/Date(${ms - (ms % 86_400_000)})/`
}

export function etagFor(ms: number): string {
  return `W/"datetimeoffset'${new Date(ms).toISOString()}'"`
}

export function keyPredicate(key: Record<string, string>): string {
  const parts = Object.entries(key).map(([k, v]) => `${k}='${v.replace(/'/g, "''")}'`)
  return parts.length === 1 ? `'${Object.values(key)[0]!.replace(/'/g, "''")}'` : parts.join(',')
}

/** Parses `'x'` or `A='x',B='y'` from an entity path segment. */
export function parseKey(segment: string, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  const single = /^'((?:[^']|'')*)'$/.exec(segment)
  if (single && names.length === 1) {
    out[names[0]!] = single[1]!.replace(/''/g, "'")
    return out
  }
  const re = /(\w+)='((?:[^']|'')*)'/g
  for (const m of segment.matchAll(re)) out[m[1]!] = m[2]!.replace(/''/g, "'")
  for (const n of names)
    if (out[n] === undefined) throw odataError(400, 'SY/530', `Key property ${n} missing`)
  return out
}

export function withMeta(
  base: string,
  set: string,
  type: string,
  key: Record<string, string>,
  entity: ODataRecord,
  etag?: string,
): ODataRecord {
  const uri = `${base}/${set}(${keyPredicate(key)})`
  return { __metadata: { id: uri, uri, type, ...(etag ? { etag } : {}) }, ...entity } as ODataRecord
}

type Clause = { field: string; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; value: string | number | boolean }

/** Supports the subset connectors use: `Field op literal` joined by `and`. */
export function parseFilter(filter: string | null): Clause[] {
  if (!filter) return []
  const clauses: Clause[] = []
  const re =
    /\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+('(?:[^']|'')*'|true|false|-?\d+(?:\.\d+)?[mMdD]?)\s*(?:and\b|$)/gy
  let consumed = 0
  for (const m of filter.matchAll(re)) {
    const raw = m[3]!
    const value = raw.startsWith("'")
      ? raw.slice(1, -1).replace(/''/g, "'")
      : raw === 'true' || raw === 'false'
        ? raw === 'true'
        : Number(raw.replace(/[mMdD]$/, ''))
    clauses.push({ field: m[1]!, op: m[2] as Clause['op'], value })
    consumed = (m.index ?? 0) + m[0].length
  }
  if (consumed !== filter.length) throw odataError(400, 'SY/530', `Unsupported $filter expression: ${filter}`)
  return clauses
}

function compare(a: ODataValue | undefined, op: Clause['op'], b: Clause['value']): boolean {
  if (op === 'eq') return String(a) === String(b)
  if (op === 'ne') return String(a) !== String(b)
  const x = Number(a)
  const y = Number(b)
  if (op === 'gt') return x > y
  if (op === 'ge') return x >= y
  if (op === 'lt') return x < y
  return x <= y
}

/** Applies $filter, $skip, $top, $select and $inlinecount to an entity list. */
export function collection(req: SimRequest, rows: ODataRecord[]): SimResponse {
  const clauses = parseFilter(req.query.get('$filter'))
  let out = rows.filter((r) => clauses.every((c) => compare(r[c.field], c.op, c.value)))
  const count = out.length
  const skip = Number(req.query.get('$skip') ?? 0)
  const top = req.query.get('$top')
  out = out.slice(skip, top === null ? undefined : skip + Number(top))
  const select = req.query.get('$select')
  if (select) {
    const fields = new Set(['__metadata', ...select.split(',').map((s) => s.trim())])
    out = out.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => fields.has(k))) as ODataRecord)
  }
  const d: Record<string, unknown> = { results: out }
  if (req.query.get('$inlinecount') === 'allpages') d.__count = String(count)
  return { status: 200, body: { d } }
}

export function single(entity: ODataRecord, status = 200): SimResponse {
  const meta = entity.__metadata as { etag?: string } | undefined
  return { status, headers: meta?.etag ? { etag: meta.etag } : {}, body: { d: entity } }
}

export function bodyObject(req: SimRequest): Record<string, unknown> {
  const b = req.json()
  if (typeof b !== 'object' || b === null || Array.isArray(b)) {
    throw odataError(400, 'SY/530', 'Request body must be a JSON object')
  }
  return b as Record<string, unknown>
}

export function str(b: Record<string, unknown>, field: string, required = false): string {
  const v = b[field]
  if (v === undefined || v === null || v === '') {
    if (required) throw odataError(400, 'SY/530', `Property ${field} is required`)
    return ''
  }
  if (typeof v !== 'string' && typeof v !== 'number')
    throw odataError(400, 'SY/530', `Property ${field} must be a string`)
  return String(v)
}
