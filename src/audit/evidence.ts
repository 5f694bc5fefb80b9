import { runRecord } from '../signatures/records.ts'
import { listSignatures, type Meaning } from '../signatures/signature-store.ts'
import { marks } from '../store/sql-executor.ts'
import { type AuditRow, type Scope, type Store, type StoredEvent, scopeIncludes } from '../store/types.ts'
import type { Anchor, AnchorSink } from './anchors.ts'
import { hashCanonical } from './canonical-json.ts'
import { type EvidenceMassRelease, massReleaseEvidence } from './evidence-mass-release.ts'

export const EVIDENCE_FORMAT = 'qualink-evidence/3'

/**
 * An electronic signature on one of the bundle's runs, or on a mass release whose selection gave
 * the lot a verdict (21 CFR 11.50: printed name, time, meaning; 11.70: bound to the SHA-256 of
 * the record version it signed). Listed only once its `signature.signed` audit entry is sealed,
 * so the entry in `audit` proves every field.
 */
export interface EvidenceSignature {
  readonly id: number
  readonly plant: string
  readonly signer: string
  readonly printedName: string
  readonly meaning: Meaning
  readonly recordKind: 'run' | 'mass-release'
  readonly recordId: string
  readonly recordHash: string
  readonly method: 'password' | 'token'
  readonly signedAtMs: number
  readonly signedAt: string
  /** the audit entry (action `signature.signed`) that recorded it */
  readonly auditSeq: number
  /**
   * true when it signed the run, or the mass release (in `massReleases`), as the bundle carries
   * it; false for an earlier version of the run, or a mass release version not found again
   */
  readonly current: boolean
}

/** One audited entry of the bundle with the link that chains it. */
export interface EvidenceEntry {
  readonly row: AuditRow
  readonly payload: unknown
  readonly link: { pos: number; prevHash: string; hash: string }
}

/**
 * Everything about a lot an auditor asks for, in one file that verifies offline: the events, the
 * workflow steps, the audit entries with their payloads, and the chain proof — every link hash
 * from the first entry to the next anchor (the head written outside the database).
 */
export interface EvidenceBundle {
  readonly format: typeof EVIDENCE_FORMAT
  readonly lot: string
  readonly generatedAt: string
  readonly events: StoredEvent[]
  /**
   * Runs as signed records: `row` (the run, lease bookkeeping excluded), `journal` and `waits`;
   * SHA-256 of the canonical JSON of `{ run: row, journal, waits }` is what a signature binds.
   */
  readonly runs: Array<{
    id: string
    workflow: string
    version: number
    status: string
    journal: unknown[]
    waits: unknown[]
    row: Record<string, unknown>
  }>
  readonly signatures: EvidenceSignature[]
  /** the mass releases the lot's signatures signed, each the record its signatures bound */
  readonly massReleases: EvidenceMassRelease[]
  readonly audit: EvidenceEntry[]
  /** contiguous links [first entry .. anchor]; hashes only for links of other subjects */
  readonly chain: Array<{ pos: number; prevHash: string; hash: string }>
  readonly anchor: Anchor | null
  /** entries not chained yet (the sealer runs shortly after commit): listed, not provable yet */
  readonly unsealed: number
  /**
   * SHA-256 of the canonical JSON of the bundle without this field. It catches any changed byte
   * (a damaged copy) in parts the chain does not prove (run journals, envelope fields); a forger
   * can recompute it, so authenticity rests on the chain, the anchor and the bindings above.
   */
  readonly digest: string
}

/**
 * `sealed`: marked values stay as the store holds them, their envelopes (`{"$enc":"v1","kid",…}`)
 * in events' data, run rows, journals and audit payloads, so the file at rest holds no plaintext
 * of a marked field. The hashes are the plaintext ones the chain and the ingest entries recorded;
 * a verifier without the keys checks everything else and lists what it could not (evidence-verify.ts).
 * Without encryption configured a sealed bundle is the plaintext one.
 */
export async function buildEvidence(
  store: Store,
  sink: AnchorSink,
  scope: Scope,
  lot: string,
  opts: { sealed?: boolean } = {},
): Promise<EvidenceBundle | undefined> {
  const asStored = opts.sealed === true && store.atRest !== undefined
  // `read` answers events and runs as the caller gets them; `reveal` gives the plaintext the
  // bundle's own bookkeeping needs (which signature is current, which release executed)
  const read = asStored ? store.atRest! : store
  const reveal = <T>(v: T): T => (asStored && store.decryptAtRest ? store.decryptAtRest(v) : v)
  const node = await store.genealogy.getLot(scope, lot)
  const own = await read.listEvents(scope, { subject: lot, limit: 10_000 })
  if (!node && own.length === 0) return undefined
  // Events that touch the lot under another subject: the MES operation that consumed or produced
  // it (subject: the order), the split, the delivery that shipped it — found through genealogy.
  const [from, to, shipments] = await Promise.all([
    store.genealogy.edgesFrom([lot]),
    store.genealogy.edgesTo([lot]),
    store.genealogy.shipmentsOf([lot]),
  ])
  const ownSeqs = new Set(own.map((e) => e.seq))
  const relatedSeqs = [...new Set([...from, ...to, ...shipments].map((x) => x.eventSeq))].filter(
    (seq) => !ownSeqs.has(seq),
  )
  const related = (await Promise.all(relatedSeqs.map((seq) => read.getEventBySeq(scope, seq)))).filter(
    (e): e is StoredEvent => e !== undefined,
  )
  const events = [...own, ...related].sort((a, b) => a.seq - b.seq)
  // Runs and audit entries keyed by the lot, and by the production orders that made or used it
  // (the in-process check's hold decisions for that order).
  const orders = [...new Set([...from, ...to].map((x) => x.productionOrder).filter((o) => o !== null))]
  const subjects = [lot, ...orders.filter((o) => o !== lot)]
  const runs = (
    await Promise.all(subjects.map((key) => read.engine.listRuns(scope, { key, limit: 1000 })))
  ).flat()
  const journals = await Promise.all(runs.map((r) => read.engine.loadRun(scope, r.id)))
  // Signatures on those runs, and their audit entries (subject `run:<id>`).
  const sigs = (await Promise.all(runs.map((r) => listSignatures(store, scope, 'run', r.id)))).flat()
  const mass = await massReleaseEvidence(store, scope, lot, asStored ? events.map(reveal) : events)
  const auditSubjects = [...subjects, ...runs.map((r) => `run:${r.id}`), ...mass.auditSubjects]
  const rows = (
    await Promise.all(auditSubjects.map((subject) => store.listAudit(scope, { subject, limit: 100_000 })))
  )
    .flat()
    .filter((r) => scopeIncludes(scope, r.plant))
    .sort((a, b) => a.seq - b.seq)
  const seqs = rows.map((r) => r.seq)
  const links = new Map<number, { pos: number; prevHash: string; hash: string }>()
  const payloads = new Map<number, unknown>()
  for (let i = 0; i < seqs.length; i += 500) {
    const part = seqs.slice(i, i + 500)
    for (const l of await store.sql.all(
      `SELECT pos, audit_seq, prev_hash, hash FROM audit_chain WHERE audit_seq IN (${marks(part.length)})`,
      part,
    ))
      links.set(Number(l.audit_seq), {
        pos: Number(l.pos),
        prevHash: String(l.prev_hash),
        hash: String(l.hash),
      })
    for (const p of await store.sql.all(
      `SELECT audit_seq, payload FROM audit_payloads WHERE audit_seq IN (${marks(part.length)})`,
      part,
    )) {
      // the chain hashed the plaintext payload: a plaintext bundle carries it decrypted, for the
      // caller whose scope allowed the read; a sealed one as stored
      const stored: unknown = typeof p.payload === 'string' ? JSON.parse(p.payload) : p.payload
      payloads.set(
        Number(p.audit_seq),
        !asStored && store.decryptAtRest ? store.decryptAtRest(stored) : stored,
      )
    }
  }
  const sealed = rows.filter((r) => links.has(r.seq))
  const audit = sealed.map((row) => ({
    row,
    payload: payloads.get(row.seq) ?? null,
    link: links.get(row.seq)!,
  }))
  let chain: EvidenceBundle['chain'] = []
  let anchor: Anchor | null = null
  if (audit.length > 0) {
    const first = Math.min(...audit.map((a) => a.link.pos))
    const last = Math.max(...audit.map((a) => a.link.pos))
    anchor = (await sink.readAll()).filter((a) => a.pos >= last).sort((a, b) => a.pos - b.pos)[0] ?? null
    const end = anchor?.pos ?? last
    chain = (await store.readChain(first, end - first + 1)).map((l) => ({
      pos: l.pos,
      prevHash: l.prevHash,
      hash: l.hash,
    }))
  }
  const records = runs.map((_, i) => {
    const loaded = journals[i]
    return loaded ? runRecord(loaded) : { run: {}, journal: [], waits: [] }
  })
  const hashOf = new Map(runs.map((r, i) => [r.id, hashCanonical(reveal(records[i]))]))
  const released = new Set(mass.releases.map((m) => m.version))
  const current = (s: (typeof sigs)[number]) =>
    s.recordKind === 'run' ? hashOf.get(s.recordId) === s.recordHash : released.has(s.recordHash)
  const signedAt = new Map(
    audit
      .filter((a) => a.row.action === 'signature.signed')
      .map((a) => [(reveal(a.payload) as { signatureId?: number } | null)?.signatureId, a.row.seq]),
  )
  const body: Omit<EvidenceBundle, 'digest'> = {
    format: EVIDENCE_FORMAT,
    lot,
    generatedAt: new Date(await store.now()).toISOString(),
    events,
    runs: runs.map((r, i) => ({
      id: r.id,
      workflow: r.workflow,
      version: r.version,
      status: r.status,
      journal: records[i]!.journal,
      waits: records[i]!.waits,
      row: records[i]!.run,
    })),
    signatures: [...sigs, ...mass.signatures].flatMap((s) => {
      const auditSeq = signedAt.get(s.id)
      if (auditSeq === undefined) return [] // its entry is not sealed yet: counted in `unsealed`
      return [
        {
          id: s.id,
          plant: s.plant,
          signer: s.signerId,
          printedName: s.printedName,
          meaning: s.meaning,
          recordKind: s.recordKind as EvidenceSignature['recordKind'],
          recordId: s.recordId,
          recordHash: s.recordHash,
          method: s.method,
          signedAtMs: s.signedAtMs,
          signedAt: new Date(s.signedAtMs).toISOString(),
          auditSeq,
          current: current(s),
        },
      ]
    }),
    massReleases: mass.releases,
    audit,
    chain,
    anchor,
    unsealed: rows.length - sealed.length,
  }
  // The digest is over what a reader parses back, not over in-memory values JSON would drop.
  const parsed = JSON.parse(JSON.stringify(body)) as Omit<EvidenceBundle, 'digest'>
  return { ...parsed, digest: hashCanonical(parsed) }
}
