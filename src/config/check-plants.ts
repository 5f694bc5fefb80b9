import type { FieldProblem } from '../contracts/errors.ts'
import { entries, erpCan, isObject, type Obj } from './check-doc.ts'
import type { Source } from './check-sources.ts'
import { CONNECTORS } from './kinds.ts'
import { seg } from './problems.ts'

/** Cross-section checks of plants: the connectors they name, their mappings, their sources. */

/**
 * A declared plant mapping (`idMapping.<name>.plants`): the kind is mapped (`plant` in entities),
 * each code names a configured plant, and no plant has two codes (egress must know which to send).
 */
function plantCodeProblems(m: Obj, at: string, plants: Obj): FieldProblem[] {
  if (!isObject(m.plants)) return []
  const out: FieldProblem[] = []
  if (Array.isArray(m.entities) && !m.entities.includes('plant'))
    out.push({ path: `${at}/entities`, message: "must include 'plant' when plants are declared" })
  const codeOf = new Map<unknown, string>()
  for (const [code, plant] of Object.entries(m.plants)) {
    if (typeof plant === 'string' && !Object.hasOwn(plants, plant))
      out.push({
        path: `${at}/plants/${seg(code)}`,
        message: `names plant '${plant}', which plants does not define (defined: ${Object.keys(plants).join(', ')})`,
      })
    const other = codeOf.get(plant)
    if (other !== undefined)
      out.push({
        path: `${at}/plants/${seg(code)}`,
        message: `plant '${String(plant)}' already has code '${other}': one code per plant`,
      })
    else codeOf.set(plant, code)
  }
  return out
}

export function checkPlants(doc: Obj, plants: Obj, sources: Map<string, Source>, out: FieldProblem[]): void {
  const connectors = isObject(doc.connectors) ? doc.connectors : {}
  for (const [code, p] of entries(plants)) {
    const at = `/plants/${seg(code)}`
    for (const [field, role] of [
      ['erp', 'erp'],
      ['qms', 'qms'],
      ['notify', 'notify'],
      ['mesPublisher', 'mes'],
      ['edi', 'edi'],
    ] as const) {
      const ref = p[field]
      if (typeof ref !== 'string') continue
      const c = connectors[ref]
      if (!isObject(c)) out.push({ path: `${at}/${field}`, message: `references unknown connector '${ref}'` })
      else if (typeof c.kind === 'string' && CONNECTORS[c.kind] && CONNECTORS[c.kind]!.role !== role)
        out.push({
          path: `${at}/${field}`,
          message: `connector '${ref}' is ${c.kind}, not a ${role} connector`,
        })
    }
    // a policy the plant's ERP connector cannot carry out is refused now, not dead-lettered later
    const erp = typeof p.erp === 'string' ? connectors[p.erp] : undefined
    const sq = isObject(p.supplierQuality) ? p.supplierQuality : {}
    if (sq.onCorrectiveAction === 'block-purchasing' && !erpCan(erp, 'setSupplierPurchasingBlock'))
      out.push({
        path: `${at}/supplierQuality/onCorrectiveAction`,
        message: `the plant's ERP connector '${String(p.erp)}' (${String((erp as Obj).kind)}) cannot set a supplier's purchasing block`,
      })
    for (const role of ['mes', 'lims', 'crm'] as const) {
      const ref = p[role]
      if (typeof ref !== 'string') continue
      const s = sources.get(ref)
      if (!s) out.push({ path: `${at}/${role}`, message: `references unknown ingress source '${ref}'` })
      else if (s.role !== undefined && s.role !== role)
        out.push({ path: `${at}/${role}`, message: `ingress source '${ref}' is not a ${role} source` })
      else if (s.plant !== code)
        out.push({
          path: `${at}/${role}`,
          message: `ingress source '${ref}' belongs to plant '${String(s.plant)}'`,
        })
    }
    // identity mapping names a connector of this plant or one of its ingress sources
    for (const [name, m] of Object.entries(isObject(p.idMapping) ? p.idMapping : {})) {
      if (isObject(m)) out.push(...plantCodeProblems(m, `${at}/idMapping/${seg(name)}`, plants))
      const s = sources.get(name)
      const usedBy = ['erp', 'qms', 'notify', 'edi'].some((r) => p[r] === name)
      if (s ? s.plant !== code : !usedBy)
        out.push({
          path: `${at}/idMapping/${seg(name)}`,
          message: s
            ? `ingress source '${name}' belongs to plant '${String(s.plant)}'`
            : `'${name}' is neither a connector of plant ${code} (erp, qms, notify) nor one of its ingress sources`,
        })
    }
    // a material names a group / family the plant defines (sampling per group, release per family)
    for (const [part, defined, what] of [
      ['sampling', 'materialGroups', 'material group'],
      ['release', 'productFamilies', 'product family'],
    ] as const) {
      const section = isObject(p[part]) ? p[part] : {}
      const known = isObject(section[defined]) ? section[defined] : {}
      for (const [material, name] of Object.entries(isObject(section.materials) ? section.materials : {}))
        if (typeof name === 'string' && !Object.hasOwn(known, name))
          out.push({
            path: `${at}/${part}/materials/${seg(material)}`,
            message: `names ${what} '${name}', which ${part}.${defined} does not define`,
          })
    }
    const spc = isObject(p.spc) ? p.spc : undefined
    if (spc && Array.isArray(spc.enabled)) {
      const prefix = spc.ruleSet === 'nelson' ? 'nelson-' : 'we-'
      spc.enabled.forEach((id, i) => {
        if (typeof id === 'string' && !id.startsWith(prefix))
          out.push({
            path: `${at}/spc/enabled/${i}`,
            message: `'${id}' is not a rule of ruleSet '${String(spc.ruleSet ?? 'western-electric')}'`,
          })
      })
    }
  }
}
