/**
 * Field-level encryption at rest (AES-256-GCM, node:crypto). The fields qualink.yaml marks
 * sensitive (JSON pointers into an event type's envelope, under /data) are replaced by an
 * envelope that carries its key id, so a value written under an old key stays readable while a
 * rotation re-encrypts it:
 *
 *   {"$enc":"v1","kid":"k2","iv":"<12 bytes b64>","tag":"<16 bytes b64>","ct":"<b64>"}
 *
 * The plaintext is the field's JSON text, so numbers, objects and strings come back as they were.
 * The key id is bound as additional authenticated data: relabelling a value with another key
 * id makes it fail to authenticate instead of decrypting under the wrong key.
 * NIST SP 800-38D §8.2: a 96-bit IV from a random source, never reused under one key; at the
 * volumes here (≪ 2^32 values per key, the §8.3 limit for random IVs) random IVs are safe.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { QualinkError } from '../contracts/errors.ts'

export interface EncryptedValue {
  readonly $enc: 'v1'
  readonly kid: string
  readonly iv: string
  readonly tag: string
  readonly ct: string
}

export function isEncryptedValue(v: unknown): v is EncryptedValue {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    (v as { $enc?: unknown }).$enc === 'v1' &&
    typeof (v as { kid?: unknown }).kid === 'string'
  )
}

/** A key secret: 32 bytes as base64 (44 characters) or hex (64 characters). */
export function parseKeySecret(secret: string): Buffer | string {
  const s = secret.trim()
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex')
  if (/^[A-Za-z0-9+/]{43}=?$/.test(s)) {
    const b = Buffer.from(s, 'base64')
    if (b.length === 32) return b
  }
  return 'must be a 256-bit key: 32 bytes as base64 (e.g. `openssl rand -base64 32`) or 64 hex digits'
}

/** A JSON pointer (RFC 6901) into the envelope, with `*` as a segment matching every array item or key. */
export function parsePointer(p: string): string[] {
  return p
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** Problems of a sensitive-field pointer, or undefined when it is usable. */
export function pointerProblem(p: string): string | undefined {
  if (!/^\/data\/./.test(p)) return 'must be a JSON pointer under /data (e.g. /data/supplier/contact)'
  if (parsePointer(p).some((s) => s === '')) return 'must not contain an empty segment'
  return undefined
}

const AAD_PREFIX = 'qualink-field-v1|'

export interface FieldEncryptionConfig {
  /** key id → 32-byte key */
  readonly keys: ReadonlyMap<string, Buffer>
  /** the key new values are written under */
  readonly activeKey: string
  /** event type → pointers into the envelope (each under /data) */
  readonly fields: Readonly<Record<string, readonly string[]>>
  /** encrypt raw delivery bodies whole (default true): they carry the same data in source form */
  readonly rawBodies?: boolean
}

/** Per key id: how many encrypted values a walk found under it. */
export type KeyCounts = Record<string, number>

export class FieldCipher {
  private readonly pointers: Map<string, string[][]>

  constructor(readonly config: FieldEncryptionConfig) {
    if (!config.keys.has(config.activeKey))
      throw new QualinkError('QLK_KEY_UNAVAILABLE', `the active key '${config.activeKey}' is not configured`)
    this.pointers = new Map(Object.entries(config.fields).map(([t, ps]) => [t, ps.map(parsePointer)]))
  }

  get activeKey(): string {
    return this.config.activeKey
  }

  /**
   * True when a configured pointer of this type reaches `pointer` (itself or a parent of it;
   * `*` matches any segment): a projection copying that field must encrypt its copy.
   */
  marks(type: string, pointer: string): boolean {
    const path = parsePointer(pointer)
    return (this.pointers.get(type) ?? []).some(
      (p) => p.length <= path.length && p.every((seg, i) => seg === '*' || seg === path[i]),
    )
  }

  /** The value as a projection's text column stores it: the JSON of its encrypted value when marked. */
  encryptMarkedText<T extends string | null>(type: string, pointer: string, value: T): T {
    if (value === null || !this.marks(type, pointer) || encodedValue(value)) return value
    return JSON.stringify(this.encryptValue(value)) as T
  }

  /** True when events of this type have sensitive fields. */
  covers(type: string): boolean {
    return (this.pointers.get(type)?.length ?? 0) > 0
  }

  encryptValue(value: unknown, kid = this.config.activeKey): EncryptedValue {
    const key = this.key(kid)
    const iv = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', key, iv)
    c.setAAD(Buffer.from(AAD_PREFIX + kid))
    const ct = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final()])
    return {
      $enc: 'v1',
      kid,
      iv: iv.toString('base64'),
      tag: c.getAuthTag().toString('base64'),
      ct: ct.toString('base64'),
    }
  }

  decryptValue(v: EncryptedValue): unknown {
    const key = this.key(v.kid)
    try {
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(v.iv, 'base64'))
      d.setAAD(Buffer.from(AAD_PREFIX + v.kid))
      d.setAuthTag(Buffer.from(v.tag, 'base64'))
      const text = Buffer.concat([d.update(Buffer.from(v.ct, 'base64')), d.final()]).toString('utf8')
      return JSON.parse(text) as unknown
    } catch {
      throw new QualinkError(
        'QLK_DECRYPT_FAILED',
        `a value encrypted under key '${v.kid}' did not authenticate: the secret configured for '${v.kid}' ` +
          'is not the one it was written with, or the stored value was altered',
      )
    }
  }

  /** The envelope with its type's sensitive fields encrypted under the active key (a copy; already encrypted values stay). */
  encryptEnvelope<T extends { type?: unknown }>(envelope: T): T {
    const ptrs = typeof envelope.type === 'string' ? this.pointers.get(envelope.type) : undefined
    if (!ptrs) return envelope
    const out = structuredClone(envelope) as Record<string, unknown>
    for (const p of ptrs) replaceAt(out, p, (v) => (isEncryptedValue(v) ? v : this.encryptValue(v)))
    return out as T
  }

  get encryptsRawBodies(): boolean {
    return this.config.rawBodies !== false
  }

  /** A raw delivery body as stored: the JSON of an encrypted value holding its bytes (base64). */
  encryptBody(body: Buffer): Buffer {
    return Buffer.from(JSON.stringify(this.encryptValue(body.toString('base64'))))
  }

  /** The bytes a delivery arrived with; a body stored before encryption was on is returned as is. */
  decryptBody(stored: Buffer): Buffer {
    if (
      stored.length === 0 ||
      stored[0] !== 0x7b ||
      !stored.subarray(0, 16).toString('latin1').startsWith('{"$enc":"v1"')
    )
      return stored
    let v: unknown
    try {
      v = JSON.parse(stored.toString('utf8'))
    } catch {
      return stored
    }
    return isEncryptedValue(v) ? Buffer.from(String(this.decryptValue(v)), 'base64') : stored
  }

  /** Every encrypted value anywhere in `value` decrypted (a copy; `value` is left as is). */
  decryptDeep<T>(value: T): T {
    return mapEncrypted(value, (v) => this.decryptValue(v)) as T
  }

  /** Every value not under `toKid` re-encrypted under it; counts what changed. */
  reencryptDeep<T>(value: T, toKid: string): { value: T; changed: number } {
    let changed = 0
    const out = mapEncrypted(value, (v) => {
      if (v.kid === toKid) return v
      changed++
      return this.encryptValue(this.decryptValue(v), toKid)
    }) as T
    return { value: out, changed }
  }

  private key(kid: string): Buffer {
    const k = this.config.keys.get(kid)
    if (!k)
      throw new QualinkError(
        'QLK_KEY_UNAVAILABLE',
        `a value is encrypted under key '${kid}', which is not configured (security.encryption.keys); ` +
          `configure '${kid}' again until \`qualink keys rotate\` reports no value left under it`,
      )
    return k
  }
}

/** Counts the encrypted values under each key id anywhere in `value`. */
export function countByKey(value: unknown, into: KeyCounts = {}): KeyCounts {
  mapEncrypted(value, (v) => {
    into[v.kid] = (into[v.kid] ?? 0) + 1
    return v
  })
  return into
}

const ENCODED_PREFIX = '{"$enc":"v1"'

/** An encrypted value kept as its JSON text in a text column (a projection's text field), or undefined. */
export function encodedValue(v: string): EncryptedValue | undefined {
  if (!v.startsWith(ENCODED_PREFIX)) return undefined
  try {
    const parsed = JSON.parse(v) as unknown
    return isEncryptedValue(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

/**
 * A copy of `value` with each encrypted value replaced by `f(value)`; unchanged subtrees are
 * shared. An encrypted value held as JSON text (a projection's text column) is found too: an
 * encrypted result stays text, a decrypted one replaces the text.
 */
export function mapEncrypted(value: unknown, f: (v: EncryptedValue) => unknown): unknown {
  if (isEncryptedValue(value)) return f(value)
  if (typeof value === 'string') {
    const enc = encodedValue(value)
    if (!enc) return value
    const r = f(enc)
    if (r === enc) return value
    return isEncryptedValue(r) ? JSON.stringify(r) : r
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    value.forEach((x, i) => {
      const y = mapEncrypted(x, f)
      if (y !== x) {
        copy ??= [...value]
        copy[i] = y
      }
    })
    return copy ?? value
  }
  if (typeof value === 'object' && value !== null) {
    let copy: Record<string, unknown> | undefined
    for (const [k, x] of Object.entries(value)) {
      const y = mapEncrypted(x, f)
      if (y !== x) {
        copy ??= { ...(value as Record<string, unknown>) }
        copy[k] = y
      }
    }
    return copy ?? value
  }
  return value
}

/** Replaces, in place, every value the pointer reaches (absent paths are left alone). */
function replaceAt(root: unknown, path: readonly string[], f: (v: unknown) => unknown): void {
  if (path.length === 0 || typeof root !== 'object' || root === null) return
  const [head, ...rest] = path as [string, ...string[]]
  const container = root as Record<string, unknown>
  const keys = head === '*' ? Object.keys(container) : [head]
  for (const k of keys) {
    if (!Object.hasOwn(container, k)) continue
    if (rest.length === 0) {
      if (container[k] !== undefined && container[k] !== null) container[k] = f(container[k])
    } else replaceAt(container[k], rest, f)
  }
}
