/**
 * `qualink start` under change control, as a process on embedded SQLite: with a version promoted
 * to the environment and a canary recorded for one plant, start runs the promoted version (not the
 * differing file), applies the canary to its plant, says both in its log, and records what it ran
 * as a `loaded` version by `system`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { openConfiguredStore } from '../../src/cli/config-store.ts'
import { loadConfig } from '../../src/config/load.ts'
import { listConfigChanges, recordConfigChange } from '../../src/config/version-store.ts'
import { versionOf, withCanaryPlant } from '../../src/config/versions.ts'
import { qualinkArgs } from '../bundle.ts'
import { type Doc, TempDir } from '../config/fixture.ts'
import { until } from '../engine/harness.ts'
import { freePort } from '../services.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Two plants; `deadline` makes the versions differ. */
const doc = (deadline: string): Doc => ({
  version: 1,
  server: { dataDir: './data' },
  connectors: {
    sap: { kind: 'erp/sap-s4', config: { baseUrl: 'https://s4.example' } },
    qms: { kind: 'qms/rest', config: { baseUrl: 'https://qms.example' } },
  },
  egress: { allowlist: { sap: ['https://s4.example'], qms: ['https://qms.example'] } },
  plants: {
    P100: { erp: 'sap', qms: 'qms', deadlines: { usageDecision: deadline } },
    P200: { erp: 'sap', qms: 'qms', deadlines: { usageDecision: deadline } },
  },
})

describe('qualink start under change control', () => {
  const tmp = new TempDir()
  let child: ChildProcess | undefined
  afterAll(() => {
    child?.kill('SIGKILL')
    tmp.remove()
  })

  it('runs the promoted version with the canary plant on the canary version, and records it', async () => {
    const env = { QUALINK_ENV: 'test' }
    const v1 = loadConfig(tmp.write('qualink-v1.yaml', doc('72h')), env)
    const file = tmp.write('qualink.yaml', doc('48h'))
    const v2 = loadConfig(file, env)
    const store = await openConfiguredStore(v2, env)
    try {
      await recordConfigChange(store, {
        config: v1.config,
        files: v1.files,
        environment: 'test',
        action: 'promoted',
        actor: 'alice',
      })
      await recordConfigChange(store, {
        config: v2.config,
        files: v2.files,
        environment: 'test',
        action: 'canary',
        plant: 'P100',
        actor: 'alice',
      })
    } finally {
      await store.close()
    }

    const port = await freePort()
    let output = ''
    const childEnv: NodeJS.ProcessEnv = { ...process.env, QUALINK_ENV: 'test' }
    delete childEnv.DATABASE_URL
    delete childEnv.QUALINK_DATA_DIR
    child = spawn(process.execPath, qualinkArgs('start', '--config', file, '--port', String(port)), {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (b) => {
      output += String(b)
    })
    child.stderr!.on('data', (b) => {
      output += String(b)
    })
    await until(() => output.includes('qualink listening'), 60_000)
    expect(output).toContain('running the promoted version')
    expect(output).toContain('canary version applied to one plant')
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)

    const after = await openConfiguredStore(v2, env)
    try {
      const loaded = (await listConfigChanges(after, { environment: 'test' })).filter(
        (c) => c.action === 'loaded',
      )
      const h1 = versionOf(v1.config).hash
      const h2 = versionOf(v2.config).hash
      expect(loaded).toHaveLength(1)
      // what ran: v1, with P100 from v2
      expect(loaded[0]!.hash).toBe(versionOf(withCanaryPlant(v1.config, v2.config, 'P100')).hash)
      expect(loaded[0]).toMatchObject({
        actor: 'system',
        detail: { fileHash: h2, promoted: h1, canary: { hash: h2, plant: 'P100' } },
      })
    } finally {
      await after.close()
    }
  })
})
