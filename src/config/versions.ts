/**
 * Change control, the pure part (docs/operations.md "Change control"): a configuration version is
 * the SHA-256 of the canonical JSON of the merged qualink.yaml (+ overlay), so key order and
 * formatting never make a new version; a diff lists changed paths with anything secret-looking
 * redacted; a canary takes one plant's settings from a newer version.
 */
import { canonicalJson, sha256Hex } from '../audit/canonical-json.ts'
import { seg } from './problems.ts'
import { SECRET_KEY } from './secrets.ts'

export interface ConfigVersionDoc {
  /** sha-256 (hex) of `canonical` */
  readonly hash: string
  readonly canonical: string
}

export function versionOf(config: unknown): ConfigVersionDoc {
  const canonical = canonicalJson(config)
  return { hash: sha256Hex(canonical), canonical }
}

export const REDACTED = '[redacted]'

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A leaf is secret when any key on its path names a secret, or it is a URL with credentials. */
function redact(path: readonly string[], v: unknown): unknown {
  if (path.some((k) => SECRET_KEY.test(k))) return REDACTED
  if (typeof v === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/\s]*@/i.test(v)) return REDACTED
  return v
}

function flatten(v: unknown, path: string[], out: Map<string, { raw: unknown; shown: unknown }>): void {
  if (isObject(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) if (x !== undefined) flatten(x, [...path, k], out)
    return
  }
  if (Array.isArray(v) && v.length > 0) {
    for (const [i, x] of v.entries()) flatten(x, [...path, String(i)], out)
    return
  }
  out.set(`/${path.map(seg).join('/')}`, { raw: v, shown: redact(path, v) })
}

export interface ConfigChange {
  /** JSON pointer of the changed leaf */
  readonly path: string
  readonly kind: 'added' | 'removed' | 'changed'
  readonly before?: unknown
  readonly after?: unknown
}

/** Leaf-level differences from `a` to `b`, sorted by path; secret values are shown as [redacted]. */
export function diffConfigs(a: unknown, b: unknown): ConfigChange[] {
  const fa = new Map<string, { raw: unknown; shown: unknown }>()
  const fb = new Map<string, { raw: unknown; shown: unknown }>()
  flatten(a, [], fa)
  flatten(b, [], fb)
  const out: ConfigChange[] = []
  // compared on the real values (a changed secret reference is a change), shown redacted
  for (const path of [...new Set([...fa.keys(), ...fb.keys()])].sort()) {
    const x = fa.get(path)
    const y = fb.get(path)
    if (x && !y) out.push({ path, kind: 'removed', before: x.shown })
    else if (!x && y) out.push({ path, kind: 'added', after: y.shown })
    else if (x && y && canonicalJson(x.raw) !== canonicalJson(y.raw))
      out.push({ path, kind: 'changed', before: x.shown, after: y.shown })
  }
  return out
}

/** One line per change: `~ /plants/P100/deadlines/usageDecision: "72h" → "48h"`. */
export function formatDiff(changes: readonly ConfigChange[]): string[] {
  const show = (v: unknown) => (v === REDACTED ? REDACTED : JSON.stringify(v))
  return changes.map((c) =>
    c.kind === 'added'
      ? `+ ${c.path}: ${show(c.after)}`
      : c.kind === 'removed'
        ? `- ${c.path}: ${show(c.before)}`
        : `~ ${c.path}: ${show(c.before)} → ${show(c.after)}`,
  )
}

/**
 * The running configuration while `canary` is being tried on `plant` only: everything from
 * `current`, except that plant's own settings and its per-plant workflow settings, which come from
 * `canary`, with any connector or ingress source that plant names there and `current` lacks.
 */
export function withCanaryPlant(current: unknown, canary: unknown, plant: string): unknown {
  if (!isObject(current) || !isObject(canary)) return current
  const out = structuredClone(current) as Record<string, Record<string, unknown> | undefined>
  const cPlants = (canary.plants ?? {}) as Record<string, Record<string, unknown>>
  const plantDoc = cPlants[plant]
  if (!plantDoc) return out
  out.plants = { ...(out.plants ?? {}), [plant]: structuredClone(plantDoc) }
  const cConnectors = (canary.connectors ?? {}) as Record<string, unknown>
  for (const role of ['erp', 'qms', 'notify', 'mesPublisher']) {
    const name = plantDoc[role]
    if (typeof name === 'string' && cConnectors[name] !== undefined) {
      out.connectors = { ...(out.connectors ?? {}), [name]: structuredClone(cConnectors[name]) }
      const allow = (canary.egress as { allowlist?: Record<string, unknown> } | undefined)?.allowlist?.[name]
      if (allow !== undefined) {
        const egress = (out.egress ?? { allowlist: {} }) as { allowlist: Record<string, unknown> }
        out.egress = { allowlist: { ...egress.allowlist, [name]: structuredClone(allow) } }
      }
    }
  }
  const cWorkflows = (canary.workflows ?? {}) as Record<string, { plants?: Record<string, unknown> }>
  const wf = { ...(out.workflows ?? {}) } as Record<string, { plants?: Record<string, unknown> }>
  for (const [name, w] of Object.entries(wf)) {
    const fromCanary = cWorkflows[name]?.plants?.[plant]
    const plants = { ...(w?.plants ?? {}) }
    if (fromCanary === undefined) delete plants[plant]
    else plants[plant] = structuredClone(fromCanary)
    wf[name] = { ...w, plants }
  }
  if (out.workflows) out.workflows = wf
  return out
}
