/**
 * Production order hold and outbound delivery block: plain PATCHes of a state, so the connector
 * reads first and changes only what differs (a repeated step changes nothing). If-Match carries
 * the entity's ETag; a lost answer means read again, and so does a 412 (changed meanwhile) once
 * (StaleEtagRule): a second 412 is a permanent QLK_REMOTE_CONFLICT.
 */
import { PermanentError } from '../../../engine/errors.ts'
import type { StateChangeResult } from '../../../workflows/ports/erp.ts'
import { EgressFailure } from '../../sdk/http-errors.ts'
import { etagOf, literal, type ODataClient, type ODataEntity, StaleEtagRule } from './odata.ts'

export async function setState(
  odata: ODataClient,
  o: {
    service: string
    entityPath: string
    what: string
    isDone: (e: ODataEntity) => boolean
    patch: Record<string, unknown>
    traceparent?: string
  },
): Promise<StateChangeResult> {
  const stale = new StaleEtagRule(o.what)
  // true while the last PATCH may have applied (its answer was lost): a done state is then ours
  let maybeOurs = false
  for (let round = 0; round < 3; round++) {
    const e = await odata.getEntity(`${o.service}${o.entityPath}`, `read ${o.what}`, o.traceparent)
    if (!e) throw new PermanentError('QLK_REMOTE_REJECTED', `${o.what} does not exist in SAP`)
    if (o.isDone(e)) return { changed: maybeOurs }
    try {
      await odata.modify('PATCH', o.service, o.entityPath, o.patch, {
        etag: etagOf(e),
        traceparent: o.traceparent,
        context: `change ${o.what}`,
      })
      return { changed: true }
    } catch (err) {
      // a lost answer, or a stale ETag (once; someone else changed it): the next round's read decides
      maybeOurs = err instanceof EgressFailure && err.ambiguous
      if (!(maybeOurs || stale.reread(err))) throw err
    }
  }
  throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `${o.what}: change not confirmed by read-back`, {
    ambiguous: true,
  })
}

export const key = literal
