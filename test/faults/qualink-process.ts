/**
 * A real `qualink start` child process for the fault scenarios that kill, skew or starve the
 * process itself (F2, F11): a qualink.yaml written from an object, the database by environment
 * (DATABASE_URL for PostgreSQL, a data directory for SQLite), and a fixed port so simulators can
 * send their webhooks to it across restarts. `prefix` runs the process under another command
 * (e.g. `faketime`).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import type { TestDatabase } from '../dialects.ts'
import { until } from '../engine/harness.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface QualinkProcess {
  readonly child: ChildProcess
  readonly url: string
  /** settles when the process has exited (made at spawn, so an early exit is not missed) */
  readonly exited: Promise<unknown>
  /** SIGKILL, resolved once the process is gone */
  kill(): Promise<void>
}

export interface ProcessSetup {
  readonly db: TestDatabase
  readonly port: number
  /** the qualink.yaml as an object */
  readonly config: Record<string, unknown>
  readonly env?: NodeJS.ProcessEnv
  readonly prefix?: readonly string[]
  readonly args?: readonly string[]
}

/** A scratch folder for one scenario's config and data; `remove()` after. */
export class Scratch {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-fault-proc-'))
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** `qualink <args>` (the CLI through tsx) with `env` over this process's environment. */
export function spawnCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  prefix: readonly string[] = [],
): ChildProcess {
  const cmd = [...prefix, process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args]
  return spawn(cmd[0]!, cmd.slice(1), {
    cwd: ROOT,
    env: { ...process.env, QUALINK_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Starts `qualink start --config …` on `setup.port` and waits for /healthz. */
export async function startQualinkProcess(scratch: Scratch, setup: ProcessSetup): Promise<QualinkProcess> {
  const config = path.join(scratch.dir, 'qualink.yaml')
  writeFileSync(config, stringify(setup.config))
  const dataDir = path.join(scratch.dir, 'data')
  mkdirSync(dataDir, { recursive: true })
  const child = spawnCli(
    ['start', '--config', config, '--port', String(setup.port), ...(setup.args ?? [])],
    {
      QUALINK_DATA_DIR: setup.db.dialect === 'sqlite' ? setup.db.dir : dataDir,
      ...(setup.db.dialect === 'postgres' ? { DATABASE_URL: setup.db.location } : {}),
      ...setup.env,
    },
    setup.prefix,
  )
  const exited = once(child, 'exit')
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000)
  })
  child.stdout!.resume()
  const url = `http://127.0.0.1:${setup.port}`
  let gone = false
  void exited.then(() => {
    gone = true
  })
  await until(async () => {
    if (gone) throw new Error(`qualink start exited before it answered /healthz: ${stderr}`)
    return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true
  }, 60_000)
  return {
    child,
    url,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}

/** GET a JSON API route of the running process. */
export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url)
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`)
  return (await r.json()) as T
}
