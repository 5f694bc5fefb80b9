/** Hand-written SOAP calls for the ECC simulator's tests and the docs' examples (no connector code). */

export async function soapCall(
  baseUrl: string,
  operation: string,
  inner: string,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${baseUrl}/sap/bc/soap/rfc`, {
    method: 'POST',
    headers: {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: `urn:sap-com:document:sap:rfc:functions:${operation}`,
    },
    body:
      `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"` +
      ` xmlns:urn="urn:sap-com:document:sap:rfc:functions"><soapenv:Header/><soapenv:Body>` +
      `<urn:${operation}>${inner}</urn:${operation}></soapenv:Body></soapenv:Envelope>`,
  })
  return { status: res.status, text: await res.text() }
}

/** A purchase-order goods receipt (101, GM_CODE 01) of `qty` into the batch, as MIGO posts it. */
export function goodsReceiptXml(
  material: string,
  batch: string,
  qty: string,
  uom = 'KG',
  plant = '1000',
): string {
  return (
    `<GOODSMVT_HEADER><PSTNG_DATE>2025-03-01</PSTNG_DATE><HEADER_TXT>GR ${batch}</HEADER_TXT></GOODSMVT_HEADER>` +
    `<GOODSMVT_CODE><GM_CODE>01</GM_CODE></GOODSMVT_CODE>` +
    `<GOODSMVT_ITEM><item><MATERIAL>${material}</MATERIAL><PLANT>${plant}</PLANT><STGE_LOC>0001</STGE_LOC>` +
    `<BATCH>${batch}</BATCH><MOVE_TYPE>101</MOVE_TYPE><PO_NUMBER>4500000017</PO_NUMBER><PO_ITEM>00010</PO_ITEM>` +
    `<ENTRY_QNT>${qty}</ENTRY_QNT><ENTRY_UOM>${uom}</ENTRY_UOM></item></GOODSMVT_ITEM>`
  )
}
