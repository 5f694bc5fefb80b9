/**
 * Gauges read from the store are collected concurrently within one scrape: they share the
 * query in flight, and the next scrape reads afresh (no time-based cache that could serve a
 * stale value to a quick second scrape).
 */
export function perScrape<T>(load: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined
  return () => {
    if (!inFlight) {
      const p = load()
      inFlight = p
      p.finally(() => setImmediate(() => (inFlight = undefined))).catch(() => {})
    }
    return inFlight
  }
}
