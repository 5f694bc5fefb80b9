/**
 * The goods-receipt change list a plant exposes as a custom OData service
 * (ZQUALINK_GR_FEED_SRV/GoodsReceiptEvents, cursor EventSequence), polled instead of (or next to)
 * the GoodsReceiptPosted webhook: behind a firewall that admits no inbound webhook, or as the
 * backfill after an outage. Each entry becomes a raw delivery under its EventID with the same
 * JSON the webhook carries, so the goods-receipt translator reads both.
 */
import type { ODataClient } from './odata.ts'

export const GR_FEED = '/sap/opu/odata/sap/ZQUALINK_GR_FEED_SRV'

export interface FeedItem {
  readonly id: string
  readonly cursor: string
  readonly body: Buffer
  readonly headers: Record<string, string>
}

/** Edm.DateTime `/Date(<ms>)/` → epoch ms; anything else is passed on unchanged. */
function odataDate(v: unknown): unknown {
  const m = typeof v === 'string' ? /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(v) : null
  return m ? Number(m[1]) : v
}

export async function readGoodsReceiptFeed(
  odata: ODataClient,
  after: string | null,
  top: number,
): Promise<FeedItem[]> {
  const seq = after === null ? 0 : Number(after)
  if (!Number.isSafeInteger(seq) || seq < 0)
    throw new RangeError(`feed cursor '${after}' is not an EventSequence`)
  const rows = await odata.getCollection(
    `${GR_FEED}/GoodsReceiptEvents?$filter=EventSequence gt ${seq}&$orderby=EventSequence&$top=${top}`,
    `read goods-receipt feed after ${seq}`,
  )
  return rows.map((r) => {
    const { __metadata: _meta, ...entry } = r as Record<string, unknown>
    const posted = { eventType: 'GoodsReceiptPosted', ...entry, PostingDate: odataDate(entry.PostingDate) }
    return {
      id: String(entry.EventID),
      cursor: String(entry.EventSequence),
      body: Buffer.from(JSON.stringify(posted)),
      headers: { 'content-type': 'application/json', 'feed-sequence': String(entry.EventSequence) },
    }
  })
}
