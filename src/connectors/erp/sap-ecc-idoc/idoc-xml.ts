/**
 * The little XML that IDoc-XML needs: elements, text, the SEGMENT/BEGIN attributes. IDoc-XML has
 * no namespaces, DTDs or mixed content, and no XML package is installed, so a small reader and
 * writer are enough. Pure: no I/O.
 */
export interface XmlElement {
  readonly name: string
  readonly children: XmlElement[]
  text: string
}

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

/** Parses one document; throws on anything that is not well-formed (a half-written file). */
export function parseXml(input: string): XmlElement {
  const src = input.replace(/<\?xml[^?]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '')
  const root: XmlElement = { name: '#root', children: [], text: '' }
  const stack: XmlElement[] = [root]
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:-]+\s*=\s*"[^"]*")*)\s*(\/?)>|([^<]+)/g
  let consumed = 0
  for (const m of src.matchAll(re)) {
    if (m.index !== consumed) throw new Error(`malformed XML near offset ${consumed}`)
    consumed = m.index + m[0].length
    const top = stack[stack.length - 1]!
    if (m[5] !== undefined) {
      if (m[5].trim()) top.text += decode(m[5])
      continue
    }
    const [, closing, name, , selfClosing] = m
    if (closing) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`)
      stack.pop()
      continue
    }
    const el: XmlElement = { name: name!, children: [], text: '' }
    top.children.push(el)
    if (!selfClosing) stack.push(el)
  }
  if (consumed !== src.length) throw new Error(`malformed XML near offset ${consumed}`)
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`)
  if (root.children.length !== 1) throw new Error('expected exactly one root element')
  return root.children[0]!
}

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name)
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : []
}

/** Text of a direct child field, trimmed; '' when absent (IDoc fields are optional and blank-padded). */
export function field(el: XmlElement | undefined, name: string): string {
  return (child(el, name)?.text ?? '').trim()
}

/** `{ TAG: 'text' | nested }` in insertion order; segments get SEGMENT="1" and IDOC BEGIN="1" as SAP writes them. */
export type XmlTree = { readonly [tag: string]: string | XmlTree }

export function toXml(tree: XmlTree): string {
  return Object.entries(tree)
    .map(([tag, v]) => {
      if (typeof v === 'string') return `<${tag}>${escapeXml(v)}</${tag}>`
      const attr =
        tag === 'IDOC' ? ' BEGIN="1"' : tag.startsWith('E1') || tag === 'EDI_DC40' ? ' SEGMENT="1"' : ''
      return `<${tag}${attr}>${toXml(v)}</${tag}>`
    })
    .join('')
}
