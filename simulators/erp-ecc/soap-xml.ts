/**
 * XML for the ECC simulator's SOAP face: elements with namespace prefixes resolved to URIs,
 * attributes in either quote, text, CDATA, comments; DTDs refused. Simulators do not import src/
 * (docs/simulators.md), so this is the simulator's own copy of the small reader the erp/sap-ecc-soap
 * connector uses; the simulator tests (soap.test.ts) write their envelopes by hand.
 */
export interface XmlNode {
  /** qualified name as written, e.g. `soap:Envelope` */
  readonly name: string
  readonly local: string
  /** namespace URI of the element's prefix ('' when unqualified and no default namespace) */
  readonly ns: string
  readonly attrs: Readonly<Record<string, string>>
  readonly children: XmlNode[]
  text: string
}

export class XmlError extends Error {
  override readonly name = 'XmlError'
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16))
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)))
    const v = ENTITIES[e]
    if (v === undefined) throw new XmlError(`unknown entity ${m}`)
    return v
  })
}

/** Escapes text and attribute values (both quotes, so either attribute quote is safe). */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

const NAME = '[A-Za-z_][\\w.-]*(?::[A-Za-z_][\\w.-]*)?'
const TOKEN = new RegExp(
  `<!--[\\s\\S]*?-->|<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|<\\?xml[\\s\\S]*?\\?>|<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"]*"|'[^']*'))*)\\s*(/?)>|([^<]+)`,
  'g',
)
const ATTR = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'g')

interface Frame {
  readonly node: XmlNode
  readonly scope: ReadonlyMap<string, string>
}

/** Parses one well-formed document; throws XmlError naming the offset of the first problem. */
export function parseXml(input: string): XmlNode {
  const src = input.replace(/^\uFEFF/, '')
  if (/<!DOCTYPE|<!ENTITY/i.test(src)) throw new XmlError('DTDs are not allowed')
  const root: XmlNode = { name: '#root', local: '#root', ns: '', attrs: {}, children: [], text: '' }
  const stack: Frame[] = [{ node: root, scope: new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]) }]
  let consumed = 0
  for (const m of src.matchAll(TOKEN)) {
    if (m.index !== consumed) throw new XmlError(`malformed XML near offset ${consumed}`)
    consumed = m.index + m[0].length
    const top = stack[stack.length - 1]!
    if (m[1] !== undefined) {
      top.node.text += m[1]
      continue
    }
    if (m[6] !== undefined) {
      if (m[6].trim()) top.node.text += decode(m[6])
      continue
    }
    const [, , closing, name, rawAttrs, selfClosing] = m
    if (name === undefined) continue // comment or XML declaration
    if (closing) {
      if (top.node.name !== name) throw new XmlError(`</${name}> closes <${top.node.name}>`)
      stack.pop()
      continue
    }
    const attrs: Record<string, string> = {}
    const scope = new Map(top.scope)
    for (const a of (rawAttrs ?? '').matchAll(ATTR)) {
      const value = decode(a[2] ?? a[3] ?? '')
      attrs[a[1]!] = value
      if (a[1] === 'xmlns') scope.set('', value)
      else if (a[1]!.startsWith('xmlns:')) scope.set(a[1]!.slice(6), value)
    }
    const colon = name!.indexOf(':')
    const prefix = colon < 0 ? '' : name!.slice(0, colon)
    const ns = scope.get(prefix)
    if (prefix && ns === undefined) throw new XmlError(`prefix ${prefix} of <${name}> is not declared`)
    const node: XmlNode = {
      name: name!,
      local: name!.slice(colon + 1),
      ns: ns ?? '',
      attrs,
      children: [],
      text: '',
    }
    top.node.children.push(node)
    if (!selfClosing) stack.push({ node, scope })
  }
  if (consumed !== src.length) throw new XmlError(`malformed XML near offset ${consumed}`)
  if (stack.length !== 1) throw new XmlError(`unclosed <${stack[stack.length - 1]!.node.name}>`)
  const elements = root.children
  if (elements.length !== 1) throw new XmlError('expected exactly one root element')
  return elements[0]!
}

/** First child with this local name (and namespace, when given). */
export function child(el: XmlNode | undefined, local: string, ns?: string): XmlNode | undefined {
  return el?.children.find((c) => c.local === local && (ns === undefined || c.ns === ns))
}

export function children(el: XmlNode | undefined, local: string, ns?: string): XmlNode[] {
  return el ? el.children.filter((c) => c.local === local && (ns === undefined || c.ns === ns)) : []
}

/** Trimmed text of a direct child; '' when absent (RFC fields are blank-padded and optional). */
export function text(el: XmlNode | undefined, local: string): string {
  return (child(el, local)?.text ?? '').trim()
}

/** Attribute value with the prefix stripped (WSDL `message="tns:X"` → `X`). */
export function localRef(v: string | undefined): string {
  return (v ?? '').replace(/^[^:]*:/, '')
}

/**
 * `{ TAG: 'text' | nested | nested[] }` in insertion order, unqualified, as SAP's RFC SOAP writes
 * the parameters inside the qualified function element.
 */
export type XmlTree = { readonly [tag: string]: string | XmlTree | readonly XmlTree[] }

export function toXml(tree: XmlTree): string {
  return Object.entries(tree)
    .map(([tag, v]) => {
      if (typeof v === 'string') return `<${tag}>${escapeXml(v)}</${tag}>`
      if (Array.isArray(v))
        return `<${tag}>${(v as XmlTree[]).map((x) => `<item>${toXml(x)}</item>`).join('')}</${tag}>`
      return `<${tag}>${toXml(v as XmlTree)}</${tag}>`
    })
    .join('')
}

/** Rows of an RFC table parameter (`<TABLE><item>…</item></TABLE>`). */
export function rows(body: XmlNode, table: string): XmlNode[] {
  return children(child(body, table), 'item')
}
