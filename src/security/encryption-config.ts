/**
 * `security.encryption` of qualink.yaml → a FieldCipher: cross-field checks (the active key is
 * one of the keys, each pointer lies under /data of a registered event type) and the keys read
 * from their secretEnv / secretFile at start, like every other secret.
 */

import type { EncryptionConfig } from '../config/schema.ts'
import { resolveSecret } from '../config/secrets.ts'
import { catalogue } from '../contracts/catalogue.ts'
import type { FieldProblem } from '../contracts/errors.ts'
import { projectedIdentifierAt } from '../projections/projected-fields.ts'
import { FieldCipher, parseKeySecret, pointerProblem } from './encryption.ts'

const AT = '/security/encryption'
const esc = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1')
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Cross-field problems of `security.encryption` (the schema checks the shapes). */
export function encryptionProblems(enc: unknown): FieldProblem[] {
  if (!isObject(enc)) return []
  const out: FieldProblem[] = []
  const keys = isObject(enc.keys) ? Object.keys(enc.keys) : []
  if (typeof enc.activeKey === 'string' && !keys.includes(enc.activeKey))
    out.push({
      path: `${AT}/activeKey`,
      message: `must name one of the configured keys (${keys.join(', ') || 'none'})`,
    })
  const known = new Set(catalogue.map((t) => t.type))
  for (const [type, ptrs] of Object.entries(isObject(enc.fields) ? enc.fields : {})) {
    if (!known.has(type))
      out.push({ path: `${AT}/fields/${esc(type)}`, message: 'must be a registered canonical event type' })
    if (!Array.isArray(ptrs)) continue
    ptrs.forEach((p, i) => {
      const problem = typeof p === 'string' ? pointerProblem(p) : undefined
      if (problem) out.push({ path: `${AT}/fields/${esc(type)}/${i}`, message: problem })
      const projected = typeof p === 'string' && !problem ? projectedIdentifierAt(type, p) : undefined
      if (projected)
        out.push({
          path: `${AT}/fields/${esc(type)}/${i}`,
          message:
            `must not reach ${projected}: the genealogy or supplier scorecard projection keeps it in ` +
            'plaintext as an identifier it looks up and groups by (docs/operations.md#encryption)',
        })
    })
  }
  return out
}

/** Reads each key's secret; problems (missing, not 256 bits) are listed at their paths. */
export function buildFieldCipher(
  enc: EncryptionConfig,
  env: NodeJS.ProcessEnv,
  baseDir: string,
  problems: FieldProblem[],
): FieldCipher | undefined {
  const before = problems.length
  problems.push(...encryptionProblems(enc))
  const keys = new Map<string, Buffer>()
  for (const [kid, ref] of Object.entries(enc.keys)) {
    const where = `${AT}/keys/${esc(kid)}`
    const secret = resolveSecret(ref, where, env, baseDir, problems)
    if (secret === '') continue
    const key = parseKeySecret(secret)
    if (typeof key === 'string')
      problems.push({ path: `${where}/${ref.secretEnv ? 'secretEnv' : 'secretFile'}`, message: key })
    else keys.set(kid, key)
  }
  if (problems.length > before) return undefined
  return new FieldCipher({ keys, activeKey: enc.activeKey, fields: enc.fields, rawBodies: enc.rawBodies })
}
