/**
 * The shapes, timings and report of bench/ingest.ts (issue 2): the per-dialect rows and PASS/FAIL
 * targets built from the raw load results, and their markdown, printed and written to bench/README.md.
 * The idle samples and the generator pinning the report records live here too.
 */
import { existsSync } from 'node:fs'
import os from 'node:os'
import type { LoadResult } from './load-generator.ts'
import type { MachineDescription, PostgresDescription } from './machine.ts'
import { fmt, median } from './stats.ts'

export type Dialect = 'sqlite' | 'postgres'

/** Connections per shape; pgbench gets the same client count as the matching Qualink shape. */
export const SINGLE_CONNECTIONS = 64
export const BATCH_CONNECTIONS = 8
export const BATCH_SIZE = 100
export const PER_EVENT_CONNECTIONS = 8
export const PGBENCH_CLIENTS = 8
const LATENCY_P99_TARGET_MS = 25

export interface Timing {
  readonly reps: number
  readonly warmupMs: number
  readonly durationMs: number
  readonly baselineS: number
}

export const FULL: Timing = { reps: 3, warmupMs: 1000, durationMs: 5000, baselineS: 5 }
export const QUICK: Timing = { reps: 3, warmupMs: 500, durationMs: 2000, baselineS: 2 }

export interface Target {
  readonly id: string
  readonly what: string
  readonly measured: string
  readonly rule: string
  readonly pass: boolean
}

export interface Row {
  readonly shape: string
  readonly what: string
  readonly perRep: readonly number[]
  readonly median: number
  readonly unit: string
  readonly extra?: string
}

export interface DialectReport {
  readonly benchmark: 'ingest'
  readonly dialect: Dialect
  readonly quick: boolean
  readonly timing: Timing
  readonly generatorPinned: boolean
  readonly machine: MachineDescription
  readonly postgres?: PostgresDescription
  readonly rows: readonly Row[]
  readonly targets: readonly Target[]
  /** idle share of the machine just before each measurement (other work on the box distorts numbers) */
  readonly idleBefore: readonly number[]
  readonly raw: Record<string, unknown[]>
}

export const generatorPinned = os.availableParallelism() >= 2 && existsSync('/usr/bin/taskset')

export const QUIET_IDLE = 0.85
/** idle share of the machine measured just before each measurement, in run order */
export const quietBefore: number[] = []

function errorsOf(r: LoadResult): number {
  return r.non2xx + r.socketErrors + r.unfinished
}

export function report(
  dialect: Dialect,
  t: Timing,
  machine: MachineDescription,
  pg: PostgresDescription | undefined,
  raw: Record<string, LoadResult[]>,
  bBase: number[],
  cBase: number[],
): DialectReport {
  const ev = (k: string) => raw[k]!.map((r) => r.eventsPerS)
  const errs = (k: string) => raw[k]!.reduce((n, r) => n + errorsOf(r), 0)
  const p99 = (k: string) => raw[k]!.map((r) => r.latencyMs.p99)
  const p50 = (k: string) => median(raw[k]!.map((r) => r.latencyMs.p50))
  const errNote = (k: string) => (errs(k) > 0 ? `; ${errs(k)} non-2xx/socket errors/unanswered` : '')
  const lat = (k: string) =>
    `p50 ${fmt(p50(k), 1)} ms, p99 ${fmt(median(p99(k)), 1)} ms${errNote(k)}; offered ${fmt(raw[k]![0]!.offeredPerS ?? NaN)} req/s`
  const baseName = dialect === 'postgres' ? 'pgbench' : 'better-sqlite3 loop'
  const rows: Row[] = [
    row(
      'a',
      'HTTP ceiling: bare fastify validated POST, 64 conns',
      ev('ceiling'),
      'req/s',
      errNote('ceiling'),
    ),
    row('a', 'Qualink group commit, 1 event/POST, 64 conns', ev('aGroup'), 'events/s', errNote('aGroup')),
    row(
      'a',
      'Qualink per-event tx, 1 event/POST, 64 conns',
      ev('aPerEvent'),
      'events/s',
      errNote('aPerEvent'),
    ),
    row(
      'b',
      `Qualink batch of ${BATCH_SIZE}/POST, ${BATCH_CONNECTIONS} conns`,
      ev('bOurs'),
      'events/s',
      errNote('bOurs'),
    ),
    row(
      'b',
      `${baseName} ins100 (100-row tx)${dialect === 'postgres' ? `, -c ${PGBENCH_CLIENTS}` : ', 1 thread'}`,
      bBase,
      'rows/s',
    ),
    row(
      'c',
      `Qualink per-event tx, ${PER_EVENT_CONNECTIONS} conns`,
      ev('cOurs'),
      'events/s',
      errNote('cOurs'),
    ),
    row(
      'c',
      `${baseName} event+outbox+audit tx${dialect === 'postgres' ? `, -c ${PGBENCH_CLIENTS}` : ', 1 thread'}`,
      cBase,
      'tx/s',
    ),
  ]
  const m = (k: string) => median(ev(k))
  const ratio = (a: number, b: number) => a / b
  const targets: Target[] = [
    check('a1', 'group commit vs per-event (64 conns)', ratio(m('aGroup'), m('aPerEvent')), 3, 'x'),
    check('a2', 'group commit vs HTTP ceiling', ratio(m('aGroup'), m('ceiling')), 0.5, '%'),
    check('b', `batches vs ${baseName} ins100 rows/s`, ratio(m('bOurs'), median(bBase)), 0.5, '%'),
    check('c', `per-event tx vs ${baseName} outbox tx/s`, ratio(m('cOurs'), median(cBase)), 0.6, '%'),
    latency('La', '(a) group commit, single events, open loop', 'aLatency'),
    latency('Lb', `(b) batches of ${BATCH_SIZE}, open loop`, 'bLatency'),
    latency('Lc', '(c) per-event tx, open loop', 'cLatency'),
  ]
  function latency(id: string, what: string, k: string): Target {
    const p = median(p99(k))
    return {
      id,
      what: `p99 at half max: ${what}`,
      measured: lat(k),
      rule: `p99 <= ${LATENCY_P99_TARGET_MS} ms`,
      pass: p <= LATENCY_P99_TARGET_MS && errs(k) === 0,
    }
  }
  return {
    benchmark: 'ingest',
    dialect,
    quick: t === QUICK,
    timing: t,
    generatorPinned,
    machine,
    postgres: dialect === 'postgres' ? pg : undefined,
    rows,
    targets,
    idleBefore: [...quietBefore],
    raw: { ...raw, bBaseline: bBase, cBaseline: cBase },
  }
}

function row(shape: string, what: string, perRep: number[], unit: string, extra?: string): Row {
  return { shape, what, perRep, median: median(perRep), unit, extra: extra || undefined }
}

function check(id: string, what: string, value: number, min: number, kind: 'x' | '%'): Target {
  const measured = kind === 'x' ? `${fmt(value, 2)}x` : `${fmt(value * 100, 1)} %`
  const rule = kind === 'x' ? `>= ${min}x` : `>= ${min * 100} %`
  return { id, what, measured, rule, pass: value >= min }
}

export function markdown(r: DialectReport): string {
  const lines = [
    `### ${r.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'}`,
    '',
    '| Shape | What | Median | Reps |',
    '|---|---|---:|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.shape} | ${x.what} | ${fmt(x.median)} ${x.unit} | ${x.perRep.map((v) => fmt(v)).join(' / ')}${x.extra ?? ''} |`,
    ),
    '',
    '| Target | What | Measured | Rule | Result |',
    '|---|---|---|---|---|',
    ...r.targets.map(
      (x) => `| ${x.id} | ${x.what} | ${x.measured} | ${x.rule} | ${x.pass ? 'PASS' : 'FAIL'} |`,
    ),
    '',
    quietLine(r.idleBefore),
  ]
  return lines.join('\n')
}

function quietLine(idle: readonly number[]): string {
  const busy = idle.filter((x) => x < QUIET_IDLE).length
  const min = Math.min(...idle)
  return (
    `Machine idle before each of the ${idle.length} measurements: min ${fmt(min * 100)} %` +
    (busy > 0
      ? `; ${busy} started on a busy machine (< ${QUIET_IDLE * 100} % idle after waiting 15 s): other work was running, treat these numbers as low.`
      : ` (each waited for >= ${QUIET_IDLE * 100} % idle).`)
  )
}

export function machineMarkdown(
  m: MachineDescription,
  pg: PostgresDescription | undefined,
  fsync: string[],
): string {
  const lines = [
    `- Date ${m.date}; commit ${m.git}`,
    `- CPU: ${m.cpuModel}, nproc ${m.nproc}, ${m.memGiB} GiB RAM; load average at start ${m.loadAvgAtStart.join(' / ')}`,
    `- Node ${m.node}; SQLite ${m.sqlite} (better-sqlite3, WAL, synchronous=FULL)`,
  ]
  if (pg) {
    const s = Object.entries(pg.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')
    lines.push(`- PostgreSQL ${pg.version} on 127.0.0.1 (TCP), SHOW: ${s}`)
  }
  if (fsync.length > 0)
    lines.push(`- pg_test_fsync, one 8 kB write (temp dir, same disk): ${fsync.join('; ')}`)
  return lines.join('\n')
}
