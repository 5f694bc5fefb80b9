import { canonicalJson, hashCanonical } from '../audit/canonical-json.ts'
import { DECISION_TYPES, decisionView } from '../projections/lot-status.ts'
import type { Scope, Store, StoredEvent } from '../store/types.ts'
import type { RecordVersion } from './records.ts'

/**
 * Mass release (issue 10 item 3): a quality approver selects lots whose stock is blocked, and the
 * selection is released only after a second, different approver signed it. The selection's
 * *version* is what both people sign (21 CFR 11.70): the lots as the caller's plants see them,
 * each with the QMS decision it would be released under. A new decision on any of the lots
 * changes the version, so signatures given before it no longer count.
 */
export interface MassReleaseSelection {
  /** the lots (batches) asked for, sorted and without repeats */
  readonly lots: readonly string[]
}

export const MASS_RELEASE_MAX_LOTS = 200

export interface ReleasableLot {
  readonly lot: string
  readonly plant: string
  readonly material: string
  readonly decision: {
    readonly code: string
    readonly valuation: string
    readonly inspectionLot: string | null
    /** the decision event's position in the log: a newer decision is a new version */
    readonly eventSeq: number
  }
}

export interface RefusedLot {
  readonly lot: string
  readonly plant: string
  readonly code: 'QLK_RELEASE_WITHOUT_ACCEPTANCE' | 'QLK_VALIDATION'
  readonly reason: string
}

export interface MassReleaseView {
  readonly selection: MassReleaseSelection
  /** lots that would be released: their newest QMS decision accepts them */
  readonly eligible: readonly ReleasableLot[]
  /** lots in the caller's plants that will not be released, each with why */
  readonly refused: readonly RefusedLot[]
  /**
   * how many asked-for lots are unknown in the caller's plants: another plant's lot and a lot that
   * does not exist are counted alike and never named (no existence oracle, OWASP API1)
   */
  readonly unknown: number
}

export function normalSelection(lots: readonly string[]): MassReleaseSelection {
  return { lots: [...new Set(lots)].sort() }
}

/** Events read per lot for its decisions (as the lot status reads them; the newest counts). */
const DECISION_LIMIT = 1000

/** A selection's lots as the store holds them now, with every QMS decision on each, oldest first. */
export interface LoadedSelection {
  readonly selection: MassReleaseSelection
  readonly lots: ReadonlyArray<{
    readonly id: string
    readonly node: { readonly plant: string; readonly material: string | null } | undefined
    readonly decisions: readonly StoredEvent[]
  }>
}

export async function loadSelection(
  store: Store,
  scope: Scope,
  selection: MassReleaseSelection,
): Promise<LoadedSelection> {
  const lots: Array<LoadedSelection['lots'][number]> = []
  for (const id of selection.lots) {
    const lot = await store.genealogy.getLot(scope, id)
    if (!lot) {
      lots.push({ id, node: undefined, decisions: [] })
      continue
    }
    const [made, changed] = await Promise.all(
      DECISION_TYPES.map((type) => store.listEvents(scope, { type, subject: id, limit: DECISION_LIMIT })),
    )
    const decisions = [...made!, ...changed!].sort((a, b) => a.seq - b.seq)
    lots.push({ id, node: { plant: lot.plant, material: lot.material ?? null }, decisions })
  }
  return { selection, lots }
}

/**
 * The view of a loaded selection counting only decisions up to event `upToSeq` (all by default):
 * what the selection looked like before a later decision arrived, so an evidence bundle can find
 * the version a signature bound to among the versions the selection has had.
 */
export function selectionView(loaded: LoadedSelection, upToSeq = Number.POSITIVE_INFINITY): MassReleaseView {
  const eligible: ReleasableLot[] = []
  const refused: RefusedLot[] = []
  let unknown = 0
  for (const { id, node: lot, decisions } of loaded.lots) {
    if (!lot) {
      unknown++
      continue
    }
    const latest = decisions.filter((e) => e.seq <= upToSeq).at(-1)
    const refuse = (code: RefusedLot['code'], reason: string) =>
      refused.push({ lot: id, plant: lot.plant, code, reason })
    if (!latest) {
      refuse('QLK_RELEASE_WITHOUT_ACCEPTANCE', 'the QMS has made no usage decision on this lot')
      continue
    }
    const d = decisionView(latest)
    if (d.valuation !== 'accepted') {
      refuse(
        'QLK_RELEASE_WITHOUT_ACCEPTANCE',
        `the QMS decision ${d.code} is ${d.valuation}, not accepted: a lot is never released without an accepting decision`,
      )
      continue
    }
    if (!lot.material) {
      refuse('QLK_VALIDATION', 'the lot’s material is not known yet (no ERP or MES event names it)')
      continue
    }
    eligible.push({
      lot: id,
      plant: lot.plant,
      material: lot.material,
      decision: {
        code: d.code,
        valuation: d.valuation,
        inspectionLot: d.inspectionLot,
        eventSeq: d.eventSeq,
      },
    })
  }
  return { selection: loaded.selection, eligible, refused, unknown }
}

/**
 * What a mass release of `selection` would do in the caller's plants, read from the store: the
 * lot (genealogy) and its newest usage decision (made or changed). Whether the ERP still holds
 * blocked stock is read from the ERP itself inside each lot's release step, not here.
 */
export async function evaluateMassRelease(
  store: Store,
  scope: Scope,
  selection: MassReleaseSelection,
): Promise<MassReleaseView> {
  return selectionView(await loadSelection(store, scope, selection))
}

/**
 * The version of a selection whose hash is `hash`, among those it has had as decisions arrived
 * (before any, and after each); undefined when none matches (the selection was signed in other
 * plants, or a lot's material or plant changed since).
 */
export function findVersion(loaded: LoadedSelection, hash: string): MassReleaseView | undefined {
  const cuts = [0, ...new Set(loaded.lots.flatMap((l) => l.decisions.map((e) => e.seq)))]
  for (const cut of cuts.sort((a, b) => b - a)) {
    const view = selectionView(loaded, cut)
    if (recordHash(view) === hash) return view
  }
  return undefined
}

/** SHA-256 of the canonical JSON of what both signers sign: the selection and every lot's verdict. */
export function recordHash(view: Pick<MassReleaseView, 'selection' | 'eligible' | 'refused'>): string {
  return hashCanonical({ selection: view.selection, eligible: view.eligible, refused: view.refused })
}

/** The version both signers bind to: the selection, and every lot's verdict as it is now. */
export function massReleaseVersion(view: MassReleaseView): RecordVersion {
  const plants = new Set([...view.eligible, ...view.refused].map((l) => l.plant))
  return {
    kind: 'mass-release',
    id: canonicalJson(view.selection),
    plant: plants.size === 1 ? [...plants][0]! : '*',
    hash: recordHash(view),
  }
}
