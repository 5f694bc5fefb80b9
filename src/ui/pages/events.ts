import type { ServerContext } from '../../server/context.ts'
import { type Html, html } from '../html.ts'

export async function eventsPage(
  ctx: ServerContext,
  headers: Record<string, string | string[] | undefined>,
  query: { type?: string; subject?: string },
): Promise<Html> {
  const events = await ctx.store.listEvents(ctx.scopeOf(headers), {
    type: query.type || undefined,
    subject: query.subject || undefined,
    afterSeq: 0,
    limit: 200,
  })
  return html`<form method="get" action="/ui/events">
  <input name="subject" placeholder="lot / subject" value="${query.subject ?? ''}">
  <input name="type" placeholder="event type" value="${query.type ?? ''}" size="36">
  <button type="submit">Search</button>
</form>
<table><thead><tr><th>Seq</th><th>Plant</th><th>Type</th><th>Subject</th><th>Source</th><th>Time</th><th>Correlation</th></tr></thead><tbody>
${events.map(
  (
    e,
  ) => html`<tr><td>${e.seq}</td><td>${e.plant}</td><td>${e.type}</td><td>${e.subject ?? ''}</td><td>${e.source}</td>
<td>${e.time}</td><td><code>${e.correlationId}</code></td></tr>`,
)}
</tbody></table>
<p>${events.length === 200 ? 'Showing the first 200 matches.' : `${events.length} events.`}</p>`
}
