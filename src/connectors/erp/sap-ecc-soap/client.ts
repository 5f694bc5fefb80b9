/**
 * One SOAP call of an ECC function module through the egress client, after the WSDL has shown
 * that the operation and the parameters the connector uses exist.
 *
 * The WSDL is read at first use and kept; a read that fails is tried again at the next call. An
 * operation or parameter that the WSDL lacks refuses with QLK_CONFIG_INVALID naming each missing
 * piece and the WSDL's address: the configured service cannot do what the connector needs, and
 * retrying will not change that. Calls go to the operation's soap:address path on the configured
 * origin (the WSDL may name the ICM's internal host; only the allowlisted baseUrl is called).
 *
 * Outcomes (SOAP 1.1 §6.2: a fault comes with HTTP 500):
 * - a response whose RETURN has an E or A row: nothing was posted → RemoteRejected (permanent),
 *   remoteCode `ID/NUMBER` (e.g. `QA/094`), so callers can tell "already made" from other errors;
 * - a Client fault: the request itself is wrong → RemoteRejected with the detail's RETURN row;
 * - a Server fault, a 500 that is not SOAP, any other 5xx, a lost answer: retryable, and ambiguous
 *   (the call may have been applied) → callers read back before sending again.
 */
import { PermanentError } from '../../../engine/errors.ts'
import type { EgressClient } from '../../sdk/egress.ts'
import { EgressFailure, RemoteRejected } from '../../sdk/http-errors.ts'
import type { SapEccSoapConfig } from './config.ts'
import {
  type BapiMessage,
  describe,
  envelope,
  firstError,
  missingFromWsdl,
  type NeededOperation,
  parseAnswer,
  parseWsdl,
  type Wsdl,
} from './soap.ts'
import type { XmlNode, XmlTree } from './xml.ts'

export const KIND = 'erp/sap-ecc-soap'

/** The function modules and parameters the connector sends and reads (docs/connectors.md). */
export const NEEDED: Readonly<Record<string, NeededOperation>> = {
  BAPI_INSPLOT_GETDETAIL: { input: ['NUMBER'], output: ['GENERAL_DATA', 'USAGEDECISION_DATA', 'RETURN'] },
  // adoption only (adoption.ts); GETDETAIL's STOCK_DATA and MATERIAL_DOCUMENTS are read there too
  BAPI_INSPLOT_GETLIST: {
    input: ['PLANT', 'STATUS_CREATED', 'STATUS_RELEASED', 'STATUS_UD', 'MAX_ROWS'],
    output: ['INSPLOT_LIST'],
  },
  BAPI_INSPLOT_SETUSAGEDECISION: { input: ['NUMBER', 'UD_DATA', 'LANGUAGE'], output: ['RETURN'] },
  BAPI_GOODSMVT_CREATE: {
    input: ['GOODSMVT_HEADER', 'GOODSMVT_CODE', 'GOODSMVT_ITEM'],
    output: ['MATERIALDOCUMENT', 'MATDOCUMENTYEAR', 'RETURN'],
  },
  BAPI_GOODSMVT_GETITEMS: {
    input: ['MATERIAL_RA', 'PLANT_RA', 'BATCH_RA'],
    output: ['GOODSMVT_HEADER', 'GOODSMVT_ITEMS', 'RETURN'],
  },
  Z_BATCH_STOCK_READ: { input: ['MATERIAL', 'PLANT', 'BATCH'], output: ['STOCK', 'RETURN'] },
}

export interface SoapResult {
  readonly body: XmlNode
  readonly messages: readonly BapiMessage[]
}

export class SoapClient {
  private wsdl: Promise<Wsdl> | undefined

  constructor(
    private readonly egress: EgressClient,
    private readonly config: SapEccSoapConfig,
    private readonly connectorName: string,
    private readonly authorization: string | undefined,
  ) {}

  private withClient(pathAndQuery: string): string {
    if (!this.config.sapClient) return `${this.config.baseUrl}${pathAndQuery}`
    const sep = pathAndQuery.includes('?') ? '&' : '?'
    return `${this.config.baseUrl}${pathAndQuery}${sep}sap-client=${this.config.sapClient}`
  }

  get wsdlUrl(): string {
    const p = this.config.wsdlPath
    return this.withClient(p.includes('?') ? p : `${p}?services=${Object.keys(NEEDED).join(',')}`)
  }

  private headers(): Record<string, string> {
    return this.authorization ? { authorization: this.authorization } : {}
  }

  private loadWsdl(traceparent?: string): Promise<Wsdl> {
    this.wsdl ??= (async () => {
      const res = await this.egress.request({
        method: 'GET',
        url: this.wsdlUrl,
        headers: { accept: 'text/xml, application/xml', ...this.headers() },
        traceparent,
        context: 'read the WSDL',
      })
      try {
        return parseWsdl(res.text)
      } catch (e) {
        // The configured wsdlPath points at something else: a person must fix the configuration.
        throw new PermanentError(
          'QLK_CONFIG_INVALID',
          `connector ${this.connectorName} (${KIND}): wsdlPath ${this.wsdlUrl} is not a usable WSDL 1.1 document: ${(e as Error).message}`,
        )
      }
    })()
    // A failed read is not kept: the next call reads again.
    this.wsdl.catch(() => {
      this.wsdl = undefined
    })
    return this.wsdl
  }

  /** Refuses, naming every missing piece, when the WSDL lacks `operation` or a parameter of it. */
  async check(operation: string, traceparent?: string): Promise<string> {
    const wsdl = await this.loadWsdl(traceparent)
    const missing = missingFromWsdl(wsdl, { [operation]: NEEDED[operation]! })
    if (missing.length > 0)
      throw new PermanentError(
        'QLK_CONFIG_INVALID',
        `connector ${this.connectorName} (${KIND}): the WSDL at ${this.wsdlUrl} lacks ${missing.join(', ')}; the ECC service must offer it (SOAMANAGER / SICF) before this connector can be used`,
      )
    const loc = new URL(wsdl.operations.get(operation)!.location, this.config.baseUrl)
    return this.withClient(`${loc.pathname}${loc.search}`)
  }

  async call(operation: string, params: XmlTree, context: string, traceparent?: string): Promise<SoapResult> {
    const url = await this.check(operation, traceparent)
    const wsdl = await this.loadWsdl(traceparent)
    const res = await this.egress.request({
      method: 'POST',
      url,
      body: { contentType: 'text/xml; charset=utf-8', text: envelope(operation, params) },
      headers: {
        accept: 'text/xml',
        soapaction: `"${wsdl.operations.get(operation)!.soapAction}"`,
        ...this.headers(),
      },
      accept: [500],
      traceparent,
      context: `${context} (${operation})`,
    })
    const where = `${this.connectorName}: ${context} (${operation})`
    let answer: ReturnType<typeof parseAnswer>
    try {
      answer = parseAnswer(res.text, operation)
    } catch (e) {
      throw new EgressFailure(
        res.status === 500 ? 'QLK_REMOTE_UNAVAILABLE' : 'QLK_REMOTE_INVALID_RESPONSE',
        `${where}: ${res.status} answer is not a SOAP response: ${(e as Error).message}; read back before retrying`,
        { ambiguous: true, status: res.status },
      )
    }
    if (answer.kind === 'fault') {
      const row = firstError(answer.messages) ?? answer.messages[0]
      const detail = `${answer.faultcode} ${answer.faultstring}${row ? ` [${describe(row)}]` : ''}`
      if (/(^|:)Server$/.test(answer.faultcode))
        throw new EgressFailure('QLK_REMOTE_UNAVAILABLE', `${where}: SOAP fault ${detail}`, {
          ambiguous: true,
          status: res.status,
        })
      throw new RemoteRejected(
        res.status,
        { code: row ? `${row.id}/${row.number}` : answer.faultcode, message: `SOAP fault ${detail}` },
        where,
      )
    }
    const err = firstError(answer.messages)
    if (err)
      throw new RemoteRejected(res.status, { code: `${err.id}/${err.number}`, message: describe(err) }, where)
    return { body: answer.body, messages: answer.messages }
  }
}
