import { QualinkError } from '../contracts/errors.ts'
import type { Principal } from '../server/auth.ts'
import type { DeadLetter } from '../store/engine-types.ts'
import type { Scope, Store } from '../store/types.ts'
import type { MassReleaseSelection } from './mass-release.ts'
import { parseScrypt, verifyPassword } from './password.ts'
import {
  type BulkReplayFilter,
  bulkReplayVersion,
  currentVersion,
  type RecordRef,
  type RecordVersion,
  refOf,
} from './records.ts'
import { insertSignature, listSignatures, type Meaning, type Signature } from './signature-store.ts'

/** A person who may sign: the two identification components of 21 CFR 11.200(a)(1) are id and password. */
export interface SignerConfig {
  readonly id: string
  /** printed name shown with every signature (21 CFR 11.50(a)(1)) */
  readonly name: string
  /** scrypt hash from `hashPassword` (src/signatures/password.ts) */
  readonly passwordHash: string
  /** plants whose records this person may sign; `*` for all */
  readonly plants: readonly string[]
}

export interface SignatureOptions {
  readonly signers?: readonly SignerConfig[]
  /**
   * Two-person rule: a bulk replay of more than this many dead letters needs `approved`
   * signatures of two different people on the exact set first. Unset: no rule.
   */
  readonly bulkReplayTwoPersonOver?: number
  /** an OIDC token younger than this re-authenticates its subject for signing (default 300 s) */
  readonly freshTokenSeconds?: number
}

export interface SignRequest {
  readonly record: RecordRef
  readonly meaning: Meaning
  readonly signer?: string
  readonly password?: string
}

export interface CheckedSignature extends Signature {
  /** true while the record is still at the version that was signed */
  readonly valid: boolean
  readonly currentHash: string | null
}

function configError(path: string, message: string): QualinkError {
  return new QualinkError('QLK_CONFIG_INVALID', `signatures${path.replaceAll('/', '.')}: ${message}`, [
    { path: `/signatures${path}`, message },
  ])
}

export function validateSignatureOptions(o: SignatureOptions): void {
  const seen = new Set<string>()
  for (const [i, s] of (o.signers ?? []).entries()) {
    if (typeof s.id !== 'string' || !/^[\w.@:-]{1,64}$/.test(s.id))
      throw configError(`/signers/${i}/id`, 'must be 1-64 letters, digits or . @ : - _')
    if (seen.has(s.id)) throw configError(`/signers/${i}/id`, `signer ${s.id} is listed twice`)
    seen.add(s.id)
    if (typeof s.name !== 'string' || s.name.trim().length < 2)
      throw configError(`/signers/${i}/name`, `signer ${s.id} needs a printed name`)
    if (typeof s.passwordHash !== 'string' || !parseScrypt(s.passwordHash))
      throw configError(
        `/signers/${i}/passwordHash`,
        `signer ${s.id}: must be a scrypt hash (N >= 2^14) from hashPassword`,
      )
    if (!Array.isArray(s.plants) || s.plants.length === 0)
      throw configError(`/signers/${i}/plants`, `signer ${s.id}: must list plants, or ["*"]`)
  }
  const n = o.bulkReplayTwoPersonOver
  if (n !== undefined && (!Number.isInteger(n) || n < 0))
    throw configError('/bulkReplayTwoPersonOver', 'must be an integer of 0 or more')
}

// A valid hash of a password nobody knows: an unknown signer costs the same scrypt run as a
// known one, so response time does not reveal which ids exist.
export const SIGNER_DECOY =
  'scrypt$131072$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'

/** Signing, verification and the two-person rule; the store holds the signatures append-only. */
export class SignatureService {
  private readonly signers: ReadonlyMap<string, SignerConfig>

  constructor(
    private readonly store: Store,
    readonly options: SignatureOptions = {},
  ) {
    validateSignatureOptions(options)
    this.signers = new Map((options.signers ?? []).map((s) => [s.id, s]))
  }

  /**
   * Re-authenticates the signer (password, or a fresh OIDC token of the same person), then
   * binds a signature to the record's current version. A failed re-authentication stores nothing.
   */
  async sign(who: Principal, actor: string, scope: Scope, req: SignRequest): Promise<Signature> {
    const auth = await this.reauthenticate(who, req)
    const version = await currentVersion(this.store, scope, req.record)
    if (!version)
      throw new QualinkError('QLK_NOT_FOUND', `${req.record.kind} ${describe(req.record)} not found`)
    return this.bind(auth, version, req.meaning, actor)
  }

  /**
   * The two-person rule of a mass release: the first approver's signature (`approved`) is the
   * request, a second, different person's (`released`) completes it. The same person cannot sign
   * twice (QLK_TWO_PERSON_SAME_SIGNER, nothing stored). Returns the version's signatures, oldest
   * first; `complete` when two different people signed it (then it may be executed).
   */
  async signMassRelease(
    who: Principal,
    actor: string,
    scope: Scope,
    selection: MassReleaseSelection,
    req: { readonly signer?: string; readonly password?: string },
  ): Promise<{ version: RecordVersion; signatures: Signature[]; complete: boolean }> {
    const auth = await this.reauthenticate(who, {
      ...req,
      record: { kind: 'mass-release', selection },
      meaning: 'approved',
    })
    const version = await currentVersion(this.store, scope, { kind: 'mass-release', selection })
    if (!version) throw new QualinkError('QLK_NOT_FOUND', `no lot of ${selection.lots.join(', ')} found`)
    const before = await this.signaturesOn(scope, version)
    if (distinctSigners(before) >= 2) return { version, signatures: before, complete: true }
    if (before.some((s) => s.signerId === auth.signerId)) {
      throw new QualinkError(
        'QLK_TWO_PERSON_SAME_SIGNER',
        `${auth.signerId} already signed this mass release (version ${version.hash}); it is released only when a second, different approver signs; nothing was signed`,
        [{ path: '/signer', message: 'the second signature must be another person’s' }],
      )
    }
    await this.bind(auth, version, before.length === 0 ? 'approved' : 'released', actor)
    const after = await this.signaturesOn(scope, version)
    return { version, signatures: after, complete: distinctSigners(after) >= 2 }
  }

  /** Signatures on exactly this version of a record, oldest first. */
  async signaturesOn(scope: Scope, version: RecordVersion): Promise<Signature[]> {
    return (await listSignatures(this.store, scope, version.kind, version.id)).filter(
      (s) => s.recordHash === version.hash,
    )
  }

  private async bind(
    auth: Awaited<ReturnType<SignatureService['reauthenticate']>>,
    version: RecordVersion,
    meaning: Meaning,
    actor: string,
  ): Promise<Signature> {
    const { signerId, printedName, method, plants } = auth
    if (!plants.includes('*') && !plants.includes(version.plant)) {
      // The record exists for the caller, but this person may not sign for its plant (or all plants).
      throw new QualinkError(
        'QLK_FORBIDDEN',
        `signer ${signerId} may not sign records of plant ${version.plant}`,
        [{ path: '/signer', message: `${signerId} signs for ${plants.join(', ')} only` }],
      )
    }
    const sig = await insertSignature(this.store, {
      plant: version.plant,
      signerId,
      printedName,
      meaning,
      recordKind: version.kind,
      recordId: version.id,
      recordHash: version.hash,
      method,
      actor,
    })
    if (!sig) {
      throw new QualinkError(
        'QLK_SIGNATURE_DUPLICATE',
        `${signerId} already signed this version of ${version.kind} ${version.id} as ${meaning}; the second signature must be another person's`,
        [{ path: '/signer', message: 'one person cannot be both signers' }],
      )
    }
    return sig
  }

  private async reauthenticate(
    who: Principal,
    req: SignRequest,
  ): Promise<{
    signerId: string
    printedName: string
    method: 'password' | 'token'
    plants: readonly string[]
  }> {
    const failed = (message: string) =>
      new QualinkError('QLK_REAUTH_FAILED', `re-authentication failed: ${message}; nothing was signed`, [
        { path: req.password === undefined ? '/signer' : '/password', message },
      ])
    if (req.password === undefined) {
      // 21 CFR 11.200(a)(1)(i): a later signing in the same session may use one component if the
      // session is continuous; a token issued moments ago is that session, an older one is not.
      const fresh = (this.options.freshTokenSeconds ?? 300) * 1000
      if (
        who.via !== 'oidc' ||
        who.authenticatedAtMs === undefined ||
        Date.now() - who.authenticatedAtMs > fresh
      )
        throw failed(
          'send signer and password, or sign with an OIDC token issued within the last few minutes',
        )
      if (req.signer !== undefined && req.signer !== who.id)
        throw failed('a token signs only for its own subject')
      const configured = this.signers.get(who.id)
      const name = who.name ?? configured?.name
      if (!name)
        throw failed(`no printed name for ${who.id}: the token has no name claim and no signer is configured`)
      return { signerId: who.id, printedName: name, method: 'token', plants: configured?.plants ?? ['*'] }
    }
    if (!req.signer) throw failed('signer is required with a password')
    // A person signed in with their own token cannot sign as someone else.
    if (who.via === 'oidc' && req.signer !== who.id)
      throw failed(`signer must be the token's subject ${who.id}`)
    const s = this.signers.get(req.signer)
    const ok = await verifyPassword(req.password, s?.passwordHash ?? SIGNER_DECOY)
    if (!s || !ok) throw failed('unknown signer or wrong password')
    return { signerId: s.id, printedName: s.name, method: 'password', plants: s.plants }
  }

  /** A signature with whether its record is still at the signed version. */
  async check(scope: Scope, sig: Signature): Promise<CheckedSignature> {
    const now = await currentVersion(this.store, scope, refOf(sig.recordKind, sig.recordId))
    return { ...sig, valid: now?.hash === sig.recordHash, currentHash: now?.hash ?? null }
  }

  /**
   * The two-person rule for bulk replay (OWASP API6, sensitive business flows): above the
   * threshold, the exact set about to be replayed needs `approved` signatures of two different
   * people. Throws QLK_SIGNATURES_REQUIRED naming the version to sign and who signed so far.
   */
  async requireForBulkReplay(
    scope: Scope,
    filter: BulkReplayFilter,
    matching: readonly DeadLetter[],
  ): Promise<void> {
    const over = this.options.bulkReplayTwoPersonOver
    if (over === undefined || matching.length <= over) return
    const version = bulkReplayVersion(scope, filter, matching)
    const signed = (await listSignatures(this.store, scope, 'bulk-replay', version.id)).filter(
      (s) => s.recordHash === version.hash && s.meaning === 'approved',
    )
    const people = [...new Set(signed.map((s) => s.signerId))]
    if (people.length >= 2) return
    throw new QualinkError(
      'QLK_SIGNATURES_REQUIRED',
      `replaying ${matching.length} dead letters (more than ${over}) needs approved signatures of two different people on bulk-replay ${version.id} version ${version.hash}; signed so far: ${people.join(', ') || 'nobody'}`,
      [{ path: '/signatures', message: `${2 - people.length} more signature(s) by different approvers` }],
    )
  }
}

function distinctSigners(sigs: readonly Signature[]): number {
  return new Set(sigs.map((s) => s.signerId)).size
}

function describe(r: RecordRef): string {
  if (r.kind === 'bulk-replay') return JSON.stringify(r.filter)
  if (r.kind === 'mass-release') return JSON.stringify(r.selection)
  return r.id
}
