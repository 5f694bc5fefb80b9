/**
 * The `qualink` command as the tests spawn it: the bundle `npm start` runs (scripts/build.js), with
 * the test programs the crash tests spawn (test/fixtures/) in it, built once per test run by
 * global-setup.ts into its own folder under .tmp/ (externals resolve from this repository's
 * node_modules, so it must sit inside it) and removed when the run ends. A process from the bundle
 * starts in about a third of the time the sources through tsx take (bench/README, "Demo: start-up
 * and memory"), and it is what users run. The sources through tsx
 * stay covered where `qualink` runs without a current bundle (bin/qualink.js: config-validate and
 * edi-from-config run it). Outside vitest (a benchmark using a test helper) the sources run.
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { inject } from 'vitest'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

declare module 'vitest' {
  export interface ProvidedContext {
    /** the entry of this run's bundle of the qualink command (global-setup.ts) */
    qualinkBundle: string
  }
}

export interface Bundle {
  /** the command's entry module, run with plain `node <entry> <command…>` */
  readonly entry: string
  remove(): void
}

/** Test programs bundled beside the command, spawned by the crash and multi-process tests. */
const FIXTURES = ['serve', 'engine-worker', 'fleet-worker'] as const

export async function buildBundle(): Promise<Bundle> {
  const dir = path.join(ROOT, '.tmp', `bundle-${randomUUID()}`)
  const entries = FIXTURES.flatMap((f) => ['--entry', `${f}=test/fixtures/${f}.ts`])
  await promisify(execFile)(process.execPath, ['scripts/build.js', '--outdir', dir, ...entries], {
    cwd: ROOT,
  })
  return { entry: path.join(dir, 'qualink.js'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Node's arguments for one program of this run's bundle, or for its source through tsx. */
function programArgs(bundled: string, source: string, args: readonly string[]): string[] {
  const bundle = process.env.VITEST ? inject('qualinkBundle') : ''
  return bundle
    ? [path.join(path.dirname(bundle), `${bundled}.js`), ...args]
    : ['--import', 'tsx', path.join(ROOT, source), ...args]
}

/** Node's arguments for a test program of test/fixtures/ from this run's bundle. */
export function fixtureArgs(name: (typeof FIXTURES)[number], ...args: string[]): string[] {
  return programArgs(name, `test/fixtures/${name}.ts`, args)
}

/** Node's arguments for `qualink <args…>`: `spawn(process.execPath, qualinkArgs('start', …))`. */
export function qualinkArgs(...args: string[]): string[] {
  return programArgs('qualink', 'src/cli/main.ts', args)
}
