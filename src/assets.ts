/**
 * Files Qualink reads at run time that are not code (SQL migrations, the dashboard's style sheet,
 * the read worker, the committed event schemas), found from the package root. A module's own
 * location does not find them: `npm start` runs the sources bundled into dist/ (scripts/build.js),
 * where every module's `import.meta.url` is the bundle's. The root is the nearest folder above
 * this module whose package.json names qualink, the same for the sources under tsx and the bundle.
 * A leaf module: it imports only Node, so every layer may use it.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

export function packageRoot(): string {
  if (root) return root
  const start = path.dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json')
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'qualink'
    ) {
      root = dir
      return dir
    }
    if (path.dirname(dir) === dir) throw new Error(`no package.json of qualink above ${start}`)
  }
}

/** An asset by its path from the package root, e.g. `assetPath('src', 'ui', 'style.css')`. */
export function assetPath(...segments: string[]): string {
  return path.join(packageRoot(), ...segments)
}

/**
 * Whether this process was started with the given script as its entry (`npx tsx <file>`): the
 * file name is compared, not `import.meta.url`, which in the bundle is the bundle's own for every
 * module and would make each script's main block run inside `qualink`.
 */
export function isEntryScript(file: string): boolean {
  const entry = process.argv[1]
  return entry !== undefined && path.resolve(entry) === assetPath(file)
}
