import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * Signer passwords are stored as scrypt hashes (RFC 7914), a memory-hard KDF. The defaults are
 * the OWASP Password Storage Cheat Sheet minimum for scrypt: N = 2^17, r = 8, p = 1, which
 * takes 128 · N · r = 128 MiB of memory per hash. The parameters travel with the hash, so they
 * can be raised later without invalidating stored passwords.
 * Encoded as `scrypt$<N>$<r>$<p>$<salt base64url>$<hash base64url>`.
 */
export interface ScryptParams {
  readonly N: number
  readonly r: number
  readonly p: number
}

export const SCRYPT_DEFAULTS: ScryptParams = { N: 2 ** 17, r: 8, p: 1 }
const KEY_BYTES = 32
const SALT_BYTES = 16

function derive(password: string, salt: Buffer, { N, r, p }: ScryptParams): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is below what N = 2^17, r = 8 needs.
  const maxmem = 128 * N * r * p + 64 * 1024 * 1024
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem }, (e, key) =>
      e ? reject(e) : resolve(key),
    ),
  )
}

export async function hashPassword(
  password: string,
  params: ScryptParams = SCRYPT_DEFAULTS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, params)
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  )
}

/** Parses an encoded hash; undefined when it is not one this module wrote. */
export function parseScrypt(
  encoded: string,
): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([\w-]+)\$([\w-]+)$/.exec(encoded)
  if (!m) return undefined
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])]
  // N must be a power of two above 1 (RFC 7914 §2); a weaker hash than 2^14 is refused at load.
  if (N < 2 ** 14 || (N & (N - 1)) !== 0 || r < 1 || p < 1) return undefined
  return { params: { N, r, p }, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') }
}

/** Constant-time comparison of the derived key; a malformed hash never matches. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseScrypt(encoded)
  if (!parsed) return false
  const key = await derive(password, parsed.salt, parsed.params)
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key)
}
