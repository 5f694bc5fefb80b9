/**
 * `loadConfig`: qualink.yaml, plus qualink.<env>.yaml when QUALINK_ENV names an environment,
 * deep-merged (the overlay wins), then checked as a whole. Either the whole configuration is
 * valid or nothing starts, and the error lists every problem with its path in the file.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseDocument } from 'yaml'
import { type FieldProblem, QualinkError } from '../contracts/errors.ts'
import { deepMerge, semanticProblems } from './checks.ts'
import { unique, validate } from './problems.ts'
import { QualinkConfig } from './schema.ts'
import { findLiteralSecrets } from './secrets.ts'

export const ENVIRONMENTS = ['dev', 'test', 'prod'] as const
export type Environment = (typeof ENVIRONMENTS)[number]

export interface LoadedConfig {
  readonly config: QualinkConfig
  /** the files merged, base first */
  readonly files: readonly string[]
  readonly environment: Environment | undefined
  /** relative paths in the file (dataDir, dir, secretFile) resolve against this */
  readonly baseDir: string
}

/** `qualink.yaml` → `qualink.prod.yaml` beside it */
export function overlayPath(file: string, environment: string): string {
  const ext = path.extname(file)
  return path.join(path.dirname(file), `${path.basename(file, ext)}.${environment}${ext}`)
}

function parseFile(file: string, problems: FieldProblem[]): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    problems.push({ path: file, message: `cannot read: ${(e as Error).message}` })
    return undefined
  }
  // YAML 1.2 core schema: `yes`/`no`/`on` stay strings, so `enabled: no` is an error, not false.
  const doc = parseDocument(text, { version: '1.2', uniqueKeys: true, prettyErrors: true })
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const at = e.linePos?.[0]
      problems.push({
        path: at ? `${file}:${at.line}:${at.col}` : file,
        message: e.message.split('\n')[0]!,
      })
    }
    return undefined
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ path: file, message: 'must be a YAML mapping at the top level' })
    return undefined
  }
  return value
}

/** Problems of an already merged document (what `qualink config validate` prints). */
export function configProblems(doc: unknown): FieldProblem[] {
  const secrets = findLiteralSecrets(doc)
  const schema = validate(QualinkConfig, doc)
  const semantic = semanticProblems(doc)
  return unique([...secrets, ...schema, ...semantic])
}

/**
 * Loads and validates; throws QualinkError('QLK_CONFIG_INVALID') listing every problem. Defaults
 * of the schema are filled in the returned config.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const problems: FieldProblem[] = []
  const requested = env.QUALINK_ENV || undefined
  let environment: Environment | undefined
  if (requested !== undefined) {
    if ((ENVIRONMENTS as readonly string[]).includes(requested)) environment = requested as Environment
    else problems.push({ path: 'QUALINK_ENV', message: `must be one of ${ENVIRONMENTS.join(', ')}` })
  }
  const files = [file]
  let doc = parseFile(file, problems)
  if (environment) {
    const overlay = overlayPath(file, environment)
    if (existsSync(overlay)) {
      files.push(overlay)
      const o = parseFile(overlay, problems)
      if (doc !== undefined && o !== undefined) doc = deepMerge(doc, o)
    }
  }
  if (doc !== undefined) problems.push(...configProblems(doc))
  if (problems.length > 0) {
    throw new QualinkError(
      'QLK_CONFIG_INVALID',
      `${files.join(' + ')}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      problems,
    )
  }
  return {
    config: doc as QualinkConfig,
    files,
    environment,
    baseDir: path.dirname(path.resolve(file)),
  }
}
