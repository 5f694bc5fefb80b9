/**
 * The loop every fan-out relay runs: one pass at a time (two at once could write the cursor out
 * of order), a pass right away, then one `pollMs` after each pass ends. A failed pass is retried
 * at the next tick; the relay's cursor only moved for what the broker confirmed.
 */
export interface RelayLoop<T> {
  /** runs a pass after any pass in progress; resolves with its result */
  once(): Promise<T>
  /** stops the loop and waits for the pass in progress */
  stop(): Promise<void>
}

export function relayLoop<T>(pass: () => Promise<T>, pollMs: number): RelayLoop<T> {
  let chain: Promise<unknown> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const once = () => {
    const next = chain.then(pass)
    chain = next.catch(() => undefined)
    return next
  }
  const tick = () => {
    if (stopped) return
    once()
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, pollMs)
      })
  }
  timer = setTimeout(tick, 0)
  return {
    once,
    stop: async () => {
      stopped = true
      if (timer) clearTimeout(timer)
      await chain
    },
  }
}
