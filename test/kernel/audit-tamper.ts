/**
 * Out-of-band tampering with the audit trail, as a database administrator could do it, for the
 * kernel's audit-chain tests and the fault suite's F14: sealed batches to tamper with, the
 * immutability triggers dropped, and one function per kind of tampering.
 */
import { linkHash } from '../../src/audit/chain.ts'
import type { AuditSealer } from '../../src/audit/sealer.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { toAppendEvent } from '../../src/store/append-event.ts'
import type { Store } from '../../src/store/types.ts'
import { rawExec, type TestDatabase } from '../dialects.ts'
import { until } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'

/** `batches` batches of `n` events, each sealed (one anchor per batch) before the next. */
export async function ingestSealed(store: Store, sealer: AuditSealer, n: number, batches = 3): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const at = new Date().toISOString()
    await store.appendEvents([
      { actor: 'test', events: Array.from({ length: n }, () => toAppendEvent(ping() as CloudEvent, at)) },
    ])
    // On PostgreSQL a concurrent test's open transaction can hold the watermark back, so seal
    // until this batch is chained.
    await until(async () => {
      await sealer.sealOnce()
      return (await store.countUnsealedAudit()) === 0
    })
  }
}

/** Drops (SQLite) or disables (PostgreSQL) the triggers that refuse UPDATE and DELETE. */
export const disableAuditGuards = (db: TestDatabase, store: Store) =>
  rawExec(
    db,
    store,
    db.dialect === 'sqlite'
      ? `DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;
         DROP TRIGGER audit_chain_no_update; DROP TRIGGER audit_chain_no_delete;`
      : `ALTER TABLE audit_log DISABLE TRIGGER USER; ALTER TABLE audit_chain DISABLE TRIGGER USER;`,
  )

/** The audit row sealed at chain position `pos`. */
async function auditSeqAt(store: Store, pos: number): Promise<number> {
  const [rec] = await store.readChain(pos, 1)
  if (!rec) throw new Error(`no chain link at position ${pos}`)
  return rec.auditSeq
}

/** Each returns the audit seq it hit (where there is one). Guards must be disabled first. */
export const tamper = {
  async edit(db: TestDatabase, store: Store, pos: number): Promise<number> {
    const seq = await auditSeqAt(store, pos)
    await rawExec(db, store, `UPDATE audit_log SET actor = 'mallory' WHERE seq = ${seq}`)
    return seq
  },
  async deleteRow(db: TestDatabase, store: Store, pos: number): Promise<number> {
    const seq = await auditSeqAt(store, pos)
    await rawExec(db, store, `DELETE FROM audit_log WHERE seq = ${seq}`)
    return seq
  },
  /** the row and its chain link: a gap in the chain */
  async deleteLink(db: TestDatabase, store: Store, pos: number): Promise<number> {
    const seq = await auditSeqAt(store, pos)
    await rawExec(
      db,
      store,
      `DELETE FROM audit_chain WHERE pos = ${pos}; DELETE FROM audit_log WHERE seq = ${seq}`,
    )
    return seq
  },
  /** every row and link from `pos` on: the chain still verifies internally, only anchors tell */
  async truncateFrom(db: TestDatabase, store: Store, pos: number): Promise<number> {
    const seq = await auditSeqAt(store, pos)
    await rawExec(
      db,
      store,
      `DELETE FROM audit_chain WHERE pos >= ${pos}; DELETE FROM audit_log WHERE seq >= ${seq}`,
    )
    return seq
  },
  /** rewrite every row's actor and recompute every hash: a self-consistent forged chain */
  async rewriteAll(db: TestDatabase, store: Store): Promise<void> {
    await rawExec(db, store, `UPDATE audit_log SET actor = 'forger'`)
    let prev = '0'.repeat(64)
    for (const l of await store.readChain(1, 100_000)) {
      const hash = linkHash(l.pos, { ...l.row!, actor: 'forger' }, prev)
      await rawExec(
        db,
        store,
        `UPDATE audit_chain SET prev_hash = '${prev}', hash = '${hash}' WHERE pos = ${l.pos}`,
      )
      prev = hash
    }
  },
}
