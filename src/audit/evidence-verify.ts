import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { hashCanonical } from './canonical-json.ts'
import { linkHash } from './chain.ts'
import type { EvidenceBundle } from './evidence.ts'

export interface BundleCheck {
  readonly ok: boolean
  readonly problems: string[]
  readonly checked: { entries: number; links: number; events: number; anchored: boolean }
}

/**
 * Verifies an evidence bundle with nothing but the file: each entry's link hash recomputed from
 * the entry, each payload against its hash, each event's data against the hash its ingest entry
 * recorded, the chain contiguous from the first entry to the anchor, and the anchor matching.
 * One changed byte anywhere breaks at least one of these.
 */
export function verifyBundle(b: EvidenceBundle): BundleCheck {
  const problems: string[] = []
  const byPos = new Map(b.chain.map((l) => [l.pos, l]))
  for (const a of b.audit) {
    const link = byPos.get(a.link.pos)
    if (!link || link.hash !== a.link.hash || link.prevHash !== a.link.prevHash) {
      problems.push(`entry ${a.row.seq}: its link ${a.link.pos} is not the chain's`)
    }
    if (linkHash(a.link.pos, a.row, a.link.prevHash) !== a.link.hash)
      problems.push(`entry ${a.row.seq}: content does not match its link hash`)
    if (a.payload !== null && hashCanonical(a.payload) !== a.row.payloadHash)
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
    if (!purged && hashCanonical(data) !== e.dataHash)
      problems.push(`event ${e.id}: data does not match its hash`)
    const audited = ingested.get(`${e.source}\u0000${e.id}`)
    if (audited !== undefined && audited !== e.dataHash)
      problems.push(`event ${e.id}: differs from what was audited at ingest`)
  }
  return {
    ok: problems.length === 0,
    problems,
    checked: {
      entries: b.audit.length,
      links: b.chain.length,
      events: b.events.length,
      anchored: b.anchor !== null,
    },
  }
}

// `npx tsx src/audit/evidence-verify.ts bundle.json`: the stand-alone verifier.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = verifyBundle(JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as EvidenceBundle)
  console.log(
    r.ok ? `evidence OK: ${JSON.stringify(r.checked)}` : `evidence BROKEN:\n- ${r.problems.join('\n- ')}`,
  )
  process.exitCode = r.ok ? 0 : 1
}
