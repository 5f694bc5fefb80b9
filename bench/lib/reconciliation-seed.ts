/**
 * Copies of one finished receipt inspection, for a reconciliation pass over 100,000 lots: running
 * each lot through the whole workflow first (receipt → QMS inspection lot → decision → posting)
 * went at ~20 lots/s here, about 80 minutes per dialect before the pass could start. The
 * template lot goes the real way; each copy gets the template's rows with its batch (and QMS
 * inspection lot id) replaced: its trigger event, its completed run and its journal in Qualink's
 * store; its inspection lot with the same decision in the QMS simulator; its stock in the same
 * buckets in the S/4 simulator's ledger. The reconciler reads copies exactly as it reads real
 * lots: the same statements, the same QMS and ERP calls.
 */
import { randomUUID } from 'node:crypto'
import type { ErpS4Sim, QmsSim } from '../../simulators/index.ts'
import { marks } from '../../src/store/sql-executor.ts'
import type { Store } from '../../src/store/types.ts'

const ROWS_PER_STATEMENT = 100

const text = (v: unknown) =>
  v !== null && typeof v === 'object' && !(v instanceof Date) && !Buffer.isBuffer(v) ? JSON.stringify(v) : v

async function insertRows(store: Store, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  if (rows.length === 0) return
  const cols = Object.keys(rows[0]!)
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const part = rows.slice(i, i + ROWS_PER_STATEMENT)
    await store.sql.run(
      `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${part.map(() => `(${marks(cols.length)})`).join(', ')}`,
      part.flatMap((r) => cols.map((c) => r[c])),
    )
  }
}

/**
 * Adds `n` copies of the completed receipt-inspection run of batch `template` (copies' batches
 * `${prefix}${i}`). Returns the copies' batches.
 */
export async function cloneFinishedLots(
  store: Store,
  erp: ErpS4Sim,
  qms: QmsSim,
  template: string,
  n: number,
  prefix: string,
): Promise<string[]> {
  const [run] = await store.sql.all(
    `SELECT * FROM workflow_runs WHERE workflow = 'supplier-receipt-inspection' AND run_key = ? AND status = 'completed'`,
    [template],
  )
  if (!run) throw new Error(`reconciliation seed: no completed run for template lot ${template}`)
  const [event] = await store.sql.all('SELECT * FROM events WHERE seq = ?', [run.trigger_event_seq])
  const journal = await store.sql.all('SELECT * FROM run_journal WHERE run_id = ? ORDER BY position', [
    run.id,
  ])
  const qmsLot = [...qms.model.lots.values()].find((l) => JSON.stringify(l).includes(`"${template}"`))
  const stock = erp.model.ledger.snapshot().find((s) => s.key.batch === template)
  if (!event || !qmsLot || !stock) throw new Error(`reconciliation seed: template lot ${template} incomplete`)
  const swap = (v: unknown, batch: string, qmsId: string) => {
    const t = text(v)
    return typeof t === 'string' ? t.split(template).join(batch).split(qmsLot.id).join(qmsId) : t
  }
  const batches: string[] = []
  const CHUNK = 1000
  for (let base = 0; base < n; base += CHUNK) {
    const ids = Array.from({ length: Math.min(CHUNK, n - base) }, (_, k) => base + k)
    const events = ids.map((i) => {
      const { seq: _seq, ...rest } = event
      return Object.fromEntries(
        Object.entries(rest).map(([k, v]) => [
          k,
          k === 'id' ? `${String(v)}-copy-${i}` : swap(v, `${prefix}${i}`, `QC-${i}`),
        ]),
      )
    })
    await store.sql.tx(async (x) => {
      const tx = { ...store, sql: x } as Store
      await insertRows(tx, 'events', events)
      const seqs = new Map(
        (
          await x.all(`SELECT seq, id FROM events WHERE source = ? AND id IN (${marks(events.length)})`, [
            event.source,
            ...events.map((e) => e.id),
          ])
        ).map((r) => [String(r.id), r.seq]),
      )
      const runs: Array<Record<string, unknown>> = []
      const entries: Array<Record<string, unknown>> = []
      for (const [k, i] of ids.entries()) {
        const id = randomUUID()
        runs.push(
          Object.fromEntries(
            Object.entries(run).map(([c, v]) => [
              c,
              c === 'id'
                ? id
                : c === 'trigger_event_seq'
                  ? seqs.get(String(events[k]!.id))
                  : c === 'trigger_event_id'
                    ? events[k]!.id
                    : swap(v, `${prefix}${i}`, `QC-${i}`),
            ]),
          ),
        )
        for (const j of journal)
          entries.push(
            Object.fromEntries(
              Object.entries(j).map(([c, v]) => [
                c,
                c === 'run_id' ? id : swap(v, `${prefix}${i}`, `QC-${i}`),
              ]),
            ),
          )
      }
      await insertRows(tx, 'workflow_runs', runs)
      await insertRows(tx, 'run_journal', entries)
    })
    for (const i of ids) {
      const batch = `${prefix}${i}`
      batches.push(batch)
      qms.model.lots.set(`QC-${i}`, JSON.parse(swap(qmsLot, batch, `QC-${i}`) as string))
      const key = { ...stock.key, batch }
      erp.model.ledger.apply(
        Object.entries(stock.buckets)
          .filter(([, q]) => q > 0)
          .map(([bucket, qty]) => ({ key, from: 'external' as const, to: bucket as never, qty })),
      )
    }
  }
  return batches
}
