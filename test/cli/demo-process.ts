/** The `npm start` demo as a child process (the real command), for the demo tests. */
import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { qualinkArgs } from '../bundle.ts'
import { freePort } from '../services.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface DemoProcess {
  readonly port: number
  /** what it printed so far (stdout and stderr) */
  readonly output: string
  /** GET on its API; null while it is not listening yet */
  api<T>(pathAndQuery: string): Promise<T | null>
  /** Ctrl-C: resolves with the exit code */
  interrupt(): Promise<number | null>
  kill(): void
}

/**
 * How often a demo test asks the demo how far it got: once a tick at the tests' rhythm. Asking
 * every 10 ms (until's default) keeps the demo's one event loop busy answering /v1/runs: measured
 * on a 2-core machine at load 16, once the demo had a few minutes of runs, each answer took about
 * 150 ms and the plant day slowed from 3.5 to 1.4 ticks a second (at 250 ms: no slowdown).
 */
export const DEMO_POLL_MS = 250

/** The bundle npm start builds and runs (test/bundle.ts), on `dataDir`. */
export async function startDemo(
  dataDir: string,
  tickMs = 250,
  extraArgs: readonly string[] = [],
): Promise<DemoProcess> {
  const port = await freePort()
  let output = ''
  let child: ChildProcess | undefined = spawn(
    process.execPath,
    qualinkArgs('demo', '--port', String(port), '--tick-ms', String(tickMs), ...extraArgs),
    { cwd: ROOT, env: { ...process.env, QUALINK_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  child.stdout!.on('data', (b) => {
    output += String(b)
  })
  child.stderr!.on('data', (b) => {
    output += String(b)
  })
  const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve))
  return {
    port,
    get output() {
      return output
    },
    async api<T>(pathAndQuery: string) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}${pathAndQuery}`)
        return r.ok ? ((await r.json()) as T) : null
      } catch {
        return null // not listening yet
      }
    },
    async interrupt() {
      child?.kill('SIGINT')
      const code = await exited
      child = undefined
      return code
    },
    kill() {
      child?.kill('SIGKILL')
      child = undefined
    },
  }
}
