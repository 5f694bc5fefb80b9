import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { assetPath, isEntryScript } from '../assets.ts'
import { catalogue } from './catalogue.ts'
import { type EventType, majorOf } from './event-type.ts'
import { compareSchemas, type JsonSchema } from './schema-compare.ts'

/**
 * Schema governance: one JSON Schema file per event type under schemas/, generated from the
 * TypeBox sources and committed. Run `npx tsx src/contracts/schemas-gen.ts --write` after changing
 * a schema; `--check` (and `qualink schemas check`) fails on drift or on a breaking change to a
 * published major. A breaking change is made by adding `<type>.v<N+1>` with an upcaster instead.
 */
export const SCHEMA_BASE_URI = 'https://qualink.dev/schemas/'
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema'
export const DEFAULT_SCHEMAS_DIR = assetPath('schemas')

export function schemaDocument(t: EventType): JsonSchema {
  // JSON round trip drops TypeBox's non-enumerable markers and gives a plain, stable object.
  const { description: _objectDescription, ...body } = JSON.parse(JSON.stringify(t.schema)) as Record<
    string,
    unknown
  >
  // Routing and upcast target go in $comment: Ajv's strict mode refuses unknown `x-` keywords.
  const comment = `routing: ${t.routing}${t.upcast ? `; upcasts to ${t.upcast.to}` : ''}`
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `${SCHEMA_BASE_URI}${t.type}.json`,
    title: t.type,
    description: t.description,
    $comment: comment,
    ...body,
  }
}

export function generateSchemas(types: readonly EventType[] = catalogue): Map<string, JsonSchema> {
  return new Map(types.map((t) => [t.type, schemaDocument(t)]))
}

export function renderSchema(doc: JsonSchema): string {
  return `${JSON.stringify(doc, null, 2)}\n`
}

function readCommitted(dir: string): Map<string, { text: string; doc: JsonSchema }> {
  const out = new Map<string, { text: string; doc: JsonSchema }>()
  if (!existsSync(dir)) return out
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const text = readFileSync(join(dir, f), 'utf8')
    out.set(f.slice(0, -'.json'.length), { text, doc: JSON.parse(text) as JsonSchema })
  }
  return out
}

export interface SchemasCheck {
  readonly ok: boolean
  readonly problems: string[]
  /** the subset of problems that are breaking changes (the rest is drift: regenerate) */
  readonly breaking: string[]
}

/**
 * Compares committed schemas in `committedDir` with the TypeBox sources. Fails on: a breaking change
 * to a type whose major did not change, a published type removed, and files out of sync.
 */
export function checkSchemas(committedDir: string, types: readonly EventType[] = catalogue): SchemasCheck {
  const committed = readCommitted(committedDir)
  const current = generateSchemas(types)
  const problems: string[] = []
  const breaking: string[] = []
  for (const [type, { text, doc }] of committed) {
    const now = current.get(type)
    if (!now) {
      const msg = `${type}: published type removed from the catalogue (breaking; keep it and upcast to a new major)`
      problems.push(msg)
      breaking.push(msg)
      continue
    }
    const cmp = compareSchemas(doc, now)
    for (const c of cmp.breaking) {
      const msg = `${type}: breaking change ${c.kind} — ${c.message}; publish it as ${type.replace(/\.v\d+$/, `.v${majorOf(type) + 1}`)} instead`
      problems.push(msg)
      breaking.push(msg)
    }
    if (cmp.breaking.length === 0 && text !== renderSchema(now)) {
      const what = cmp.nonBreaking.map((c) => c.message).join('; ') || 'formatting or annotations'
      problems.push(
        `${type}: schemas/${type}.json is out of sync (${what}); run npx tsx src/contracts/schemas-gen.ts --write`,
      )
    }
  }
  for (const type of current.keys()) {
    if (!committed.has(type))
      problems.push(`${type}: no committed schema; run npx tsx src/contracts/schemas-gen.ts --write`)
  }
  return { ok: problems.length === 0, problems, breaking }
}

/**
 * Breaking changes relative to the schemas/ committed at a git ref (e.g. `origin/main`). This is the
 * check CI should run: the working tree's schemas/ may already have been regenerated (even with
 * --force), the base branch's cannot. Drift and new types are not problems here, only breaks.
 */
export function checkAgainstGitRef(
  ref: string,
  opts: { schemasDir?: string; types?: readonly EventType[] } = {},
): SchemasCheck {
  const schemasDir = resolve(opts.schemasDir ?? DEFAULT_SCHEMAS_DIR)
  const cwd = dirname(schemasDir)
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  const prefix = git('rev-parse', '--show-prefix').trim()
  const treePath = `${prefix}${relative(cwd, schemasDir)}`
  let names: string[]
  try {
    names = git('ls-tree', '--name-only', `${ref}:${treePath}`)
      .split('\n')
      .filter((n) => n.endsWith('.json'))
  } catch {
    return { ok: true, problems: [], breaking: [] } // no schemas/ at that ref yet: nothing published
  }
  const baseline = mkdtempSync(join(tmpdir(), 'qlk-schemas-baseline-'))
  try {
    for (const n of names) writeFileSync(join(baseline, n), git('show', `${ref}:${treePath}/${n}`))
    const { breaking } = checkSchemas(baseline, opts.types ?? catalogue)
    const problems = breaking.map((b) => `${b} (against ${ref})`)
    return { ok: problems.length === 0, problems, breaking: problems }
  } finally {
    rmSync(baseline, { recursive: true, force: true })
  }
}

/**
 * Entry point for `qualink schemas check [dir] [--against <git-ref>]`: drift and breaking changes
 * against `dir`, plus breaking changes against the ref's committed schemas when `against` is given.
 */
export function runSchemasCheck(
  dir: string = DEFAULT_SCHEMAS_DIR,
  opts: { against?: string } = {},
): { ok: boolean; problems: string[] } {
  const problems = [...checkSchemas(dir).problems]
  if (opts.against) problems.push(...checkAgainstGitRef(opts.against, { schemasDir: dir }).problems)
  return { ok: problems.length === 0, problems }
}

/**
 * Writes every schema into `dir`. Refuses (throws, writes nothing) when that would silently
 * overwrite a published schema with a breaking change, unless `force` — the escape hatch for a
 * type that was never released.
 */
export function writeSchemas(
  dir: string = DEFAULT_SCHEMAS_DIR,
  opts: { force?: boolean; types?: readonly EventType[] } = {},
): string[] {
  const types = opts.types ?? catalogue
  const check = checkSchemas(dir, types)
  if (check.breaking.length > 0 && !opts.force) {
    throw new Error(
      `refusing to write schemas with breaking changes:\n  ${check.breaking.join('\n  ')}\n(use --force only for unreleased types)`,
    )
  }
  mkdirSync(dir, { recursive: true })
  const written: string[] = []
  const current = generateSchemas(types)
  for (const [type, doc] of current) {
    const file = join(dir, `${type}.json`)
    const text = renderSchema(doc)
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
      writeFileSync(file, text)
      written.push(file)
    }
  }
  if (opts.force) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      if (!current.has(f.slice(0, -'.json'.length))) unlinkSync(join(dir, f))
    }
  }
  return written
}

function main(argv: readonly string[]): number {
  const dirFlag = argv.indexOf('--dir')
  const dir = dirFlag >= 0 && argv[dirFlag + 1] ? resolve(argv[dirFlag + 1]!) : DEFAULT_SCHEMAS_DIR
  if (argv.includes('--write')) {
    const written = writeSchemas(dir, { force: argv.includes('--force') })
    console.log(`${written.length} schema file(s) written to ${dir}`)
    return 0
  }
  const againstFlag = argv.indexOf('--against')
  const against = againstFlag >= 0 ? argv[againstFlag + 1] : undefined
  const { ok, problems } = runSchemasCheck(dir, against ? { against } : {})
  for (const p of problems) console.error(p)
  console.log(ok ? `schemas in ${dir} are in sync` : `${problems.length} problem(s)`)
  return ok ? 0 : 1
}

if (isEntryScript('src/contracts/schemas-gen.ts')) {
  process.exitCode = main(process.argv.slice(2))
}
