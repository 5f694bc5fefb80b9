import { marks } from '../store/sql-executor.ts'
import type { Store } from '../store/types.ts'
import type { Anchor, AnchorSink } from './anchors.ts'
import { GENESIS_HASH, linkHash } from './chain.ts'

export interface BrokenLink {
  readonly pos: number
  readonly auditSeq: number | null
  readonly reason: string
}

export interface VerifyReport {
  readonly ok: boolean
  /** chain links checked */
  readonly checked: number
  readonly head: { pos: number; hash: string } | null
  readonly anchorsChecked: number
  /** committed audit rows not chained yet (the sealer runs shortly after commit) */
  readonly unsealed: number
  /** the first broken link, in chain order */
  readonly firstBroken: BrokenLink | null
}

const PAGE = 5000

/** A stretch of the chain, both ends included; `prevHash` is the hash of the link before `fromPos`. */
export interface ChainWindow {
  readonly fromPos: number
  readonly toPos: number
  readonly prevHash: string
}

/**
 * Walks the whole chain (or one window of it): positions contiguous, each row present, each hash
 * recomputed from the row, each prev_hash equal to the previous link. Then every anchor (in the
 * window) must match the chain at its position: a consistent rewrite of the whole chain, or a
 * truncation of its tail, is only visible against the anchors kept outside the database.
 */
export async function verifyAudit(
  store: Store,
  sink: AnchorSink,
  window?: ChainWindow,
): Promise<VerifyReport> {
  let prev = window?.prevHash ?? GENESIS_HASH
  let expectPos = window?.fromPos ?? 1
  const lastPos = window?.toPos ?? Number.POSITIVE_INFINITY
  let firstBroken: BrokenLink | null = null
  const hashes = new Map<number, string>()
  const anchors = (await sink.readAll()).filter((a) => a.pos >= expectPos && a.pos <= lastPos)
  const anchoredAt = new Set(anchors.map((a) => a.pos))
  let checked = 0
  let head: VerifyReport['head'] = null

  for (;;) {
    const page = await store.readChain(expectPos, Math.min(PAGE, lastPos - expectPos + 1))
    if (page.length === 0) break
    for (const link of page) {
      checked++
      head = { pos: link.pos, hash: link.hash }
      if (anchoredAt.has(link.pos)) hashes.set(link.pos, link.hash)
      if (firstBroken) continue
      if (link.pos !== expectPos) {
        firstBroken = {
          pos: expectPos,
          auditSeq: null,
          reason: `chain link ${expectPos} is missing (next is ${link.pos})`,
        }
      } else if (!link.row) {
        firstBroken = {
          pos: link.pos,
          auditSeq: link.auditSeq,
          reason: `audit row ${link.auditSeq} was deleted`,
        }
      } else if (link.prevHash !== prev) {
        firstBroken = {
          pos: link.pos,
          auditSeq: link.auditSeq,
          reason: 'prev_hash does not match the previous link',
        }
      } else if (linkHash(link.pos, link.row, prev) !== link.hash) {
        firstBroken = {
          pos: link.pos,
          auditSeq: link.auditSeq,
          reason: `audit row ${link.auditSeq} was changed after it was sealed (hash mismatch)`,
        }
      }
      prev = link.hash
      expectPos = link.pos + 1
    }
    if (page.length < PAGE || expectPos > lastPos) break
  }

  const anchorProblem = checkAnchors(anchors, hashes, head?.pos ?? (window ? window.fromPos - 1 : 0))
  if (anchorProblem && (!firstBroken || anchorProblem.pos < firstBroken.pos)) firstBroken = anchorProblem
  return {
    ok: firstBroken === null,
    checked,
    head,
    anchorsChecked: anchors.length,
    unsealed: await store.countUnsealedAudit(),
    firstBroken,
  }
}

function checkAnchors(
  anchors: readonly Anchor[],
  hashes: Map<number, string>,
  length: number,
): BrokenLink | null {
  for (const a of [...anchors].sort((x, y) => x.pos - y.pos)) {
    if (a.pos > length) {
      return {
        pos: length + 1,
        auditSeq: a.auditSeq,
        reason: `chain truncated: it ends at link ${length} but an anchor records link ${a.pos}`,
      }
    }
    if (hashes.get(a.pos) !== a.hash) {
      return {
        pos: a.pos,
        auditSeq: a.auditSeq,
        reason: `chain rewritten: link ${a.pos} differs from its anchor (the rewrite lies at or before it)`,
      }
    }
  }
  return null
}

export interface AroundReport extends VerifyReport {
  /** the entries asked about that are chained (the rest await the sealer) */
  readonly entries: number
  readonly unsealedEntries: number
  /** the anchor the window ends at; null when none lies at or after the last entry yet */
  readonly anchor: Anchor | null
}

/**
 * The chain around some audit entries (a lot's, for its page): every link from the first entry's
 * to the first anchor at or after the last entry's (or the last entry's, before one is written),
 * as an evidence bundle of the same entries would prove offline. It costs the entries' span of
 * the chain, not the whole chain, on every view; `verifyAudit` without a window checks all of it.
 */
export async function verifyAuditAround(
  store: Store,
  sink: AnchorSink,
  auditSeqs: readonly number[],
): Promise<AroundReport> {
  let lo = Number.POSITIVE_INFINITY
  let hi = 0
  let entries = 0
  for (let i = 0; i < auditSeqs.length; i += 500) {
    const part = auditSeqs.slice(i, i + 500)
    const [r] = await store.sql.all(
      `SELECT MIN(pos) AS lo, MAX(pos) AS hi, COUNT(*) AS n FROM audit_chain WHERE audit_seq IN (${marks(part.length)})`,
      part,
    )
    if (!r || Number(r.n) === 0) continue
    lo = Math.min(lo, Number(r.lo))
    hi = Math.max(hi, Number(r.hi))
    entries += Number(r.n)
  }
  const unsealedEntries = auditSeqs.length - entries
  if (entries === 0)
    return {
      ok: true,
      checked: 0,
      head: null,
      anchorsChecked: 0,
      unsealed: unsealedEntries,
      firstBroken: null,
      entries,
      unsealedEntries,
      anchor: null,
    }
  const anchor = (await sink.readAll()).filter((a) => a.pos >= hi).sort((a, b) => a.pos - b.pos)[0] ?? null
  // The first link's prev_hash is taken as it stands: it is hashed into that link, which the
  // window chains to the anchor.
  const [first] = await store.readChain(lo, 1)
  const report = await verifyAudit(store, sink, {
    fromPos: lo,
    toPos: anchor?.pos ?? hi,
    prevHash: first?.pos === lo ? first.prevHash : GENESIS_HASH,
  })
  return { ...report, unsealed: unsealedEntries, entries, unsealedEntries, anchor }
}
