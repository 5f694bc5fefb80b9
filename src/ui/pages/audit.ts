import { verifyAudit } from '../../audit/verify.ts'
import type { ServerContext } from '../../server/context.ts'
import { type Html, html } from '../html.ts'

export async function auditPage(ctx: ServerContext): Promise<Html> {
  const r = await verifyAudit(ctx.store, ctx.anchors)
  const verdict = r.ok
    ? html`<div class="banner ok" role="status"><strong>Chain intact.</strong> ${r.checked} entries verified against ${r.anchorsChecked} anchor${r.anchorsChecked === 1 ? '' : 's'}.</div>`
    : html`<div class="banner bad" role="alert"><strong>Chain broken at entry ${r.firstBroken!.pos}.</strong> ${r.firstBroken!.reason}</div>`
  return html`${verdict}
<table class="facts-table"><tbody>
<tr><th>Head position</th><td>${r.head?.pos ?? 0}</td></tr>
<tr><th>Head hash</th><td><code>${r.head?.hash ?? '-'}</code></td></tr>
<tr><th>Entries awaiting the sealer</th><td>${r.unsealed}</td></tr>
</tbody></table>
<p class="note">Verified ${new Date().toISOString().replace('T', ' ').slice(0, 19)}Z.</p>
<p><button hx-get="/ui/audit" hx-select="main" hx-target="main" hx-swap="outerHTML">Verify again</button></p>`
}
