import { verifyAudit } from '../../audit/verify.ts'
import type { ServerContext } from '../../server/context.ts'
import { type Html, html } from '../html.ts'

export async function auditPage(ctx: ServerContext): Promise<Html> {
  const r = await verifyAudit(ctx.store, ctx.anchors)
  const verdict = r.ok
    ? html`<p class="ok"><strong>Chain intact.</strong> ${r.checked} entries verified against ${r.anchorsChecked} anchors.</p>`
    : html`<p class="bad"><strong>Chain broken at entry ${r.firstBroken!.pos}.</strong> ${r.firstBroken!.reason}</p>`
  return html`${verdict}
<table><tbody>
<tr><th>Head position</th><td>${r.head?.pos ?? 0}</td></tr>
<tr><th>Head hash</th><td><code>${r.head?.hash ?? '-'}</code></td></tr>
<tr><th>Entries awaiting the sealer</th><td>${r.unsealed}</td></tr>
</tbody></table>
<p><button hx-get="/ui/audit" hx-select="main" hx-target="main" hx-swap="outerHTML">Verify again</button></p>`
}
