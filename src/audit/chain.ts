import type { AuditRow } from '../store/types.ts'
import { hashCanonical } from './canonical-json.ts'

export const GENESIS_HASH = '0'.repeat(64)

/**
 * The hash of one chain link: SHA-256 over the canonical JSON of the row's audited fields and
 * the previous link's hash. The payload enters through its hash, so a retention purge of the
 * payload (kept apart) leaves the chain verifiable.
 */
export function linkHash(pos: number, row: AuditRow, prevHash: string): string {
  return hashCanonical({
    pos,
    seq: row.seq,
    plant: row.plant,
    at: row.atMs,
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    correlationId: row.correlationId,
    payloadHash: row.payloadHash,
    prevHash,
  })
}
