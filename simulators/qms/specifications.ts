/**
 * Inspection specifications pushed to the QMS (issue 8 item 5c): `PUT /specifications/:id` with a
 * `version` stores that version as current when it is newer; the same version again is a no-op
 * (200), an older one is refused with 409 STALE_VERSION naming the current version, so a plan
 * delivered out of order never replaces a newer one. `GET /specifications/:id` answers the current
 * version and the versions seen; `GET /specifications?plant=&material=` lists the current ones. `puts` counts accepted changes (tests count effects).
 */
import type { Router } from '../shared/http.ts'
import { qmsError } from './errors.ts'

export interface Specification {
  readonly id: string
  version: number
  plant: string
  material: string
  route?: string
  supplier?: string
  characteristics: unknown[]
  versions: number[]
  updatedAt: string
}

export function registerSpecificationRoutes(
  router: Router,
  specs: Map<string, Specification>,
  now: () => string,
  counts: { puts: number },
): void {
  // the current specifications, filtered by any of plant, material, supplier and route
  router.on('GET', /^\/api\/v1\/specifications$/, (req) => {
    const f = ['plant', 'material', 'supplier', 'route'] as const
    const items = [...specs.values()].filter((s) =>
      f.every((k) => !req.query.has(k) || (s[k] ?? '') === req.query.get(k)),
    )
    return { status: 200, body: { items, total: items.length } }
  })
  router.on('GET', /^\/api\/v1\/specifications\/([^/]+)$/, (req) => {
    const s = specs.get(decodeURIComponent(req.params[0]!))
    if (!s) throw qmsError(404, 'NOT_FOUND', `specification ${req.params[0]} not found`)
    return { status: 200, body: s }
  })
  router.on('PUT', /^\/api\/v1\/specifications\/([^/]+)$/, (req) => {
    const id = decodeURIComponent(req.params[0]!)
    const b = req.json() as Record<string, unknown>
    const version = b.version
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
      throw qmsError(400, 'FIELD_INVALID', 'version must be a positive integer', 'version')
    if (typeof b.material !== 'string' || b.material === '')
      throw qmsError(400, 'FIELD_REQUIRED', 'material is required', 'material')
    if (!Array.isArray(b.characteristics) || b.characteristics.length === 0)
      throw qmsError(400, 'FIELD_REQUIRED', 'characteristics are required', 'characteristics')
    const cur = specs.get(id)
    if (cur && version < cur.version)
      throw qmsError(409, 'STALE_VERSION', `specification ${id} is at version ${cur.version}`, 'version')
    if (cur && version === cur.version) return { status: 200, body: cur }
    const s: Specification = {
      id,
      version,
      plant: String(b.plant ?? ''),
      material: b.material,
      ...(typeof b.route === 'string' ? { route: b.route } : {}),
      ...(typeof b.supplier === 'string' ? { supplier: b.supplier } : {}),
      characteristics: b.characteristics,
      versions: [...(cur?.versions ?? []), version],
      updatedAt: now(),
    }
    specs.set(id, s)
    counts.puts++
    return { status: cur ? 200 : 201, body: s }
  })
}
