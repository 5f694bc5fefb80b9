import type { Lease, RawDelivery, Store } from '../../store/types.ts'

export interface PollingFeedConfig {
  readonly name: string
  readonly plant: string
  readonly pollMs?: number
  /**
   * Fetches items after `cursor` (null on the first poll), oldest first, each with its own id
   * and the cursor value that follows it.
   */
  readonly fetch: (
    cursor: string | null,
  ) => Promise<Array<{ id: string; cursor: string; body: Buffer; headers?: Record<string, string> }>>
}

/**
 * A polled feed (e.g. an ERP's goods-receipt change list) with a durable cursor: each item is
 * stored as a raw delivery, then the cursor advances. A crash in between re-reads items that
 * deduplicate on their delivery id; the cursor never runs ahead of what was stored.
 */
export function startPollingFeed(cfg: PollingFeedConfig, store: Store, onStored: () => void, fence?: Lease) {
  let timer: NodeJS.Timeout | undefined
  let closed = false
  let running: Promise<unknown> = Promise.resolve()

  async function pollOnce(): Promise<number> {
    const cursor = await store.ingress.getCursor(cfg.name)
    const items = await cfg.fetch(cursor)
    for (const item of items) {
      const d: RawDelivery = {
        plant: cfg.plant,
        source: cfg.name,
        deliveryId: item.id,
        headers: item.headers ?? {},
        body: item.body,
      }
      await store.insertRawDelivery(d)
      await store.ingress.setCursor(cfg.name, item.cursor, fence)
    }
    if (items.length > 0) onStored()
    return items.length
  }

  const loop = () => {
    if (closed) return
    running = pollOnce()
      .catch(() => 0)
      .finally(() => {
        if (!closed) timer = setTimeout(loop, cfg.pollMs ?? 1000)
      })
  }
  timer = setTimeout(loop, 0)
  return {
    pollOnce: async () => {
      await running
      return pollOnce()
    },
    close: async () => {
      closed = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}
