import type { FastifyInstance, FastifyReply } from 'fastify'
import { buildEvidence } from '../../audit/evidence.ts'
import { QualinkError } from '../../contracts/errors.ts'
import { exportLotIsa95 } from '../../projections/isa95-export.ts'
import { recallCsv, recallScope } from '../../projections/trace.ts'
import { hasRole } from '../../server/auth.ts'
import type { ServerContext } from '../../server/context.ts'
import { auditPlaintextExport } from '../../server/routes/lots.ts'
import { type Html, html } from '../html.ts'

type Headers = Record<string, string | string[] | undefined>

/** `B1@P200` → `B1_P200`: a lot id as a file name any browser and file system keeps whole. */
export function fileSafe(lot: string): string {
  return lot.replace(/[^\w.-]+/g, '_').slice(0, 120) || 'lot'
}

const href = (lot: string, file: string) => `/ui/lots/${encodeURIComponent(lot)}/${file}`

/**
 * The lot page's exports: plain links, so the browser shows each download's progress itself and
 * nothing is held on the page. Under the dashboard session (the API's paths need a key): the
 * evidence bundle for auditors (as GET /v1/lots/:id/evidence), the recall scope as CSV and the
 * ISA-95 genealogy for every reader of the lot's plant.
 */
export function lotExports(ctx: ServerContext, headers: Headers, lot: string): Html {
  const auditor = hasRole(ctx.authenticator.principal(headers), 'auditor')
  return html`<section class="panel exports"><h2>Exports</h2>
<p class="hint">Downloads; your browser shows their progress. Large recall scopes take a few seconds to assemble.</p>
<ul class="downloads">
${auditor ? html`<li><a href="${href(lot, 'evidence')}" download>Evidence bundle (JSON)</a> — the lot's audit entries, runs, signatures and chain links up to the anchor, sensitive fields kept encrypted, checked offline with <code>qualink audit verify-bundle</code> (<code>--keys</code> to check the encrypted parts too)</li>` : html`<li class="muted">Evidence bundle: needs the auditor role</li>`}
<li><a href="${href(lot, 'recall.csv')}" download>Recall scope (CSV)</a> — every lot and delivery reached from this lot</li>
<li><a href="${href(lot, 'isa95.xml')}" download>ISA-95 genealogy (XML)</a> — the lot as a B2MML MaterialLot with its stock and test results</li>
</ul></section>`
}

function attachment(reply: FastifyReply, type: string, name: string, body: string): FastifyReply {
  return reply.type(type).header('content-disposition', `attachment; filename="${name}"`).send(body)
}

/** The downloads behind lotExports; another plant's lot answers 404 as on the API. */
export function registerLotDownloads(ui: FastifyInstance, ctx: ServerContext): void {
  const notFound = (lot: string) => new QualinkError('QLK_NOT_FOUND', `lot ${lot} not found`)
  // the role (auditor) is enforced before this runs: the route ends in /evidence (server/auth.ts)
  ui.get<{ Params: { id: string } }>('/ui/lots/:id/evidence', async (req, reply) => {
    await ctx.catchUpProjections()
    // sealed, as `qualink audit export` writes it: the file kept at rest holds the marked fields
    // encrypted (verify-bundle --keys checks them)
    const b = await buildEvidence(ctx.store, ctx.anchors, ctx.scopeOf(req.headers), req.params.id, {
      sealed: true,
    })
    if (!b) throw notFound(req.params.id)
    const name = `evidence-${fileSafe(req.params.id)}.json`
    return attachment(reply, 'application/json; charset=utf-8', name, JSON.stringify(b, null, 2))
  })
  ui.get<{ Params: { id: string } }>('/ui/lots/:id/recall.csv', async (req, reply) => {
    await ctx.catchUpProjections()
    const r = await recallScope(ctx.store, ctx.scopeOf(req.headers), req.params.id)
    if (!r) throw notFound(req.params.id)
    return attachment(reply, 'text/csv; charset=utf-8', `recall-${fileSafe(req.params.id)}.csv`, recallCsv(r))
  })
  ui.get<{ Params: { id: string } }>('/ui/lots/:id/isa95.xml', async (req, reply) => {
    await ctx.catchUpProjections()
    const scope = ctx.scopeOf(req.headers)
    const doc = await exportLotIsa95(ctx.store, scope, req.params.id, 'xml')
    if (doc === undefined) throw notFound(req.params.id)
    // decrypted (B2MML has no place for a ciphertext): on record as on the API
    if (ctx.store.decryptAtRest)
      await auditPlaintextExport(ctx, {
        lot: req.params.id,
        scope,
        actor: ctx.actorOf(req.headers, 'ui'),
        correlationId: req.id,
        what: 'isa95',
      })
    return attachment(reply, 'application/xml; charset=utf-8', `isa95-${fileSafe(req.params.id)}.xml`, doc)
  })
}
