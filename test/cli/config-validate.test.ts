/**
 * `qualink config validate` as a user runs it, a process through bin/qualink.js: a good file
 * exits 0 with its summary; a bad one exits non-zero and prints the QLK_ code and the path of
 * every bad field in the file; a missing file exits non-zero too.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ediDoc } from '../config/edi-doc.ts'
import { baseDoc, TempDir } from '../config/fixture.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const run = promisify(execFile)

/** exit code, stdout and stderr of `qualink config validate <file>` (QUALINK_ENV unset: no overlay) */
async function validate(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env }
  delete env.QUALINK_ENV
  try {
    const r = await run(process.execPath, ['bin/qualink.js', 'config', 'validate', file], { cwd: ROOT, env })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' }
  }
}

describe('qualink config validate (CLI)', () => {
  const tmp = new TempDir()
  afterAll(() => tmp.remove())

  it('a good file: exit 0 and a summary line', async () => {
    const r = await validate(tmp.write('good.yaml', baseDoc()))
    expect(r.stderr).not.toContain('QLK_')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/good\.yaml: valid — 2 plants \(P100, P200\), 3 connectors, 2 ingress sources/)
  })

  it('a bad file: exit ≠ 0, the QLK_ code and the path of each bad field', async () => {
    const doc = baseDoc()
    const plants = doc.plants as Record<string, Record<string, unknown>>
    plants.P100!.erp = 'no-such-connector'
    plants.P200!.sampling = { default: { level: 'II', aql: '7.7', severity: 'normal' } }
    const r = await validate(tmp.write('bad.yaml', doc))
    expect(r.code).not.toBe(0)
    expect(r.stdout).not.toContain('valid —')
    expect(r.stderr).toContain('QLK_CONFIG_INVALID')
    expect(r.stderr).toMatch(/^ {2}\/plants\/P200\/sampling\/default\/aql: /m)
    expect(r.stderr).toMatch(/^ {2}\/plants\/P100\/erp: references unknown connector 'no-such-connector'$/m)
  })

  it('an edi/x12 connector: exit ≠ 0 naming the bad partner id and the plant reference', async () => {
    const doc = ediDoc({ plant: { edi: 'qms-cloud' } })
    const edi = (doc.connectors as Record<string, { config: Record<string, unknown> }>)['edi-suppliers']!
    ;(edi.config.partners as Record<string, Record<string, unknown>>)['V-42']!.qualifier = 'zz'
    const r = await validate(tmp.write('edi.yaml', doc))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('QLK_CONFIG_INVALID')
    expect(r.stderr).toMatch(
      /^ {2}\/connectors\/edi-suppliers\/config\/partners\/V-42\/qualifier: must match \^\[A-Z0-9\]\{2\}\$$/m,
    )
    expect(r.stderr).toMatch(
      /^ {2}\/plants\/P100\/edi: connector 'qms-cloud' is qms\/rest, not a edi connector$/m,
    )
  })

  it('a missing file: exit ≠ 0 and says so', async () => {
    const r = await validate(path.join(tmp.dir, 'absent.yaml'))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('absent.yaml: no such file')
  })
})
