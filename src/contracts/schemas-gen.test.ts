import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { Type } from 'typebox'
import { afterEach, describe, expect, it } from 'vitest'
import { catalogue } from './catalogue.ts'
import { defineEventType, type EventType } from './event-type.ts'
import {
  checkAgainstGitRef,
  checkSchemas,
  DEFAULT_SCHEMAS_DIR,
  generateSchemas,
  renderSchema,
  runSchemasCheck,
  writeSchemas,
} from './schemas-gen.ts'

const dirs: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'qlk-schemas-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const v1 = (schema: EventType['schema']) =>
  defineEventType({ type: 'qms.widget.checked.v1', routing: 'transactional', description: 'test', schema })
const original = Type.Object({ id: Type.String(), qty: Type.Integer(), note: Type.Optional(Type.String()) })

describe('committed schemas/', () => {
  it('are in sync with the TypeBox sources (run `npx tsx src/contracts/schemas-gen.ts --write`)', () => {
    const result = runSchemasCheck(DEFAULT_SCHEMAS_DIR)
    expect(result.problems).toEqual([])
    expect(result.ok).toBe(true)
  })

  it('carry $id and the 2020-12 dialect, and compile with Ajv 2020 in strict mode', () => {
    const ajv = new Ajv2020({ strict: true })
    // ajv-formats is CommonJS: under NodeNext its default import is module.exports, whose .default is the plugin.
    addFormatsModule.default(ajv)
    for (const t of catalogue) {
      const doc = JSON.parse(readFileSync(join(DEFAULT_SCHEMAS_DIR, `${t.type}.json`), 'utf8'))
      expect(doc.$id).toBe(`https://qualink.dev/schemas/${t.type}.json`)
      expect(doc.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
      expect(() => ajv.compile(doc), t.type).not.toThrow()
    }
  })
})

describe('schema governance', () => {
  it('catches a breaking change (field removed) to a published major', () => {
    const dir = tempDir()
    writeSchemas(dir, { types: [v1(original)] })
    const changed = v1(Type.Object({ id: Type.String(), qty: Type.Integer() }))
    const result = checkSchemas(dir, [changed])
    expect(result.ok).toBe(false)
    expect(result.breaking).toHaveLength(1)
    expect(result.breaking[0]).toMatch(
      /qms\.widget\.checked\.v1: breaking change field_removed .*\/note.*qms\.widget\.checked\.v2/,
    )
  })

  it('catches a retyped field and a newly required one', () => {
    const dir = tempDir()
    writeSchemas(dir, { types: [v1(original)] })
    const changed = v1(Type.Object({ id: Type.Integer(), qty: Type.Integer(), note: Type.String() }))
    expect(checkSchemas(dir, [changed]).breaking.join('\n')).toMatch(/retyped[\s\S]*newly_required/)
  })

  it('refuses to overwrite a published schema with a breaking change unless forced', () => {
    const dir = tempDir()
    writeSchemas(dir, { types: [v1(original)] })
    const changed = v1(Type.Object({ id: Type.String() }))
    expect(() => writeSchemas(dir, { types: [changed] })).toThrow(
      /refusing to write schemas with breaking changes/,
    )
    writeSchemas(dir, { types: [changed], force: true })
    expect(checkSchemas(dir, [changed]).ok).toBe(true)
  })

  it('accepts the breaking change as a new major next to the old one', () => {
    const dir = tempDir()
    writeSchemas(dir, { types: [v1(original)] })
    const v2 = defineEventType({
      type: 'qms.widget.checked.v2',
      routing: 'transactional',
      description: 'test',
      schema: Type.Object({ id: Type.String() }),
    })
    expect(checkSchemas(dir, [v1(original), v2]).breaking).toEqual([])
  })

  it('treats an optional field added as drift to regenerate, not as breaking', () => {
    const dir = tempDir()
    writeSchemas(dir, { types: [v1(original)] })
    const added = v1(Type.Object({ ...original.properties, extra: Type.Optional(Type.Boolean()) }))
    const result = checkSchemas(dir, [added])
    expect(result.breaking).toEqual([])
    expect(result.problems[0]).toMatch(/out of sync \(\/extra added as optional\)/)
    writeSchemas(dir, { types: [added] })
    expect(checkSchemas(dir, [added]).ok).toBe(true)
  })

  it('reports a removed published type and a missing file', () => {
    const dir = tempDir()
    writeSchemas(dir, { types: [v1(original)] })
    expect(checkSchemas(dir, []).breaking[0]).toMatch(/published type removed/)
    writeFileSync(
      join(dir, 'qms.widget.checked.v1.json'),
      renderSchema(generateSchemas([v1(original)]).get('qms.widget.checked.v1')!),
    )
    const other = defineEventType({
      type: 'qms.gadget.checked.v1',
      routing: 'transactional',
      description: 'x',
      schema: original,
    })
    expect(checkSchemas(dir, [v1(original), other]).problems).toEqual([
      expect.stringMatching(/qms\.gadget\.checked\.v1: no committed schema/),
    ])
  })
})

describe('check against a git ref', () => {
  it('catches a break relative to the base branch even after schemas/ was regenerated with --force', () => {
    const repo = tempDir()
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], {
        cwd: repo,
        stdio: 'pipe',
      })
    git('init', '-q')
    const dir = join(repo, 'schemas')
    writeSchemas(dir, { types: [v1(original)] })
    git('add', '.')
    git('commit', '-qm', 'base')
    const changed = v1(Type.Object({ id: Type.String(), qty: Type.Integer() }))
    writeSchemas(dir, { types: [changed], force: true })
    expect(checkSchemas(dir, [changed]).ok).toBe(true)
    const result = checkAgainstGitRef('HEAD', { schemasDir: dir, types: [changed] })
    expect(result.ok).toBe(false)
    expect(result.problems[0]).toMatch(/field_removed .*\/note.*\(against HEAD\)/)
    expect(checkAgainstGitRef('HEAD', { schemasDir: dir, types: [v1(original)] }).ok).toBe(true)
  })
})

describe('docs/canonical-model.md', () => {
  it('lists every domain event type of the catalogue in its table', () => {
    const doc = readFileSync(new URL('../../docs/canonical-model.md', import.meta.url), 'utf8')
    // Kernel-internal qualink.* types are documented with the kernel, not here.
    const missing = catalogue
      .map((t) => t.type)
      .filter((t) => !t.startsWith('qualink.') && !doc.includes(`| \`${t}\` |`))
    expect(missing).toEqual([])
  })
})
