// Which program `qualink` runs (bin/qualink.js): the bundle in dist/ (`npm run build`; `npm start`
// builds it) when it is at least as new as every source file, else the TypeScript sources through
// tsx's loader. The same program either way, the bundle starting in about a third of the time
// (bench/README, "Demo: start-up and memory"); a source changed after the last build is never run
// stale. Plain JavaScript: it runs before any loader is registered.
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'

/** What a bundle must be newer than: the sources it is built from and the locked dependencies. */
export const SOURCES = ['src', 'simulators', 'package-lock.json']

function newest(p) {
  const s = statSync(p)
  if (!s.isDirectory()) return s.mtimeMs
  let m = 0
  for (const e of readdirSync(p)) m = Math.max(m, newest(path.join(p, e)))
  return m
}

/** The bundle's entry when it is current, else undefined (no bundle, or a source newer than it). */
export function currentBundle(root) {
  const bundle = path.join(root, 'dist', 'qualink.js')
  let built
  try {
    built = statSync(bundle).mtimeMs
  } catch {
    return undefined
  }
  const sources = SOURCES.map((p) => path.join(root, p))
  return built >= Math.max(...sources.map(newest)) ? bundle : undefined
}
