/**
 * A deliberately small XML reader/writer for IDoc-XML: elements, text and the SEGMENT/BEGIN
 * attributes; no namespaces, DTDs or mixed content, which IDoc-XML does not use. No XML package is
 * installed and IDoc-XML does not need one.
 */
export interface XmlElement {
  readonly name: string
  readonly attrs: Record<string, string>
  readonly children: XmlElement[]
  text: string
}

export class XmlError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decode(s: string): string {
  return s.replace(/&(#x?[0-9a-fA-F]+|\w+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16))
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)))
    return ENTITIES[e] ?? m
  })
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export function parseXml(input: string): XmlElement {
  const src = input.replace(/<\?xml[^?]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '')
  const root: XmlElement = { name: '#root', attrs: {}, children: [], text: '' }
  const stack: XmlElement[] = [root]
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:-]+\s*=\s*"[^"]*")*)\s*(\/?)>|([^<]+)/g
  let consumed = 0
  for (const m of src.matchAll(re)) {
    if (m.index !== consumed) throw new XmlError(`malformed XML near offset ${consumed}`)
    consumed = m.index + m[0].length
    const top = stack[stack.length - 1]!
    if (m[5] !== undefined) {
      if (m[5].trim()) top.text += decode(m[5])
      continue
    }
    const [, closing, name, rawAttrs, selfClosing] = m
    if (closing) {
      if (top.name !== name) throw new XmlError(`</${name}> closes <${top.name}>`)
      stack.pop()
      continue
    }
    const attrs: Record<string, string> = {}
    for (const a of (rawAttrs ?? '').matchAll(/([\w:-]+)\s*=\s*"([^"]*)"/g)) attrs[a[1]!] = decode(a[2]!)
    const el: XmlElement = { name: name!, attrs, children: [], text: '' }
    top.children.push(el)
    if (!selfClosing) stack.push(el)
  }
  if (consumed !== src.length) throw new XmlError(`malformed XML near offset ${consumed}`)
  if (stack.length !== 1) throw new XmlError(`unclosed <${stack[stack.length - 1]!.name}>`)
  if (root.children.length !== 1) throw new XmlError('expected exactly one root element')
  return root.children[0]!
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name)
}

export function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name)
}

/** Text of a direct child field, trimmed; '' when absent (IDoc fields are optional and blank-padded). */
export function field(el: XmlElement | undefined, name: string): string {
  return el ? (child(el, name)?.text ?? '').trim() : ''
}

/** Serialises `{ TAG: 'text' | nested | nested[] }`; segment elements get SEGMENT="1" like SAP writes. */
export type XmlTree = { [tag: string]: string | XmlTree | XmlTree[] }

export function toXml(tree: XmlTree, segment = false): string {
  return Object.entries(tree)
    .map(([tag, v]) => {
      if (typeof v === 'string') return `<${tag}>${escapeXml(v)}</${tag}>`
      const list = Array.isArray(v) ? v : [v]
      const attr =
        tag === 'IDOC'
          ? ' BEGIN="1"'
          : segment || tag.startsWith('E1') || tag === 'EDI_DC40'
            ? ' SEGMENT="1"'
            : ''
      return list.map((x) => `<${tag}${attr}>${toXml(x, true)}</${tag}>`).join('')
    })
    .join('')
}
