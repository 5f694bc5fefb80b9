/**
 * Frappe REST conventions (quality-domain.md §2.1): `/api/resource/<Doctype>`, token auth
 * (`Authorization: token key:secret`), `{ data }` bodies, JSON `filters` / `fields` query
 * parameters with `limit_start` / `limit_page_length`, and the error body with `exc_type` and a
 * doubly JSON-encoded `_server_messages`.
 */
import { HttpError, type SimRequest } from '../shared/http.ts'

export type Doc = Record<string, unknown> & {
  name: string
  doctype: string
  docstatus: number
  modified: string
}

/** HTTP status Frappe gives each exception class (frappe/exceptions.py). */
const STATUS: Record<string, number> = {
  ValidationError: 417,
  TimestampMismatchError: 417,
  UpdateAfterSubmitError: 417,
  DocstatusTransitionError: 417,
  MandatoryError: 417,
  NegativeStockError: 417,
  LinkValidationError: 417,
  DoesNotExistError: 404,
  PermissionError: 403,
  AuthenticationError: 401,
  DuplicateEntryError: 409,
}

export function frappeError(excType: string, message: string): HttpError {
  const msg = JSON.stringify({ message, title: 'Message', indicator: 'red', raise_exception: 1 })
  return new HttpError(STATUS[excType] ?? 417, {
    exception: `frappe.exceptions.${excType}: ${message}`,
    exc_type: excType,
    exc: JSON.stringify([
      `Traceback (most recent call last):\n  (simulated)\nfrappe.exceptions.${excType}: ${message}`,
    ]),
    _server_messages: JSON.stringify([msg]),
  })
}

export function checkToken(req: SimRequest, key: string, secret: string): void {
  if (req.header('authorization') !== `token ${key}:${secret}`) {
    throw frappeError('AuthenticationError', 'Invalid or missing API key/secret')
  }
}

/** [field, operator, value], and the doctype the field is of when the caller named one */
type Filter = [string, string, unknown, string?]

function parseJsonParam(req: SimRequest, name: string): unknown {
  const raw = req.query.get(name)
  if (raw === null) return undefined
  try {
    return JSON.parse(raw) as unknown
  } catch {
    throw frappeError('ValidationError', `${name} must be JSON`)
  }
}

function filtersOf(req: SimRequest): Filter[] {
  const f = parseJsonParam(req, 'filters')
  if (f === undefined) return []
  if (Array.isArray(f)) {
    return f.map((x) => {
      // Frappe accepts [field, op, value] and [doctype, field, op, value]; the doctype may be a
      // child table's (e.g. Purchase Receipt Item), which frappe.get_list joins in.
      if (!Array.isArray(x) || x.length < 3)
        throw frappeError('ValidationError', 'filters entries are [field, operator, value]')
      return (x.length === 4 ? [x[1], x[2], x[3], String(x[0])] : x) as Filter
    })
  }
  if (typeof f === 'object' && f !== null) return Object.entries(f).map(([k, v]) => [k, '=', v])
  throw frappeError('ValidationError', 'filters must be a list or an object')
}

/** A filter on a child doctype matches a document one of whose child rows (items…) matches. */
function matches(doc: Doc, f: Filter): boolean {
  const of = f[3]
  if (of === undefined || of === doc.doctype) return matchesRow(doc, f)
  return Object.values(doc).some(
    (v) =>
      Array.isArray(v) &&
      v.some((row) => typeof row === 'object' && row !== null && matchesRow(row as Doc, f)),
  )
}

/** Numbers as numbers; anything else (a `modified` datetime "YYYY-MM-DD HH:MM:SS.ffffff") as text. */
function compare(a: unknown, b: unknown): number {
  const x = Number(a)
  const y = Number(b)
  if (a !== null && a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y
  const s = String(a ?? '')
  const t = String(b ?? '')
  return s < t ? -1 : s > t ? 1 : 0
}

/** `order_by` as "field asc|desc" (one field); without it, insertion order. */
function ordered(req: SimRequest, docs: Doc[]): Doc[] {
  const raw = req.query.get('order_by')
  if (raw === null) return docs
  const m = /^`?(\w+)`?(?:\s+(asc|desc))?$/i.exec(raw.trim())
  if (!m) throw frappeError('ValidationError', `order_by '${raw}' is not "field asc|desc"`)
  const sign = m[2]?.toLowerCase() === 'desc' ? -1 : 1
  return [...docs].sort((a, b) => sign * compare(a[m[1]!], b[m[1]!]))
}

function matchesRow(doc: Record<string, unknown>, [field, op, value]: Filter): boolean {
  const v = doc[field]
  switch (op) {
    case '=':
      return String(v) === String(value)
    case '!=':
      return String(v) !== String(value)
    case 'in':
      return Array.isArray(value) && value.map(String).includes(String(v))
    case 'not in':
      return Array.isArray(value) && !value.map(String).includes(String(v))
    case 'like': {
      const re = new RegExp(
        `^${String(value)
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/%/g, '.*')}$`,
        'i',
      )
      return re.test(String(v ?? ''))
    }
    case '>':
      return compare(v, value) > 0
    case '<':
      return compare(v, value) < 0
    case '>=':
      return compare(v, value) >= 0
    case '<=':
      return compare(v, value) <= 0
    default:
      throw frappeError('ValidationError', `Unsupported operator ${op}`)
  }
}

/**
 * GET list: only `name` unless `fields` asks for more, 20 rows unless `limit_page_length` says
 * otherwise. As in Frappe, a list never carries child tables (read the document for those).
 */
export function listDocs(req: SimRequest, docs: Doc[]): { data: Array<Record<string, unknown>> } {
  const filters = filtersOf(req)
  const fields = parseJsonParam(req, 'fields')
  const wanted = Array.isArray(fields) ? fields.map(String) : ['name']
  const start = Number(req.query.get('limit_start') ?? 0)
  const len = Number(req.query.get('limit_page_length') ?? req.query.get('limit') ?? 20)
  const rows = ordered(
    req,
    docs.filter((d) => filters.every((f) => matches(d, f))),
  )
  const page = len === 0 ? rows.slice(start) : rows.slice(start, start + len)
  return {
    data: page.map((d) =>
      wanted.includes('*')
        ? Object.fromEntries(Object.entries(d).filter(([, v]) => !Array.isArray(v)))
        : Object.fromEntries(wanted.map((k) => [k, d[k] ?? null])),
    ),
  }
}

export function bodyData(req: SimRequest): Record<string, unknown> {
  const b = req.json()
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    throw frappeError('ValidationError', 'Request body must be a JSON object')
  // Frappe accepts the document either bare or wrapped as { data: ... }.
  const inner = (b as { data?: unknown }).data
  return typeof inner === 'object' && inner !== null && !Array.isArray(inner)
    ? (inner as Record<string, unknown>)
    : (b as Record<string, unknown>)
}

/** Frappe's `modified` format: "2025-03-01 10:00:00.123456". */
export function frappeTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}000`
}
