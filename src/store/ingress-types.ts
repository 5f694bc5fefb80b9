import { QualinkError } from '../contracts/errors.ts'
import type { XrefKey, XrefRow } from '../mapping/xref.ts'
import type { Lease, Scope, StoredRawDelivery } from './types.ts'

/** How one translation attempt of a raw delivery ended. */
export type RawOutcome =
  | { readonly status: 'translated'; readonly eventSeq: number | null }
  /** waits for identity mappings; adding any of `parkedOn` makes it due again */
  | {
      readonly status: 'parked'
      readonly code: string
      readonly error: string
      readonly parkedOn: readonly string[]
    }
  | { readonly status: 'dead'; readonly code: string; readonly error: string }
  | { readonly status: 'pending'; readonly retryInMs: number; readonly code: string; readonly error: string }

/** The error of a fenced cursor write whose lease no longer holds (see IngressStore.setCursor). */
export function cursorFenceLost(name: string, fence: Lease | undefined): QualinkError {
  return new QualinkError(
    'QLK_LEASE_LOST',
    `cursor ${name}: lease ${fence?.name} token ${fence?.token} no longer holds; the cursor was not moved`,
  )
}

export function xrefKeyString(k: XrefKey): string {
  return JSON.stringify([k.plant, k.system, k.entityType, k.externalCode])
}

/** Raw deliveries (connector ingress) and the identity mapping their translation needs. */
export interface IngressStore {
  /** Takes up to `limit` due pending deliveries, pushing their due time out by `leaseMs`. */
  claimRawDeliveries(limit: number, leaseMs: number): Promise<StoredRawDelivery[]>
  settleRawDelivery(seq: number, outcome: RawOutcome): Promise<void>
  listRawDeliveries(
    scope: Scope,
    filter: { status?: StoredRawDelivery['status']; source?: string; limit: number },
  ): Promise<StoredRawDelivery[]>

  resolveXref(key: XrefKey): Promise<string | undefined>
  reverseXref(
    system: string,
    entityType: string,
    enterpriseId: string,
    plant: string,
  ): Promise<string | undefined>
  /** Upserts mappings in one transaction, audited; parked deliveries waiting for any of them resume. */
  upsertXref(rows: readonly XrefRow[], actor: string): Promise<{ upserted: number; resumed: number }>
  getCursor(name: string): Promise<string | null>
  /**
   * Moves a durable cursor. With `fence` (the lease of the singleton that owns the cursor) the
   * write happens only while that lease is still held with that token, else QLK_LEASE_LOST: a
   * paused former owner can never move the cursor back over its successor's progress.
   */
  setCursor(name: string, cursor: string, fence?: Lease): Promise<void>
  /**
   * Allocates the next number of a durable counter kept in the cursor table: 1 on first use, then
   * one more each call, back to 1 after `max`. One statement (an upsert that locks the row on
   * PostgreSQL; SQLite has one writer), so processes sharing the database never get the same
   * number. The counter must not be moved with setCursor meanwhile.
   */
  nextCounter(name: string, max: number): Promise<number>
  listXref(scope: Scope, filter: { system?: string; entityType?: string; limit: number }): Promise<XrefRow[]>
}
