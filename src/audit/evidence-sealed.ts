/**
 * Sealed evidence bundles: marked values travel as the envelopes the store holds them in
 * (`{"$enc":"v1","kid",…}`, src/security/encryption.ts), while every hash in the bundle is over
 * the plaintext. A verifier without the keys cannot recompute those hashes: it names each part it
 * could not check and the keys that would open it. With the keys, the parts are decrypted in
 * memory (AES-256-GCM authenticates each value, so a changed ciphertext byte fails) and checked
 * like a plaintext bundle.
 *
 * The envelope is recognised by shape only, so the verifier stays stand-alone (no key store).
 */
import type { EvidenceBundle } from './evidence.ts'

/** Decrypts every envelope in a value (a copy); throws when one does not authenticate. */
export type BundleDecrypt = <T>(value: T) => T

const isEnvelope = (v: unknown): v is { $enc: 'v1'; kid: string } =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  (v as { $enc?: unknown }).$enc === 'v1' &&
  typeof (v as { kid?: unknown }).kid === 'string'

/** The key ids of the envelopes in a value, sorted, each once; empty when it holds none. */
export function sealedKeys(v: unknown): string[] {
  const kids = new Set<string>()
  const walk = (x: unknown): void => {
    if (isEnvelope(x)) kids.add(x.kid)
    else if (Array.isArray(x)) x.forEach(walk)
    else if (typeof x === 'object' && x !== null) Object.values(x).forEach(walk)
  }
  walk(v)
  return [...kids].sort()
}

/** The line a verifier without keys reports for a part it could not check. */
export function notCheckable(what: string, kids: readonly string[]): string {
  const keys = kids.map((k) => `key ${k}`).join(', ')
  return `${what} not checked: encrypted (${keys}); verify with --keys`
}

/**
 * The bundle with every envelope decrypted, part by part: a part that does not authenticate is
 * named in `problems` and left sealed (its hash is then reported as not checked as well).
 */
export function openBundle(b: EvidenceBundle, decrypt: BundleDecrypt, problems: string[]): EvidenceBundle {
  const open = <T>(what: string, v: T): T => {
    if (sealedKeys(v).length === 0) return v
    try {
      return decrypt(v)
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message}`)
      return v
    }
  }
  return {
    ...b,
    events: b.events.map((e) => ({ ...e, envelope: open(`event ${e.id}`, e.envelope) })),
    runs: b.runs.map((r) => ({
      ...r,
      row: open(`run ${r.id}`, r.row),
      journal: open(`run ${r.id} journal`, r.journal),
      waits: open(`run ${r.id} waits`, r.waits),
    })),
    audit: b.audit.map((a) => ({ ...a, payload: open(`entry ${a.row.seq}`, a.payload) })),
    massReleases: (b.massReleases ?? []).map((m) => open(`mass release ${m.version}`, m)),
  }
}
