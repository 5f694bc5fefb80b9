/**
 * What the encryption and retention tests share: a CRM complaint as a canonical event, with the
 * lot, customer and text each test looks for, and the raw bytes of a SQLite store's files.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import type { SqliteStore } from '../../src/store/sqlite/store.ts'

export interface ComplaintText {
  readonly customer: string
  readonly description: string
  readonly severity: 'minor' | 'major'
  readonly lot?: string
}

/** crm.complaint.opened.v1 number `n` for P100 on delivery 80001234 (default lot F-9001). */
export function complaintEvent(n: number, text: ComplaintText) {
  const lot = text.lot ?? 'F-9001'
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test:crm',
    type: 'crm.complaint.opened.v1',
    subject: lot,
    plant: 'P100',
    data: {
      complaint: {
        id: `C-${n}`,
        plant: 'P100',
        customer: text.customer,
        lots: [lot],
        deliveries: ['80001234'],
        severity: text.severity,
        description: text.description,
        audit: { timestamp: '2025-03-01T08:00:00Z', sourceSystem: 'crm', approvalStatus: 'not_required' },
      },
    },
  }
}

/** The SQLite database file and its WAL as text (what a disk thief would read). */
export function sqliteFileText(store: SqliteStore): string {
  const file = store.rawDatabase().name
  return [file, `${file}-wal`]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString('latin1'))
    .join('\n')
}
