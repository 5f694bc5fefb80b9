/**
 * The commands as an operator runs them (processes, embedded SQLite in a temp data dir, the
 * simulators): `synthetic run` exits 0 only when every step passed and names the failing step
 * otherwise; `config promote` refuses a failing version (exit 1, nothing promoted) and records a
 * passing one; `config versions`, `config diff` (secrets redacted) and `config rollback`.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { qualinkArgs } from '../bundle.ts'
import { type Doc, TempDir } from '../config/fixture.ts'
import { type SyntheticSims, startSyntheticSims, syntheticDoc } from '../synthetic/fixture.ts'

const exec = promisify(execFile)
// each command is a fresh Node process loading the whole CLI (about 10 s each on a loaded 2-core box)
const PROCESSES_TIMEOUT = 300_000

/**
 * The JSON document a --json command printed, from the line that opens it to the line that closes
 * it (a dependency may log around it: node-opcua warns on stdout when it loads).
 */
function json<T>(stdout: string): T {
  const lines = stdout.split('\n')
  const start = lines.findIndex((l) => l === '{' || l === '[')
  const end = lines.findLastIndex((l) => l === '}' || l === ']')
  if (start < 0 || end < start) throw new Error(`no JSON in output: ${stdout}`)
  return JSON.parse(lines.slice(start, end + 1).join('\n')) as T
}

describe('qualink synthetic run and qualink config change control', () => {
  let sims: SyntheticSims
  let tmp: TempDir
  let good: string
  let better: string
  let broken: string

  beforeAll(async () => {
    sims = await startSyntheticSims()
    tmp = new TempDir()
    const doc = (deadline: string, qms = sims.qms.url): Doc => {
      const d = syntheticDoc({ erp: sims.erp.url, qms })
      ;(d.plants as Record<string, Doc>).P100!.deadlines = { usageDecision: deadline }
      ;(d.connectors as Record<string, Doc>).qms!.config = {
        ...((d.connectors as Record<string, Doc>).qms!.config as Doc),
        apiKeyEnv: deadline === '48h' ? 'QMS_KEY_NEW' : 'QMS_KEY',
      }
      return d
    }
    good = tmp.write('qualink.yaml', doc('72h'))
    better = tmp.write('qualink-better.yaml', doc('48h'))
    broken = tmp.write('qualink-broken.yaml', doc('24h', 'http://127.0.0.1:9'))
  })
  afterAll(async () => {
    await sims?.close()
    tmp?.remove()
  })

  /** exit code and output of one command */
  const qualink = async (...args: string[]) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      QUALINK_DATA_DIR: `${tmp.dir}/data`,
      QUALINK_OPERATOR: 'alice',
      QMS_KEY: 'k1',
      QMS_KEY_NEW: 'k2',
    }
    delete env.DATABASE_URL
    try {
      const r = await exec(process.execPath, qualinkArgs(...args), { env })
      return { code: 0, stdout: r.stdout, stderr: r.stderr }
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string }
      return { code: x.code, stdout: x.stdout, stderr: x.stderr }
    }
  }

  it(
    'synthetic run: exit 0 when every step passed, 1 naming the failing step',
    async () => {
      const pass = await qualink('synthetic', 'run', '--config', good, '--json')
      expect(pass.code).toBe(0)
      const report = json<{ passed: boolean; steps: Array<{ status: string }> }>(pass.stdout)
      expect(report.passed).toBe(true)
      expect(report.steps.every((s) => s.status === 'passed')).toBe(true)

      const fail = await qualink('synthetic', 'run', '--config', broken)
      expect(fail.code).toBe(1)
      expect(fail.stdout).toMatch(/FAIL P100 supplier-receipt-inspection qms\.create-inspection-lot/)
      expect(fail.stdout).toMatch(/FAILED/)
    },
    PROCESSES_TIMEOUT,
  )

  it(
    'promote refuses a failing version, records passing ones; diff redacts; rollback goes back',
    async () => {
      const refused = await qualink('config', 'promote', '--from', broken, '--env', 'test')
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/QLK_PROMOTION_REFUSED/)
      expect(refused.stderr).toMatch(/P100\/supplier-receipt-inspection\/qms\.create-inspection-lot/)

      expect((await qualink('config', 'promote', '--from', good, '--env', 'test')).code).toBe(0)
      const second = await qualink('config', 'promote', '--from', better, '--env', 'test')
      expect(second.code).toBe(0)
      expect(second.stdout).toMatch(/promoted to test by alice/)

      const versions = await qualink('config', 'versions', '--config', good, '--env', 'test', '--json')
      const v = json<{
        changes: Array<{ action: string; actor: string; hash: string }>
        state: { current: string; previous: string }
      }>(versions.stdout)
      expect(v.changes.map((c) => [c.action, c.actor])).toEqual([
        ['promoted', 'alice'],
        ['promoted', 'alice'],
      ])
      expect(v.state.previous).toBe(v.changes[0]!.hash)

      const diff = await qualink(
        'config',
        'diff',
        v.changes[0]!.hash.slice(0, 10),
        v.state.current.slice(0, 10),
        '--config',
        good,
      )
      expect(diff.code).toBe(0)
      expect(diff.stdout).toContain('~ /plants/P100/deadlines/usageDecision: "72h" → "48h"')
      expect(diff.stdout).toContain('~ /connectors/qms/config/apiKeyEnv: [redacted] → [redacted]')
      expect(diff.stdout).not.toMatch(/QMS_KEY/)

      const back = await qualink('config', 'rollback', '--env', 'test', '--config', good)
      expect(back.code).toBe(0)
      expect(back.stdout).toContain(
        `rolled back from ${v.state.current.slice(0, 12)} to ${v.changes[0]!.hash.slice(0, 12)} by alice`,
      )
    },
    PROCESSES_TIMEOUT,
  )
})
