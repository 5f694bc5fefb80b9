/**
 * Optimistic concurrency as Gateway does it: the entity's ETag comes from its change timestamp;
 * a modifying request must carry it in If-Match (or send the timestamp in the body, as public
 * integration code does with ChangedDateTime, quality-domain.md §1.4). Stale → 412; missing → 428.
 */
import type { SimRequest } from '../shared/http.ts'
import { etagFor, odataError } from './odata.ts'

function parseTimestamp(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined
  const m = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(v)
  if (m) return Number(m[1])
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : t
}

export function checkConcurrency(
  req: SimRequest,
  currentMs: number,
  body: Record<string, unknown> | undefined,
  bodyField: string,
  required: boolean,
): void {
  const ifMatch = req.header('if-match')
  if (ifMatch !== undefined && ifMatch !== '*') {
    if (ifMatch !== etagFor(currentMs)) {
      throw odataError(
        412,
        '/IWBEP/CM_MGW_RT/022',
        'Precondition failed: the entity was changed by another user (ETag mismatch)',
      )
    }
    return
  }
  const sent = parseTimestamp(body?.[bodyField])
  if (sent !== undefined) {
    if (sent !== currentMs)
      throw odataError(412, '/IWBEP/CM_MGW_RT/022', `Precondition failed: ${bodyField} is outdated`)
    return
  }
  if (ifMatch === '*') return
  if (required)
    throw odataError(428, '/IWBEP/CM_MGW_RT/021', `Precondition required: send If-Match or ${bodyField}`)
}
