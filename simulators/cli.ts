/**
 * Standalone runner: `npx tsx simulators/cli.ts <name> [--port 4101] [--webhook-url …] …`.
 * Runs until SIGINT/SIGTERM. Fault knobs are set at runtime through /__sim/faults.
 */
import { parseArgs } from 'node:util'
import { SIMULATORS, type SimulatorName, startSimulator } from './index.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'webhook-url': { type: 'string' },
    'webhook-secret': { type: 'string' },
    'api-key': { type: 'string' },
    'api-secret': { type: 'string' },
    broker: { type: 'string' },
    'topic-prefix': { type: 'string' },
    'opcua-port': { type: 'string' },
    dir: { type: 'string' },
    inbound: { type: 'string' },
    outbound: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})

const name = positionals[0]
if (values.help || !name || !SIMULATORS.includes(name as SimulatorName)) {
  console.error(`usage: tsx simulators/cli.ts <${SIMULATORS.join('|')}> [--port N] [--host H]
  [--webhook-url URL --webhook-secret S] [--api-key K --api-secret S]
  [--broker mqtt://127.0.0.1:1883 --topic-prefix plant --opcua-port N] [--dir DIR] [--inbound DIR --outbound DIR] [--seed N]
See docs/simulators.md.`)
  process.exit(name ? 2 : 0)
}

const sim = await startSimulator(name as SimulatorName, {
  port: values.port ? Number(values.port) : undefined,
  host: values.host,
  webhookUrl: values['webhook-url'],
  webhookSecret: values['webhook-secret'],
  apiKey: values['api-key'],
  apiSecret: values['api-secret'],
  brokerUrl: values.broker,
  topicPrefix: values['topic-prefix'],
  opcuaPort: values['opcua-port'] ? Number(values['opcua-port']) : undefined,
  dir: values.dir,
  inboundDir: values.inbound,
  outboundDir: values.outbound,
  faults: values.seed ? { seed: Number(values.seed) } : undefined,
})
console.log(
  `${name} simulator listening on ${sim.url} (faults: ${sim.url}/__sim/faults, state: ${sim.url}/__sim/state)`,
)
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void sim.close().then(() => process.exit(0))
  })
}
