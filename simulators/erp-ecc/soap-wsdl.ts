/**
 * The function modules the ECC simulator's SOAP face offers, and the WSDL 1.1 document that
 * describes them (document/literal wrapped, as SAP's /sap/bc/soap/wsdl11 generates for RFCs:
 * namespace urn:sap-com:document:sap:rfc:functions, answer element `<FM>.Response`, table
 * parameters as sequences of `item`).
 *
 * Parameter names of BAPI_GOODSMVT_CREATE are SAP's (GOODSMVT_HEADER, GOODSMVT_CODE, TESTRUN,
 * GOODSMVT_ITEM, RETURN; exports GOODSMVT_HEADRET, MATERIALDOCUMENT, MATDOCUMENTYEAR) [S]
 * (copyneto/abap-zmm zfmmm_goodsmvt_create.abap and christianguenter2/ABAP_DEMO
 * z_test_bapi_goodsmovement.prog.abap, which show the interface). The inspection-lot BAPIs follow
 * quality-domain.md §1.3 (BAPI_INSPLOT_SETUSAGEDECISION [V]); their structure fields here are the
 * simulator's choice [U], except BAPI_INSPLOT_GETLIST and GETDETAIL's STOCK_DATA and
 * MATERIAL_DOCUMENTS, which are SAP's (soap-insplot.ts names the source). Z_BATCH_STOCK_READ stands for the customer RFC an ECC landscape writes
 * to read batch stock per stock type (table MCHB: CLABS unrestricted, CINSM quality inspection,
 * CSPEM blocked), since no standard BAPI returns it.
 */
export interface SoapOperation {
  readonly input: readonly string[]
  readonly output: readonly string[]
}

export const SOAP_OPERATIONS: Readonly<Record<string, SoapOperation>> = {
  BAPI_INSPLOT_GETDETAIL: {
    input: ['NUMBER', 'LANGUAGE'],
    output: ['GENERAL_DATA', 'STOCK_DATA', 'USAGEDECISION_DATA', 'MATERIAL_DOCUMENTS', 'RETURN'],
  },
  BAPI_INSPLOT_GETLIST: {
    input: [
      'PLANT',
      'MATERIAL',
      'BATCH',
      'MAT_DOC',
      'PO_NUMBER',
      'VENDOR',
      'STATUS_CREATED',
      'STATUS_RELEASED',
      'STATUS_UD',
      'MAX_ROWS',
      'INSPLOT_LIST',
    ],
    output: ['INSPLOT_LIST', 'RETURN'],
  },
  BAPI_INSPLOT_SETUSAGEDECISION: {
    input: ['NUMBER', 'UD_DATA', 'LANGUAGE'],
    output: ['UD_RETURN_DATA', 'RETURN'],
  },
  BAPI_GOODSMVT_CREATE: {
    input: ['GOODSMVT_HEADER', 'GOODSMVT_CODE', 'TESTRUN', 'GOODSMVT_ITEM', 'RETURN'],
    output: ['GOODSMVT_HEADRET', 'MATERIALDOCUMENT', 'MATDOCUMENTYEAR', 'GOODSMVT_ITEM', 'RETURN'],
  },
  BAPI_GOODSMVT_GETITEMS: {
    input: [
      'MATERIAL_RA',
      'PLANT_RA',
      'BATCH_RA',
      'MOVE_TYPE_RA',
      'GOODSMVT_HEADER',
      'GOODSMVT_ITEMS',
      'RETURN',
    ],
    output: ['GOODSMVT_HEADER', 'GOODSMVT_ITEMS', 'RETURN'],
  },
  Z_BATCH_STOCK_READ: {
    input: ['MATERIAL', 'PLANT', 'BATCH'],
    output: ['STOCK', 'RETURN'],
  },
}

export const RFC_NS = 'urn:sap-com:document:sap:rfc:functions'

/** Where an operation is called: one port per function module, as the simulator lays it out [U]. */
export function operationPath(name: string): string {
  return `/sap/bc/soap/rfc/sap/${name}`
}

const seq = (names: readonly string[]) =>
  names.map((n) => `<xsd:element name="${n}" type="xsd:anyType" minOccurs="0"/>`).join('')

/** WSDL 1.1 for `names` (each a key of SOAP_OPERATIONS), addressed at `baseUrl`. */
export function wsdlFor(names: readonly string[], baseUrl: string): string {
  const ops = names.map((n) => [n, SOAP_OPERATIONS[n]!] as const)
  const types = ops
    .map(
      ([n, o]) =>
        `<xsd:element name="${n}"><xsd:complexType><xsd:sequence>${seq(o.input)}</xsd:sequence></xsd:complexType></xsd:element>` +
        `<xsd:element name="${n}.Response"><xsd:complexType><xsd:sequence>${seq(o.output)}</xsd:sequence></xsd:complexType></xsd:element>`,
    )
    .join('')
  const messages = ops
    .map(
      ([n]) =>
        `<wsdl:message name="${n}Input"><wsdl:part name="parameters" element="s0:${n}"/></wsdl:message>` +
        `<wsdl:message name="${n}Output"><wsdl:part name="parameters" element="s0:${n}.Response"/></wsdl:message>`,
    )
    .join('')
  const portTypes = ops
    .map(
      ([n]) =>
        `<wsdl:portType name="${n}PortType"><wsdl:operation name="${n}">` +
        `<wsdl:input message="s0:${n}Input"/><wsdl:output message="s0:${n}Output"/></wsdl:operation></wsdl:portType>`,
    )
    .join('')
  const bindings = ops
    .map(
      ([n]) =>
        `<wsdl:binding name="${n}Binding" type="s0:${n}PortType">` +
        `<soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>` +
        `<wsdl:operation name="${n}"><soap:operation soapAction="${RFC_NS}:${n}" style="document"/>` +
        `<wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>` +
        `</wsdl:operation></wsdl:binding>`,
    )
    .join('')
  const ports = ops
    .map(
      ([n]) =>
        `<wsdl:port name="${n}PortType" binding="s0:${n}Binding"><soap:address location="${baseUrl}${operationPath(n)}"/></wsdl:port>`,
    )
    .join('')
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"` +
    ` xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:s0="${RFC_NS}" targetNamespace="${RFC_NS}">` +
    `<wsdl:types><xsd:schema elementFormDefault="unqualified" targetNamespace="${RFC_NS}">${types}</xsd:schema></wsdl:types>` +
    `${messages}${portTypes}${bindings}<wsdl:service name="ECC_RFC_SOAP">${ports}</wsdl:service></wsdl:definitions>`
  )
}
