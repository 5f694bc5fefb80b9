/**
 * Which network addresses an allowlisted host may resolve to (issue 10 item 5; OWASP SSRF
 * Prevention Cheat Sheet: "validate the IP address the domain resolves to", and "DNS pinning"
 * against rebinding). The host name is resolved once, here; the connection then goes to the
 * vetted address (pinned-http.ts), so a second, different DNS answer never gets a connection.
 *
 * Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed: on-prem ERPs live there
 * and the admin listed the name. Refused unless explicitly allowed:
 * - cloud metadata endpoints (AWS/Azure/GCP 169.254.169.254, AWS IPv6 fd00:ec2::254)
 * - link-local 169.254.0.0/16 and fe80::/10
 * - unspecified 0.0.0.0/8 and :: (connecting to them reaches this host)
 * - loopback 127.0.0.0/8 and ::1, unless the allowlist entry itself names a loopback address or
 *   `localhost` (the simulators of the demo and tests)
 * "Explicitly allowed" means an `allowAddresses` entry (an address or CIDR block) covers it.
 */
import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { PermanentError } from '../../engine/errors.ts'

export type AddressClass = 'metadata' | 'link-local' | 'unspecified' | 'loopback' | 'routable'

export interface ResolvedAddress {
  readonly address: string
  readonly family: 4 | 6
}

/** DNS resolution used by egress; tests inject one to simulate rebinding. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }))

const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254'])
/** names that are metadata endpoints whatever they resolve to */
export const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data'])

function blockList(entries: ReadonlyArray<[string, number, 'ipv4' | 'ipv6']>): BlockList {
  const b = new BlockList()
  for (const [net, prefix, type] of entries) b.addSubnet(net, prefix, type)
  return b
}
const LINK_LOCAL = blockList([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
])
const UNSPECIFIED = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['::', 128, 'ipv6'],
])
const LOOPBACK = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
])

/** `::ffff:169.254.169.254` is the IPv4 address it maps; brackets of a URL host are dropped. */
export function normalizeAddress(address: string): { address: string; family: 4 | 6 } {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase()
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)
  if (mapped) return { address: mapped[1]!, family: 4 }
  return { address: a, family: isIP(a) === 6 ? 6 : 4 }
}

/**
 * Answers per address string, kept: an address's class never changes, and BlockList.check builds a
 * SocketAddress per call (~0.5 ms of CPU per workflow in the B3 benchmark's profile, 15 requests).
 * Bounded: past CACHE_MAX distinct addresses the cache starts over.
 */
const CACHE_MAX = 4_096
const classes = new Map<string, AddressClass>()
/** per allowAddresses list (built once from configuration, never changed after) */
const explicitAnswers = new WeakMap<BlockList, Map<string, boolean>>()

function remember<V>(cache: Map<string, V>, key: string, compute: (k: string) => V): V {
  let v = cache.get(key)
  if (v === undefined) {
    if (cache.size >= CACHE_MAX) cache.clear()
    v = compute(key)
    cache.set(key, v)
  }
  return v
}

export function classify(address: string): AddressClass {
  return remember(classes, address, classifyNow)
}

function classifyNow(address: string): AddressClass {
  const n = normalizeAddress(address)
  const type = n.family === 6 ? 'ipv6' : 'ipv4'
  if (METADATA.has(n.address)) return 'metadata'
  if (LINK_LOCAL.check(n.address, type)) return 'link-local'
  if (UNSPECIFIED.check(n.address, type)) return 'unspecified'
  if (LOOPBACK.check(n.address, type)) return 'loopback'
  return 'routable'
}

/** Parses `allowAddresses` entries (`10.1.2.3`, `169.254.10.0/24`, `fe80::1/128`). */
export function parseAllowAddresses(entries: readonly string[], where: string): BlockList {
  const b = new BlockList()
  for (const [i, e] of entries.entries()) {
    const [net = '', prefixText] = e.split('/')
    const family = isIP(net)
    const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText)
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32))
      throw new PermanentError(
        'QLK_CONFIG_INVALID',
        `${where}[${i}]: '${e}' is not an IP address or CIDR block (e.g. 169.254.10.0/24)`,
      )
    b.addSubnet(net, prefix, family === 6 ? 'ipv6' : 'ipv4')
  }
  return b
}

export function allowedExplicitly(list: BlockList, address: string): boolean {
  let answers = explicitAnswers.get(list)
  if (!answers) {
    answers = new Map()
    explicitAnswers.set(list, answers)
  }
  return remember(answers, address, (a) => {
    const n = normalizeAddress(a)
    return list.check(n.address, n.family === 6 ? 'ipv6' : 'ipv4')
  })
}

const isLoopbackName = (host: string) => host === 'localhost' || host.endsWith('.localhost')

/**
 * Resolves `hostname` once and returns the address to connect to, or throws
 * QLK_EGRESS_ADDRESS_BLOCKED naming the host, the address and why. Every answer must pass:
 * a name that resolves to one good and one blocked address is refused as a whole.
 */
export async function vetHost(
  hostname: string,
  o: { readonly resolver: Resolver; readonly explicit: BlockList; readonly connector: string },
): Promise<ResolvedAddress> {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const literal = isIP(host) !== 0
  if (METADATA_NAMES.has(host))
    throw new PermanentError(
      'QLK_EGRESS_ADDRESS_BLOCKED',
      `connector ${o.connector}: ${host} is a cloud metadata endpoint; egress to it is refused`,
    )
  const answers = literal ? [normalizeAddress(host)] : await o.resolver(host)
  if (answers.length === 0)
    throw new PermanentError(
      'QLK_EGRESS_ADDRESS_BLOCKED',
      `connector ${o.connector}: ${host} resolved to nothing`,
    )
  for (const a of answers) {
    const cls = classify(a.address)
    if (cls === 'routable' || allowedExplicitly(o.explicit, a.address)) continue
    // The admin listed a loopback address (or localhost) itself: the simulators, a local sidecar.
    if (cls === 'loopback' && (literal || isLoopbackName(host))) continue
    throw new PermanentError(
      'QLK_EGRESS_ADDRESS_BLOCKED',
      `connector ${o.connector}: ${host} resolves to ${a.address} (${cls}); refused unless listed in egress.allowAddresses`,
    )
  }
  const first = answers[0]!
  return normalizeAddress(first.address)
}
