/**
 * JSON Schema validation with every problem reported at once, each as a JSON pointer into
 * qualink.yaml and a sentence an integration engineer can act on. Ajv (allErrors) rather than
 * TypeBox's Value.Errors: the latter stops at the first failing property of an object, and a
 * config review wants the whole list.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import type { TSchema } from 'typebox'
import type { FieldProblem } from '../contracts/errors.ts'

const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true, verbose: true })
const compiled = new WeakMap<TSchema, ValidateFunction>()

const quote = (v: unknown) => (typeof v === 'string' ? `'${v}'` : String(v))

function message(e: ErrorObject): FieldProblem | undefined {
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required':
      return { path: `${e.instancePath}/${String(p.missingProperty)}`, message: 'is required' }
    case 'additionalProperties':
      return { path: `${e.instancePath}/${String(p.additionalProperty)}`, message: 'unknown key' }
    case 'enum':
      return {
        path: e.instancePath,
        message: `must be one of ${(p.allowedValues as unknown[]).map(quote).join(', ')}`,
      }
    case 'const':
      return { path: e.instancePath, message: `must be ${quote(p.allowedValue)}` }
    case 'pattern':
      return { path: e.instancePath, message: `must match ${String(p.pattern)}` }
    case 'propertyNames':
      return undefined // reported by the 'pattern' error of the name itself
    case 'minProperties':
    case 'maxProperties':
      if (e.parentSchema && 'secretEnv' in ((e.parentSchema as { properties?: object }).properties ?? {}))
        return { path: e.instancePath, message: 'must hold exactly one of secretEnv, secretFile' }
      return { path: e.instancePath, message: e.message ?? e.keyword }
    default:
      return { path: e.instancePath, message: e.message ?? e.keyword }
  }
}

/**
 * Validates `value` in place (defaults filled) and returns its problems with `prefix` (the
 * value's own pointer in the file) in front of each path.
 */
export function validate(schema: TSchema, value: unknown, prefix = ''): FieldProblem[] {
  let fn = compiled.get(schema)
  if (!fn) {
    fn = ajv.compile(schema)
    compiled.set(schema, fn)
  }
  if (fn(value)) return []
  const seen = new Set<string>()
  const out: FieldProblem[] = []
  for (const e of fn.errors ?? []) {
    // a pattern-keyed record reports a bad key as additionalProperties: say what a name must be
    if (e.keyword === 'additionalProperties' && e.schemaPath.includes('patternProperties') === false) {
      const patterns = Object.keys(
        ((e.parentSchema as { patternProperties?: object }).patternProperties ?? {}) as object,
      )
      if (patterns.length > 0) {
        const key = String((e.params as { additionalProperty: string }).additionalProperty)
        out.push({ path: `${prefix}${e.instancePath}/${key}`, message: `name must match ${patterns[0]}` })
        continue
      }
    }
    const m = message(e)
    if (!m) continue
    const path = `${prefix}${m.path}` || '/'
    const k = `${path}\u0000${m.message}`
    if (seen.has(k)) continue
    seen.add(k)
    out.push({ path, message: m.message })
  }
  return out
}

/** RFC 6901 escaping of one path segment (a connector named `a/b` cannot exist, a material group can) */
export const seg = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1')

/** drops repeated (path, message) pairs, keeping the first */
export function unique(problems: readonly FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>()
  return problems.filter((p) => {
    const k = `${p.path}\u0000${p.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
