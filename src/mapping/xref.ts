import { QualinkError } from '../contracts/errors.ts'

/**
 * Identity mapping: (system, entity type, external code, plant) ↔ enterprise id. The store keeps
 * the table (src/store, owned elsewhere); translation code depends only on this interface.
 */
export interface XrefKey {
  /** configured source system instance, e.g. `sap-p100`, `qms-cloud` */
  readonly system: string
  /** canonical object kind, e.g. `material`, `supplier`, `lot` */
  readonly entityType: string
  readonly externalCode: string
  readonly plant: string
}

export interface XrefRow extends XrefKey {
  readonly enterpriseId: string
}

export interface XrefResolver {
  /** The enterprise id, or undefined when no mapping exists yet. */
  resolve(key: XrefKey): Promise<string | undefined>
  /** The external code a system uses for an enterprise id (egress), or undefined. */
  reverse(
    system: string,
    entityType: string,
    enterpriseId: string,
    plant: string,
  ): Promise<string | undefined>
}

export function describeXrefKey(k: XrefKey): string {
  return `${k.system}/${k.entityType}/${k.externalCode}@${k.plant}`
}

/** The error that parks a delivery until the mapping is added (DESIGN §6); retryable by catalogue. */
export function xrefMissing(key: XrefKey, field = '/data'): QualinkError {
  return new QualinkError('QLK_XREF_MISSING', `no enterprise id for ${describeXrefKey(key)}`, [
    {
      path: field,
      message: `${key.entityType} '${key.externalCode}' from ${key.system} in plant ${key.plant} has no mapping`,
    },
  ])
}

/** Resolves or throws QLK_XREF_MISSING. */
export async function resolveOrPark(resolver: XrefResolver, key: XrefKey, field?: string): Promise<string> {
  const id = await resolver.resolve(key)
  if (id === undefined) throw xrefMissing(key, field)
  return id
}

/** An in-memory resolver for tests and simulators. Duplicate keys keep the last row. */
export function memoryXrefResolver(rows: readonly XrefRow[]): XrefResolver {
  const fwd = new Map(
    rows.map((r) => [JSON.stringify([r.system, r.entityType, r.externalCode, r.plant]), r.enterpriseId]),
  )
  const rev = new Map(
    rows.map((r) => [JSON.stringify([r.system, r.entityType, r.enterpriseId, r.plant]), r.externalCode]),
  )
  return {
    resolve: async (k) => fwd.get(JSON.stringify([k.system, k.entityType, k.externalCode, k.plant])),
    reverse: async (system, entityType, enterpriseId, plant) =>
      rev.get(JSON.stringify([system, entityType, enterpriseId, plant])),
  }
}
