import { QualinkError } from '../contracts/errors.ts'
import { DISPOSITION_CODES } from '../model/nonconformance.ts'

export type TaxonomyKind = 'defect' | 'disposition'

/**
 * Per-plant map from a plant's local codes (its QMS catalog codes, SAP code group + code, …) to
 * enterprise codes. Plants disagree on codes; the enterprise code is what rules, reports and
 * scorecards compare.
 */
export interface Taxonomy {
  readonly kind: TaxonomyKind
  readonly enterpriseCodes: ReadonlySet<string>
  readonly plants: ReadonlyMap<string, ReadonlyMap<string, string>>
}

export interface TaxonomyDefinition {
  readonly kind: TaxonomyKind
  /** Enterprise codes; for dispositions defaults to the canonical DISPOSITION_CODES. */
  readonly enterpriseCodes?: readonly string[]
  /** plant → local code → enterprise code */
  readonly plants: Readonly<Record<string, Readonly<Record<string, string>>>>
}

/** Validates the whole table up front, so a bad mapping fails at configuration load, not mid-flow. */
export function defineTaxonomy(def: TaxonomyDefinition): Taxonomy {
  const codes = new Set(def.enterpriseCodes ?? (def.kind === 'disposition' ? DISPOSITION_CODES : []))
  if (codes.size === 0) {
    throw new QualinkError('QLK_CONFIG_INVALID', `${def.kind} taxonomy has no enterprise codes`, [
      { path: '/enterpriseCodes', message: 'must list at least one enterprise code' },
    ])
  }
  const problems = Object.entries(def.plants).flatMap(([plant, map]) =>
    Object.entries(map)
      .filter(([, enterprise]) => !codes.has(enterprise))
      .map(([local, enterprise]) => ({
        path: `/plants/${plant}/${local}`,
        message: `maps to '${enterprise}', which is not an enterprise ${def.kind} code`,
      })),
  )
  if (problems.length > 0) {
    throw new QualinkError(
      'QLK_CONFIG_INVALID',
      `${def.kind} taxonomy has ${problems.length} invalid mapping(s)`,
      problems,
    )
  }
  const plants = new Map(Object.entries(def.plants).map(([p, m]) => [p, new Map(Object.entries(m))] as const))
  return { kind: def.kind, enterpriseCodes: codes, plants }
}

/**
 * Local → enterprise. An enterprise code passes through unchanged. A missing mapping is
 * QLK_XREF_MISSING (retryable): the event parks until someone adds the mapping, it is not dropped.
 */
export function toEnterpriseCode(tax: Taxonomy, plant: string, localCode: string, field = 'code'): string {
  const mapped = tax.plants.get(plant)?.get(localCode)
  if (mapped !== undefined) return mapped
  if (tax.enterpriseCodes.has(localCode)) return localCode
  throw new QualinkError(
    'QLK_XREF_MISSING',
    `plant ${plant} has no ${tax.kind} code mapping for '${localCode}'`,
    [
      {
        path: field,
        message: `local ${tax.kind} code '${localCode}' of plant ${plant} is not mapped to an enterprise code`,
      },
    ],
  )
}

/** Enterprise → the plant's local codes (several locals may share one enterprise code). */
export function toLocalCodes(tax: Taxonomy, plant: string, enterpriseCode: string): string[] {
  const map = tax.plants.get(plant)
  if (!map) return []
  return [...map].filter(([, e]) => e === enterpriseCode).map(([l]) => l)
}
