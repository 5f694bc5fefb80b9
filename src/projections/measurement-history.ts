import type { Store } from '../store/types.ts'
import type { MeasurementHistoryPort } from '../workflows/ports/history.ts'

/**
 * Measurement history read from the event log (MES completions), for SPC. It reads below the
 * triggering event's seq, so the window is fixed for a given run even when replayed later.
 */
export function eventLogHistory(store: Store): MeasurementHistoryPort {
  return {
    async recent({ plant, characteristic, workCenter, beforeSeq, limit }) {
      const events = await store.sql.all(
        `SELECT envelope FROM events WHERE plant = ? AND type = 'mes.operation.completed.v1' AND seq < ?
          ORDER BY seq DESC LIMIT ?`,
        [plant, beforeSeq, limit * 4],
      )
      const values: number[] = []
      for (const row of events) {
        const env = (typeof row.envelope === 'string' ? JSON.parse(row.envelope) : row.envelope) as {
          data: {
            operation: { workCenter?: string }
            measurements: Array<{ characteristic: string; value: string }>
          }
        }
        if (workCenter && env.data.operation.workCenter !== workCenter) continue
        for (const m of env.data.measurements)
          if (m.characteristic === characteristic) values.push(Number(m.value))
        if (values.length >= limit) break
      }
      return values.slice(0, limit).reverse()
    },
  }
}
