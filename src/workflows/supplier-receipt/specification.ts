import type { QmsPort, SpecificationRef } from '../ports/qms.ts'

/**
 * The specification a lot is inspected against, of those the QMS holds for its material: the
 * most specific scope that fits wins — material and supplier (and route), then material and route,
 * then the material alone. A specification limited to another supplier or another route never
 * fits. Two of equal rank (two plans for one scope) are told apart by id, so the pick is the same
 * on every read.
 */
export function mostSpecific(
  specs: readonly SpecificationRef[],
  scope: { readonly supplier?: string; readonly route?: string },
): SpecificationRef | null {
  const fits = specs.filter(
    (s) =>
      (s.supplier === undefined || s.supplier === scope.supplier) &&
      (s.route === undefined || s.route === scope.route),
  )
  const rank = (s: SpecificationRef) => (s.supplier !== undefined ? 2 : 0) + (s.route !== undefined ? 1 : 0)
  const sorted = [...fits].sort((a, b) => rank(b) - rank(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return sorted[0] ?? null
}

/**
 * The QMS's current specification for a receipt's lot (plant, material, supplier), or null when
 * the QMS holds none or cannot list them. Called inside the step that creates the lot, so the
 * revision the lot names is journaled with it.
 */
export async function currentSpecification(
  qms: QmsPort,
  lot: { readonly plant: string; readonly material: string; readonly supplier?: string },
): Promise<{ readonly id: string; readonly version: number } | null> {
  if (!qms.listSpecifications) return null
  const specs = await qms.listSpecifications({ plant: lot.plant, material: lot.material })
  const pick = mostSpecific(specs, { supplier: lot.supplier })
  return pick ? { id: pick.id, version: pick.version } : null
}
