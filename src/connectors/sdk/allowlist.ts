/**
 * Admin-owned egress allowlist: scheme + host + port, nothing else (perf-reliability.md §4, OWASP
 * SSRF cheat sheet). A URL outside it is refused before any connection is opened. On-prem ERPs
 * live on private addresses, so private ranges are allowed when listed; the cloud metadata range
 * (169.254.0.0/16) is refused even then.
 */
import { PermanentError } from '../../engine/errors.ts'

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' }

/** `scheme://host:port` of a URL, default ports made explicit. */
export function originKey(url: URL): string {
  const port = url.port || DEFAULT_PORTS[url.protocol] || ''
  return `${url.protocol}//${url.hostname.toLowerCase()}:${port}`
}

function isLinkLocal(hostname: string): boolean {
  return /^169\.254\./.test(hostname) || /^\[?fe80:/i.test(hostname)
}

export class EgressAllowlist {
  private readonly origins: ReadonlySet<string>

  /** entries like `https://erp.plant-a.local:44300` or `http://127.0.0.1:4101` */
  constructor(entries: readonly string[]) {
    const out = new Set<string>()
    for (const [i, e] of entries.entries()) {
      let u: URL
      try {
        u = new URL(e)
      } catch {
        throw new PermanentError('QLK_CONFIG_INVALID', `egress allowlist[${i}]: '${e}' is not a URL`)
      }
      if (!DEFAULT_PORTS[u.protocol])
        throw new PermanentError('QLK_CONFIG_INVALID', `egress allowlist[${i}]: scheme must be http or https`)
      if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.username || u.password)
        throw new PermanentError(
          'QLK_CONFIG_INVALID',
          `egress allowlist[${i}]: '${e}' must be scheme://host[:port] only (no path, query or credentials)`,
        )
      if (isLinkLocal(u.hostname))
        throw new PermanentError(
          'QLK_CONFIG_INVALID',
          `egress allowlist[${i}]: link-local ${u.hostname} is never allowed`,
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
