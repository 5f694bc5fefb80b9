/**
 * Issue 4, item 4: `qualink schemas check` (the command CI runs, .ci/run) passes on the committed
 * snapshot and fails, naming the type, the change and the new major it needs, when a published
 * schema was broken. The break is staged in a copy of schemas/: the copy still has a required
 * field that the TypeBox source no longer has, which is what removing a field from a published
 * major looks like to the check.
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { qualinkArgs } from '../bundle.ts'

const run = promisify(execFile)
const check = (dir: string) =>
  run(process.execPath, qualinkArgs('schemas', 'check', '--dir', dir), {
    cwd: process.cwd(),
  })

describe('qualink schemas check', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'qlk-schemas-cli-'))
    cpSync('schemas', dir, { recursive: true })
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is what CI runs', () => {
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/^\s*npx tsx src\/cli\/main\.ts schemas check\b/m)
  })

  it('passes on the committed snapshot and exits 1 on a published field removed without a new major', async () => {
    expect((await check(dir)).stdout).toMatch(/schemas OK/)

    const file = path.join(dir, 'qms.capa.opened.v1.json')
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    doc.required.push('plantLegacyCode')
    doc.properties.plantLegacyCode = { type: 'string' }
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`)

    const failed = await check(dir).then(
      () => undefined,
      (e: { code: number; stdout: string }) => e,
    )
    expect(failed?.code).toBe(1)
    expect(failed?.stdout).toMatch(
      /qms\.capa\.opened\.v1: breaking change field_removed .*\/plantLegacyCode.*qms\.capa\.opened\.v2/,
    )
  })
})
