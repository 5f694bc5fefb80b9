import { QualinkError } from '../contracts/errors.ts'
import { type XrefKey, type XrefResolver, xrefMissing } from './xref.ts'

/**
 * Identity mapping at the edges, one mechanism for every translator (ingress: the system's code →
 * enterprise id) and every egress port (enterprise id → the target system's code). Which object
 * kinds a system numbers its own way, and what happens to a code without a mapping, is configured
 * per plant and per source or connector (qualink.yaml `plants.<code>.idMapping.<name>`).
 */
export const MAPPED_ENTITIES = ['material', 'supplier', 'lot', 'customer', 'plant'] as const
export type MappedEntity = (typeof MAPPED_ENTITIES)[number]

export interface IdMappingSettings {
  /** the xref `system` the codes belong to (default: the source's or connector's name) */
  readonly system: string
  /** the kinds of id this system numbers its own way; others pass unchanged */
  readonly entities: readonly MappedEntity[]
  /**
   * A code without a mapping: `reject` (ingress parks the delivery with QLK_XREF_MISSING naming the
   * field, resumed when the mapping is added; egress fails the call with the same code before
   * anything is sent) or `pass` (the code is taken unchanged).
   */
  readonly unknown: 'reject' | 'pass'
  /**
   * The system's plant codes declared in qualink.yaml (`idMapping.<name>.plants`): external code →
   * Qualink plant, consulted before the xref table (entity `plant`). One code per Qualink plant,
   * so egress finds the code of a plant without ambiguity (checked when the file is loaded).
   */
  readonly plants?: Readonly<Record<string, string>>
}

/** Maps one id of one kind; `field` is the JSON pointer named when the mapping is missing. */
export type MapId = (entity: MappedEntity, code: string, field: string) => Promise<string>

/** Where egress ports find the identity map: bound to the store when Qualink starts. */
export interface XrefRef {
  current?: XrefResolver
}

const identity: MapId = async (_entity, code) => code

/** The enterprise id of a system's code (ingress), per the settings; identity without settings. */
export function inboundIds(
  xref: XrefResolver,
  settings: IdMappingSettings | undefined,
  plant: string,
): MapId {
  if (!settings || settings.entities.length === 0) return identity
  return async (entity, code, field) => {
    if (!settings.entities.includes(entity)) return code
    if (entity === 'plant' && settings.plants && Object.hasOwn(settings.plants, code))
      return settings.plants[code]!
    const key: XrefKey = { system: settings.system, entityType: entity, externalCode: code, plant }
    const id = await xref.resolve(key)
    if (id !== undefined) return id
    if (settings.unknown === 'pass') return code
    throw xrefMissing(key, field)
  }
}

/**
 * inboundIds over the resolver bound when Qualink starts: an egress port reading a system's codes
 * back (a QMS lot's material and batch) gets enterprise ids by the same rule as ingress.
 */
export function inboundVia(xref: XrefRef, settings: IdMappingSettings | undefined, plant: string): MapId {
  if (!settings || settings.entities.length === 0) return identity
  return async (entity, code, field) => {
    if (!xref.current) throw unbound(field)
    return inboundIds(xref.current, settings, plant)(entity, code, field)
  }
}

const unbound = (field: string) =>
  new QualinkError('QLK_CONFIG_INVALID', 'identity mapping is configured but no store is bound', [
    { path: field, message: 'the identity map is not available in this process' },
  ])

/** The target system's code for an enterprise id (egress), per the settings; identity without settings. */
export function outboundIds(xref: XrefRef, settings: IdMappingSettings | undefined, plant: string): MapId {
  if (!settings || settings.entities.length === 0) return identity
  return async (entity, id, field) => {
    if (!settings.entities.includes(entity)) return id
    if (entity === 'plant') {
      const declared = Object.entries(settings.plants ?? {}).find(([, p]) => p === id)
      if (declared) return declared[0]
    }
    const resolver = xref.current
    if (!resolver) throw unbound(field)
    const code = await resolver.reverse(settings.system, entity, id, plant)
    if (code !== undefined) return code
    if (settings.unknown === 'pass') return id
    throw new QualinkError(
      'QLK_XREF_MISSING',
      `${field}: no ${settings.system} code for ${entity} '${id}' in plant ${plant}`,
      [
        {
          path: field,
          message: `${entity} '${id}' has no mapping to ${settings.system} in plant ${plant}; nothing was sent`,
        },
      ],
    )
  }
}

/** Maps an optional id: undefined stays undefined. */
export async function mapOptional(
  map: MapId,
  entity: MappedEntity,
  code: string | undefined,
  field: string,
): Promise<string | undefined> {
  return code === undefined || code === '' ? code : map(entity, code, field)
}

/**
 * The Qualink plant of the plant code a document of `source` carries (ingress): mapped through
 * the settings (entity `plant`), identity without them. A document of another plant than the
 * source's is refused (QLK_PLANT_MISMATCH naming `field`): routed by it, its run would reach the
 * other plant's connectors, and its lot would belong to a plant the source does not serve.
 */
export async function sourcePlant(
  map: MapId,
  code: string | undefined,
  at: { readonly plant: string; readonly source: string; readonly field: string },
): Promise<string> {
  if (code === undefined || code === '')
    throw new QualinkError('QLK_VALIDATION', `${at.field}: the document names no plant`, [
      { path: at.field, message: 'required: the plant code of the document' },
    ])
  const plant = await map('plant', code, at.field)
  if (plant === at.plant) return plant
  const why =
    plant === code
      ? `is not plant ${at.plant}, the plant of source ${at.source}, and no plant mapping gives it (plants.${at.plant}.idMapping.${at.source}: entities [plant], plants)`
      : `maps to plant ${plant}, not to ${at.plant}, the plant of source ${at.source}`
  throw new QualinkError('QLK_PLANT_MISMATCH', `${at.field}: plant '${code}' ${why}`, [
    { path: at.field, message: `plant '${code}' ${why}; nothing was stored` },
  ])
}
