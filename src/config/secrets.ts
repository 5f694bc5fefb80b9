/**
 * Secrets never live in qualink.yaml: the file names an environment variable (`secretEnv`, or a
 * connector's `…Env` field) or a file (`secretFile`, e.g. a mounted Kubernetes/Docker secret).
 * A literal that looks like a secret is refused before anything starts, so a password pasted into
 * the file fails review instead of landing in git and in backups.
 */
import { readSecret } from '../connectors/sdk/secrets.ts'
import type { FieldProblem } from '../contracts/errors.ts'
import { seg } from './problems.ts'
import type { SecretRef } from './schema.ts'

export const SECRET_KEY =
  /(pass(word|wd|phrase)?|secret|token|api[-_]?key|credential|private[-_]?key|bearer)/i
/** keys that name where a secret is, or a header that will carry it, never the secret itself */
const REFERENCE_KEY = /(Env|File|Header|Headers)$/

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function urlWithPassword(v: string): boolean {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return false
  try {
    return new URL(v).password !== ''
  } catch {
    return false
  }
}

/** Every literal secret in the document, with its path. */
export function findLiteralSecrets(doc: unknown, at = ''): FieldProblem[] {
  const out: FieldProblem[] = []
  const visit = (v: unknown, p: string, key: string | undefined) => {
    if (typeof v === 'string') {
      if (key !== undefined && SECRET_KEY.test(key) && !REFERENCE_KEY.test(key))
        out.push({
          path: p,
          message: `literal secret refused: write { secretEnv: NAME } or { secretFile: path } (or the connector's …Env field)`,
        })
      else if (urlWithPassword(v))
        out.push({
          path: p,
          message: 'URL with an embedded password refused: use a secretEnv/secretFile reference',
        })
      return
    }
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) visit(x, `${p}/${i}`, typeof x === 'string' ? key : undefined)
      return
    }
    if (isObject(v)) for (const [k, x] of Object.entries(v)) visit(x, `${p}/${seg(k)}`, k)
  }
  visit(doc, at, undefined)
  return out
}

/**
 * Reads a secret at start; a missing variable or unreadable file is a problem at `where`. The same
 * reader as connectors' `…Env` / `…File` fields (connectors/sdk/secrets.ts).
 */
export function resolveSecret(
  ref: SecretRef,
  where: string,
  env: NodeJS.ProcessEnv,
  baseDir: string,
  problems: FieldProblem[],
): string {
  const r = readSecret({ env: ref.secretEnv, file: ref.secretFile }, { env, baseDir })
  if (r.ok) return r.value
  problems.push({ path: `${where}/${r.field === 'env' ? 'secretEnv' : 'secretFile'}`, message: r.message })
  return ''
}
