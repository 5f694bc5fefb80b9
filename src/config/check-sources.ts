import { EgressAllowlist, originKey } from '../connectors/sdk/allowlist.ts'
import type { FieldProblem } from '../contracts/errors.ts'
import { entries, isObject, type Obj } from './check-doc.ts'
import { CONNECTORS, OPCUA_TRANSLATOR, type SystemRole, TRANSLATORS } from './kinds.ts'
import { seg, validate } from './problems.ts'
import { opcUaProblems } from './schema-opcua.ts'

/** Cross-section checks of connectors (config, egress allowlist) and ingress sources. */

/** the connector kinds offering each feed `ingress.feeds` polls (`reads`, default goods-receipts) */
export const FEED_CONNECTOR_KINDS: Readonly<Record<string, readonly string[]>> = {
  'goods-receipts': ['erp/sap-s4'],
  'inspection-plans': ['erp/sap-s4', 'erp/erpnext'],
}
const SOURCE_SECTIONS = ['webhooks', 'mqtt', 'opcua', 'fileDrops', 'nats', 'amqp', 'feeds'] as const

export function checkConnectors(doc: Obj, out: FieldProblem[]): void {
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

export interface Source {
  readonly section: string
  readonly plant: unknown
  readonly role: SystemRole | undefined
}

export function checkSources(doc: Obj, plants: Obj, out: FieldProblem[]): Map<string, Source> {
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
