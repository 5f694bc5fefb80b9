/**
 * XML for the SOAP face. The simulator reuses the connector's small namespace-aware reader
 * (src/connectors/erp/sap-ecc-soap/xml.ts, pure, no I/O) rather than a second copy; the simulator
 * tests (erp-ecc-soap.test.ts) write their envelopes by hand, so a reader bug that both sides
 * shared would still show there.
 */
import { child, children, type XmlNode } from '../../src/connectors/erp/sap-ecc-soap/xml.ts'

export {
  child,
  escapeXml,
  parseXml,
  text,
  toXml,
  type XmlNode,
  type XmlTree,
} from '../../src/connectors/erp/sap-ecc-soap/xml.ts'

/** Rows of an RFC table parameter (`<TABLE><item>…</item></TABLE>`). */
export function rows(body: XmlNode, table: string): XmlNode[] {
  return children(child(body, table), 'item')
}
