import { randomUUID } from 'node:crypto'

export interface TrafficOptions {
  readonly url: string
  readonly intervalMs?: number
  readonly plants?: readonly string[]
  readonly log?: (msg: string) => void
}

export interface Traffic {
  stop(): Promise<void>
  readonly stats: { sent: number; accepted: number; duplicates: number; refused: number; failed: number }
}

/**
 * Kernel-level traffic: canonical events posted the way a connector would, with the faults real
 * sources produce: redelivered events (must come back as duplicates) and malformed ones (must be
 * refused with a problem document). The plant-day scenario builds on this once workflows exist.
 */
export function startKernelTraffic(opts: TrafficOptions): Traffic {
  const plants = opts.plants ?? ['P100', 'P200']
  const stats = { sent: 0, accepted: 0, duplicates: 0, refused: 0, failed: 0 }
  const recent: Array<Record<string, unknown>> = []
  let tick = 0
  let stopped = false
  let inflight: Promise<void> = Promise.resolve()

  async function post(body: unknown, contentType = 'application/cloudevents+json'): Promise<void> {
    stats.sent++
    try {
      const r = await fetch(`${opts.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      })
      if (r.status === 202) {
        const j = (await r.json()) as { duplicate?: boolean }
        if (j.duplicate) stats.duplicates++
        else stats.accepted++
      } else if (r.status >= 400 && r.status < 500) {
        stats.refused++
      } else {
        stats.failed++
      }
    } catch {
      stats.failed++
    }
  }

  async function once(): Promise<void> {
    tick++
    const plant = plants[tick % plants.length]!
    const e = {
      specversion: '1.0',
      id: randomUUID(),
      source: `urn:plant:${plant}:line-${(tick % 3) + 1}`,
      type: 'qualink.test.pinged.v1',
      time: new Date().toISOString(),
      subject: `LOT-${plant}-${String(Math.floor(tick / 5)).padStart(5, '0')}`,
      plant,
      data: { note: 'line heartbeat', n: tick },
    }
    recent.push(e)
    if (recent.length > 50) recent.shift()
    await post(e)
    // Every 7th tick a source redelivers an earlier event (at-least-once transports do).
    if (tick % 7 === 0) await post(recent[Math.floor(recent.length / 2)])
    // Every 23rd tick a source sends something broken: it must be refused, nothing stored.
    if (tick % 23 === 0) await post({ ...e, id: randomUUID(), data: { n: 'not-a-number' } })
  }

  const timer = setInterval(() => {
    if (stopped) return
    inflight = inflight.then(once)
  }, opts.intervalMs ?? 400)

  return {
    stats,
    async stop() {
      stopped = true
      clearInterval(timer)
      await inflight
    },
  }
}
