/**
 * Issue 12, item 4: the fault harness run against the Node-RED baseline beside Qualink, the same
 * faults on the same B3 workload (bench/lib/pipeline-harness.ts), reporting what each loses or
 * duplicates, for the README's comparison table.
 *
 * Both systems get the same at-least-once sender (what a real ERP or QMS webhook sender does): a
 * webhook answered with a non-2xx, or not answered within 5 s, is sent again with the same delivery
 * id, 1 s later, up to 8 attempts. Effects are read from the simulators' own records afterwards:
 * lost = a receipt whose lot never got its usage-decision stock posting in the ERP; duplicates = an
 * ERP inspection lot with more posted out than it holds, or a second QMS inspection lot per batch
 * (the harness's erpOutcome, as in B3).
 *
 * Scenarios (bench/lib/fault-scenarios.ts): an ERP outage (every ERP call 503 for the first 3 s),
 * ERP answers dropped after the commit (20 % of modifying calls), a restart of the system between
 * the inspection lots' creation and their usage decisions (the decisions come after it, as they do
 * days later in a plant), and every decision webhook delivered twice.
 *
 * The restart is a graceful stop and start in the benchmark process (Qualink: Qualink.close() and
 * startQualink on the same database; Node-RED: RED.stop() and a fresh runtime, whose default flow
 * context is memory). Crashes (SIGKILL at each stage) are the fault suite's (test/faults, F1/F4/F6);
 * here the point is the baseline's behaviour, which a SIGKILL would only make worse.
 *
 * Run: npm run bench -- baseline-faults [--workflows N] [--scenarios a,b]. Needs PostgreSQL at
 * QUALINK_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); Node-RED is installed
 * on first use into bench/baselines/node-red.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { runScenario, SCENARIOS, type ScenarioName, SYSTEMS, type SystemName } from './lib/fault-scenarios.ts'
import { describeMachine, describePostgres } from './lib/machine.ts'
import { writeReadmeSection, writeResultsRow } from './lib/readme.ts'

const HERE = path.dirname(fileURLToPath(import.meta.url))

interface Options {
  workflows: number
  scenarios: ScenarioName[]
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { workflows: 40, scenarios: Object.keys(SCENARIOS) as ScenarioName[] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const v = argv[++i]
    if (a === '--workflows' && Number.isInteger(Number(v)) && Number(v) > 0) o.workflows = Number(v)
    else if (a === '--scenarios' && v) {
      const names = v.split(',')
      for (const n of names) if (!(n in SCENARIOS)) throw new Error(`--scenarios: unknown scenario '${n}'`)
      o.scenarios = names as ScenarioName[]
    } else throw new Error(`unknown or invalid argument ${a} ${v ?? ''}`)
  }
  return o
}

async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv)
  const t0 = Date.now()
  const rows = [
    '| Scenario | System | Receipts | Completed | Lost | Duplicates | ERP faults injected | Webhook attempts | Settled in |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  const results: Array<Record<string, unknown>> = []
  for (const scenario of o.scenarios)
    for (const system of SYSTEMS) {
      process.stderr.write(`baseline-faults: ${scenario} on ${system}…\n`)
      const r = await runScenario(scenario, system as SystemName, o.workflows)
      results.push({ scenario, system, ...r })
      rows.push(
        `| ${SCENARIOS[scenario]} | ${system} | ${r.receipts} | ${r.receipts - r.lost} | ${r.lost} | ${r.duplicates} | ${r.erpFaults} | ${r.attempts} | ${(r.settledMs / 1000).toFixed(1)} s |`,
      )
    }
  const qualinkClean = results
    .filter((r) => r.system === 'qualink')
    .every((r) => r.lost === 0 && r.duplicates === 0)
  const text = `${rows.join('\n')}\n\nQualink: zero lost and zero duplicated in every scenario: ${qualinkClean ? 'PASS' : 'FAIL'}.`
  process.stdout.write(`\n${text}\n\n(${((Date.now() - t0) / 1000).toFixed(0)} s)\n`)
  mkdirSync(path.join(HERE, 'results'), { recursive: true })
  const machine = await describeMachine()
  const postgres = await describePostgres(ADMIN_URL).catch(() => undefined)
  writeFileSync(
    path.join(HERE, 'results', 'baseline-faults.json'),
    `${JSON.stringify({ machine, postgres, options: o, results }, null, 2)}\n`,
  )
  if (o.scenarios.length !== Object.keys(SCENARIOS).length) {
    process.stderr.write('README and RESULTS.md not updated: only a run of every scenario is written there\n')
    return
  }
  writeReadmeSection(
    path.join(HERE, 'README.md'),
    'Faults against the Node-RED baseline',
    `Issue 12, item 4. Run: \`npm run bench -- baseline-faults\` (bench/baseline-faults.ts, scenarios in bench/lib/fault-scenarios.ts); raw numbers in \`bench/results/baseline-faults.json\`. ${o.workflows} B3 workflows per scenario and system, the same at-least-once webhook sender for both (non-2xx or 5 s without an answer → the same delivery again 1 s later, up to 8 attempts).

${text}

How to read it: Qualink's numbers are what its durable run, keyed effects with read-back, and
delivery-id dedup give; the fault suite (test/faults, F1–F15) holds the same invariants under
SIGKILL, database and broker restarts. Node-RED keeps the lot ↔ ERP inspection lot map in flow
context (memory, its default), so a restart between a lot's creation and its decision loses every
such workflow; its retries are the sender's, so a 503 outage shorter than the sender's patience costs
nothing. Dropped answers: Node-RED 4.1.7's http request node passes a socket error on as a message
whose \`statusCode\` is the error code (\`@node-red/nodes/core/network/21-httprequest.js\`:
\`msg.statusCode = err.code\`), which the flow's \`statusCode >= 300\` check lets through, so a
dropped-after-commit call counts as done — nothing is lost here only because the simulator had
committed; the same flow reports success for a call that never reached the ERP. Duplicated decision
webhooks: the ERP simulator refuses a second usage decision for a lot, so Node-RED's repeats end in
errors answered to the sender, not in a second posting. Recovery time: after the 3 s outage
Qualink needed about a minute to finish, because its circuit breaker opens after 5 failures for
30 s (the shipped \`egress.breaker\`: failureThreshold 5, openMs 30000) and the runs' retries back
off exponentially from 1 s; a plant that wants faster recovery sets a shorter \`openMs\` per
connector (docs/configuration.md).`,
  )
  writeResultsRow(
    'baseline-faults',
    'Faults on the B3 workload, Qualink beside Node-RED (issue 12 item 4)',
    results.map((r) => `${r.scenario}/${r.system}: lost ${r.lost}, dup ${r.duplicates}`).join('; '),
    machine,
    postgres,
    undefined,
  )
}

const ADMIN_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2))
}
