import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { MachineDescription, PostgresDescription } from './machine.ts'

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

/** The machine a result was measured on, in one line (RESULTS.md and the README sections). */
export function machineSummary(
  m: MachineDescription,
  postgres?: PostgresDescription,
  fsync?: readonly string[],
): string {
  const pg = postgres
    ? `; PostgreSQL ${postgres.version.split(' ')[0]} (${Object.entries(postgres.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')})`
    : ''
  const f = fsync?.length ? `; pg_test_fsync one 8 kB write: ${fsync.join('; ')}` : ''
  return `Machine: ${m.cpuModel}, ${m.nproc} cores, ${m.memGiB} GiB; Node ${m.node}; SQLite ${m.sqlite}${pg}${f}; commit ${m.git}; load average at start ${m.loadAvgAtStart.join(' ')}; ${m.date}.`
}

const RESULTS_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'RESULTS.md')
const RESULTS_HEAD = '| Benchmark | What | Last result | Measured (load average, 1 min) | Commit |'

/**
 * bench/RESULTS.md: one table with one row per benchmark (its last full run), replaced by key; the
 * machine of each run under `## Machine: <key>`. Other rows and sections are left as they are.
 */
export function writeResultsRow(
  key: string,
  what: string,
  result: string,
  m: MachineDescription,
  postgres?: PostgresDescription,
  fsync?: readonly string[],
  file = RESULTS_FILE,
): void {
  const intro =
    "Every benchmark's last full run, written by `npm run bench -- <name|all>` (bench/lib/readme.ts); details, baselines and method in bench/README.md."
  const rows = new Map<string, string>()
  if (!existsSync(file)) writeFileSync(file, '# Benchmark results\n')
  else {
    for (const l of readFileSync(file, 'utf8').split('\n')) {
      const k = /^\| `([^`]+)` \|/.exec(l)
      if (k) rows.set(k[1]!, l)
    }
  }
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
  rows.set(
    key,
    `| \`${key}\` | ${cell(what)} | ${cell(result)} | ${m.date.slice(0, 16).replace('T', ' ')} UTC, load ${m.loadAvgAtStart[0]} on ${m.nproc} cores | ${m.git} |`,
  )
  const table = [
    RESULTS_HEAD,
    '|---|---|---|---|---|',
    ...[...rows.keys()].sort().map((k) => rows.get(k)!),
  ].join('\n')
  writeReadmeSection(file, 'Results', `${intro}\n\n${table}`)
  writeReadmeSection(file, `Machine: ${key}`, machineSummary(m, postgres, fsync))
}
