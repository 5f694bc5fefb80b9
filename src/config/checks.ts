/**
 * What the schema alone cannot say: references between sections (a plant's ERP names a
 * connector of kind erp/…), each connector's config against its own schema, its targets against
 * the admin-owned allowlist, and each workflow's merged per-plant settings against the
 * workflow's schema. Written over the raw document so that one run reports every problem, even
 * where the schema already found others.
 */
import { EgressAllowlist, originKey } from '../connectors/sdk/allowlist.ts'
import type { FieldProblem } from '../contracts/errors.ts'
import { isLatency } from '../observability/slo.ts'
import { encryptionProblems } from '../security/encryption-config.ts'
import { retentionDocProblems } from '../security/retention.ts'
import { CONNECTORS, OPCUA_TRANSLATOR, type SystemRole, TRANSLATORS, WORKFLOWS } from './kinds.ts'
import { seg, unique, validate } from './problems.ts'
import type { PlantConfig } from './schema.ts'
import { opcUaProblems } from './schema-opcua.ts'

type Obj = Record<string, unknown>
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const entries = (v: unknown): [string, Obj][] =>
  isObject(v) ? (Object.entries(v).filter(([, x]) => isObject(x)) as [string, Obj][]) : []

/** the connector kinds offering each feed `ingress.feeds` polls (`reads`, default goods-receipts) */
export const FEED_CONNECTOR_KINDS: Readonly<Record<string, readonly string[]>> = {
  'goods-receipts': ['erp/sap-s4'],
  'inspection-plans': ['erp/sap-s4', 'erp/erpnext'],
}
const SOURCE_SECTIONS = ['webhooks', 'mqtt', 'opcua', 'fileDrops', 'nats', 'amqp', 'feeds'] as const

/** Deep merge for environment overlays: objects merge, anything else is replaced, `null` removes. */
export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (!isObject(base) || !isObject(overlay)) return overlay === undefined ? base : overlay
  const out: Obj = { ...base }
  for (const [k, v] of Object.entries(overlay)) {
    if (v === null) delete out[k]
    else out[k] = deepMerge(base[k], v)
  }
  return out
}

function pointer(v: unknown, p: string): unknown {
  let cur = v
  for (const s of p.split('/').slice(1)) {
    if (!isObject(cur)) return undefined
    cur = cur[s.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return cur
}

function checkConnectors(doc: Obj, out: FieldProblem[]): void {
  const allow = isObject(doc.egress) && isObject(doc.egress.allowlist) ? doc.egress.allowlist : {}
  const connectors = isObject(doc.connectors) ? doc.connectors : {}
  for (const name of Object.keys(allow))
    if (!Object.hasOwn(connectors, name))
      out.push({ path: `/egress/allowlist/${seg(name)}`, message: `references unknown connector '${name}'` })
  for (const [name, c] of entries(connectors)) {
    const kind = typeof c.kind === 'string' ? CONNECTORS[c.kind] : undefined
    if (!kind || !isObject(c.config)) continue
    const at = `/connectors/${seg(name)}/config`
    const config = structuredClone(c.config)
    const bad = validate(kind.connector.configSchema, config, at)
    out.push(...bad)
    if (bad.length === 0 && kind.configProblems)
      for (const p of kind.configProblems(config)) out.push({ path: `${at}${p.path}`, message: p.message })
    // a connector's own inbound folder belongs to a plant like any ingress source
    const inbound = isObject(config.inbound) ? config.inbound : undefined
    const plants = isObject(doc.plants) ? doc.plants : {}
    if (typeof inbound?.plant === 'string' && !Object.hasOwn(plants, inbound.plant))
      out.push({ path: `${at}/inbound/plant`, message: `references unknown plant '${inbound.plant}'` })
    const list = Array.isArray(allow[name]) ? (allow[name] as unknown[]) : []
    const origins: string[] = []
    const addresses = allowAddressesOf(doc, name, out)
    list.forEach((entry, i) => {
      try {
        new EgressAllowlist([String(entry)], { allowAddresses: addresses })
        origins.push(String(entry))
      } catch (e) {
        out.push({ path: `/egress/allowlist/${seg(name)}/${i}`, message: (e as Error).message })
      }
    })
    if (bad.length > 0) continue
    let targets: readonly string[]
    try {
      targets = kind.connector.targets(config)
    } catch {
      // targets that come from the environment (a notify webhook URL) are checked at start
      continue
    }
    const allowed = new EgressAllowlist(origins, { allowAddresses: addresses })
    for (const t of targets) {
      if (allowed.allows(new URL(t))) continue
      const field = config.baseUrl === t ? '/baseUrl' : config.url === t ? '/url' : ''
      out.push({
        path: `${at}${field}`,
        // URL.origin is 'null' for mqtt:// (not a WHATWG special scheme): show scheme://host:port
        message: `${new URL(t).origin === 'null' ? originKey(new URL(t)) : new URL(t).origin} is not on the egress allowlist (egress.allowlist.${name}: ${origins.join(', ') || 'none'})`,
      })
    }
  }
}

/** `egress.allowAddresses.<connector>` when every entry parses (each bad one is a problem) */
function allowAddressesOf(doc: Obj, name: string, out: FieldProblem[]): string[] {
  const all = isObject(doc.egress) && isObject(doc.egress.allowAddresses) ? doc.egress.allowAddresses : {}
  const list = Array.isArray(all[name]) ? (all[name] as unknown[]).map(String) : []
  try {
    new EgressAllowlist([], { allowAddresses: list })
    return list
  } catch (e) {
    out.push({ path: `/egress/allowAddresses/${seg(name)}`, message: (e as Error).message })
    return []
  }
}

interface Source {
  readonly section: string
  readonly plant: unknown
  readonly role: SystemRole | undefined
}

function checkSources(doc: Obj, plants: Obj, out: FieldProblem[]): Map<string, Source> {
  const sources = new Map<string, Source>()
  const ingress = isObject(doc.ingress) ? doc.ingress : {}
  for (const section of SOURCE_SECTIONS) {
    for (const [name, s] of entries(ingress[section])) {
      const at = `/ingress/${section}/${seg(name)}`
      const other = sources.get(name)
      if (other)
        out.push({ path: at, message: `source name '${name}' is also used under ingress.${other.section}` })
      // an OPC UA source has one translator, so it names none
      const translator = section === 'opcua' ? OPCUA_TRANSLATOR : s.translator
      const role = TRANSLATORS.find((t) => t.name === translator)?.role
      sources.set(name, { section, plant: s.plant, role })
      if (typeof s.plant === 'string' && !Object.hasOwn(plants, s.plant))
        out.push({ path: `${at}/plant`, message: `references unknown plant '${s.plant}'` })
      if (section === 'feeds' && typeof s.connector === 'string') {
        const c = (isObject(doc.connectors) ? doc.connectors : {})[s.connector]
        if (!isObject(c))
          out.push({ path: `${at}/connector`, message: `references unknown connector '${s.connector}'` })
        else {
          const reads = typeof s.reads === 'string' ? s.reads : 'goods-receipts'
          const kinds = FEED_CONNECTOR_KINDS[reads]
          if (kinds && !kinds.includes(String(c.kind)))
            out.push({
              path: `${at}/connector`,
              message: `connector '${s.connector}' is ${String(c.kind)}; only ${kinds.join(' or ')} offers a ${reads} feed`,
            })
        }
      }
      // A webhook nobody signs is a door anyone on the network can post through: say so explicitly.
      if (section === 'webhooks') {
        const signed = Array.isArray(s.secrets) && s.secrets.length > 0
        if (!signed && s.unsigned !== true)
          out.push({
            path: `${at}/secrets`,
            message:
              'required: deliveries must be signed (HMAC); set unsigned: true only for a source that cannot sign',
          })
        if (signed && s.unsigned === true)
          out.push({
            path: `${at}/unsigned`,
            message: 'contradicts secrets: a signed source is not unsigned',
          })
      }
      if (section === 'opcua') out.push(...opcUaProblems(s, at))
      if (typeof s.pattern === 'string') {
        try {
          new RegExp(s.pattern)
        } catch (e) {
          out.push({ path: `${at}/pattern`, message: `not a regular expression: ${(e as Error).message}` })
        }
      }
    }
  }
  return sources
}

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

function checkPlants(doc: Obj, plants: Obj, sources: Map<string, Source>, out: FieldProblem[]): void {
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

/** Whether the ERP connector's kind offers an optional ErpPort action (false only when the kind is known to lack it). */
function erpCan(erp: unknown, action: string): boolean {
  if (!isObject(erp) || typeof erp.kind !== 'string' || !CONNECTORS[erp.kind]) return true // reported elsewhere
  return (CONNECTORS[erp.kind]!.connector.actions as readonly string[]).includes(action)
}

function checkWorkflows(doc: Obj, plants: Obj, out: FieldProblem[]): void {
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
function checkSlos(doc: Obj, plants: Obj, out: FieldProblem[]): void {
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

/** Every cross-section problem of a (merged) document. */
export function semanticProblems(doc: unknown): FieldProblem[] {
  if (!isObject(doc)) return []
  const out: FieldProblem[] = []
  const plants = isObject(doc.plants) ? doc.plants : {}
  checkConnectors(doc, out)
  const sources = checkSources(doc, plants, out)
  for (const [name, c] of entries(doc.connectors))
    if (isObject(c.config) && isObject(c.config.inbound) && sources.has(name))
      out.push({
        path: `/connectors/${seg(name)}/config/inbound`,
        message: `its raw deliveries are stored as source '${name}', which ingress.${sources.get(name)!.section} also names`,
      })
  checkPlants(doc, plants, sources, out)
  checkWorkflows(doc, plants, out)
  checkSlos(doc, plants, out)
  out.push(...encryptionProblems(isObject(doc.security) ? doc.security.encryption : undefined))
  out.push(...retentionDocProblems(doc.retention, Object.keys(plants)))
  return unique(out)
}
