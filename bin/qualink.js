#!/usr/bin/env node
// The `qualink` command. It runs the bundle in dist/ (`npm run build`; `npm start` builds it) when
// that is newer than every source file, otherwise the TypeScript sources through tsx's loader:
// the same program, the bundle starting in about half the time (bench/README, "Demo: start-up").
// A source changed after the last build is never run stale.
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function newestSource(dir) {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs)
  }
  return newest
}

function builtBundle() {
  const bundle = path.join(root, 'dist', 'qualink.js')
  try {
    const built = statSync(bundle).mtimeMs
    const sources = ['src', 'simulators', 'package-lock.json'].map((p) => path.join(root, p))
    const newest = Math.max(
      ...sources.map((p) => (statSync(p).isDirectory() ? newestSource(p) : statSync(p).mtimeMs)),
    )
    return built >= newest ? bundle : undefined
  } catch {
    return undefined // no bundle, or no sources beside it
  }
}

const bundle = process.env.QUALINK_FROM_SOURCE ? undefined : builtBundle()
if (bundle) await import(pathToFileURL(bundle).href)
else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli/main.ts')
}
