#!/usr/bin/env node
// The `qualink` command: the current bundle in dist/ when there is one, else the TypeScript sources
// through tsx (bin/launch.js). QUALINK_FROM_SOURCE=1 always runs the sources.
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { currentBundle } from './launch.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bundle = process.env.QUALINK_FROM_SOURCE ? undefined : currentBundle(root)
if (bundle) await import(pathToFileURL(bundle).href)
else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli/main.ts')
}
