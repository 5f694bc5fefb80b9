import { QualinkError } from '../contracts/errors.ts'
import { type XrefKey, type XrefResolver, xrefMissing } from './xref.ts'

/**
 * Identity mapping at the edges, one mechanism for every translator (ingress: the system's code →
 * enterprise id) and every egress port (enterprise id → the target system's code). Which object
 * kinds a system numbers its own way, and what happens to a code without a mapping, is configured
 * per plant and per source or connector (qualink.yaml `plants.<code>.idMapping.<name>`).
 */
export const MAPPED_ENTITIES = ['material', 'supplier', 'lot', 'customer'] as const
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
    const key: XrefKey = { system: settings.system, entityType: entity, externalCode: code, plant }
    const id = await xref.resolve(key)
    if (id !== undefined) return id
    if (settings.unknown === 'pass') return code
    throw xrefMissing(key, field)
  }
}

/** The target system's code for an enterprise id (egress), per the settings; identity without settings. */
export function outboundIds(xref: XrefRef, settings: IdMappingSettings | undefined, plant: string): MapId {
  if (!settings || settings.entities.length === 0) return identity
  return async (entity, id, field) => {
    if (!settings.entities.includes(entity)) return id
    const resolver = xref.current
    if (!resolver)
      throw new QualinkError('QLK_CONFIG_INVALID', 'identity mapping is configured but no store is bound', [
        { path: field, message: 'the identity map is not available in this process' },
      ])
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
