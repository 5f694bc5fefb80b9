import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { runSchemasCheck } from '../../contracts/schemas-gen.ts'
import { callerHeaders, DEFAULT_URL } from '../api-client.ts'
import { runUntilSignal } from './start.ts'

export function registerToolCommands(program: Command): void {
  const schemas = program.command('schemas').description('event schema governance')
  schemas
    .command('check')
    .description(
      'fail when schemas/ is out of sync with the sources, or changed incompatibly without a new major',
    )
    .option('--dir <dir>', 'the committed schema snapshot', 'schemas')
    .option('--against <git-ref>', 'also compare with the schemas committed at this ref (e.g. origin/main)')
    .action((o: { dir: string; against?: string }) => {
      const r = runSchemasCheck(o.dir, { against: o.against })
      if (r.ok) {
        console.log('schemas OK: in sync, no breaking change without a new major version')
        return
      }
      for (const p of r.problems) console.log(`- ${p}`)
      process.exitCode = 1
    })

  program
    .command('simulate <name>')
    .description('run one plant simulator alone: erp-s4, erp-ecc, erpnext, qms, mes, lims, crm')
    .option('--port <port>', 'TCP port (0 = any free one)', '0')
    .option('--host <host>', 'bind address', '127.0.0.1')
    .option('--webhook-url <url>', 'where the erp-s4, qms and crm simulators post their webhooks')
    .option('--webhook-secret <secret>', 'HMAC secret the webhooks are signed with')
    .option('--api-key <key>', 'API key (erpnext: with --api-secret; qms: bearer token)')
    .option('--api-secret <secret>', 'API secret (erpnext)')
    .option('--broker <url>', 'MQTT broker for the mes simulator', 'mqtt://127.0.0.1:1883')
    .option('--topic-prefix <prefix>', 'MQTT topic prefix for the mes simulator')
    .option('--opcua-port <port>', 'the mes simulator also exposes its lines over OPC UA on this port')
    .option('--dir <dir>', 'output folder for the lims simulator', './data/lims')
    .option('--inbound <dir>', 'IDoc folder the erp-ecc simulator reads')
    .option('--outbound <dir>', 'IDoc folder the erp-ecc simulator writes status IDocs to')
    .option('--seed <n>', 'seed of the fault injection')
    .action(async (name: string, o: Record<string, string | undefined>) => {
      // Lazy: nothing under src/ may import simulators/ except this command and the demo.
      const sims = await import('../../../simulators/index.ts')
      if (!(sims.SIMULATORS as readonly string[]).includes(name)) {
        throw new Error(`unknown simulator '${name}'; choose one of ${sims.SIMULATORS.join(', ')}`)
      }
      const sim = await sims.startSimulator(name as (typeof sims.SIMULATORS)[number], {
        port: Number(o.port),
        host: o.host,
        webhookUrl: o.webhookUrl,
        webhookSecret: o.webhookSecret,
        apiKey: o.apiKey,
        apiSecret: o.apiSecret,
        brokerUrl: o.broker,
        topicPrefix: o.topicPrefix,
        opcuaPort: o.opcuaPort === undefined ? undefined : Number(o.opcuaPort),
        dir: o.dir,
        inboundDir: o.inbound,
        outboundDir: o.outbound,
        faults: o.seed ? { seed: Number(o.seed) } : undefined,
      })
      console.log(
        `${name} simulator listening at ${sim.url}  (faults: ${sim.url}/__sim/faults, state: ${sim.url}/__sim/state)`,
      )
      await runUntilSignal(
        () => sim.close(),
        (m) => console.log(m),
      )
    })
}

export function registerXrefCommands(program: Command): void {
  const xref = program.command('xref').description('identity mapping (through the API of a running Qualink)')
  xref
    .command('import <file>')
    .description(
      'upsert mappings from a CSV file (system,entity_type,external_code,plant,enterprise_id); all or nothing',
    )
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(async (file: string, o: { url: string }) => {
      const res = await xrefCall(o.url, '/v1/xref/import', {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: readFileSync(file, 'utf8'),
      })
      const body = (await res.json()) as {
        upserted?: number
        resumed?: number
        code?: string
        detail?: string
        errors?: Array<{ path: string; message: string }>
      }
      if (!res.ok) {
        for (const e of body.errors ?? []) console.error(`  ${e.path}: ${e.message}`)
        throw new Error(
          `import refused (HTTP ${res.status}${body.code ? `, ${body.code}` : ''}); nothing was imported`,
        )
      }
      console.log(`${body.upserted} mapping(s) upserted; ${body.resumed} parked deliveries resumed`)
    })
  xref
    .command('export')
    .description('print every mapping in your plants as CSV')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(async (o: { url: string }) => {
      const res = await xrefCall(o.url, '/v1/xref?format=csv', { method: 'GET' })
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as { code?: string; detail?: string }
        throw new Error(
          `export refused (HTTP ${res.status}, ${body.code ?? 'no code'}): ${body.detail ?? ''}`,
        )
      }
      process.stdout.write(await res.text())
    })
}

/** One xref request with the caller's credentials (QUALINK_API_KEY): the xref routes need the admin role. */
async function xrefCall(
  url: string,
  path: string,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
): Promise<Response> {
  try {
    return await fetch(`${url}${path}`, { ...init, headers: { ...init.headers, ...callerHeaders() } })
  } catch (e) {
    throw new Error(`cannot reach Qualink at ${url} (${(e as Error).message}); is it running? set --url`)
  }
}
