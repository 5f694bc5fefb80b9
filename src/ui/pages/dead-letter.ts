import { QualinkError } from '../../contracts/errors.ts'
import type { ServerContext } from '../../server/context.ts'
import { getDeadLetter } from '../../store/dead-letters.ts'
import type { DeadLetter } from '../../store/engine-types.ts'
import { age, badge, when } from '../format.ts'
import { type Html, html } from '../html.ts'
import { deadLetterActions } from './exceptions.ts'
import { eventSection, journalTable, runSummary, triggerEvent, waitsTable } from './run-parts.ts'

type Headers = Record<string, string | string[] | undefined>

export async function findDeadLetter(ctx: ServerContext, headers: Headers, id: string): Promise<DeadLetter> {
  const dl = await getDeadLetter(ctx.store, ctx.scopeOf(headers), Number(id))
  if (!dl) throw new QualinkError('QLK_NOT_FOUND', `dead letter ${id} not found`)
  return dl
}

export function resolvedNote(dl: DeadLetter): Html {
  if (dl.status === 'replayed')
    return html`<span class="ok">Replayed by ${dl.resolvedBy ?? 'unknown'} ${when(dl.resolvedAtMs)} — the run resumes at its failed step.</span>`
  if (dl.status === 'discarded')
    return html`<span class="muted">Discarded by ${dl.resolvedBy ?? 'unknown'} ${when(dl.resolvedAtMs)}: “${dl.reason ?? ''}”</span>`
  return html``
}

export function detailActions(dl: DeadLetter): Html {
  return html`<section id="dl-actions" class="panel">
<h2>Resolve</h2>
${dl.status === 'open' ? deadLetterActions(dl, 'detail') : html`<p>${badge(dl.status)} ${resolvedNote(dl)}</p>`}
</section>`
}

export async function deadLetterPage(ctx: ServerContext, headers: Headers, id: string): Promise<Html> {
  const dl = await findDeadLetter(ctx, headers, id)
  const scope = ctx.scopeOf(headers)
  const loaded = await ctx.store.engine.loadRun(scope, dl.runId)
  const event = loaded && (await triggerEvent(ctx, scope, loaded.run))
  return html`<p class="crumbs"><a href="/ui/exceptions">Exceptions</a> › dead letter ${dl.id}</p>
<div class="columns">
<section class="panel"><h2>Dead letter</h2>
<dl class="facts">
<dt>Status</dt><dd>${badge(dl.status)}</dd>
<dt>Error</dt><dd><code class="code">${dl.errorCode}</code></dd>
<dt>Message</dt><dd class="error-text">${dl.error}</dd>
<dt>Workflow</dt><dd>${dl.workflow}</dd>
<dt>Key</dt><dd><code>${dl.key}</code></dd>
<dt>Plant</dt><dd>${dl.plant}</dd>
<dt>Attempts</dt><dd>${dl.attempts}</dd>
<dt>Dead-lettered</dt><dd>${when(dl.createdAtMs)} (${age(dl.createdAtMs)} ago)</dd>
</dl></section>
${loaded ? html`<section class="panel"><h2>Run</h2>${runSummary(loaded.run)}</section>` : html`<section class="panel"><p class="empty">Run ${dl.runId} is not visible.</p></section>`}
</div>
${detailActions(dl)}
<section class="panel"><h2>Trigger event</h2><p class="hint">Fields named like secrets, passwords, tokens, authorization or API keys are shown as [redacted].</p>
${eventSection(event)}</section>
<section class="panel"><h2>Step journal</h2>${journalTable(loaded?.journal ?? [])}</section>
<section class="panel"><h2>Waits</h2>${waitsTable(loaded?.waits ?? [])}</section>`
}
