import client from 'prom-client'
import type { SqlExecutor } from '../store/sql-executor.ts'

interface Pending {
  readonly plant: string
  readonly source: string
  readonly deliveryId: string
  readonly atMs: number
}

// A redelivery usually arrives before its first copy is translated; it waits this long for the type.
const RESOLVE_WITHIN_MS = 60_000
const MAX_PENDING = 1000

/**
 * `qualink_duplicate_events_total{plant,type}`. An ingest-API duplicate is counted at once under
 * its event's type. A webhook redelivery (same delivery id) is counted under the type its first
 * copy translated to: held until a scrape finds that translation, or counted as `untranslated`
 * after a minute (or when too many are pending).
 */
export class DuplicateEvents {
  private pending: Pending[] = []
  readonly counter: client.Counter<'plant' | 'type'>

  constructor(registry: client.Registry, sql: () => SqlExecutor | undefined) {
    this.counter = new client.Counter({
      name: 'qualink_duplicate_events_total',
      help: 'Events and webhook deliveries absorbed as duplicates, by plant and event type',
      labelNames: ['plant', 'type'] as const,
      registers: [registry],
      collect: async () => {
        const x = sql()
        if (x) await this.resolve(x)
      },
    })
  }

  event(plant: string, type: string): void {
    this.counter.inc({ plant, type })
  }

  delivery(plant: string, source: string, deliveryId: string): void {
    if (this.pending.length >= MAX_PENDING) this.counter.inc({ plant, type: 'untranslated' })
    else this.pending.push({ plant, source, deliveryId, atMs: Date.now() })
  }

  private async resolve(sql: SqlExecutor): Promise<void> {
    const batch = this.pending
    this.pending = []
    const now = Date.now()
    for (const p of batch) {
      const [row] = await sql.all(
        'SELECT e.type FROM raw_deliveries r JOIN events e ON e.seq = r.event_seq WHERE r.source = ? AND r.delivery_id = ?',
        [p.source, p.deliveryId],
      )
      if (typeof row?.type === 'string') this.counter.inc({ plant: p.plant, type: row.type })
      else if (now - p.atMs > RESOLVE_WITHIN_MS) this.counter.inc({ plant: p.plant, type: 'untranslated' })
      else this.pending.push(p)
    }
  }
}
