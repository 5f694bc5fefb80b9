import type { Command } from 'commander'
import type { DeadLetter, RunRow } from '../../store/engine-types.ts'
import { api, DEFAULT_URL, table } from '../api-client.ts'

const when = (ms: number | null) => (ms ? new Date(ms).toISOString() : '')

export function registerRunCommands(program: Command): void {
  const runs = program.command('runs').description('workflow runs (through the API of a running Qualink)')
  runs
    .command('list')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .option('--workflow <name>')
    .option('--status <status>', 'pending|waiting|completed|failed|dead|cancelled')
    .option('--key <key>')
    .option('--limit <n>', 'rows', '50')
    .action(async (o: { url: string; workflow?: string; status?: string; key?: string; limit: string }) => {
      const q = new URLSearchParams({ limit: o.limit })
      for (const k of ['workflow', 'status', 'key'] as const) if (o[k]) q.set(k, o[k]!)
      const r = await api<{ runs: RunRow[] }>(o, 'GET', `/v1/runs?${q}`)
      console.log(
        table(
          r.runs.map((x) => ({ ...x, created: when(x.createdAtMs), error: x.lastErrorCode ?? '' })),
          ['id', 'workflow', 'version', 'key', 'status', 'attempts', 'created', 'error'],
        ),
      )
    })
  runs
    .command('show <id>')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(async (id: string, o: { url: string }) => {
      console.log(JSON.stringify(await api(o, 'GET', `/v1/runs/${encodeURIComponent(id)}`), null, 2))
    })
  runs
    .command('cancel <id>')
    .requiredOption('--reason <text>', 'why; recorded in the audit trail')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(async (id: string, o: { url: string; reason: string }) => {
      const r = await api<RunRow>(o, 'POST', `/v1/runs/${encodeURIComponent(id)}/cancel`, {
        reason: o.reason,
      })
      console.log(`cancel requested for run ${r.id}; its compensation runs next`)
    })

  const dlq = program.command('dlq').description('dead letters (through the API of a running Qualink)')
  dlq
    .command('list')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .option('--workflow <name>')
    .option('--code <QLK_…>', 'error code')
    .option('--status <status>', 'open|replayed|discarded', 'open')
    .option('--connector <name>', 'the connector instance whose call failed')
    .action(
      async (o: { url: string; workflow?: string; code?: string; status: string; connector?: string }) => {
        const q = new URLSearchParams({ status: o.status, limit: '500' })
        if (o.workflow) q.set('workflow', o.workflow)
        if (o.code) q.set('errorCode', o.code)
        if (o.connector) q.set('connector', o.connector)
        const r = await api<{ deadLetters: DeadLetter[] }>(o, 'GET', `/v1/dead-letters?${q}`)
        console.log(
          table(
            r.deadLetters.map((d) => ({ ...d, created: when(d.createdAtMs), connector: d.connector ?? '' })),
            ['id', 'workflow', 'key', 'errorCode', 'connector', 'attempts', 'status', 'created', 'error'],
          ),
        )
      },
    )
  dlq
    .command('replay [id]')
    .description('replay one dead letter, or every open one matching the filters')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .option('--workflow <name>')
    .option('--code <QLK_…>', 'error code')
    .option(
      '--connector <name>',
      `the connector instance whose call failed; '(none)' for failures no connector caused`,
    )
    .option('--dry-run', 'list what would be replayed, change nothing')
    .action(
      async (
        id: string | undefined,
        o: { url: string; workflow?: string; code?: string; connector?: string; dryRun?: boolean },
      ) => {
        if (id) {
          const r = await api<DeadLetter>(o, 'POST', `/v1/dead-letters/${encodeURIComponent(id)}/replay`)
          console.log(`replayed dead letter ${r.id} (run ${r.runId})`)
          return
        }
        const r = await api<{
          dryRun: boolean
          wouldReplay?: DeadLetter[]
          replayed?: DeadLetter[]
          refused?: unknown[]
        }>(o, 'POST', `/v1/dead-letters/replay${o.dryRun ? '' : '?wait=true'}`, {
          workflow: o.workflow,
          errorCode: o.code,
          connector: o.connector,
          dryRun: Boolean(o.dryRun),
        })
        if (r.dryRun) {
          console.log(`would replay ${r.wouldReplay!.length} dead letter(s):`)
          console.log(
            table(
              r.wouldReplay!.map((d) => ({ ...d, connector: d.connector ?? '' })),
              ['id', 'workflow', 'key', 'errorCode', 'connector'],
            ),
          )
        } else {
          console.log(`replayed ${r.replayed!.length}, refused ${r.refused!.length}`)
        }
      },
    )
  dlq
    .command('discard <id>')
    .requiredOption('--reason <text>', 'why; recorded in the audit trail')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(async (id: string, o: { url: string; reason: string }) => {
      const r = await api<DeadLetter>(o, 'POST', `/v1/dead-letters/${encodeURIComponent(id)}/discard`, {
        reason: o.reason,
      })
      console.log(`discarded dead letter ${r.id}: ${r.reason}`)
    })
}
