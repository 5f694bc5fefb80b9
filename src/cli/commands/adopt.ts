import type { Command } from 'commander'
import type { AdoptionReport, AppendEvents } from '../../adoption/adopt.ts'
import { adoptFromConfig } from '../../adoption/from-config.ts'
import { memoryXrefResolver, type XrefResolver, type XrefRow } from '../../mapping/xref.ts'
import { ApiError, type ApiOptions, api, DEFAULT_URL, table } from '../api-client.ts'
import { loadFor } from './change-control.ts'

/** Events go through the running Qualink's ingest (validated, deduplicated, audited with the actor). */
const MAX_PER_CALL = 100

/** Appends through `POST /v1/events` as CloudEvents batches; per event, whether it was stored before. */
export function httpAppend(o: ApiOptions): AppendEvents {
  return async (events) => {
    const out: Array<{ duplicate: boolean }> = []
    for (let i = 0; i < events.length; i += MAX_PER_CALL) {
      let res: Response
      try {
        res = await fetch(`${o.url}/v1/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/cloudevents-batch+json',
            'x-qualink-actor': o.actor ?? `cli:${process.env.USER ?? 'unknown'}`,
            // with authentication on, the API key's principal is the actor audited
            ...(process.env.QUALINK_API_KEY ? { 'x-api-key': process.env.QUALINK_API_KEY } : {}),
          },
          body: JSON.stringify(events.slice(i, i + MAX_PER_CALL)),
        })
      } catch (e) {
        throw new Error(
          `cannot reach Qualink at ${o.url} (${(e as Error).message}); is it running? set --url`,
        )
      }
      const body = (await res.json()) as { results?: Array<{ duplicate: boolean }> }
      if (!res.ok) throw new ApiError(res.status, body as ApiError['body'])
      out.push(...(body.results ?? []))
    }
    return out
  }
}

/**
 * The identity map of the given systems as the running Qualink holds it (`GET /v1/xref`, the
 * store's rows, read once per adopt): the CLI never opens the store, which the server owns (one
 * process owns an SQLite file). Adopt maps with these rows exactly as the server's ports do.
 */
export function apiXref(o: ApiOptions): (systems: readonly string[]) => Promise<XrefResolver> {
  return async (systems) => {
    const rows: XrefRow[] = []
    for (const system of systems) {
      const r = await api<{ xref: XrefRow[] }>(o, 'GET', `/v1/xref?system=${encodeURIComponent(system)}`)
      rows.push(...r.xref)
    }
    return memoryXrefResolver(rows)
  }
}

export function formatAdoption(r: AdoptionReport): string {
  const rows = r.items.map((i) => ({
    outcome: i.outcome,
    kind: i.kind,
    subject: i.subject,
    detail: i.detail,
  }))
  const verdict = r.dryRun
    ? `dry run for plant ${r.plant}: ${r.items.length - r.leftAlone} would be adopted, ${r.leftAlone} left for a person; nothing was stored`
    : `plant ${r.plant}: ${r.adopted} adopted, ${r.alreadyAdopted} already adopted earlier, ${r.leftAlone} left for a person`
  return rows.length > 0 ? `${table(rows, ['outcome', 'kind', 'subject', 'detail'])}\n${verdict}` : verdict
}

/**
 * `qualink adopt`: at go-live, reads what the plant's ERP and QMS have in flight and starts each
 * workflow at the right step (docs/workflows.md "Go-live adoption"). Running it again adopts
 * nothing twice. Exit 1 when something was left for a person.
 */
export function registerAdoptCommand(program: Command): void {
  program
    .command('adopt')
    .description('go-live: start the workflows for what the ERP and QMS already have in flight')
    .requiredOption('--plant <plant>', 'the plant to adopt (qualink.yaml plants)')
    .option('--config <path>', 'qualink.yaml', './qualink.yaml')
    .option('--env <name>', 'adds qualink.<env>.yaml (dev, test, prod)')
    .option('--erp-plant <code>', "the ERP's own plant code, when its ERP serves other plants too")
    .option('--dry-run', 'list what would be adopted; store nothing')
    .option('--json', 'print the report as JSON')
    .option('--url <url>', 'Qualink API', DEFAULT_URL)
    .action(
      async (o: {
        plant: string
        config: string
        env?: string
        erpPlant?: string
        dryRun?: boolean
        json?: boolean
        url: string
      }) => {
        const actor = `cli:${process.env.USER ?? 'unknown'}`
        const report = await adoptFromConfig(loadFor(o.config, o.env), {
          plant: o.plant,
          actor,
          dryRun: o.dryRun === true,
          append: httpAppend({ url: o.url, actor }),
          xref: apiXref({ url: o.url, actor }),
          ...(o.erpPlant ? { erpPlant: o.erpPlant } : {}),
        })
        console.log(o.json ? JSON.stringify(report, null, 2) : formatAdoption(report))
        if (report.leftAlone > 0) process.exitCode = 1
      },
    )
}
