/**
 * `npm start` is the demo (README Quick start): the real command in a child process, on embedded
 * SQLite in a fresh data directory, with the plant simulators and the plant-day traffic at a fast
 * rhythm. It must run all four quality workflows to completion and stop cleanly on Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { until } from '../engine/harness.ts'
import { freePort } from '../services.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const WORKFLOWS = [
  'supplier-receipt-inspection',
  'in-process-quality-check',
  'finished-goods-release',
  'complaint-traceability',
] as const

describe('the npm start demo', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'qualink-demo-test-'))
  let child: ChildProcess | undefined
  let output = ''

  afterAll(() => {
    child?.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('runs all four quality workflows over the simulators and stops cleanly on SIGINT', async () => {
    const port = await freePort()
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--port', String(port), '--tick-ms', '250'],
      { cwd: ROOT, env: { ...process.env, QUALINK_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child.stdout!.on('data', (b) => {
      output += String(b)
    })
    child.stderr!.on('data', (b) => {
      output += String(b)
    })
    const completed = async (workflow: string) => {
      const r = await fetch(
        `http://127.0.0.1:${port}/v1/runs?workflow=${workflow}&status=completed&limit=200`,
      )
      return r.ok ? ((await r.json()) as { runs: unknown[] }).runs : []
    }
    const dispositioned = async () =>
      ((await completed('in-process-quality-check')) as Array<{ result: { verdict: string } }>).some(
        (r) => r.result.verdict === 'dispositioned',
      )
    await until(async () => {
      try {
        return (await Promise.all(WORKFLOWS.map(completed))).every((runs) => runs.length > 0)
      } catch {
        return false // not listening yet
      }
    }, 150_000)
    // an out-of-tolerance order held, its nonconformance dispositioned in the QMS, the QMS webhook
    // translated, and the hold released
    await until(dispositioned, 60_000)
    expect(output).toContain('Qualink demo is running on embedded SQLite')
    // a released lot: its ERP delivery block lifted after lab, packing and QA approval
    const releases = (await completed('finished-goods-release')) as Array<{ result: { decision: string } }>
    expect(releases.map((r) => r.result.decision)).toContain('released')
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve))
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(output).toMatch(/stopped cleanly: \d+ receipts/)
    child = undefined
  }, 200_000)
})
