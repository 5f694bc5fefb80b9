/**
 * Connector secrets (passwords, API keys, webhook URLs) never sit in qualink.yaml: a connector's
 * config names an environment variable (`<name>Env`) or a file (`<name>File`, e.g. a mounted
 * Kubernetes/Docker secret). Both are read through the environment buildRuntime was given, so a
 * test or an embedding process decides what a connector sees instead of the global process.env.
 *
 * `readSecret` is the one reader: src/config/secrets.ts (ingress secrets, databaseUrl) uses it too,
 * so a file secret means the same thing everywhere (trailing newline dropped, empty refused).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Type } from 'typebox'
import type { FieldProblem } from '../../contracts/errors.ts'
import { PermanentError } from '../../engine/errors.ts'

/** Where secrets and relative paths are resolved: buildRuntime's env and the config file's folder. */
export interface ConnectorEnvironment {
  readonly env: NodeJS.ProcessEnv
  /** relative `…File` paths (and other relative paths in a connector config) resolve against this */
  readonly baseDir: string
}

export const processEnvironment = (): ConnectorEnvironment => ({ env: process.env, baseDir: process.cwd() })

const ENV_NAME = '^[A-Z_][A-Z0-9_]*$'
/** schema of a `<name>Env` field */
export const SecretEnvField = (description = 'environment variable name') =>
  Type.Optional(Type.String({ pattern: ENV_NAME, description }))
/** schema of a `<name>File` field */
export const SecretFileField = (description = 'file holding the secret; relative to qualink.yaml') =>
  Type.Optional(Type.String({ minLength: 1, description }))

/**
 * Object-schema options saying that each named secret is set exactly once (`<name>Env` or
 * `<name>File`), so `qualink config validate` reports a missing or doubled secret before start.
 */
export function exactlyOneSecret(...names: string[]): { allOf: object[] } {
  return {
    allOf: names.map((n) => ({ oneOf: [{ required: [`${n}Env`] }, { required: [`${n}File`] }] })),
  }
}

/** Options for an optional secret: at most one of `<name>Env` and `<name>File`. */
export function atMostOneSecret(name: string): { not: object } {
  return { not: { required: [`${name}Env`, `${name}File`] } }
}

/** A secret read, or the problem at `field` ('env' or 'file' part of the reference). */
export type SecretRead =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly field: 'env' | 'file'; readonly message: string }

export function readSecret(
  ref: { readonly env?: string; readonly file?: string },
  where: ConnectorEnvironment,
): SecretRead {
  if (ref.env !== undefined) {
    const v = where.env[ref.env]
    return v
      ? { ok: true, value: v }
      : { ok: false, field: 'env', message: `environment variable ${ref.env} is not set` }
  }
  const file = path.resolve(where.baseDir, ref.file ?? '')
  try {
    // a trailing newline is how `echo secret > file` and most secret mounts write it
    const v = readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    return v ? { ok: true, value: v } : { ok: false, field: 'file', message: `${file} is empty` }
  } catch (e) {
    return { ok: false, field: 'file', message: `cannot read ${file}: ${(e as Error).message}` }
  }
}

/**
 * A connector config error with the offending fields as JSON pointers relative to the
 * connector's `config`; buildRuntime reports each at `/connectors/<name>/config<path>`.
 */
export class ConnectorConfigError extends PermanentError {
  readonly problems: readonly FieldProblem[]
  constructor(kind: string, name: string, problems: readonly FieldProblem[]) {
    super(
      'QLK_CONFIG_INVALID',
      `connector ${name} (${kind}): ${problems.map((p) => (p.path ? `${p.path} ${p.message}` : p.message)).join('; ')}`,
    )
    this.name = 'ConnectorConfigError'
    this.problems = problems
  }
}

/**
 * The secret `<name>Env` / `<name>File` of `obj` (found at `at` in the connector config): exactly
 * one must be set. `undefined` when neither is set and the secret is optional.
 */
export function connectorSecret(
  obj: Readonly<Record<string, unknown>>,
  name: string,
  at: string,
  where: ConnectorEnvironment,
  who: { readonly kind: string; readonly name: string },
  optional = false,
): string | undefined {
  const envKey = `${name}Env`
  const fileKey = `${name}File`
  const env = typeof obj[envKey] === 'string' ? (obj[envKey] as string) : undefined
  const file = typeof obj[fileKey] === 'string' ? (obj[fileKey] as string) : undefined
  if (env !== undefined && file !== undefined)
    throw new ConnectorConfigError(who.kind, who.name, [
      { path: at, message: `set one of ${envKey} or ${fileKey}, not both` },
    ])
  if (env === undefined && file === undefined) {
    if (optional) return undefined
    throw new ConnectorConfigError(who.kind, who.name, [
      { path: at, message: `${envKey} or ${fileKey} is required` },
    ])
  }
  const r = readSecret({ env, file }, where)
  if (r.ok) return r.value
  throw new ConnectorConfigError(who.kind, who.name, [
    { path: `${at}/${r.field === 'env' ? envKey : fileKey}`, message: r.message },
  ])
}
