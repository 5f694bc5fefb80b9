import { QualinkError } from '../contracts/errors.ts'
import {
  evaluateMassRelease,
  type MassReleaseView,
  massReleaseVersion,
  normalSelection,
} from '../signatures/mass-release.ts'
import type { RecordVersion } from '../signatures/records.ts'
import type { Signature } from '../signatures/signature-store.ts'
import { toAppendEvent } from '../store/append-event.ts'
import type { Scope } from '../store/types.ts'
import { RELEASE_SIGNED } from '../workflows/lot-release.ts'
import type { Principal } from './auth.ts'
import type { ServerContext } from './context.ts'

/**
 * The mass release as the API (routes/mass-release.ts) and the dashboard (ui/mass-release-actions.ts)
 * both run it: evaluate a selection in the caller's plants, sign it (two different people), and
 * execute it once complete. One implementation, so a selection signed on one channel has the same
 * version, and is completed the same way, on the other.
 */
export const LOT_RELEASE = 'lot-release'
const SOURCE = 'urn:qualink:mass-release'

export interface EvaluatedSelection {
  readonly view: MassReleaseView
  readonly version: RecordVersion
}

export interface ReleasedLot {
  readonly lot: string
  readonly plant: string
  /** the `qualink.lot.release_signed.v1` event's id: it starts the lot's `lot-release` run */
  readonly event: string
  /** true when this execution had already been stored (a repeated request): no second run */
  readonly duplicate: boolean
}

export type SignOutcome = EvaluatedSelection & {
  readonly signatures: readonly Signature[]
  /** present once two different people signed: what the execution stored */
  readonly released?: readonly ReleasedLot[]
}

/** Refuses before anything is signed when the deployment cannot release (no `lot-release`). */
export function requireLotRelease(ctx: ServerContext): void {
  if (!ctx.workflows.includes(LOT_RELEASE))
    throw new QualinkError(
      'QLK_CONFIG_INVALID',
      `mass release needs the ${LOT_RELEASE} workflow: enable workflows.${LOT_RELEASE} in qualink.yaml; nothing was signed`,
      [{ path: `/workflows/${LOT_RELEASE}`, message: 'not enabled' }],
    )
}

/** The selection as the caller's plants see it; QLK_NOT_FOUND when none of its lots is theirs. */
export async function evaluateSelection(
  ctx: ServerContext,
  scope: Scope,
  lots: readonly string[],
): Promise<EvaluatedSelection> {
  await ctx.catchUpProjections()
  const view = await evaluateMassRelease(ctx.store, scope, normalSelection(lots))
  if (view.eligible.length + view.refused.length === 0)
    throw new QualinkError('QLK_NOT_FOUND', 'none of the lots was found', [
      { path: '/lots', message: 'no lot of the list is known in your plants' },
    ])
  return { view, version: massReleaseVersion(view) }
}

export function recordChanged(now: string, path: string): QualinkError {
  return new QualinkError(
    'QLK_RECORD_CHANGED',
    `the selection is now at version ${now}: a lot's decision changed since it was previewed; preview again, nothing was signed`,
    [{ path, message: 'preview again and sign the current version' }],
  )
}

/**
 * Signs the selection for `who` (re-authenticated by signer and password, or a fresh token) and,
 * when that completes two different people's signatures, executes it. `version`, when given, is
 * the hash the signer was shown: a selection that moved since is refused (QLK_RECORD_CHANGED).
 */
export async function signMassRelease(
  ctx: ServerContext,
  who: Principal,
  actor: string,
  scope: Scope,
  req: {
    readonly lots: readonly string[]
    readonly signer?: string
    readonly password?: string
    readonly version?: string
  },
): Promise<SignOutcome> {
  requireLotRelease(ctx)
  const { view, version } = await evaluateSelection(ctx, scope, req.lots)
  if (req.version !== undefined && req.version !== version.hash) throw recordChanged(version.hash, '/version')
  const signed = await ctx.signatures.signMassRelease(who, actor, scope, view.selection, {
    signer: req.signer,
    password: req.password,
  })
  // A decision that arrived between the evaluation and the signature moved the version.
  if (signed.version.hash !== version.hash) throw recordChanged(signed.version.hash, '/lots')
  if (!signed.complete) return { view, version, signatures: signed.signatures }
  const released = await executeMassRelease(ctx, actor, scope, view, version.hash, signed.signatures)
  return { view, version, signatures: signed.signatures, released }
}

/**
 * Appends one `qualink.lot.release_signed.v1` per releasable lot and the execution's audit rows
 * in one transaction (AppendRequest.audit): the release events and their audit are stored
 * together or not at all. Event ids derive from the signed version and the lot, so executing the
 * same signatures again stores nothing new and starts no second run (it is audited again).
 */
export async function executeMassRelease(
  ctx: ServerContext,
  actor: string,
  scope: Scope,
  view: MassReleaseView,
  hash: string,
  signatures: readonly Signature[],
): Promise<ReleasedLot[]> {
  const receivedAt = new Date().toISOString()
  const sigs = signatures.map((s) => ({
    id: s.id,
    signer: s.signerId,
    printedName: s.printedName,
    meaning: s.meaning,
  }))
  const events = view.eligible.map((l) =>
    toAppendEvent(
      ctx.registry.validate(
        {
          specversion: '1.0',
          id: `mass-release-${hash}-${l.lot}`,
          source: SOURCE,
          type: RELEASE_SIGNED,
          subject: l.lot,
          plant: l.plant,
          data: {
            lot: { id: l.lot, material: l.material, plant: l.plant },
            massRelease: hash,
            decision: {
              code: l.decision.code,
              valuation: l.decision.valuation,
              eventSeq: l.decision.eventSeq,
            },
            signatures: sigs,
          },
        },
        '',
      ),
      receivedAt,
    ),
  )
  const plants = [...new Set([...view.eligible, ...view.refused].map((l) => l.plant))]
  const audit = plants.map((plant) => ({
    plant,
    actor,
    action: 'lot.mass_release.executed',
    subject: `mass-release:${hash}`,
    correlationId: null,
    payload: {
      version: hash,
      signatures: sigs,
      released: view.eligible.filter((l) => l.plant === plant).map((l) => l.lot),
      refused: view.refused.filter((r) => r.plant === plant),
      scope: 'allPlants' in scope ? '*' : scope.plants,
    },
  }))
  const results = await ctx.queue.submit({ actor, events, audit })
  ctx.wakeEngine()
  return view.eligible.map((l, i) => ({
    lot: l.lot,
    plant: l.plant,
    event: results[i]!.id,
    duplicate: results[i]!.duplicate,
  }))
}
