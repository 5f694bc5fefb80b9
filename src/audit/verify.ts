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

/**
 * Walks the whole chain: positions contiguous, each row present, each hash recomputed from the
 * row, each prev_hash equal to the previous link. Then every anchor must match the chain at its
 * position: a consistent rewrite of the whole chain, or a truncation of its tail, is only
 * visible against the anchors kept outside the database.
 */
export async function verifyAudit(store: Store, sink: AnchorSink): Promise<VerifyReport> {
  let prev = GENESIS_HASH
  let expectPos = 1
  let firstBroken: BrokenLink | null = null
  const hashes = new Map<number, string>()
  const anchors = await sink.readAll()
  const anchoredAt = new Set(anchors.map((a) => a.pos))
  let checked = 0
  let head: VerifyReport['head'] = null

  for (;;) {
    const page = await store.readChain(expectPos, PAGE)
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
    if (page.length < PAGE) break
  }

  const anchorProblem = checkAnchors(anchors, hashes, head?.pos ?? 0)
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
