/**
 * Optional HTTPS served by Qualink itself (issue 10 item 4), for a plant without a TLS-terminating
 * proxy in front. PEM files are read once at start; a file that cannot be read is a configuration
 * error naming the field. TLS 1.2 is the floor (NIST SP 800-52 Rev. 2 §3.1: TLS 1.2 at least,
 * 1.3 supported); `caFile` asks for and verifies client certificates (mutual TLS).
 */
import { readFileSync } from 'node:fs'
import type { SecureContextOptions, TlsOptions } from 'node:tls'
import { QualinkError } from '../contracts/errors.ts'

export interface TlsSettings {
  readonly certFile: string
  readonly keyFile: string
  /** client certificates signed by this CA are required */
  readonly caFile?: string
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3'
}

function pem(file: string, field: string): Buffer {
  try {
    return readFileSync(file)
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message
    throw new QualinkError('QLK_CONFIG_INVALID', `server.tls.${field}: cannot read ${file} (${why})`, [
      { path: `/server/tls/${field}`, message: `must be a readable PEM file (${why})` },
    ])
  }
}

/** Options for fastify's `https` (node:https.createServer). */
export function httpsOptions(s: TlsSettings): SecureContextOptions & TlsOptions {
  const ca = s.caFile === undefined ? undefined : pem(s.caFile, 'caFile')
  return {
    cert: pem(s.certFile, 'certFile'),
    key: pem(s.keyFile, 'keyFile'),
    minVersion: s.minVersion ?? 'TLSv1.2',
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
  }
}
