import {
  findVersion,
  loadSelection,
  type MassReleaseSelection,
  type RefusedLot,
  type ReleasableLot,
} from '../signatures/mass-release.ts'
import { massReleaseSignaturesNaming, type Signature } from '../signatures/signature-store.ts'
import type { Scope, Store, StoredEvent } from '../store/types.ts'
import { RELEASE_SIGNED } from '../workflows/lot-release.ts'

/**
 * A mass release's signed record as the bundle carries it: the selection (the lots asked for) and
 * each lot's verdict when it was signed. SHA-256 of the canonical JSON of
 * `{ selection, eligible, refused }` is `version`, the hash both signatures bound (21 CFR 11.70).
 * Carried only when every lot with a verdict in it is in the caller's plants: a release signed
 * over several plants is shown to a caller of one of them through that plant's
 * `lot.mass_release.executed` entry alone, which names the signers and the version but only that
 * plant's lots (docs/operations.md, "Evidence of a mass release").
 */
export interface EvidenceMassRelease {
  readonly version: string
  readonly selection: MassReleaseSelection
  readonly eligible: readonly ReleasableLot[]
  readonly refused: readonly RefusedLot[]
}

export interface MassReleaseEvidence {
  readonly signatures: Signature[]
  /** the signed records found again, one per version; a signature is `current` when its version is here */
  readonly releases: EvidenceMassRelease[]
  /** audit subjects to read: the signatures' (`mass-release:<selection>`), the executions' (`mass-release:<version>`) */
  readonly auditSubjects: string[]
}

/** The plants a signature covered: its own plant, or every plant when it is `*`. */
function scopeOfSignature(s: Signature): Scope {
  return s.plant === '*'
    ? { allPlants: true, reason: 'evidence: the plants a mass-release signature covered' }
    : { plants: [s.plant] }
}

/**
 * Mass-release signatures that signed a verdict on `lot`, with the version each bound to found
 * again from the store (the selection's decisions, cut before each later decision). A signature
 * whose version cannot be found again is listed, not bound (`current: false` in the bundle).
 */
export async function massReleaseEvidence(
  store: Store,
  scope: Scope,
  lot: string,
  events: readonly StoredEvent[],
): Promise<MassReleaseEvidence> {
  const named = await massReleaseSignaturesNaming(store, scope, lot)
  const releases = new Map<string, EvidenceMassRelease>()
  const signatures: Signature[] = []
  const groups = new Map<string, Signature[]>()
  for (const s of named) {
    const key = `${s.plant}\u0000${s.recordId}`
    groups.set(key, [...(groups.get(key) ?? []), s])
  }
  for (const group of groups.values()) {
    const first = group[0]!
    const selection = JSON.parse(first.recordId) as MassReleaseSelection
    const loaded = await loadSelection(store, scopeOfSignature(first), selection)
    for (const s of group) {
      const view = releases.get(s.recordHash) ?? findVersion(loaded, s.recordHash)
      if (!view) {
        signatures.push(s)
        continue
      }
      // signed in plants where this lot had no verdict (another plant's request naming it): not its signature
      if (![...view.eligible, ...view.refused].some((l) => l.lot === lot)) continue
      releases.set(s.recordHash, {
        version: s.recordHash,
        selection: view.selection,
        eligible: view.eligible,
        refused: view.refused,
      })
      signatures.push(s)
    }
  }
  // The executions that released this lot, named by its release events (also for a release the
  // caller sees only through its own plant's execution entry).
  const executed = events
    .filter((e) => e.type === RELEASE_SIGNED)
    .map((e) => (e.envelope.data as { massRelease?: unknown } | undefined)?.massRelease)
    .filter((h): h is string => typeof h === 'string')
  const auditSubjects = [
    ...new Set([
      ...signatures.map((s) => `mass-release:${s.recordId}`),
      ...[...releases.keys(), ...executed].map((h) => `mass-release:${h}`),
    ]),
  ]
  return { signatures, releases: [...releases.values()], auditSubjects }
}
