import { QualinkError } from '../../contracts/errors.ts'
import type { ServerContext } from '../../server/context.ts'
import type { RunRow } from '../../store/engine-types.ts'
import { type Html, html } from '../html.ts'
import { eventSection, journalTable, runSummary, triggerEvent, waitsTable } from './run-parts.ts'

type Headers = Record<string, string | string[] | undefined>

const CANCELLABLE: ReadonlySet<RunRow['status']> = new Set(['pending', 'waiting'])

export function cancelSection(run: RunRow, message?: Html): Html {
  const body =
    run.cancelRequested || !CANCELLABLE.has(run.status)
      ? message
        ? html`<p class="muted">The engine compensates and ends the run.</p>`
        : html`<p class="muted">${run.cancelRequested ? 'Cancellation requested; the engine compensates and ends the run.' : `A ${run.status} run cannot be cancelled.`}</p>`
      : html`<form class="toolbar" method="post" action="/ui/runs/${encodeURIComponent(run.id)}/cancel" hx-post="/ui/runs/${encodeURIComponent(run.id)}/cancel" hx-target="#run-cancel" hx-swap="outerHTML">
<input name="reason" required minlength="3" maxlength="500" placeholder="reason to cancel" aria-label="Reason to cancel the run" size="40">
<button type="submit" class="danger">Cancel run</button></form>`
  return html`<section id="run-cancel" class="panel"><h2>Cancel</h2>${message ?? ''}${body}
<div class="msg" id="run-cancel-msg" role="alert"></div></section>`
}

export async function loadRunOrThrow(ctx: ServerContext, headers: Headers, id: string) {
  const loaded = await ctx.store.engine.loadRun(ctx.scopeOf(headers), id)
  if (!loaded) throw new QualinkError('QLK_NOT_FOUND', `run ${id} not found`)
  return loaded
}

export async function runDetailPage(ctx: ServerContext, headers: Headers, id: string): Promise<Html> {
  const { run, journal, waits } = await loadRunOrThrow(ctx, headers, id)
  const event = await triggerEvent(ctx, ctx.scopeOf(headers), run)
  const open = await ctx.store.engine.listDeadLetters(ctx.scopeOf(headers), {
    workflow: run.workflow,
    status: 'open',
    limit: 1000,
  })
  const dl = open.find((d) => d.runId === run.id)
  return html`<p class="crumbs"><a href="/ui/runs">Workflows</a> › ${run.workflow} › <code>${run.key}</code></p>
${dl ? html`<p class="banner bad">This run is dead-lettered: <a href="/ui/exceptions/${dl.id}">resolve it on the Exceptions page</a>.</p>` : ''}
<div class="columns">
<section class="panel"><h2>Run</h2>${runSummary(run)}</section>
${cancelSection(run)}
</div>
<section class="panel"><h2>Step journal</h2>${journalTable(journal)}</section>
<section class="panel"><h2>Waits</h2>${waitsTable(waits)}</section>
<section class="panel"><h2>Trigger event</h2>${eventSection(event)}</section>`
}
