import client from 'prom-client'
import { countEdiOutbound } from '../store/edi-outbound.ts'
import type { SqlExecutor } from '../store/sql-executor.ts'

/**
 * `qualink_edi_outbound_interchanges{plant,partner,status}`: the X12 groups sent to trading
 * partners by where their 997 stands (pending, overdue, accepted, partial, rejected); an alert on
 * `status="overdue"` catches a partner whose translator stopped answering. One grouped query of
 * the edi_outbound table per scrape.
 */
export function registerEdiMetrics(registry: client.Registry, sql: () => SqlExecutor | undefined): void {
  const gauge: client.Gauge<'plant' | 'partner' | 'status'> = new client.Gauge({
    name: 'qualink_edi_outbound_interchanges',
    help: 'X12 functional groups sent to trading partners, by the status of their 997 acknowledgment',
    labelNames: ['plant', 'partner', 'status'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      const x = sql()
      gauge.reset()
      for (const r of x ? await countEdiOutbound(x, Date.now()) : [])
        gauge.set({ plant: r.plant, partner: r.partner, status: r.status }, r.count)
    },
  })
}
