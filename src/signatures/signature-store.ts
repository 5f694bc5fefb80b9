import { hashCanonical } from '../audit/canonical-json.ts'
import type { Row } from '../store/sql-executor.ts'
import { type Scope, type Store, scopeIncludes } from '../store/types.ts'
import type { RecordKind } from './records.ts'

export const MEANINGS = ['approved', 'released', 'reviewed'] as const
export type Meaning = (typeof MEANINGS)[number]

export interface Signature {
  readonly id: number
  readonly plant: string
  readonly signerId: string
  readonly printedName: string
  readonly meaning: Meaning
  readonly recordKind: RecordKind
  readonly recordId: string
  readonly recordHash: string
  readonly method: 'password' | 'token'
  /** who made the request (API key or token subject), for the audit trail */
  readonly actor: string
  readonly signedAtMs: number
}

export type NewSignature = Omit<Signature, 'id' | 'signedAtMs'>

function toSignature(r: Row): Signature {
  return {
    id: Number(r.id),
    plant: String(r.plant),
    signerId: String(r.signer_id),
    printedName: String(r.printed_name),
    meaning: String(r.meaning) as Meaning,
    recordKind: String(r.record_kind) as RecordKind,
    recordId: String(r.record_id),
    recordHash: String(r.record_hash),
    method: String(r.method) as Signature['method'],
    actor: String(r.actor),
    signedAtMs: Number(r.signed_at_ms),
  }
}

/** A duplicate key (one signer, one version, one meaning): the UNIQUE constraint of 0007. */
function isUniqueViolation(e: unknown): boolean {
  const x = e as { code?: string }
  return x?.code === '23505' || x?.code === 'SQLITE_CONSTRAINT_UNIQUE'
}

/**
 * Stores a signature and its audit row in one transaction (standard SQL, both dialects), so a
 * signature never exists without its entry in the hash-chained audit log. The time is the
 * database clock's. Returns undefined when this signer already signed this version.
 */
export async function insertSignature(store: Store, s: NewSignature): Promise<Signature | undefined> {
  const now = await store.now()
  const audit = {
    signatureId: 0,
    signer: s.signerId,
    printedName: s.printedName,
    meaning: s.meaning,
    recordKind: s.recordKind,
    recordId: s.recordId,
    recordHash: s.recordHash,
    method: s.method,
  }
  try {
    return await store.sql.tx(async (x) => {
      const [row] = await x.all(
        `INSERT INTO signatures (plant, signer_id, printed_name, meaning, record_kind, record_id, record_hash,
           method, actor, signed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        [
          s.plant,
          s.signerId,
          s.printedName,
          s.meaning,
          s.recordKind,
          s.recordId,
          s.recordHash,
          s.method,
          s.actor,
          now,
        ],
      )
      const sig = toSignature(row!)
      const payload = { ...audit, signatureId: sig.id }
      const [a] = await x.all(
        `INSERT INTO audit_log (plant, at_ms, actor, action, subject, correlation_id, payload_hash)
         VALUES (?, ?, ?, 'signature.signed', ?, NULL, ?) RETURNING seq`,
        [s.plant, now, s.actor, `${s.recordKind}:${s.recordId}`, hashCanonical(payload)],
      )
      await x.run('INSERT INTO audit_payloads (audit_seq, payload) VALUES (?, ?)', [
        Number(a!.seq),
        JSON.stringify(payload),
      ])
      return sig
    })
  } catch (e) {
    if (isUniqueViolation(e)) return undefined
    throw e
  }
}

export async function getSignature(store: Store, scope: Scope, id: number): Promise<Signature | undefined> {
  if (!Number.isSafeInteger(id)) return undefined
  const [row] = await store.sql.all('SELECT * FROM signatures WHERE id = ?', [id])
  const sig = row ? toSignature(row) : undefined
  return sig && scopeIncludes(scope, sig.plant) ? sig : undefined
}

/** Signatures on one record (every version), oldest first, within the caller's plants. */
export async function listSignatures(
  store: Store,
  scope: Scope,
  kind: RecordKind,
  recordId: string,
): Promise<Signature[]> {
  const rows = await store.sql.all(
    'SELECT * FROM signatures WHERE record_kind = ? AND record_id = ? ORDER BY id LIMIT 1000',
    [kind, recordId],
  )
  return rows.map(toSignature).filter((s) => scopeIncludes(scope, s.plant))
}

/**
 * Mass-release signatures whose selection names `lot`, oldest first, within the caller's plants.
 * The selection is the record id (its canonical JSON); LIKE narrows, the parsed list decides.
 */
export async function massReleaseSignaturesNaming(
  store: Store,
  scope: Scope,
  lot: string,
): Promise<Signature[]> {
  const needle = JSON.stringify(lot).replace(/[!%_]/g, (c) => `!${c}`)
  const rows = await store.sql.all(
    `SELECT * FROM signatures WHERE record_kind = 'mass-release' AND record_id LIKE ? ESCAPE '!'
     ORDER BY id LIMIT 1000`,
    [`%${needle}%`],
  )
  return rows
    .map(toSignature)
    .filter(
      (s) =>
        scopeIncludes(scope, s.plant) && (JSON.parse(s.recordId) as { lots: string[] }).lots.includes(lot),
    )
}
