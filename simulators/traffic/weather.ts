/**
 * The plant day's bad weather: now and then the ERP is down for a while (every call answers 503),
 * so runs retry and the circuit breaker opens, then it comes back.
 */
import type { Day } from './day.ts'

/** an ERP outage of 20 ticks (30 s) every 200 ticks (5 min) */
export const OUTAGE_EVERY_TICKS = 200
export const OUTAGE_TICKS = 20

export function erpWeather(d: Day): void {
  const erp = d.o.erp
  if (!erp || d.o.erpOutages === false) return
  if (d.tick % OUTAGE_EVERY_TICKS === OUTAGE_EVERY_TICKS - OUTAGE_TICKS) {
    erp.faults.set({ errorRate: 1, errorStatus: 503 })
    d.stats.erpOutages!++
    d.o.log?.('ERP outage: every ERP call answers 503 for a while')
  } else if (d.tick % OUTAGE_EVERY_TICKS === 0 && d.stats.erpOutages! > 0) {
    erp.faults.set({})
    d.o.log?.('ERP back')
  }
}
