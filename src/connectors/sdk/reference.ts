import { createHash } from 'node:crypto'

/**
 * The reference a connector writes into a document and reads back before any retry (DESIGN §6).
 * Engine keys are longer than ERP reference fields (SAP BKTXT is CHAR 25), so the field carries a
 * digest: 'QLK' + 22 hex of SHA-256 (88 bits); the audit trail keeps key → reference.
 */
export function referenceFor(idempotencyKey: string): string {
  return `QLK${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 22).toUpperCase()}`
}
