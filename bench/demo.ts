/**
 * Issue 12: memory (RSS) and start-up time of the demo (`npm start`: it bundles the sources with
 * scripts/build.js, then runs `node dist/qualink.js demo`), beside the floor of the same toolchain:
 * a bare fastify server started by plain node. The same demo from the TypeScript sources through
 * tsx (what `qualink` runs before a build, and the tests) is timed beside it, for the record.
 * Targets: start-up <= 2 s, RSS <= 250 MB.
 *
 * Start-up: from spawning the process to the first 200 from /healthz; the build before it is timed
 * on its own. RSS: VmRSS of the process (the demo runs Qualink, the simulators and the traffic
 * generator in one process), sampled after start-up and again after 30 s of plant-day traffic; the
 * peak (VmHWM) is reported too.
 * Each of 3 repetitions uses a fresh data directory. Not a test: it prints PASS/FAIL and exits 0.
 *
 * Run: npm run bench -- demo
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './lib/free-port.ts'
import { describeMachine, waitForQuiet } from './lib/machine.ts'
import { writeReadmeSection, writeResultsRow } from './lib/readme.ts'
import { fmt, median } from './lib/stats.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const REPS = 3
const TRAFFIC_S = Number(process.env.BENCH_DEMO_TRAFFIC_S ?? 30)

function memory(pid: number): { rssMB: number; peakMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0)
  return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 }
}

async function startAndTime(args: string[], env: NodeJS.ProcessEnv, port: number) {
  const t0 = performance.now()
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  })
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ok) break
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`)
    if (performance.now() - t0 > 60_000) throw new Error(`${args.join(' ')} did not start in 60 s`)
    await new Promise((r) => setTimeout(r, 20))
  }
  return { child, startupMs: performance.now() - t0 }
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGINT')
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
  if (child.exitCode === null) child.kill('SIGKILL')
}

const CEILING = `
import Fastify from 'fastify'
const app = Fastify()
app.get('/healthz', async () => ({ ok: true }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGINT', () => app.close().then(() => process.exit(0)))
`

const rows: Array<{ startup: number; rssStart: number; rssTraffic: number; peak: number }> = []
const floor: Array<{ startup: number; rss: number }> = []
const fromSource: number[] = []
const idle: number[] = []
const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-demo-'))
const ceilingFile = path.join(ROOT, 'bench', `.ceiling-${process.pid}.mjs`)
writeFileSync(ceilingFile, CEILING)
// the bundle npm start builds, into a folder of its own (dist/ is the user's)
const bundleDir = path.join(ROOT, '.tmp', `bench-demo-${process.pid}`)
const b0 = performance.now()
execFileSync(process.execPath, ['scripts/build.js', '--outdir', bundleDir], { cwd: ROOT, stdio: 'ignore' })
const buildMs = performance.now() - b0
try {
  for (let rep = 0; rep < REPS; rep++) {
    idle.push(await waitForQuiet())
    process.stderr.write(`[demo] rep ${rep + 1}/${REPS}: bare fastify\n`)
    let port = await freePort()
    const bare = await startAndTime([ceilingFile], { PORT: String(port) }, port)
    floor.push({ startup: bare.startupMs, rss: memory(bare.child.pid!).rssMB })
    await stop(bare.child)

    idle.push(await waitForQuiet())
    process.stderr.write(`[demo] rep ${rep + 1}/${REPS}: demo, ${TRAFFIC_S} s of plant-day traffic\n`)
    port = await freePort()
    const data = path.join(dir, `data-${rep}`)
    const demo = await startAndTime(
      [path.join(bundleDir, 'qualink.js'), 'demo', '--port', String(port)],
      { QUALINK_DATA_DIR: data },
      port,
    )
    const atStart = memory(demo.child.pid!)
    await new Promise((r) => setTimeout(r, TRAFFIC_S * 1000))
    const afterTraffic = memory(demo.child.pid!)
    rows.push({
      startup: demo.startupMs,
      rssStart: atStart.rssMB,
      rssTraffic: afterTraffic.rssMB,
      peak: afterTraffic.peakMB,
    })
    await stop(demo.child)

    idle.push(await waitForQuiet())
    process.stderr.write(`[demo] rep ${rep + 1}/${REPS}: demo from the sources through tsx, start-up only\n`)
    port = await freePort()
    const dev = await startAndTime(
      ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--port', String(port)],
      { QUALINK_DATA_DIR: path.join(dir, `dev-${rep}`) },
      port,
    )
    fromSource.push(dev.startupMs)
    await stop(dev.child)
  }
} finally {
  rmSync(bundleDir, { recursive: true, force: true })
  rmSync(ceilingFile, { force: true })
  rmSync(dir, { recursive: true, force: true })
}

const m = await describeMachine()
const med = (f: (r: (typeof rows)[number]) => number) => median(rows.map(f))
const reps = (f: (r: (typeof rows)[number]) => number, d = 0) => rows.map((r) => fmt(f(r), d)).join(' / ')
const startup = med((r) => r.startup)
const peak = med((r) => r.peak)
const body = `Run: \`npm run bench -- demo\`. Not a test: it prints PASS/FAIL against issue 12's targets.

How it is measured: the real \`qualink demo\` command (Qualink on SQLite, the ERP/QMS/CRM/LIMS
simulators, MES over MQTT when a broker is up, the plant-day traffic, the dashboard) as \`npm start\`
runs it: bundled by \`scripts/build.js\` (${fmt(buildMs)} ms, once, before the repetitions), then spawned
as \`node <bundle>/qualink.js demo\` in a fresh data directory. Start-up is spawn → first 200 from
\`/healthz\`; RSS is the process's VmRSS right after start-up and after ${TRAFFIC_S} s of traffic, peak is
VmHWM. Floor: a bare fastify server spawned by plain node. For the record, the same demo from the
TypeScript sources through tsx (\`node --import tsx src/cli/main.ts demo\`: \`qualink\` before a build,
and the tests), start-up only. Median of ${REPS} repetitions; each waited for >= 85 % idle (min seen ${fmt(Math.min(...idle) * 100)} %).

Machine: ${m.cpuModel}, nproc ${m.nproc}, ${m.memGiB} GiB; Node ${m.node}; ${m.date}; commit ${m.git}.

| What | Median | Reps |
|---|---:|---|
| Floor: bare fastify, start-up | ${fmt(median(floor.map((f) => f.startup)))} ms | ${floor.map((f) => fmt(f.startup)).join(' / ')} |
| Floor: bare fastify, RSS | ${fmt(median(floor.map((f) => f.rss)))} MB | ${floor.map((f) => fmt(f.rss)).join(' / ')} |
| Demo start-up (bundle, as npm start runs it) | ${fmt(startup)} ms | ${reps((r) => r.startup)} |
| Demo start-up from the sources through tsx | ${fmt(median(fromSource))} ms | ${fromSource.map((s) => fmt(s)).join(' / ')} |
| Demo RSS after start-up | ${fmt(med((r) => r.rssStart))} MB | ${reps((r) => r.rssStart)} |
| Demo RSS after ${TRAFFIC_S} s of traffic | ${fmt(med((r) => r.rssTraffic))} MB | ${reps((r) => r.rssTraffic)} |
| Demo peak RSS (VmHWM) | ${fmt(peak)} MB | ${reps((r) => r.peak)} |

| Target | Measured | Rule | Result |
|---|---|---|---|
| start-up | ${fmt(startup)} ms | <= 2,000 ms | ${startup <= 2000 ? 'PASS' : 'FAIL'} |
| peak RSS | ${fmt(peak)} MB | <= 250 MB | ${peak <= 250 ? 'PASS' : 'FAIL'} |
`
writeReadmeSection(path.join(ROOT, 'bench', 'README.md'), 'Demo: start-up and memory', body)
writeResultsRow(
  'demo',
  'Demo (npm start): start-up and RSS',
  `start-up ${fmt(startup)} ms (<= 2,000 ${startup <= 2000 ? 'PASS' : 'FAIL'}); peak RSS ${fmt(peak)} MB (<= 250 ${peak <= 250 ? 'PASS' : 'FAIL'})`,
  m,
)
process.stdout.write(`${body}\n`)
