/**
 * `qualink simulate <name>` as a process: a simulator started from the CLI posts its signed
 * webhooks where --webhook-url says, and stops cleanly on SIGINT.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { verifySignature } from '../../simulators/shared/signing.ts'
import { qualinkArgs } from '../bundle.ts'
import { startStub } from '../connectors/http-stub.ts'
import { until } from '../engine/harness.ts'
import { freePort } from '../services.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

describe('qualink simulate', () => {
  const closers: Array<() => unknown> = []
  afterAll(async () => {
    for (const c of closers.reverse()) await c()
  })

  it('runs the QMS simulator with its webhooks signed to the given URL', async () => {
    const hooks = await startStub(() => ({ status: 200, body: 'ok' }))
    closers.push(() => hooks.close())
    const port = await freePort()
    const child = spawn(
      process.execPath,
      qualinkArgs(
        'simulate',
        'qms',
        '--port',
        String(port),
        '--webhook-url',
        `${hooks.url}/hooks/qms`,
        '--webhook-secret',
        'sim-secret',
      ),
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    closers.push(() => child.exitCode === null && child.kill('SIGKILL'))
    let out = ''
    child.stdout!.on('data', (b) => {
      out += String(b)
    })
    await until(() => out.includes('qms simulator listening at'))
    const created = await fetch(`http://127.0.0.1:${port}/api/v1/inspection-lots`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ material: 'RAW-100', batch: 'B1', quantity: '100', unit: 'KG' }),
    })
    expect(created.status).toBe(201)
    await until(() => hooks.requests.length > 0)
    const [hook] = hooks.requests
    expect(hook!.url).toBe('/hooks/qms')
    expect(verifySignature('sim-secret', String(hook!.headers['x-qms-signature']), hook!.body)).toBe(true)
    const exited = new Promise<number | null>((r) => child.once('exit', r))
    child.kill('SIGINT')
    expect(await exited).toBe(0)
  })
})
