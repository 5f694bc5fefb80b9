import { canonicalJson, hashCanonical } from '../audit/canonical-json.ts'
import { connectorFilter, getDeadLetter } from '../store/dead-letters.ts'
import type { DeadLetter } from '../store/engine-types.ts'
import type { Scope, Store } from '../store/types.ts'
import { evaluateMassRelease, type MassReleaseSelection, massReleaseVersion } from './mass-release.ts'

/**
 * What can be signed, and the exact version a signature binds to (21 CFR 11.70: a signature
 * is linked to its record so it cannot be transferred to another record or version).
 */
export const RECORD_KINDS = ['dead-letter', 'run', 'bulk-replay', 'mass-release'] as const
export type RecordKind = (typeof RECORD_KINDS)[number]

export interface BulkReplayFilter {
  readonly workflow?: string
  readonly errorCode?: string
  /** a connector instance name, or NO_CONNECTOR for failures no connector caused */
  readonly connector?: string
  readonly max: number
}

export type RecordRef =
  | { readonly kind: 'dead-letter'; readonly id: string }
  | { readonly kind: 'run'; readonly id: string }
  | { readonly kind: 'bulk-replay'; readonly filter: BulkReplayFilter }
  | { readonly kind: 'mass-release'; readonly selection: MassReleaseSelection }

export interface RecordVersion {
  readonly kind: RecordKind
  /**
   * the record's identity: a dead letter or run id, the bulk-replay request's canonical filter,
   * or the mass release's canonical selection
   */
  readonly id: string
  /** `*` for a bulk replay or mass release over more than one plant */
  readonly plant: string
  /** SHA-256 (hex) of the canonical JSON of the record as it is now */
  readonly hash: string
}

export const BULK_REPLAY_DEFAULT_MAX = 1000

/** The bulk-replay filter in one canonical form, so signer and executor name the same request. */
export function normalFilter(f: {
  workflow?: string
  errorCode?: string
  connector?: string
  max?: number
}): BulkReplayFilter {
  // A filter without a connector keeps the canonical form it had before the field existed, so
  // signatures taken then still name their request.
  return {
    ...(f.workflow ? { workflow: f.workflow } : {}),
    ...(f.errorCode ? { errorCode: f.errorCode } : {}),
    ...(f.connector ? { connector: f.connector } : {}),
    max: f.max ?? BULK_REPLAY_DEFAULT_MAX,
  }
}

function planOf(scope: Scope): string {
  return 'plants' in scope && scope.plants.length === 1 ? scope.plants[0]! : '*'
}

/** A bulk replay's version is its filter plus every dead letter it would replay, as they are now. */
export function bulkReplayVersion(
  scope: Scope,
  filter: BulkReplayFilter,
  matching: readonly DeadLetter[],
): RecordVersion {
  return {
    kind: 'bulk-replay',
    id: canonicalJson(filter),
    plant: planOf(scope),
    hash: hashCanonical({ filter, deadLetters: matching }),
  }
}

export async function matchingDeadLetters(
  store: Store,
  scope: Scope,
  f: BulkReplayFilter,
): Promise<DeadLetter[]> {
  return store.engine.listDeadLetters(scope, {
    workflow: f.workflow,
    errorCode: f.errorCode,
    connector: connectorFilter(f.connector),
    status: 'open',
    limit: f.max,
  })
}

/** The current version of a record in the caller's scope; undefined when absent or another plant's. */
export async function currentVersion(
  store: Store,
  scope: Scope,
  ref: RecordRef,
): Promise<RecordVersion | undefined> {
  if (ref.kind === 'bulk-replay') {
    const filter = normalFilter(ref.filter)
    return bulkReplayVersion(scope, filter, await matchingDeadLetters(store, scope, filter))
  }
  if (ref.kind === 'mass-release') {
    const view = await evaluateMassRelease(store, scope, ref.selection)
    return view.eligible.length + view.refused.length === 0 ? undefined : massReleaseVersion(view)
  }
  if (ref.kind === 'dead-letter') {
    const dl = await getDeadLetter(store, scope, Number(ref.id))
    return dl && { kind: ref.kind, id: String(dl.id), plant: dl.plant, hash: hashCanonical(dl) }
  }
  const r = await store.engine.loadRun(scope, ref.id)
  if (!r) return undefined
  return { kind: 'run', id: r.run.id, plant: r.run.plant, hash: hashCanonical(runRecord(r)) }
}

type LoadedRun = NonNullable<Awaited<ReturnType<Store['engine']['loadRun']>>>

/**
 * A run as a signed record: the run row with its journal and waits. Lease bookkeeping changes
 * while nothing about the run does; it is not part of its version. Evidence bundles carry this
 * object so a verifier recomputes the hash a signature bound.
 */
export function runRecord(r: LoadedRun): {
  run: Record<string, unknown>
  journal: unknown[]
  waits: unknown[]
} {
  const { leaseOwner: _o, leaseToken: _t, leaseExpiresAtMs: _e, ...run } = r.run
  return { run, journal: r.journal, waits: r.waits }
}

/** A stored signature's record, as a reference to re-read it. */
export function refOf(kind: RecordKind, id: string): RecordRef {
  if (kind === 'bulk-replay') return { kind, filter: JSON.parse(id) as BulkReplayFilter }
  if (kind === 'mass-release') return { kind, selection: JSON.parse(id) as MassReleaseSelection }
  return { kind, id }
}
