/**
 * Admin-owned egress allowlist: scheme + host + port, nothing else (perf-reliability.md §4, OWASP
 * SSRF cheat sheet). A URL outside it is refused before any connection is opened. On-prem ERPs
 * live on private addresses, so private ranges are allowed when listed; what a listed name may
 * resolve to (never link-local, metadata or unspecified addresses unless `allowAddresses` covers
 * them) is checked at connect time by address-policy.ts.
 */
import type { BlockList } from 'node:net'
import { PermanentError } from '../../engine/errors.ts'
import { allowedExplicitly, classify, METADATA_NAMES, parseAllowAddresses } from './address-policy.ts'

// MQTT brokers (mes/mqtt) are listed like HTTP origins; 1883 and 8883 are the IANA ports of
// MQTT and MQTT over TLS (MQTT 3.1.1 §4.2 / MQTT 5.0 §4.2).
const DEFAULT_PORTS: Record<string, string> = {
  'http:': '80',
  'https:': '443',
  'mqtt:': '1883',
  'mqtts:': '8883',
}

/** `scheme://host:port` of a URL, default ports made explicit. */
export function originKey(url: URL): string {
  const port = url.port || DEFAULT_PORTS[url.protocol] || ''
  return `${url.protocol}//${url.hostname.toLowerCase()}:${port}`
}

export class EgressAllowlist {
  private readonly origins: ReadonlySet<string>
  /** addresses and blocks the admin allowed although they are link-local, loopback, … */
  readonly explicitAddresses: BlockList

  /**
   * entries like `https://erp.plant-a.local:44300` or `http://127.0.0.1:4101`; `allowAddresses`
   * (addresses or CIDR blocks) lets a listed host resolve to an otherwise blocked address
   */
  constructor(entries: readonly string[], opts: { allowAddresses?: readonly string[] } = {}) {
    this.explicitAddresses = parseAllowAddresses(opts.allowAddresses ?? [], 'egress allowAddresses')
    const out = new Set<string>()
    for (const [i, e] of entries.entries()) {
      let u: URL
      try {
        u = new URL(e)
      } catch {
        throw new PermanentError('QLK_CONFIG_INVALID', `egress allowlist[${i}]: '${e}' is not a URL`)
      }
      if (!DEFAULT_PORTS[u.protocol])
        throw new PermanentError(
          'QLK_CONFIG_INVALID',
          `egress allowlist[${i}]: scheme must be http, https, mqtt or mqtts`,
        )
      if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.username || u.password)
        throw new PermanentError(
          'QLK_CONFIG_INVALID',
          `egress allowlist[${i}]: '${e}' must be scheme://host[:port] only (no path, query or credentials)`,
        )
      const cls = /^[\d.]+$|^\[/.test(u.hostname) ? classify(u.hostname) : 'routable'
      if (
        METADATA_NAMES.has(u.hostname.toLowerCase()) ||
        ((cls === 'link-local' || cls === 'metadata' || cls === 'unspecified') &&
          !allowedExplicitly(this.explicitAddresses, u.hostname))
      )
        throw new PermanentError(
          'QLK_CONFIG_INVALID',
          `egress allowlist[${i}]: ${u.hostname} is ${cls === 'routable' ? 'a metadata endpoint' : `a ${cls} address`}; refused unless egress.allowAddresses lists it`,
        )
      out.add(originKey(u))
    }
    this.origins = out
  }

  get entries(): readonly string[] {
    return [...this.origins]
  }

  allows(url: URL): boolean {
    return this.origins.has(originKey(url)) && !url.username && !url.password
  }

  /** Throws QLK_EGRESS_DENIED (permanent) for a URL outside the list. */
  check(url: URL, connector: string): void {
    if (!this.allows(url)) {
      throw new PermanentError(
        'QLK_EGRESS_DENIED',
        `connector ${connector}: egress to ${originKey(url)} is not on the allowlist (${this.entries.join(', ') || 'empty'})`,
      )
    }
  }
}
