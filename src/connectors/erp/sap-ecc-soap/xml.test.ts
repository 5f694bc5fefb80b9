/** The small SOAP/WSDL XML reader and writer, and the SOAP answer reader on hand-written text. */
import { describe, expect, it } from 'vitest'
import { envelope, parseAnswer, parseWsdl } from './soap.ts'
import { child, escapeXml, parseXml, text, toXml, XmlError } from './xml.ts'

describe('sap-ecc-soap xml', () => {
  it('resolves prefixes to namespaces, whatever prefix the writer chose', () => {
    const a = parseXml('<s:E xmlns:s="urn:x"><s:B>1</s:B></s:E>')
    const b = parseXml(`<?xml version='1.0'?><E xmlns='urn:x'><!-- c --><B>1</B></E>`)
    for (const el of [a, b]) {
      expect(el).toMatchObject({ local: 'E', ns: 'urn:x' })
      expect(child(el, 'B', 'urn:x')?.text).toBe('1')
    }
    // an unprefixed child of a prefixed element is in no namespace
    expect(parseXml('<p:A xmlns:p="urn:p"><B/></p:A>').children[0]).toMatchObject({ local: 'B', ns: '' })
  })

  it('round-trips text that needs escaping, and reads entities, character references and CDATA', () => {
    const nasty = `a & b < c > "d" 'e' </X><Y>`
    const el = parseXml(`<R>${toXml({ T: nasty })}</R>`)
    expect(text(el, 'T')).toBe(nasty)
    expect(parseXml('<T>&#x41;&#66;&amp;<![CDATA[<raw> & ]]></T>').text).toBe('AB&<raw> & ')
    expect(escapeXml(`<'&">`)).toBe('&lt;&apos;&amp;&quot;&gt;')
  })

  it('writes RFC tables as <item> rows', () => {
    expect(toXml({ T: [{ A: '1' }, { A: '2' }], S: { B: 'x' } })).toBe(
      '<T><item><A>1</A></item><item><A>2</A></item></T><S><B>x</B></S>',
    )
  })

  it('refuses what is not well-formed, DTDs, undeclared prefixes and unknown entities', () => {
    for (const bad of [
      '<a><b></a>',
      '<a>',
      '<a/><b/>',
      'text',
      '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
      '<p:a/>',
      '<a>&nbsp;</a>',
      '<a b="1></a>',
    ])
      expect(() => parseXml(bad), bad).toThrow(XmlError)
  })
})

describe('sap-ecc-soap answers', () => {
  const wrap = (inner: string) =>
    `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>${inner}</e:Body></e:Envelope>`

  it('reads a response with its RETURN rows, and a fault with the rows in its detail', () => {
    const ok = parseAnswer(
      wrap(
        '<r:F.Response xmlns:r="urn:sap-com:document:sap:rfc:functions"><X>1</X><RETURN><item><TYPE>W</TYPE><ID>M7</ID><NUMBER>1</NUMBER><MESSAGE>w</MESSAGE></item></RETURN></r:F.Response>',
      ),
      'F',
    )
    expect(ok).toMatchObject({
      kind: 'response',
      messages: [{ type: 'W', id: 'M7', number: '1', message: 'w' }],
    })
    const fault = parseAnswer(
      wrap(
        '<e:Fault><faultcode>e:Client</faultcode><faultstring>bad</faultstring><detail><RETURN><item><TYPE>E</TYPE><ID>BAPI</ID><NUMBER>001</NUMBER><MESSAGE>m</MESSAGE></item></RETURN></detail></e:Fault>',
      ),
      'F',
    )
    expect(fault).toEqual({
      kind: 'fault',
      faultcode: 'e:Client',
      faultstring: 'bad',
      messages: [{ type: 'E', id: 'BAPI', number: '001', message: 'm' }],
    })
    expect(() => parseAnswer(wrap('<Other/>'), 'F')).toThrow(/no F.Response/)
    expect(() => parseAnswer('<Envelope/>', 'F')).toThrow(/not a SOAP 1.1 envelope/)
  })

  it('escapes values in the request envelope', () => {
    const xml = envelope('F', { A: '<x>&' })
    expect(xml).toContain('<A>&lt;x&gt;&amp;</A>')
    expect(text(child(child(parseXml(xml), 'Body'), 'F'), 'A')).toBe('<x>&')
  })

  it('drops a WSDL operation that has no SOAP binding address', () => {
    const w = parseWsdl(
      '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><portType name="P"><operation name="F"/></portType></definitions>',
    )
    expect(w.operations.size).toBe(0)
    expect(() => parseWsdl('<definitions/>')).toThrow(/not a WSDL 1.1 document/)
  })
})
