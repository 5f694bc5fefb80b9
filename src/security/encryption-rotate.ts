/**
 * `qualink keys rotate --to <kid>`: every encrypted value stored under another key is decrypted
 * and encrypted again under `kid`, in batches of rows, each batch one transaction. It reads the
 * raw tables (the event log's envelopes, the run journal's wait and step results, runs'
 * results, audit payloads and the raw delivery bodies), not the decrypting
 * store, so what it rewrites is exactly what is at rest.
 *
 * Resumable without a cursor: a value already under `kid` is left alone, so running it again
 * after an interruption redoes nothing and finishes the rest. A row is rewritten only if it is
 * still the row that was read (a retention purge in between wins), and only its encrypted values
 * change: a re-encrypted value decrypts to the same plaintext, so the data hash and the audit
 * chain are untouched. Old keys must stay configured until `remaining` is empty.
 */
import { QualinkError } from '../contracts/errors.ts'
import type { Store } from '../store/types.ts'
import { countByKey, type FieldCipher, type KeyCounts } from './encryption.ts'

export interface RotationReport {
  readonly to: string
  readonly rowsScanned: number
  readonly rowsRewritten: number
  readonly valuesReencrypted: number
  /** encrypted values left under each key after the pass (only `to` when complete) */
  readonly byKey: KeyCounts
  /** keys other than `to` that still hold values */
  readonly remaining: KeyCounts
}

export interface RotationOptions {
  readonly to: string
  readonly batch?: number
  /** count only: rewrite nothing (`qualink keys status`) */
  readonly dryRun?: boolean
  /** called after each committed batch (progress; a test interrupts the rotation here) */
  readonly onBatch?: (done: { rowsScanned: number; valuesReencrypted: number }) => void | Promise<void>
}

interface Table {
  readonly name: string
  /** rows after `cursor`, ordered, with `k` (the cursor) and `v` (the JSON column) */
  select(after: unknown[] | undefined, limit: number): { sql: string; params: unknown[] }
  cursor(row: Record<string, unknown>): unknown[]
  update: string
  key(row: Record<string, unknown>): unknown[]
  /** the column as stored → what the update writes back */
  encode?(json: string): unknown
  /** compare-and-set: the value as read, when the update checks it is unchanged */
  expect?(row: Record<string, unknown>): unknown
}

/** A projection's text column, paged by its primary key, rewritten only if unchanged since read. */
function projectionText(name: string, column: string, pk: readonly string[]): Table {
  const after = pk
    .map(
      (_, i) =>
        `(${pk
          .slice(0, i + 1)
          .map((c, j) => `${c} ${j === i ? '>' : '='} ?`)
          .join(' AND ')})`,
    )
    .join(' OR ')
  const cols = pk.join(', ')
  return {
    name,
    select: (cursor, limit) => ({
      sql: `SELECT ${cols}, ${column} AS v FROM ${name} WHERE ${column} IS NOT NULL${cursor ? ` AND (${after})` : ''}
             ORDER BY ${cols} LIMIT ?`,
      params: cursor ? [...pk.flatMap((_, i) => cursor.slice(0, i + 1)), limit] : [limit],
    }),
    cursor: (r) => pk.map((c) => r[c]),
    update: `UPDATE ${name} SET ${column} = ? WHERE ${pk.map((c) => `${c} = ?`).join(' AND ')} AND ${column} = ?`,
    key: (r) => pk.map((c) => r[c]),
    expect: (r) => r.v,
  }
}

const TABLES: readonly Table[] = [
  {
    name: 'events',
    select: (after, limit) => ({
      sql: `SELECT seq, envelope AS v FROM events WHERE seq > ? AND payload_purged_at_ms IS NULL ORDER BY seq LIMIT ?`,
      params: [after?.[0] ?? 0, limit],
    }),
    cursor: (r) => [Number(r.seq)],
    update: 'UPDATE events SET envelope = ? WHERE seq = ? AND payload_purged_at_ms IS NULL',
    key: (r) => [Number(r.seq)],
  },
  {
    name: 'run_journal',
    select: (after, limit) =>
      after
        ? {
            sql: `SELECT run_id, position, result AS v FROM run_journal
                   WHERE (run_id > ? OR (run_id = ? AND position > ?)) ORDER BY run_id, position LIMIT ?`,
            params: [after[0], after[0], after[1], limit],
          }
        : {
            sql: 'SELECT run_id, position, result AS v FROM run_journal ORDER BY run_id, position LIMIT ?',
            params: [limit],
          },
    cursor: (r) => [String(r.run_id), Number(r.position)],
    update: 'UPDATE run_journal SET result = ? WHERE run_id = ? AND position = ? AND result = ?',
    key: (r) => [String(r.run_id), Number(r.position)],
    expect: (r) => r.v,
  },
  {
    // step results' derived values are in run_journal above; a run's result here
    name: 'workflow_runs',
    select: (after, limit) =>
      after
        ? {
            sql: 'SELECT id, result AS v FROM workflow_runs WHERE id > ? AND result IS NOT NULL ORDER BY id LIMIT ?',
            params: [after[0], limit],
          }
        : {
            sql: 'SELECT id, result AS v FROM workflow_runs WHERE result IS NOT NULL ORDER BY id LIMIT ?',
            params: [limit],
          },
    cursor: (r) => [String(r.id)],
    update: 'UPDATE workflow_runs SET result = ? WHERE id = ? AND result = ?',
    key: (r) => [String(r.id)],
    expect: (r) => r.v,
  },
  {
    // the chain holds the plaintext payload's hash (audit_log.payload_hash), so rewriting the
    // payload's ciphertext leaves every link verifiable; a retention purge in between wins
    name: 'audit_payloads',
    select: (after, limit) => ({
      sql: 'SELECT audit_seq, payload AS v FROM audit_payloads WHERE audit_seq > ? ORDER BY audit_seq LIMIT ?',
      params: [after?.[0] ?? 0, limit],
    }),
    cursor: (r) => [Number(r.audit_seq)],
    update: 'UPDATE audit_payloads SET payload = ? WHERE audit_seq = ? AND payload = ?',
    key: (r) => [Number(r.audit_seq)],
    expect: (r) => r.v,
  },
  // Projections: the text fields the supplier scorecard copies from marked fields
  // (src/projections/supplier-scorecard.ts); every other projected column is an identifier,
  // a quantity or a code (docs/operations.md#encryption).
  projectionText('scorecard_lots', 'decided_by', ['plant', 'lot']),
  projectionText('supplier_scorecard', 'last_decision', ['plant', 'supplier', 'material']),
  projectionText('supplier_capas', 'title', ['plant', 'capa']),
  {
    name: 'raw_deliveries',
    select: (after, limit) => ({
      sql: 'SELECT seq, body AS v FROM raw_deliveries WHERE seq > ? ORDER BY seq LIMIT ?',
      params: [after?.[0] ?? 0, limit],
    }),
    cursor: (r) => [Number(r.seq)],
    // compare-and-set on the bytes read: a retention purge that emptied the body meanwhile wins
    update: 'UPDATE raw_deliveries SET body = ? WHERE seq = ? AND body = ?',
    key: (r) => [Number(r.seq)],
    encode: (json) => Buffer.from(json),
    expect: (r) => r.v,
  },
]

const text = (v: unknown) =>
  typeof v === 'string'
    ? v
    : Buffer.isBuffer(v) || v instanceof Uint8Array
      ? Buffer.from(v).toString('utf8')
      : JSON.stringify(v)

export async function rotateKeys(
  store: Store,
  cipher: FieldCipher,
  opts: RotationOptions,
): Promise<RotationReport> {
  if (!cipher.config.keys.has(opts.to))
    throw new QualinkError(
      'QLK_KEY_UNAVAILABLE',
      `key '${opts.to}' is not configured (security.encryption.keys)`,
      [{ path: '/security/encryption/keys', message: `has no key '${opts.to}'` }],
    )
  const batch = opts.batch ?? 500
  const byKey: KeyCounts = {}
  let rowsScanned = 0
  let rowsRewritten = 0
  let valuesReencrypted = 0
  for (const t of TABLES) {
    let after: unknown[] | undefined
    for (;;) {
      const q = t.select(after, batch)
      const rows = await store.sql.all(q.sql, q.params)
      if (rows.length === 0) break
      after = t.cursor(rows.at(-1)!)
      rowsScanned += rows.length
      const changes: Array<{ row: Record<string, unknown>; value: unknown; n: number }> = []
      for (const row of rows) {
        if (row.v === null || row.v === undefined) continue
        const raw = text(row.v)
        // '$enc' alone: inside a JSON string (a projection's text) the quotes are escaped
        if (!raw.includes('$enc')) continue
        let value: unknown
        try {
          value = JSON.parse(raw) as unknown
        } catch {
          continue // a plain text column (a title) that merely mentions it
        }
        const r = opts.dryRun ? { value, changed: 0 } : cipher.reencryptDeep(value, opts.to)
        countByKey(r.value, byKey)
        if (r.changed > 0) changes.push({ row, value: r.value, n: r.changed })
      }
      if (changes.length > 0) {
        await store.sql.tx(async (x) => {
          for (const c of changes) {
            const json = JSON.stringify(c.value)
            const params = [t.encode ? t.encode(json) : json, ...t.key(c.row)]
            // events are only ever rewritten by a purge, which the update's condition excludes
            if (t.expect) params.push(t.expect(c.row))
            const n = await x.run(t.update, params)
            if (n > 0) {
              rowsRewritten++
              valuesReencrypted += c.n
            } else {
              // changed under us (purged, or rewritten): take it back out of the count
              const lost = countByKey(c.value)
              for (const [k, v] of Object.entries(lost)) byKey[k] = (byKey[k] ?? 0) - v
            }
          }
        })
      }
      await opts.onBatch?.({ rowsScanned, valuesReencrypted })
      if (rows.length < batch) break
    }
  }
  const remaining = Object.fromEntries(Object.entries(byKey).filter(([k, n]) => k !== opts.to && n > 0))
  return { to: opts.to, rowsScanned, rowsRewritten, valuesReencrypted, byKey, remaining }
}
