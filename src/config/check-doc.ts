import { CONNECTORS } from './kinds.ts'

/** Helpers over the raw configuration document the cross-section checks (checks.ts) walk. */
export type Obj = Record<string, unknown>
export const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
export const entries = (v: unknown): [string, Obj][] =>
  isObject(v) ? (Object.entries(v).filter(([, x]) => isObject(x)) as [string, Obj][]) : []

/** Deep merge for environment overlays: objects merge, anything else is replaced, `null` removes. */
export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (!isObject(base) || !isObject(overlay)) return overlay === undefined ? base : overlay
  const out: Obj = { ...base }
  for (const [k, v] of Object.entries(overlay)) {
    if (v === null) delete out[k]
    else out[k] = deepMerge(base[k], v)
  }
  return out
}

export function pointer(v: unknown, p: string): unknown {
  let cur = v
  for (const s of p.split('/').slice(1)) {
    if (!isObject(cur)) return undefined
    cur = cur[s.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return cur
}

/** Whether the ERP connector's kind offers an optional ErpPort action (false only when the kind is known to lack it). */
export function erpCan(erp: unknown, action: string): boolean {
  if (!isObject(erp) || typeof erp.kind !== 'string' || !CONNECTORS[erp.kind]) return true // reported elsewhere
  return (CONNECTORS[erp.kind]!.connector.actions as readonly string[]).includes(action)
}
