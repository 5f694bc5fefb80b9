import { existsSync, readFileSync, writeFileSync } from 'node:fs'

/**
 * Replaces the `## <heading>` section of bench/README.md (up to the next `## ` heading) with `body`,
 * or appends it. Other sections belong to other benchmarks and are left byte for byte.
 */
export function writeReadmeSection(file: string, heading: string, body: string): void {
  const title = `## ${heading}`
  const section = `${title}\n\n${body.trim()}\n`
  if (!existsSync(file)) {
    writeFileSync(file, `# Benchmarks\n\n${section}`)
    return
  }
  const lines = readFileSync(file, 'utf8').split('\n')
  const start = lines.findIndex((l) => l.trim() === title)
  if (start < 0) {
    const text = lines.join('\n').replace(/\n*$/, '\n')
    writeFileSync(file, `${text}\n${section}`)
    return
  }
  let end = lines.findIndex((l, i) => i > start && l.startsWith('## '))
  if (end < 0) end = lines.length
  const before = lines.slice(0, start).join('\n')
  const after = lines.slice(end).join('\n')
  writeFileSync(file, `${before}\n${section}${after ? `\n${after}` : ''}`.replace(/^\n/, ''))
}
