/** The QMS simulator's error body: `{ error: { code, message, field? } }`. */
import { HttpError } from '../shared/http.ts'

export function qmsError(status: number, code: string, message: string, field?: string): HttpError {
  return new HttpError(status, { error: { code, message, ...(field ? { field } : {}) } })
}

export function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw qmsError(400, 'INVALID_BODY', 'body must be a JSON object')
  return v as Record<string, unknown>
}

export function text(b: Record<string, unknown>, field: string, required = false): string {
  const v = b[field]
  if (v === undefined || v === null || v === '') {
    if (required) throw qmsError(400, 'FIELD_REQUIRED', `${field} is required`, field)
    return ''
  }
  if (typeof v !== 'string') throw qmsError(400, 'FIELD_TYPE', `${field} must be a string`, field)
  return v
}

export function optionalNumber(b: Record<string, unknown>, field: string): number | null {
  const v = b[field]
  if (v === undefined || v === null) return null
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw qmsError(400, 'FIELD_TYPE', `${field} must be a number`, field)
  return v
}
