import type { FieldProblem } from '../contracts/errors.ts'
import { isLatency } from '../observability/slo.ts'
import { deepMerge, entries, erpCan, isObject, type Obj, pointer } from './check-doc.ts'
import { WORKFLOWS } from './kinds.ts'
import { seg, validate } from './problems.ts'
import type { PlantConfig } from './schema.ts'

/** Cross-section checks of workflows (merged per-plant settings) and SLOs. */

/** The settings one workflow runs with in one plant; paths of problems point at the layer that set them. */
export function workflowSettings(
  name: string,
  plant: string,
  plantConfig: PlantConfig,
  wf: { defaults?: Obj; plants?: Record<string, Obj> },
): { settings: unknown; problems: FieldProblem[] } {
  const def = WORKFLOWS[name]!
  const layers: Array<{ prefix: string; value: unknown }> = [
    { prefix: `/workflows/${name}/plants/${seg(plant)}`, value: wf.plants?.[plant] ?? {} },
    { prefix: `/plants/${seg(plant)}`, value: def.fromPlant?.(plantConfig) ?? {} },
    { prefix: `/workflows/${name}/defaults`, value: wf.defaults ?? {} },
  ]
  const settings = [...layers]
    .reverse()
    .reduce((acc, l) => deepMerge(acc, l.value), structuredClone(def.defaults))
  const problems: FieldProblem[] = []
  for (const pr of validate(def.settings, settings)) {
    const layer = layers.find((l) => pointer(l.value, pr.path) !== undefined) ?? layers[0]!
    // a value taken from the plant's own settings is reported by the plant's schema, at its real path
    if (layer === layers[1]) continue
    problems.push({ path: `${layer.prefix}${pr.path}`, message: pr.message })
  }
  return { settings, problems }
}

export function checkWorkflows(doc: Obj, plants: Obj, out: FieldProblem[]): void {
  const connectors = isObject(doc.connectors) ? doc.connectors : {}
  for (const [name, wf] of entries(doc.workflows)) {
    if (!WORKFLOWS[name]) continue
    for (const plant of Object.keys(isObject(wf.plants) ? wf.plants : {}))
      if (!Object.hasOwn(plants, plant))
        out.push({
          path: `/workflows/${name}/plants/${seg(plant)}`,
          message: `references unknown plant '${plant}'`,
        })
    if (wf.enabled === false) continue
    for (const [plant, p] of entries(plants)) {
      const { settings, problems } = workflowSettings(name, plant, p as PlantConfig, {
        defaults: isObject(wf.defaults) ? wf.defaults : undefined,
        plants: isObject(wf.plants) ? (wf.plants as Record<string, Obj>) : undefined,
      })
      out.push(...problems)
      // production confirmations need an ERP that takes them (erp/sap-s4 today)
      const confirm = (settings as { confirmToErp?: unknown } | undefined)?.confirmToErp
      const erp = typeof p.erp === 'string' ? connectors[p.erp] : undefined
      if (name === 'in-process-quality-check' && confirm === true && !erpCan(erp, 'confirmOperation')) {
        const perPlant =
          isObject(wf.plants) && isObject(wf.plants[plant]) && wf.plants[plant].confirmToErp === true
        out.push({
          path: perPlant
            ? `/workflows/${name}/plants/${seg(plant)}/confirmToErp`
            : `/workflows/${name}/defaults/confirmToErp`,
          message: `plant ${plant}'s ERP connector '${String(p.erp)}' (${String((erp as Obj).kind)}) cannot take production confirmations`,
        })
      }
      if (problems.length > 0) continue
      for (const role of WORKFLOWS[name]!.needsWhen?.(settings) ?? [])
        if (typeof p[role] !== 'string')
          out.push({
            path: `/plants/${seg(plant)}/${role}`,
            message: `required: workflow ${name} is enabled with settings that send through this plant's ${role} connector`,
          })
    }
  }
}

/** SLOs: a threshold of the indicator's kind, known plants, and a notify connector to send breaches to. */
export function checkSlos(doc: Obj, plants: Obj, out: FieldProblem[]): void {
  const slos = isObject(doc.slos) ? doc.slos : {}
  for (const [name, o] of entries(slos.objectives)) {
    const at = `/slos/objectives/${seg(name)}`
    if (typeof o.indicator !== 'string') continue
    const latency = isLatency(o.indicator)
    if (latency && typeof o.threshold === 'number')
      out.push({
        path: `${at}/threshold`,
        message: `must be a duration such as 30s or 4h for latency indicator '${o.indicator}'`,
      })
    if (!latency && typeof o.threshold === 'string')
      out.push({
        path: `${at}/threshold`,
        message: `must be a whole number (a count) for indicator '${o.indicator}'`,
      })
    if (!latency && o.quantile !== undefined)
      out.push({
        path: `${at}/quantile`,
        message: `applies to latency indicators only, not '${o.indicator}'`,
      })
    const covered = Array.isArray(o.plants)
      ? o.plants.filter((p) => typeof p === 'string')
      : Object.keys(plants)
    covered.forEach((plant, i) => {
      const p = plants[plant]
      if (!isObject(p))
        out.push({ path: `${at}/plants/${i}`, message: `references unknown plant '${plant}'` })
      else if (typeof p.notify !== 'string')
        out.push({
          path: Array.isArray(o.plants) ? `${at}/plants/${i}` : at,
          message: `plant '${plant}' has no notify connector (plants.${plant}.notify): SLO breaches are sent through it`,
        })
    })
  }
}
