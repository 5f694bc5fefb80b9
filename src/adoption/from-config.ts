/**
 * `qualink adopt` against a configuration: the plant's ERP and QMS connectors as qualink.yaml
 * builds them (buildRuntime, secrets read from the environment), checked to offer the adoption
 * reads before anything is read, and read through the plant's identity mapping
 * (`plants.<p>.idMapping.<connector>`, the settings the runtime's mapped ports use) so the events
 * carry enterprise ids. The xref table lives in the store, which the server owns: the caller
 * supplies it (`xref`; the CLI reads it through the API, cli/commands/adopt.ts).
 */
import { buildRuntime } from '../config/build-runtime.ts'
import { idMappingSettings } from '../config/id-mapping-settings.ts'
import type { LoadedConfig } from '../config/load.ts'
import { seg } from '../config/problems.ts'
import { type FieldProblem, QualinkError } from '../contracts/errors.ts'
import type { IdMappingSettings } from '../mapping/id-mapping.ts'
import { memoryXrefResolver, type XrefResolver } from '../mapping/xref.ts'
import { hasAdoptionErp, hasAdoptionQms } from '../workflows/ports/adoption.ts'
import { mappedAdoptionErpPort, mappedAdoptionQmsPort } from '../workflows/ports/mapped-adoption.ts'
import { type AdoptionReport, type AppendEvents, runAdoption } from './adopt.ts'

/** What an ERP connector without the adoption reads lacks for them (docs/workflows.md "Go-live adoption"). */
const WHY_NOT: Readonly<Record<string, string>> = {
  'erp/sap-ecc-idoc':
    'it only sends goods-movement IDocs and reads their status IDocs; ECC over IDoc offers no inspection-lot or production-order read',
}

export interface AdoptOptions {
  readonly plant: string
  readonly actor: string
  readonly dryRun: boolean
  readonly append: AppendEvents
  readonly erpPlant?: string
  readonly env?: NodeJS.ProcessEnv
  readonly now?: Date
  /**
   * The identity map (the store's xref rows) of the given systems, asked for only when the plant
   * maps ids through xref rows; without it such a plant is refused before anything is read.
   */
  readonly xref?: (systems: readonly string[]) => Promise<XrefResolver>
}

/** Whether a mapping needs xref rows (a mapping of plant codes only is declared in the file). */
const needsRows = (m: IdMappingSettings | undefined) =>
  m?.entities.some((e) => e !== 'plant' || !m.plants) === true

export async function adoptFromConfig(loaded: LoadedConfig, o: AdoptOptions): Promise<AdoptionReport> {
  const p = loaded.config.plants[o.plant]
  const where = loaded.files.join(' + ')
  if (!p)
    throw new QualinkError('QLK_CONFIG_INVALID', `${where}: cannot adopt`, [
      {
        path: '--plant',
        message: `plant '${o.plant}' is not configured (configured: ${Object.keys(loaded.config.plants).join(', ')})`,
      },
    ])
  const rt = buildRuntime(loaded, o.env)
  const erp = rt.connectors[p.erp]
  const qms = rt.connectors[p.qms]
  const problems: FieldProblem[] = []
  if (!hasAdoptionErp(erp)) {
    const kind = loaded.config.connectors?.[p.erp]?.kind ?? 'unknown'
    problems.push({
      path: `/plants/${seg(o.plant)}/erp`,
      message: `connector '${p.erp}' (${kind}) cannot list open inspection lots and held production orders${WHY_NOT[kind] ? `: ${WHY_NOT[kind]}` : ''} (adoption reads erp/sap-s4, erp/erpnext and erp/sap-ecc-soap)`,
    })
  }
  if (!hasAdoptionQms(qms))
    problems.push({
      path: `/plants/${seg(o.plant)}/qms`,
      message: `connector '${p.qms}' cannot list inspection lots and open nonconformances (adoption reads only qms/rest)`,
    })
  if (!hasAdoptionErp(erp) || !hasAdoptionQms(qms))
    throw new QualinkError('QLK_CONFIG_INVALID', `${where}: cannot adopt plant ${o.plant}`, problems)
  const erpIds = idMappingSettings(loaded.config, o.plant, p.erp)
  const qmsIds = idMappingSettings(loaded.config, o.plant, p.qms)
  const systems = [erpIds, qmsIds].filter(needsRows).map((m) => m!.system)
  if (systems.length > 0 && !o.xref)
    throw new QualinkError('QLK_CONFIG_INVALID', `${where}: cannot adopt plant ${o.plant}`, [
      {
        path: `/plants/${seg(o.plant)}/idMapping`,
        message: `plant ${o.plant} maps ids of ${systems.join(', ')} through the identity map, which this process cannot read`,
      },
    ])
  const xref = systems.length > 0 && o.xref ? await o.xref(systems) : memoryXrefResolver([])
  // the Qualink plants the same QMS serves: an open nonconformance must be shown to be this plant's
  const qmsPlants = Object.entries(loaded.config.plants)
    .filter(([, q]) => q.qms === p.qms)
    .map(([code]) => code)
  // without --erp-plant, the ERP's code of this plant as its plant mapping declares it
  const declared = Object.entries(p.idMapping?.[p.erp]?.plants ?? {}).find(([, q]) => q === o.plant)?.[0]
  const erpPlant = o.erpPlant ?? declared
  return runAdoption(
    {
      plant: o.plant,
      erp: mappedAdoptionErpPort(erp, xref, erpIds, o.plant),
      qms: mappedAdoptionQmsPort(qms, xref, qmsIds, o.plant),
      ...(qmsPlants.length > 1 ? { qmsPlants } : {}),
      actor: o.actor,
      now: o.now ?? new Date(),
      ...(erpPlant ? { erpPlant } : {}),
    },
    { dryRun: o.dryRun, append: o.append },
  )
}
