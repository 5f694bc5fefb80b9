/**
 * erp/sap-ecc-soap: the ErpPort for a SAP ECC plant reached through SOAP calls of RFC function
 * modules (SICF /sap/bc/soap/rfc), driven by the service's WSDL (client.ts). Tested against the
 * SOAP face of simulators/erp-ecc (docs/simulators.md), which like ECC does not deduplicate.
 *
 * - recordUsageDecision: BAPI_INSPLOT_SETUSAGEDECISION on ECC's inspection lot (quality-domain.md
 *   §1.3). A lot holds one decision; ECC refuses a second ("already made", QA 094 style). That
 *   refusal, or an answer lost after sending, is settled by reading the lot (BAPI_INSPLOT_GETDETAIL):
 *   the same code there is success, another code a conflict for a person, none means not arrived.
 * - postStockDisposition: the split out of quality-inspection stock as goods movements
 *   (BAPI_GOODSMVT_CREATE), one material document per bucket, movement types as erp/sap-s4 and
 *   erp/sap-ecc-idoc map them (quality-domain.md §1.4 table: 321, 553, 331, 350, 350 to the
 *   reserves storage location, 309, 122).
 * - transferStock: one goods movement per transfer (movement types of sap-s4/mapping.ts).
 * - readLotStock: Z_BATCH_STOCK_READ (stock per stock type of the batch).
 * - `qualink adopt` reads the open goods-receipt inspection lots through adoption.ts
 *   (BAPI_INSPLOT_GETLIST, then GETDETAIL per lot).
 * Production-order hold and delivery block have no function module here and refuse with
 * QLK_VALIDATION naming the operation; a changed decision (QA12 in ECC) is not offered.
 */
import { PermanentError } from '../../../engine/errors.ts'
import type { AdoptionErpPort } from '../../../workflows/ports/adoption.ts'
import type { ErpPort, RecordUsageDecisionInput, StateChangeResult } from '../../../workflows/ports/erp.ts'
import { systemClock } from '../../sdk/clock.ts'
import { defineConnector } from '../../sdk/define-connector.ts'
import { EgressFailure, RemoteRejected } from '../../sdk/http-errors.ts'
import { connectorSecret } from '../../sdk/secrets.ts'
import { postInTurn, transferMovementFor, usageDecisionMovements, yyyymmdd } from '../sap-ecc-idoc/idocs.ts'
import { adoptionEcc } from './adoption.ts'
import { KIND, SoapClient } from './client.ts'
import { SapEccSoapConfig } from './config.ts'
import { type GoodsMovementItem, GoodsMovementPoster } from './goods-movements.ts'
import { child, text } from './xml.ts'

function unsupported(operation: string, why: string): never {
  throw new PermanentError('QLK_VALIDATION', `${KIND}: ${operation} is not available: ${why}`)
}

/** The lot's recorded usage-decision code ('' when none yet). */
async function decisionOf(soap: SoapClient, lot: string, traceparent?: string): Promise<string> {
  const r = await soap.call(
    'BAPI_INSPLOT_GETDETAIL',
    { NUMBER: lot },
    `read inspection lot ${lot}`,
    traceparent,
  )
  return text(child(r.body, 'USAGEDECISION_DATA'), 'UD_CODE')
}

async function recordUsageDecision(
  soap: SoapClient,
  language: string,
  input: RecordUsageDecisionInput,
): Promise<StateChangeResult> {
  const lot = input.inspectionLot
  const params = {
    NUMBER: lot,
    UD_DATA: {
      ...(input.plant ? { UD_PLANT: input.plant } : {}),
      UD_CODE_GROUP: input.codeGroup ?? '',
      UD_CODE: input.code,
      UD_RECORDED_BY_USER: (input.decidedBy ?? 'QUALINK').slice(0, 12),
      // The QMS lot, so a person in QA03 sees where the decision came from (CHAR 40).
      UD_TEXT_LINE: (input.reference ?? '').slice(0, 40),
    },
    LANGUAGE: language,
  }
  for (let round = 0; round < 3; round++) {
    let alreadyMade = false
    try {
      await soap.call(
        'BAPI_INSPLOT_SETUSAGEDECISION',
        params,
        `record usage decision of ${lot}`,
        input.traceparent,
      )
      return { changed: true }
    } catch (e) {
      alreadyMade = e instanceof RemoteRejected && e.remoteCode === 'QA/094'
      if (!(alreadyMade || (e instanceof EgressFailure && e.ambiguous))) throw e
    }
    // "Already made" counts as success only when the lot shows this very code.
    const code = await decisionOf(soap, lot, input.traceparent)
    if (code === input.code) return { changed: !(alreadyMade && round === 0) }
    if (code !== '')
      throw new PermanentError(
        'QLK_REMOTE_CONFLICT',
        `inspection lot ${lot} already has usage decision ${code} in ECC, not ${input.code}; change it in ECC (QA12) or the QMS`,
      )
    if (alreadyMade)
      throw new PermanentError(
        'QLK_REMOTE_CONFLICT',
        `ECC says inspection lot ${lot} has a usage decision but GETDETAIL shows none; check the lot in QA03`,
      )
  }
  throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `usage decision of ${lot}: not confirmed by read-back`, {
    ambiguous: true,
  })
}

export const sapEccSoapConnector = defineConnector({
  kind: KIND,
  description:
    'SAP ECC over SOAP (RFC function modules, WSDL-checked): usage decisions, UD stock splits and transfers as goods movements, batch stock',
  configSchema: SapEccSoapConfig,
  actions: [
    'recordUsageDecision',
    'postStockDisposition',
    'readLotStock',
    'transferStock',
    'setProductionOrderHold',
    'setDeliveryBlock',
    'listOpenInspectionLots',
    'listHeldProductionOrders',
  ],
  targets: (c) => [c.baseUrl],
  egressSettings: (c) => c.egress,
  create(config, ctx): ErpPort & AdoptionErpPort {
    const password = config.auth
      ? connectorSecret(config.auth, 'password', '/auth', ctx.environment, { kind: KIND, name: ctx.name })
      : undefined
    const authorization = config.auth
      ? `Basic ${Buffer.from(`${config.auth.username}:${password}`).toString('base64')}`
      : undefined
    const soap = new SoapClient(ctx.egress, config, ctx.name, authorization)
    const poster = new GoodsMovementPoster(soap, config)
    const clock = ctx.clock ?? systemClock
    const scale = config.quantityScale
    const movement = (reference: string, code: string, item: GoodsMovementItem) => ({
      reference,
      code,
      postingDate: yyyymmdd(clock.now()),
      item,
    })

    return {
      ...adoptionEcc(soap, poster, config),
      recordUsageDecision: (input) => recordUsageDecision(soap, config.language, input),
      postStockDisposition: (input) =>
        postInTurn(usageDecisionMovements(input, scale, config), (m) =>
          poster.post(
            movement(m.reference, m.code, { lot: input.lot, ...m.item }),
            m.what,
            input.traceparent,
          ),
        ),
      transferStock(input) {
        const m = transferMovementFor(input, scale, config.storageLocation)
        return poster.post(
          movement(m.reference, m.code, { lot: input.lot, ...m.item }),
          m.what,
          input.traceparent,
        )
      },
      readLotStock: (lot, opts) => poster.readLotStock(lot, opts?.traceparent),
      setProductionOrderHold: async () =>
        unsupported(
          'setProductionOrderHold',
          'no production-order function module is configured for ECC SOAP',
        ),
      setDeliveryBlock: async () =>
        unsupported('setDeliveryBlock', 'no delivery function module is configured for ECC SOAP'),
    }
  },
})
