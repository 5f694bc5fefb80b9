/**
 * Production order hold and outbound delivery block: plain PATCHes of a state, so the connector
 * reads first and changes only what differs (a repeated step changes nothing). If-Match carries
 * the entity's ETag; a 412 (changed meanwhile) or a lost answer means read again.
 */
import { PermanentError } from '../../../engine/errors.ts'
import type { StateChangeResult } from '../../../workflows/ports/erp.ts'
import { EgressFailure, RemoteRejected } from '../../sdk/http-errors.ts'
import { etagOf, literal, type ODataClient, type ODataEntity } from './odata.ts'

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
  for (let round = 0; round < 3; round++) {
    const e = await odata.getEntity(`${o.service}${o.entityPath}`, `read ${o.what}`, o.traceparent)
    if (!e) throw new PermanentError('QLK_REMOTE_REJECTED', `${o.what} does not exist in SAP`)
    if (o.isDone(e)) return { changed: round > 0 }
    try {
      await odata.modify('PATCH', o.service, o.entityPath, o.patch, {
        etag: etagOf(e),
        traceparent: o.traceparent,
        context: `change ${o.what}`,
      })
      return { changed: true }
    } catch (err) {
      const again =
        (err instanceof EgressFailure && err.ambiguous) ||
        (err instanceof RemoteRejected && err.status === 412)
      if (!again) throw err
    }
  }
  throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `${o.what}: change not confirmed by read-back`, {
    ambiguous: true,
  })
}

export const key = literal
