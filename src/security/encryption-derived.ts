/**
 * Copies of sensitive values outside the event log: what a workflow step returned, a run's
 * result, and the audit payloads a run writes. A copy is found by value, not by position: the
 * values a run has seen at its events' marked pointers (its trigger, and every event it waited
 * for or received) are the run's sensitive values, and any leaf of a step result or payload that
 * holds one of them is encrypted whole in place, with the same keyring and envelope as the
 * event's field. The structure around it stays plaintext, so identifiers a query reads out of a
 * step result (e.g. the nonconformance id, src/observability/kpis-queries.ts) still read.
 *
 * Matching: a string value of 4 characters or more matches any string leaf that contains it (a
 * title or description built around a customer's name); shorter strings, numbers and booleans
 * match only an equal leaf. A value transformed on the way (upper-cased, cut in the middle) is
 * not recognised; docs/operations.md says so.
 */
import { type FieldCipher, isEncryptedValue, parsePointer } from './encryption.ts'

const CONTAINS_MIN = 4

export interface SensitiveValues {
  readonly strings: ReadonlySet<string>
  readonly exact: ReadonlySet<string | number | boolean>
}

export const NO_SENSITIVE_VALUES: SensitiveValues = { strings: new Set(), exact: new Set() }

/** The plaintext values at the marked pointers of a (decrypted) envelope, leaves of objects included. */
export function sensitiveValuesOf(
  cipher: FieldCipher,
  envelope: unknown,
  into?: SensitiveValues,
): SensitiveValues {
  const strings = new Set(into?.strings)
  const exact = new Set(into?.exact)
  const type = (envelope as { type?: unknown } | null)?.type
  const ptrs = typeof type === 'string' ? cipher.config.fields[type] : undefined
  const leaf = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length >= CONTAINS_MIN) strings.add(v)
      else if (v.length > 0) exact.add(v)
    } else if (typeof v === 'number' || typeof v === 'boolean') exact.add(v)
    else if (Array.isArray(v)) v.forEach(leaf)
    else if (typeof v === 'object' && v !== null && !isEncryptedValue(v)) Object.values(v).forEach(leaf)
  }
  for (const p of ptrs ?? []) visitAt(envelope, parsePointer(p), leaf)
  return { strings, exact }
}

function visitAt(root: unknown, path: readonly string[], f: (v: unknown) => void): void {
  if (path.length === 0) {
    f(root)
    return
  }
  if (typeof root !== 'object' || root === null) return
  const [head, ...rest] = path as [string, ...string[]]
  const c = root as Record<string, unknown>
  for (const k of head === '*' ? Object.keys(c) : [head]) if (Object.hasOwn(c, k)) visitAt(c[k], rest, f)
}

function matches(v: unknown, s: SensitiveValues): boolean {
  if (typeof v === 'string') {
    if (s.exact.has(v)) return true
    for (const x of s.strings) if (v.includes(x)) return true
    return false
  }
  return (typeof v === 'number' || typeof v === 'boolean') && s.exact.has(v)
}

/**
 * `value` with every leaf that holds a sensitive value encrypted (a copy; unchanged subtrees are
 * shared). Values already encrypted, such as a journaled event's marked fields, are left alone.
 */
export function encryptDerived<T>(cipher: FieldCipher, value: T, s: SensitiveValues): T {
  if (s.strings.size === 0 && s.exact.size === 0) return value
  const walk = (v: unknown): unknown => {
    if (isEncryptedValue(v)) return v
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined
      v.forEach((x, i) => {
        const y = walk(x)
        if (y !== x) {
          copy ??= [...v]
          copy[i] = y
        }
      })
      return copy ?? v
    }
    if (typeof v === 'object' && v !== null) {
      let copy: Record<string, unknown> | undefined
      for (const [k, x] of Object.entries(v)) {
        const y = walk(x)
        if (y !== x) {
          copy ??= { ...(v as Record<string, unknown>) }
          copy[k] = y
        }
      }
      return copy ?? v
    }
    return matches(v, s) ? cipher.encryptValue(v) : v
  }
  return walk(value) as T
}

/**
 * An error message with every sensitive value it contains replaced by `[encrypted]`: it is kept
 * as text (runs' last_error, dead letters' error), shown as is by the API and dashboard, and the
 * full message is in the run's audit payload, encrypted.
 */
export function redactDerived(text: string, s: SensitiveValues): string {
  let out = text
  for (const x of s.strings) out = out.split(x).join('[encrypted]')
  return s.exact.has(out) ? '[encrypted]' : out
}
