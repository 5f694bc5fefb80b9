/**
 * SOAP 1.1 over SAP's RFC SOAP handler, pure (no I/O): the request envelope for one function
 * module, the answer's export parameters and BAPI RETURN messages, SOAP faults, and what a WSDL 1.1
 * document offers (operations, their input/output parameters, the endpoint and SOAPAction).
 *
 * SAP's RFC SOAP service (SICF /sap/bc/soap/rfc, WSDL from /sap/bc/soap/wsdl11?services=…) names the
 * body element after the function module in namespace urn:sap-com:document:sap:rfc:functions, the
 * answer `<FM>.Response`, parameters as unqualified child elements and table rows as `<item>` [S]
 * (SAP-generated RFC proxies in public code declare types in that namespace, e.g.
 * praveen4students/hmh_backup enterprise-web-services-camel). BAPIs report errors in their RETURN
 * table (BAPIRET2: TYPE S/I/W/E/A, ID, NUMBER, MESSAGE) rather than as exceptions [S]
 * (copyneto/abap-zmm zfmmm_goodsmvt_create.abap reads RETURN after BAPI_GOODSMVT_CREATE).
 */
import { child, children, localRef, parseXml, text, toXml, type XmlNode, type XmlTree } from './xml.ts'

export const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/'
export const RFC_NS = 'urn:sap-com:document:sap:rfc:functions'
const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/'
const XSD_NS = 'http://www.w3.org/2001/XMLSchema'
const WSDL_SOAP_NS = 'http://schemas.xmlsoap.org/wsdl/soap/'

/** One BAPIRET2 row. */
export interface BapiMessage {
  /** S success, I info, W warning, E error, A abort */
  readonly type: string
  readonly id: string
  readonly number: string
  readonly message: string
}

export type SoapAnswer =
  | { readonly kind: 'response'; readonly body: XmlNode; readonly messages: readonly BapiMessage[] }
  | {
      readonly kind: 'fault'
      readonly faultcode: string
      readonly faultstring: string
      readonly messages: readonly BapiMessage[]
    }

export function envelope(operation: string, params: XmlTree): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body>` +
    `<rfc:${operation} xmlns:rfc="${RFC_NS}">${toXml(params)}</rfc:${operation}>` +
    `</soap:Body></soap:Envelope>`
  )
}

function messagesUnder(el: XmlNode | undefined): BapiMessage[] {
  if (!el) return []
  const out: BapiMessage[] = []
  const visit = (n: XmlNode) => {
    if (n.local === 'RETURN') {
      // RETURN is a table (rows in <item>) or, for some BAPIs, one structure.
      const rows = children(n, 'item')
      for (const r of rows.length > 0 ? rows : [n]) {
        const type = text(r, 'TYPE')
        if (type)
          out.push({ type, id: text(r, 'ID'), number: text(r, 'NUMBER'), message: text(r, 'MESSAGE') })
      }
      return
    }
    n.children.forEach(visit)
  }
  visit(el)
  return out
}

/**
 * Reads an answer: the `<operation>.Response` element, or a SOAP Fault with any RETURN rows in
 * its detail. Throws (XmlError or Error) when the text is neither: the caller decides what that
 * means for the call.
 */
export function parseAnswer(xml: string, operation: string): SoapAnswer {
  const env = parseXml(xml)
  if (env.local !== 'Envelope' || env.ns !== SOAP_ENV)
    throw new Error(`answer is not a SOAP 1.1 envelope (<${env.name}>)`)
  const body = child(env, 'Body', SOAP_ENV)
  if (!body) throw new Error('SOAP envelope has no Body')
  const fault = child(body, 'Fault', SOAP_ENV)
  if (fault)
    return {
      kind: 'fault',
      faultcode: text(fault, 'faultcode'),
      faultstring: text(fault, 'faultstring'),
      messages: messagesUnder(child(fault, 'detail')),
    }
  const res = child(body, `${operation}.Response`)
  if (!res) throw new Error(`SOAP Body has no ${operation}.Response`)
  return { kind: 'response', body: res, messages: messagesUnder(res) }
}

/** The first E or A row: BAPI_TRANSACTION_COMMIT is not to follow, nothing was posted. */
export function firstError(messages: readonly BapiMessage[]): BapiMessage | undefined {
  return messages.find((m) => m.type === 'E' || m.type === 'A')
}

export function describe(m: BapiMessage): string {
  return `${m.type} ${m.id} ${m.number}: ${m.message}`.slice(0, 300)
}

/** Rows of a table parameter. */
export function rows(body: XmlNode, table: string): XmlNode[] {
  return children(child(body, table), 'item')
}

export interface WsdlOperation {
  readonly name: string
  readonly soapAction: string
  /** soap:address of the port whose binding has this operation */
  readonly location: string
  /** parameter element names of the input and output wrappers (document/literal wrapped) */
  readonly input: ReadonlySet<string>
  readonly output: ReadonlySet<string>
}

export interface Wsdl {
  readonly operations: ReadonlyMap<string, WsdlOperation>
}

/**
 * What a WSDL 1.1 document offers (WSDL 1.1 §2: types, message, portType, binding, service).
 * Message parts that name an element are resolved to that element's sequence in the schema, so a
 * document/literal "wrapped" operation yields its parameter names; type-based parts count as
 * parameters themselves.
 */
export function parseWsdl(xml: string): Wsdl {
  const defs = parseXml(xml)
  if (defs.local !== 'definitions' || defs.ns !== WSDL_NS)
    throw new Error(`not a WSDL 1.1 document (root <${defs.name}>)`)
  const elements = new Map<string, XmlNode>()
  for (const schema of children(child(defs, 'types', WSDL_NS), 'schema', XSD_NS))
    for (const el of children(schema, 'element', XSD_NS)) if (el.attrs.name) elements.set(el.attrs.name, el)
  const sequenceOf = (el: XmlNode | undefined): string[] => {
    const seq = child(child(el, 'complexType', XSD_NS), 'sequence', XSD_NS)
    return children(seq, 'element', XSD_NS).flatMap((e) => (e.attrs.name ? [e.attrs.name] : []))
  }
  const messages = new Map<string, Set<string>>()
  for (const msg of children(defs, 'message', WSDL_NS)) {
    const params = new Set<string>()
    for (const part of children(msg, 'part', WSDL_NS)) {
      if (part.attrs.element)
        for (const p of sequenceOf(elements.get(localRef(part.attrs.element)))) params.add(p)
      else if (part.attrs.name) params.add(part.attrs.name)
    }
    if (msg.attrs.name) messages.set(msg.attrs.name, params)
  }
  // binding → its ports' soap:address; an operation is called at the address of its binding's port
  const addresses = new Map<string, string>()
  for (const svc of children(defs, 'service', WSDL_NS))
    for (const port of children(svc, 'port', WSDL_NS)) {
      const address = child(port, 'address', WSDL_SOAP_NS)?.attrs.location
      const binding = localRef(port.attrs.binding)
      if (address && !addresses.has(binding)) addresses.set(binding, address)
    }
  const actions = new Map<string, { soapAction: string; location: string | undefined }>()
  for (const binding of children(defs, 'binding', WSDL_NS))
    for (const op of children(binding, 'operation', WSDL_NS)) {
      const soapOp = child(op, 'operation', WSDL_SOAP_NS)
      if (op.attrs.name && soapOp && !actions.has(op.attrs.name))
        actions.set(op.attrs.name, {
          soapAction: soapOp.attrs.soapAction ?? '',
          location: addresses.get(binding.attrs.name ?? ''),
        })
    }
  const operations = new Map<string, WsdlOperation>()
  for (const pt of children(defs, 'portType', WSDL_NS))
    for (const op of children(pt, 'operation', WSDL_NS)) {
      const name = op.attrs.name
      const bound = name ? actions.get(name) : undefined
      // an operation without a SOAP binding and address cannot be called
      if (!name || !bound?.location) continue
      operations.set(name, {
        name,
        soapAction: bound.soapAction,
        location: bound.location,
        input: messages.get(localRef(child(op, 'input', WSDL_NS)?.attrs.message)) ?? new Set(),
        output: messages.get(localRef(child(op, 'output', WSDL_NS)?.attrs.message)) ?? new Set(),
      })
    }
  return { operations }
}

/** What the connector needs of one operation: the parameters it sends and the ones it reads. */
export interface NeededOperation {
  readonly input: readonly string[]
  readonly output: readonly string[]
}

/** Everything `needs` names that the WSDL lacks, as readable phrases; empty when all is there. */
export function missingFromWsdl(wsdl: Wsdl, needs: Readonly<Record<string, NeededOperation>>): string[] {
  const out: string[] = []
  for (const [name, need] of Object.entries(needs)) {
    const op = wsdl.operations.get(name)
    if (!op) {
      out.push(`operation ${name}`)
      continue
    }
    for (const p of need.input) if (!op.input.has(p)) out.push(`input parameter ${name}.${p}`)
    for (const p of need.output) if (!op.output.has(p)) out.push(`output parameter ${name}.${p}`)
  }
  return out
}
