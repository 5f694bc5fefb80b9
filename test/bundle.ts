/**
 * The bundle `npm start` runs (scripts/build.js), built for one test file into its own folder under
 * .tmp/ (externals resolve from this repository's node_modules, so it must sit inside it).
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export interface Bundle {
  /** the command's entry module, run with plain `node <entry> <command…>` */
  readonly entry: string
  remove(): void
}

export async function buildBundle(): Promise<Bundle> {
  const dir = path.join(ROOT, '.tmp', `bundle-${randomUUID()}`)
  await promisify(execFile)(process.execPath, ['scripts/build.js', '--outdir', dir], { cwd: ROOT })
  return { entry: path.join(dir, 'qualink.js'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}
