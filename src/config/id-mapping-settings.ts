/**
 * A plant's identity-mapping settings for one source or connector, as qualink.yaml declares them
 * (`plants.<code>.idMapping.<name>`). One function, so the runtime's ports and translators and
 * `qualink adopt` read the same mapping the same way.
 */
import type { IdMappingSettings } from '../mapping/id-mapping.ts'
import type { QualinkConfig } from './schema.ts'

export function idMappingSettings(
  config: QualinkConfig,
  plant: string,
  name: string,
): IdMappingSettings | undefined {
  const m = config.plants[plant]?.idMapping?.[name]
  return (
    m && {
      system: m.system ?? name,
      entities: m.entities,
      unknown: m.unknown,
      ...(m.plants ? { plants: m.plants } : {}),
    }
  )
}
