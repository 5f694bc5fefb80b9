/**
 * The ECC simulator's SOAP face over real sockets, with hand-written envelopes: the WSDL, goods
 * movements that are never deduplicated, BAPI RETURN errors, SOAP faults for unreadable input,
 * the inspection lot a receipt opens and its one usage decision, the lot list (GETLIST) and its
 * stock data, stock per stock type.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ErpEccSim, startErpEcc } from './server.ts'
import { goodsReceiptXml, soapCall } from './soap-test-calls.ts'

let sim: ErpEccSim

beforeEach(async () => {
  sim = await startErpEcc({ port: 0, materials: { 'RAW-100': { inspectionRelevant: true, baseUnit: 'KG' } } })
})
afterEach(async () => {
  await sim.close()
})

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]

const ud = (code: string) =>
  `<NUMBER>010000000001</NUMBER><UD_DATA><UD_CODE_GROUP>01</UD_CODE_GROUP><UD_CODE>${code}</UD_CODE><UD_TEXT_LINE>QMS-7 &amp; co</UD_TEXT_LINE></UD_DATA><LANGUAGE>EN</LANGUAGE>`

describe('erp-ecc SOAP face', () => {
  it('serves a WSDL 1.1 document for the offered function modules, filtered by ?services=', async () => {
    const all = await (await fetch(`${sim.url}/sap/bc/soap/wsdl11`)).text()
    expect(all).toContain('<wsdl:definitions')
    for (const op of ['BAPI_GOODSMVT_CREATE', 'BAPI_GOODSMVT_GETITEMS', 'BAPI_INSPLOT_SETUSAGEDECISION'])
      expect(all).toContain(`<wsdl:operation name="${op}">`)
    expect(all).toContain(`location="${sim.url}/sap/bc/soap/rfc/sap/BAPI_GOODSMVT_CREATE"`)
    const one = await (await fetch(`${sim.url}/sap/bc/soap/wsdl?services=BAPI_GOODSMVT_CREATE`)).text()
    expect(one).toContain('name="BAPI_GOODSMVT_CREATE"')
    expect(one).not.toContain('BAPI_INSPLOT')
  })

  it('a receipt opens an inspection lot; a repeated goods movement makes a second document', async () => {
    const first = await soapCall(sim.url, 'BAPI_GOODSMVT_CREATE', goodsReceiptXml('RAW-100', 'B1', '100'))
    expect(first.status).toBe(200)
    expect(first.text).toContain('BAPI_GOODSMVT_CREATE.Response')
    expect(tag(first.text, 'MATERIALDOCUMENT')).toMatch(/^49\d{8}$/)
    const second = await soapCall(sim.url, 'BAPI_GOODSMVT_CREATE', goodsReceiptXml('RAW-100', 'B1', '100'))
    expect(tag(second.text, 'MATERIALDOCUMENT')).not.toBe(tag(first.text, 'MATERIALDOCUMENT'))
    expect(sim.state.materialDocuments).toHaveLength(2)
    expect(sim.state.inspectionLots.map((l) => l.number)).toEqual(['010000000001', '010000000002'])
    expect(sim.state.stock[0]!.buckets.qi).toBe(200_000)
    const items = await soapCall(
      sim.url,
      'BAPI_GOODSMVT_GETITEMS',
      '<BATCH_RA><item><SIGN>I</SIGN><OPTION>EQ</OPTION><LOW>B1</LOW></item></BATCH_RA>',
    )
    expect(items.text.match(/<HEADER_TXT>GR B1<\/HEADER_TXT>/g)).toHaveLength(2)
  })

  it('records one usage decision per lot; the second is refused with QA 094 in RETURN', async () => {
    await soapCall(sim.url, 'BAPI_GOODSMVT_CREATE', goodsReceiptXml('RAW-100', 'B1', '100'))
    const ok = await soapCall(sim.url, 'BAPI_INSPLOT_SETUSAGEDECISION', ud('A1'))
    expect(ok.status).toBe(200)
    expect(ok.text).not.toContain('<TYPE>E</TYPE>')
    const again = await soapCall(sim.url, 'BAPI_INSPLOT_SETUSAGEDECISION', ud('R1'))
    expect(again.status).toBe(200)
    expect(again.text).toContain('<TYPE>E</TYPE><ID>QA</ID><NUMBER>094</NUMBER>')
    expect(sim.state.inspectionLots[0]).toMatchObject({ udCode: 'A1', text: 'QMS-7 & co' })
    const detail = await soapCall(sim.url, 'BAPI_INSPLOT_GETDETAIL', '<NUMBER>010000000001</NUMBER>')
    expect(tag(detail.text, 'UD_CODE')).toBe('A1')
    expect(tag(detail.text, 'LOT_QTY')).toBe('100.000')
  })

  it('lists inspection lots (BAPI_INSPLOT_GETLIST) by plant and status, with their stock data in GETDETAIL', async () => {
    await soapCall(sim.url, 'BAPI_GOODSMVT_CREATE', goodsReceiptXml('RAW-100', 'B1', '100'))
    await soapCall(sim.url, 'BAPI_GOODSMVT_CREATE', goodsReceiptXml('RAW-100', 'B2', '40'))
    await soapCall(sim.url, 'BAPI_GOODSMVT_CREATE', goodsReceiptXml('RAW-100', 'B3', '5', 'KG', '2000'))
    await soapCall(sim.url, 'BAPI_INSPLOT_SETUSAGEDECISION', ud('A1'))
    const list = async (inner: string) => {
      const r = await soapCall(sim.url, 'BAPI_INSPLOT_GETLIST', inner)
      expect(r.status).toBe(200)
      return [...r.text.matchAll(/<INSPLOT>(\d+)<\/INSPLOT>/g)].map((m) => m[1])
    }
    expect(await list('<PLANT>1000</PLANT>')).toEqual(['010000000001', '010000000002'])
    expect(await list('<PLANT>1000</PLANT><STATUS_UD></STATUS_UD>')).toEqual(['010000000002'])
    expect(await list('<MAX_ROWS>1</MAX_ROWS>')).toEqual(['010000000001'])
    expect(await list('<BATCH>B3</BATCH>')).toEqual(['010000000003'])
    const row = await soapCall(sim.url, 'BAPI_INSPLOT_GETLIST', '<BATCH>B2</BATCH>')
    expect(tag(row.text, 'PO_NUMBER')).toBe('4500000017')
    expect(tag(row.text, 'MAT_DOC')).toMatch(/^49\d{8}$/)
    const detail = await soapCall(sim.url, 'BAPI_INSPLOT_GETDETAIL', '<NUMBER>010000000002</NUMBER>')
    expect([tag(detail.text, 'INSPLOT_SIZE'), tag(detail.text, 'QUANTITY_TO_BE_POSTED')]).toEqual([
      '40.000',
      '40.000',
    ])
    expect(tag(detail.text, 'DOC_YEAR')).toMatch(/^\d{4}$/)
  })

  it('answers a business error in RETURN and posts nothing; unreadable input is a SOAP fault', async () => {
    const deficit = await soapCall(
      sim.url,
      'BAPI_GOODSMVT_CREATE',
      '<GOODSMVT_CODE><GM_CODE>04</GM_CODE></GOODSMVT_CODE><GOODSMVT_ITEM><item><MATERIAL>RAW-100</MATERIAL>' +
        '<PLANT>1000</PLANT><BATCH>B9</BATCH><MOVE_TYPE>344</MOVE_TYPE><ENTRY_QNT>5</ENTRY_QNT></item></GOODSMVT_ITEM>',
    )
    expect(deficit.status).toBe(200)
    expect(deficit.text).toMatch(/<TYPE>E<\/TYPE><ID>M7<\/ID><NUMBER>021<\/NUMBER><MESSAGE>Deficit/)
    expect(sim.state.materialDocuments).toHaveLength(0)
    const noCode = await soapCall(sim.url, 'BAPI_GOODSMVT_CREATE', '<GOODSMVT_ITEM/>')
    expect(noCode.status).toBe(500)
    expect(noCode.text).toContain('<faultcode>soap-env:Client</faultcode>')
    expect(noCode.text).toContain('GOODSMVT_CODE-GM_CODE is required')
    expect(noCode.text).toMatch(/<RETURN><item><TYPE>E<\/TYPE>/)
    const unknown = await soapCall(sim.url, 'BAPI_NOT_THERE', '')
    expect(unknown.status).toBe(500)
    expect(unknown.text).toContain('FU_NOT_FOUND')
    const notSoap = await fetch(`${sim.url}/sap/bc/soap/rfc`, { method: 'POST', body: '<a><b></a>' })
    expect(notSoap.status).toBe(500)
  })

  it('reads batch stock per stock type (MCHB-style CLABS / CINSM / CSPEM)', async () => {
    await soapCall(sim.url, 'BAPI_GOODSMVT_CREATE', goodsReceiptXml('RAW-100', 'B1', '100'))
    const r = await soapCall(
      sim.url,
      'Z_BATCH_STOCK_READ',
      '<MATERIAL>RAW-100</MATERIAL><PLANT>1000</PLANT><BATCH>B1</BATCH>',
    )
    expect([tag(r.text, 'CLABS'), tag(r.text, 'CINSM'), tag(r.text, 'CSPEM')]).toEqual([
      '0.000',
      '100.000',
      '0.000',
    ])
  })

  it('offers only the configured function modules, in the WSDL and on call', async () => {
    const old = await startErpEcc({ port: 0, soap: { operations: ['BAPI_GOODSMVT_CREATE'] } })
    try {
      const wsdl = await (await fetch(`${old.url}/sap/bc/soap/wsdl11`)).text()
      expect(wsdl).not.toContain('Z_BATCH_STOCK_READ')
      const r = await soapCall(old.url, 'Z_BATCH_STOCK_READ', '<MATERIAL>X</MATERIAL>')
      expect(r.status).toBe(500)
      expect(r.text).toContain('FU_NOT_FOUND')
    } finally {
      await old.close()
    }
  })
})
