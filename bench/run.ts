/**
 * Benchmark dispatcher: `npm run bench -- <name|all> [options passed to the benchmark]`.
 * Each benchmark runs in its own child process (fresh heap and JIT, nothing shared with the others).
 * To add one, add a row to BENCHMARKS; the file is run with tsx and receives the remaining arguments.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

interface Benchmark {
  /** script under bench/ */
  readonly file: string
  readonly description: string
}

const BENCHMARKS: Readonly<Record<string, Benchmark>> = {
  ingest: {
    file: 'ingest.ts',
    description:
      'Kernel I: ingest shapes (a) single events, (b) batches, (c) per-event tx vs physical limits',
  },
  rules: {
    file: 'rules.bench.ts',
    description: 'Quality rules: all Nelson rules over 10,000 points, sampling-plan lookups, naive baselines',
  },
  engine: {
    file: 'engine.ts',
    description: 'Kernel II: engine backlog drain and idle latency, graphile-worker 0.17.3 baseline',
  },
  demo: {
    file: 'demo.ts',
    description: 'Issue 12: start-up time and RSS of the npm start demo, bare fastify floor',
  },
  genealogy: {
    file: 'genealogy.ts',
    description:
      'Issue 7: trace p95 on 1M lots / 3M edges, bulk first page, reconciliation lots/s; CTE baseline',
  },
  relay: {
    file: 'relay.ts',
    description: 'Issue 11: relay of the event log to NATS JetStream beside the broker alone (same messages)',
  },
  workers: {
    file: 'workers.ts',
    description: 'Issue 11: the B3 workload with 1, 2 and 4 worker processes on one PostgreSQL database',
  },
  pipeline: {
    file: 'pipeline.ts',
    description:
      'Issue 12 B3: end-to-end supplier receipt, workflows/s and p99; graphile-worker and Node-RED baselines',
  },
  'baseline-faults': {
    file: 'baseline-faults.ts',
    description:
      'Issue 12 item 4: ERP outage, dropped answers, restart and duplicate deliveries on the B3 workload, Qualink beside Node-RED',
  },
  soak: {
    file: 'soak.ts',
    description:
      'Issue 12 B8: the B3 workload open loop for --minutes (5) at half the max; RSS, heap, loop delay, p99, dead tuples, xmin age drift',
  },
  replay: {
    file: 'replay.ts',
    description: 'Issue 12: dead-letter replay through the API, runs/s and duplicate effects (must be 0)',
  },
}

const HERE = path.dirname(fileURLToPath(import.meta.url))

function usage(): string {
  const rows = Object.entries(BENCHMARKS).map(([name, b]) => `  ${name.padEnd(10)} ${b.description}`)
  return ['usage: npm run bench -- <name|all> [options]', '', ...rows].join('\n')
}

function runOne(name: string, b: Benchmark, args: readonly string[]): Promise<number> {
  process.stderr.write(`\n=== bench ${name} (${b.file}) ===\n`)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, b.file), ...args], {
      cwd: path.resolve(HERE, '..'),
      stdio: 'inherit',
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

const [name, ...rest] = process.argv.slice(2)
if (!name || name === '--help' || name === '-h') {
  process.stdout.write(`${usage()}\n`)
  process.exit(name ? 0 : 2)
}
const selected = name === 'all' ? Object.entries(BENCHMARKS) : [[name, BENCHMARKS[name]] as const]
let failed = 0
for (const [n, b] of selected) {
  if (!b) {
    process.stderr.write(`unknown benchmark '${n}'\n${usage()}\n`)
    process.exit(2)
  }
  // A benchmark's exit code says whether it ran, never whether it met a target.
  if ((await runOne(n, b, rest)) !== 0) failed++
}
process.exit(failed > 0 ? 1 : 0)
