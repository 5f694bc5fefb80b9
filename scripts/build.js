#!/usr/bin/env node
// Bundles the `qualink` command into dist/ for `npm start` and production: one ES module per
// entry and shared chunk instead of ~850 module files, loaded by plain Node without a loader.
// Start-up is mostly module loading (bench/README, "Demo: start-up"): the sources through tsx
// load in about 3 s on the 2-core machine, the bundle in well under 2 s. Development and the tests'
// own process run the TypeScript sources through tsx (the processes the tests spawn run a bundle:
// test/bundle.ts); both read the same files at run time (src/assets.ts).
//
//   node scripts/build.js [--if-stale] [--outdir <dir inside this repository>] [--entry <name>=<file>]…
//
// `--if-stale` (npm start): leaves dist/ alone while it is newer than every source (bin/launch.js).
//
// `--entry` adds a program to the same bundle, sharing its chunks (the tests add the processes
// they spawn: test/bundle.ts).
//
// Packages stay outside the bundle where they load native code or read their own files beside
// their sources (better-sqlite3's addon, node-opcua's certificates and nodesets, pino's transport
// workers), or are optional requires of a dependency that is not installed (pg-native, ws's
// bufferutil).
import { renameSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { currentBundle } from '../bin/launch.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const at = process.argv.indexOf('--outdir')
const outdir = path.resolve(root, at >= 0 ? process.argv[at + 1] : 'dist')
// externals are resolved from the bundle's folder: it must sit under this repository's node_modules
if (path.relative(root, outdir).startsWith('..')) throw new Error(`--outdir must be inside ${root}`)

const EXTERNAL = [
  'better-sqlite3',
  'node-opcua-*',
  'pino',
  'pg-native',
  'bufferutil',
  'utf-8-validate',
  'fsevents',
]

if (process.argv.includes('--if-stale') && at < 0 && currentBundle(root)) {
  console.error('qualink bundle in dist/ is current')
  process.exit(0)
}

const entryPoints = { qualink: 'src/cli/main.ts' }
process.argv.forEach((a, i) => {
  if (a !== '--entry') return
  const [name, file] = process.argv[i + 1].split('=')
  entryPoints[name] = file
})

const t0 = performance.now()
// built beside and then moved into place: a `qualink` starting meanwhile (bin/qualink.js) finds the
// old bundle or none, never half of the new one
const building = `${outdir}.building-${process.pid}`
rmSync(building, { recursive: true, force: true })
await build({
  absWorkingDir: root,
  entryPoints,
  outdir: building,
  bundle: true,
  splitting: true, // modules the CLI imports on first use (the demo, OTLP, jose) stay their own chunks
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  sourcemap: true,
  // bundled CommonJS packages call require(); an ES module has none of its own
  banner: {
    js: "import { createRequire as __qualinkRequire } from 'node:module';const require = __qualinkRequire(import.meta.url);",
  },
  logLevel: 'warning',
})
rmSync(outdir, { recursive: true, force: true })
renameSync(building, outdir)
console.error(
  `qualink bundled into ${path.relative(root, outdir)}/ in ${Math.round(performance.now() - t0)} ms`,
)
