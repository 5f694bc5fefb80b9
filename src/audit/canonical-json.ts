import { createHash } from 'node:crypto'

/**
 * Canonical JSON: object keys sorted, no whitespace, no undefined members (RFC 8785 style for
 * the value kinds we store: strings, safe integers, booleans, null, arrays, objects). Hashes of
 * audit rows and event data are taken over this text, so a verifier in any language can redo them.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('canonical JSON cannot encode a non-finite number')
    return JSON.stringify(value)
  }
  if (typeof value === 'bigint') return JSON.stringify(value.toString())
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`
  }
  throw new Error(`canonical JSON cannot encode a ${typeof value}`)
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex')
}

export function hashCanonical(value: unknown): string {
  return sha256Hex(canonicalJson(value))
}
