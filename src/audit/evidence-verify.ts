import { readFileSync } from 'node:fs'
import { isEntryScript } from '../assets.ts'
import { canonicalJson, hashCanonical } from './canonical-json.ts'
import { linkHash } from './chain.ts'
import { EVIDENCE_FORMAT, type EvidenceBundle, type EvidenceSignature } from './evidence.ts'
import { type BundleDecrypt, notCheckable, openBundle, sealedKeys } from './evidence-sealed.ts'

export interface BundleCheck {
  readonly ok: boolean
  readonly problems: string[]
  /**
   * Parts of a sealed bundle whose hash needs the plaintext and no keys were given, each named
   * with the key ids that would open it. They do not fail the check; they are not proven either.
   */
  readonly notChecked: string[]
  readonly checked: {
    entries: number
    links: number
    events: number
    anchored: boolean
    /** signatures whose record hash matches the run in the bundle / that signed an earlier version */
    signatures: { bound: number; earlier: number }
    /** mass releases whose selection and verdicts were hashed again to the version signed */
    massReleases: number
    /** how many parts were not checkable (`notChecked`) */
    unchecked: number
  }
}

const isArray = (v: unknown): v is unknown[] => Array.isArray(v)
const PREVIOUS_FORMAT = 'qualink-evidence/2'

/** The parts every check reads, present with the right kinds: a damaged file fails here, not by throwing. */
function shapeProblems(b: EvidenceBundle): string[] {
  if (typeof b !== 'object' || b === null) return ['the bundle is not a JSON object']
  const out: string[] = []
  // format 2 (before mass releases) carries no `massReleases`; it still verifies
  const format: string = b.format
  if (format !== EVIDENCE_FORMAT && format !== PREVIOUS_FORMAT)
    out.push(`format is '${String(b.format)}', not '${EVIDENCE_FORMAT}'`)
  const lists = ['events', 'runs', 'signatures', 'audit', 'chain', 'massReleases'] as const
  for (const k of format === PREVIOUS_FORMAT ? lists.slice(0, -1) : lists)
    if (!isArray(b[k])) out.push(`'${k}' is not a list`)
  if (typeof b.digest !== 'string') out.push(`'digest' is missing`)
  return out
}

/**
 * A signature is proved by its sealed `signature.signed` audit entry (every field it shows must
 * be the entry's) and bound to its run: a `current` signature's record hash must be the hash of
 * `{ run: row, journal, waits }` as the bundle carries the run (21 CFR 11.70).
 */
function signatureProblems(
  b: EvidenceBundle,
  s: EvidenceSignature,
  problems: string[],
  notChecked: string[],
): boolean | 'unchecked' {
  const entry = b.audit.find((a) => a.row.seq === s.auditSeq)
  const p = entry?.payload as Record<string, unknown> | null | undefined
  if (entry?.row.action !== 'signature.signed' || !p) {
    problems.push(`signature ${s.id}: its audit entry ${s.auditSeq} is not in the bundle`)
    return false
  }
  const shown: Record<string, unknown> = {
    signatureId: s.id,
    signer: s.signer,
    printedName: s.printedName,
    meaning: s.meaning,
    recordKind: s.recordKind,
    recordId: s.recordId,
    recordHash: s.recordHash,
    method: s.method,
  }
  for (const [k, v] of Object.entries(shown))
    if (p[k] !== v && sealedKeys(p[k]).length === 0)
      problems.push(`signature ${s.id}: ${k} differs from its audit entry`)
  if (entry.row.atMs !== s.signedAtMs || new Date(s.signedAtMs).toISOString() !== s.signedAt)
    problems.push(`signature ${s.id}: time differs from its audit entry`)
  if (entry.row.plant !== s.plant) problems.push(`signature ${s.id}: plant differs from its audit entry`)
  if (s.recordKind === 'mass-release') return massReleaseSignature(b, s, problems)
  const run = b.runs.find((r) => r.id === s.recordId)
  if (!run) {
    problems.push(`signature ${s.id}: run ${s.recordId} is not in the bundle`)
    return false
  }
  const record = { run: run.row, journal: run.journal, waits: run.waits }
  const kids = sealedKeys(record)
  if (kids.length > 0) {
    notChecked.push(notCheckable(`signature ${s.id}: the record hash of run ${s.recordId}`, kids))
    return 'unchecked'
  }
  const hash = hashCanonical(record)
  if (s.current && hash !== s.recordHash)
    problems.push(`signature ${s.id}: run ${s.recordId} does not match the record hash it signed`)
  return s.current
}

/**
 * Verifies an evidence bundle with nothing but the file: each entry's link hash recomputed from
 * the entry, each payload against its hash, each event's data against the hash its ingest entry
 * recorded, the chain contiguous from the first entry to the anchor, and the anchor matching.
 * One changed byte anywhere breaks at least one of these.
 */
export function verifyBundle(b: EvidenceBundle, opts: { decrypt?: BundleDecrypt } = {}): BundleCheck {
  const problems = shapeProblems(b)
  const notChecked: string[] = []
  if (problems.length > 0)
    return {
      ok: false,
      problems,
      notChecked,
      checked: {
        entries: 0,
        links: 0,
        events: 0,
        anchored: false,
        signatures: { bound: 0, earlier: 0 },
        massReleases: 0,
        unchecked: 0,
      },
    }
  const { digest, ...body } = b
  if (hashCanonical(body) !== digest) problems.push('the bundle does not match its digest (a changed copy)')
  let counts = { bound: 0, unchecked: 0 }
  try {
    // with the keys, every sealed part is decrypted in memory first (the digest above is over
    // the file as written, envelopes included)
    const open = opts.decrypt ? openBundle(b, opts.decrypt, problems) : b
    counts = checkContent(open, problems, notChecked)
  } catch (e) {
    problems.push(`the bundle is malformed: ${(e as Error).message}`)
  }
  return {
    ok: problems.length === 0,
    problems,
    notChecked,
    checked: {
      entries: b.audit.length,
      links: b.chain.length,
      events: b.events.length,
      anchored: b.anchor !== null,
      signatures: { bound: counts.bound, earlier: b.signatures.length - counts.bound - counts.unchecked },
      massReleases: (b.massReleases ?? []).length,
      unchecked: notChecked.length,
    },
  }
}

/** The chain, payload, event and signature checks; returns the bound and not checkable signatures. */
function checkContent(
  b: EvidenceBundle,
  problems: string[],
  notChecked: string[],
): { bound: number; unchecked: number } {
  const byPos = new Map(b.chain.map((l) => [l.pos, l]))
  for (const a of b.audit) {
    const link = byPos.get(a.link.pos)
    if (!link || link.hash !== a.link.hash || link.prevHash !== a.link.prevHash) {
      problems.push(`entry ${a.row.seq}: its link ${a.link.pos} is not the chain's`)
    }
    if (linkHash(a.link.pos, a.row, a.link.prevHash) !== a.link.hash)
      problems.push(`entry ${a.row.seq}: content does not match its link hash`)
    const kids = sealedKeys(a.payload)
    if (kids.length > 0)
      notChecked.push(notCheckable(`entry ${a.row.seq} (${a.row.action}): payload hash`, kids))
    else if (a.payload !== null && hashCanonical(a.payload) !== a.row.payloadHash)
      problems.push(`entry ${a.row.seq}: payload does not match its hash`)
  }
  for (let i = 1; i < b.chain.length; i++) {
    const prev = b.chain[i - 1]!
    const cur = b.chain[i]!
    if (cur.pos !== prev.pos + 1) problems.push(`chain gap between links ${prev.pos} and ${cur.pos}`)
    if (cur.prevHash !== prev.hash) problems.push(`link ${cur.pos} does not follow link ${prev.pos}`)
  }
  const last = b.chain.at(-1)
  if (b.anchor && (!last || last.pos !== b.anchor.pos || last.hash !== b.anchor.hash)) {
    problems.push(`the chain does not end at its anchor (link ${b.anchor.pos})`)
  }
  const ingested = new Map<string, string>()
  for (const a of b.audit) {
    const p = a.payload as { id?: string; source?: string; dataHash?: string } | null
    if (a.row.action === 'event.ingested' && p?.id && p.dataHash)
      ingested.set(`${p.source}\u0000${p.id}`, p.dataHash)
  }
  for (const e of b.events) {
    const data = (e.envelope as { data?: unknown }).data
    // A retention purge removed the payload (src/security/retention.ts): the hash stands alone.
    const purged = 'qualinkpurged' in e.envelope && data === undefined
    const kids = sealedKeys(data)
    if (kids.length > 0) notChecked.push(notCheckable(`event ${e.id}: data hash`, kids))
    else if (!purged && hashCanonical(data) !== e.dataHash)
      problems.push(`event ${e.id}: data does not match its hash`)
    const audited = ingested.get(`${e.source}\u0000${e.id}`)
    if (audited !== undefined && audited !== e.dataHash)
      problems.push(`event ${e.id}: differs from what was audited at ingest`)
  }
  massReleaseProblems(b, problems, notChecked)
  const counts = { bound: 0, unchecked: 0 }
  for (const s of b.signatures) {
    const r = signatureProblems(b, s, problems, notChecked)
    if (r === 'unchecked') counts.unchecked++
    else if (r) counts.bound++
  }
  return counts
}

/**
 * A mass-release signature is bound to the selection version the bundle carries: the record id is
 * the selection's canonical JSON and the record hash is that version's (checked below).
 */
function massReleaseSignature(b: EvidenceBundle, s: EvidenceSignature, problems: string[]): boolean {
  const m = (b.massReleases ?? []).find((r) => r.version === s.recordHash)
  if (!m) {
    if (s.current) problems.push(`signature ${s.id}: the mass release ${s.recordHash} is not in the bundle`)
    return false
  }
  if (canonicalJson(m.selection) !== s.recordId)
    problems.push(`signature ${s.id}: the selection differs from the one it signed`)
  if (!s.current)
    problems.push(`signature ${s.id}: the bundle carries its mass release but does not call it current`)
  return true
}

/**
 * Each mass release the bundle carries hashes again to its version (SHA-256 of the canonical JSON
 * of `{ selection, eligible, refused }`, src/signatures/mass-release.ts), gives this lot a verdict,
 * and agrees with its plant's `lot.mass_release.executed` entries (lots released and refused, and
 * the signatures the execution named).
 */
function massReleaseProblems(b: EvidenceBundle, problems: string[], notChecked: string[]): void {
  for (const m of b.massReleases ?? []) {
    const at = `mass release ${m.version}`
    const kids = sealedKeys(m)
    if (kids.length > 0) {
      notChecked.push(notCheckable(`${at}: its selection and verdicts`, kids))
      continue
    }
    if (hashCanonical({ selection: m.selection, eligible: m.eligible, refused: m.refused }) !== m.version)
      problems.push(`${at}: its selection and verdicts do not match the version signed`)
    const verdict = [...m.eligible, ...m.refused].some((l) => l.lot === b.lot)
    if (!m.selection.lots.includes(b.lot) || !verdict)
      problems.push(`${at}: lot ${b.lot} is not in its selection with a verdict`)
    if (!b.signatures.some((s) => s.recordKind === 'mass-release' && s.recordHash === m.version))
      problems.push(`${at}: no signature in the bundle signed it`)
    for (const a of b.audit) {
      const p = a.payload as {
        version?: string
        released?: unknown
        refused?: unknown
        signatures?: Array<{ id: number; signer: string; printedName: string; meaning: string }>
      } | null
      if (a.row.action !== 'lot.mass_release.executed' || p?.version !== m.version) continue
      if (sealedKeys(p).length > 0) continue // its payload hash is listed as not checked
      const mine = <T extends { plant: string }>(xs: readonly T[]) =>
        xs.filter((l) => l.plant === a.row.plant)
      if (
        canonicalJson(p.released) !== canonicalJson(mine(m.eligible).map((l) => l.lot)) ||
        canonicalJson(p.refused) !== canonicalJson(mine(m.refused))
      )
        problems.push(`${at}: its execution entry ${a.row.seq} released or refused other lots`)
      for (const x of p.signatures ?? []) {
        const s = b.signatures.find((y) => y.id === x.id)
        if (s && (s.signer !== x.signer || s.printedName !== x.printedName || s.meaning !== x.meaning))
          problems.push(`${at}: signature ${x.id} differs from its execution entry ${a.row.seq}`)
      }
    }
  }
}

// `npx tsx src/audit/evidence-verify.ts bundle.json`: the stand-alone verifier.
if (isEntryScript('src/audit/evidence-verify.ts')) {
  const r = verifyBundle(JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as EvidenceBundle)
  console.log(
    r.ok ? `evidence OK: ${JSON.stringify(r.checked)}` : `evidence BROKEN:\n- ${r.problems.join('\n- ')}`,
  )
  // a sealed bundle: the parts only `qualink audit verify-bundle --keys` can check
  if (r.notChecked.length > 0) console.log(`not checked (encrypted):\n- ${r.notChecked.join('\n- ')}`)
  process.exitCode = r.ok ? 0 : 1
}
