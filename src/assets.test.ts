import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { assetPath, isEntryScript, packageRoot } from './assets.ts'

describe('assets', () => {
  it('finds the package root and the files Qualink reads at run time from it', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
    expect(packageRoot()).toBe(root)
    expect(JSON.parse(readFileSync(assetPath('package.json'), 'utf8')).name).toBe('qualink')
    for (const file of [
      ['src', 'ui', 'style.css'],
      ['src', 'store', 'sqlite', 'read-worker.mjs'],
      ['src', 'store', 'sqlite', 'migrations', '0001_log.sql'],
      ['schemas'],
    ])
      expect(existsSync(assetPath(...file)), file.join('/')).toBe(true)
  })

  it('knows a script is the entry only when the process was started with that file', () => {
    // this process is vitest's: neither script is its entry, so neither main block runs on import
    expect(isEntryScript('src/audit/evidence-verify.ts')).toBe(false)
    const argv1 = process.argv[1]
    try {
      process.argv[1] = path.join(packageRoot(), 'src', 'audit', 'evidence-verify.ts')
      expect(isEntryScript('src/audit/evidence-verify.ts')).toBe(true)
      expect(isEntryScript('src/contracts/schemas-gen.ts')).toBe(false)
    } finally {
      process.argv[1] = argv1!
    }
  })
})
