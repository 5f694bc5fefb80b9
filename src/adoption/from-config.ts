/**
 * `qualink adopt` against a configuration: the plant's ERP and QMS connectors as qualink.yaml
 * builds them (buildRuntime, secrets read from the environment), checked to offer the adoption
 * reads before anything is read.
 */
import { buildRuntime } from '../config/build-runtime.ts'
import type { LoadedConfig } from '../config/load.ts'
import { seg } from '../config/problems.ts'
import { type FieldProblem, QualinkError } from '../contracts/errors.ts'
import { hasAdoptionErp, hasAdoptionQms } from '../workflows/ports/adoption.ts'
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
}

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
  // without --erp-plant, the ERP's code of this plant as its plant mapping declares it
  const declared = Object.entries(p.idMapping?.[p.erp]?.plants ?? {}).find(([, q]) => q === o.plant)?.[0]
  const erpPlant = o.erpPlant ?? declared
  return runAdoption(
    {
      plant: o.plant,
      erp,
      qms,
      actor: o.actor,
      now: o.now ?? new Date(),
      ...(erpPlant ? { erpPlant } : {}),
    },
    { dryRun: o.dryRun, append: o.append },
  )
}
