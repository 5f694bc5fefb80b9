import type { DispositionCode } from '../model/nonconformance.ts'
import type { Quantity } from '../model/quantity.ts'
import { add } from '../model/quantity.ts'
import type { JournalEntry, RunRow } from '../store/engine-types.ts'
import { completedRunsPage, eventsBySeq, journalsOf, type RunPageCursor } from '../store/run-pages.ts'
import type { Store, StoredEvent } from '../store/types.ts'
import { DISPOSITION_BUCKET, type LotRef } from '../workflows/ports/erp.ts'

/**
 * What reconciliation expects of each lot: read from the finished supplier-receipt-inspection
 * runs (their trigger, the journaled usage decision and stock posting), a page of runs at a time.
 */

export type Line = { code: DispositionCode; quantity: Quantity }

/** Runs read per statement by a reconciliation pass (and lots per open-drift read). */
export const RUN_PAGE = 500

export interface Expected {
  plant: string
  lot: LotRef
  inspectionLot: string
  /** the QMS's own inspection lot (the create-inspection-lot step's record), to read its decision */
  qmsLot: string | null
  postStockKey: string | null
  lines: Line[]
  released: Quantity | null
}

export const sum = (qs: Quantity[]) => (qs.length ? qs.reduce((a, b) => add(a, b)) : null)
export const inBuckets = (lines: readonly Line[], buckets: readonly string[]) =>
  sum(lines.filter((l) => buckets.includes(DISPOSITION_BUCKET[l.code])).map((l) => l.quantity))
export const fmt = (q: Quantity) => `${q.units / 10 ** q.scale} ${q.uom}`
/** A decision's lines in one order, to compare two views of it. */
export const linesKey = (lines: readonly Line[]) =>
  JSON.stringify(
    [...lines].map((l) => [l.code, l.quantity.units * 10 ** (9 - l.quantity.scale), l.quantity.uom]).sort(),
  )

/**
 * The expectations of a group of runs of one key (one lot), oldest first, so a later changed
 * decision replaces the one its lot was first posted with.
 */
export function expectationsOf(
  runs: readonly RunRow[],
  journals: ReadonlyMap<string, JournalEntry[]>,
  triggers: ReadonlyMap<number, StoredEvent>,
): Expected[] {
  const out: Expected[] = []
  for (const run of runs) {
    const journal = journals.get(run.id) ?? []
    const trigger = run.triggerEventSeq === null ? undefined : triggers.get(run.triggerEventSeq)
    if (
      trigger?.type === 'qms.usage_decision.changed.v1' &&
      (run.result as { outcome?: string } | null)?.outcome === 'decision-changed'
    ) {
      const change = trigger.envelope.data as { lot?: string; stockPostings?: Expected['lines'] }
      const e = out.find((x) => x.lot.lot === (change.lot ?? run.key))
      if (e && change.stockPostings) {
        e.lines = change.stockPostings
        const rel = e.lines.filter((l) => DISPOSITION_BUCKET[l.code] === 'release').map((l) => l.quantity)
        e.released = rel.length ? rel.reduce((a, b) => add(a, b)) : null
      }
      continue
    }
    // v1 waited for the decision; v2 takes it from the run's inbox (docs/workflows.md).
    const wait = journal.find(
      (j) =>
        (j.kind === 'wait' && j.name.startsWith('qms.usage_decision.made@')) ||
        (j.kind === 'receive' &&
          /^qms\.usage_decision\.(made|changed)\./.test(
            (j.result as { event?: { type?: string } } | null)?.event?.type ?? '',
          )),
    )
    const post = journal.find((j) => j.kind === 'step' && j.name === 'post-stock')
    const created = journal.find((j) => j.kind === 'step' && j.name === 'create-inspection-lot')
    const qmsLot = (created?.result as { record?: { id?: string } } | null)?.record?.id ?? null
    if (!trigger || !wait) continue
    const gr = trigger.envelope.data as {
      lot: { id: string; material: string; plant: string }
      inspectionLot?: string
    }
    const ud = (wait.result as { event?: { envelope: { data: { stockPostings: Expected['lines'] } } } }).event
    if (!ud || !gr.inspectionLot) continue
    const lines = ud.envelope.data.stockPostings
    const releasing = lines.filter((l) => DISPOSITION_BUCKET[l.code] === 'release').map((l) => l.quantity)
    out.push({
      plant: run.plant,
      lot: { plant: gr.lot.plant, material: gr.lot.material, lot: gr.lot.id },
      inspectionLot: gr.inspectionLot,
      qmsLot,
      postStockKey: post?.idempotencyKey ?? null,
      lines,
      released: releasing.length ? releasing.reduce((a, b) => add(a, b)) : null,
    })
  }
  return out
}

/**
 * Every finished receipt inspection's expectation, a page of runs at a time (no cap on the
 * number of runs, memory bounded by the page): keyset pages in (key, creation, id) order, each
 * read with one statement for its runs, one for their journal entries and one for their trigger
 * events (src/store/run-pages.ts). A run's key is its lot, so a lot's runs are adjacent: the
 * runs of the last key of a full page wait for the next page, and a lot is judged with all its
 * runs (a changed decision, the count of inspections of one lot).
 */
export async function* expectationPages(
  store: Store,
  pageSize = RUN_PAGE,
): AsyncGenerator<{ expected: Expected[]; runs: number }> {
  let after: RunPageCursor | null = null
  let carried: RunRow[] = []
  for (;;) {
    const page = await completedRunsPage(store.sql, 'supplier-receipt-inspection', after, pageSize)
    const last = page.at(-1)
    if (last) after = { key: last.key, createdAtMs: last.createdAtMs, id: last.id }
    const runs = [...carried, ...page]
    const full = page.length === pageSize
    carried = full ? runs.filter((r) => r.key === last!.key) : []
    const ready = full ? runs.filter((r) => r.key !== last!.key) : runs
    if (ready.length > 0) {
      const journals = await journalsOf(
        store.sql,
        ready.map((r) => r.id),
        { kinds: ['wait', 'receive'], names: ['post-stock', 'create-inspection-lot'] },
      )
      const triggers = await eventsBySeq(
        store.sql,
        ready.flatMap((r) => (r.triggerEventSeq === null ? [] : [r.triggerEventSeq])),
      )
      const out: Expected[] = []
      for (let i = 0; i < ready.length; ) {
        let j = i
        while (j < ready.length && ready[j]!.key === ready[i]!.key) j++
        out.push(...expectationsOf(ready.slice(i, j), journals, triggers))
        i = j
      }
      yield { expected: out, runs: ready.length }
    }
    if (!full) return
  }
}
