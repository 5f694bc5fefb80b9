/**
 * Production order confirmations (API_PROD_ORDER_CONFIRMATION_2_SRV, entity ProdnOrdConf2). SAP
 * does not deduplicate them, so the step's reference goes into ConfirmationText (CHAR 40) and is
 * looked up before any (re)post: a lost answer or a replay finds the confirmation it made.
 */

import type { ConfirmOperationInput } from '../../../workflows/ports/erp.ts'
import { EgressFailure } from '../../sdk/http-errors.ts'
import { SERVICES } from './config.ts'
import { referenceFor, toSap } from './mapping.ts'
import { literal, type ODataClient, type ODataEntity } from './odata.ts'

export async function confirmOperation(
  odata: ODataClient,
  scale: number,
  input: ConfirmOperationInput,
): Promise<{ document: string; alreadyDone: boolean }> {
  const reference = referenceFor(input.idempotencyKey)
  const find = async () =>
    odata.getCollection(
      `${SERVICES.confirmations}/ProdnOrdConf2?$filter=ConfirmationText eq ${literal(reference)}`,
      `read back confirmation ${reference}`,
      input.traceparent,
    )
  for (let round = 0; round < 3; round++) {
    const [found] = await find()
    if (found) return { document: String(found.MfgOrderConfirmation), alreadyDone: round === 0 }
    try {
      const res = await odata.modify(
        'POST',
        SERVICES.confirmations,
        '/ProdnOrdConf2',
        {
          OrderID: input.order,
          OrderOperation: input.operation,
          ConfirmationYieldQuantity: toSap(input.yieldQuantity, scale, 'yieldQuantity'),
          ConfirmationUnit: input.yieldQuantity.uom,
          ConfirmationText: reference,
        },
        { traceparent: input.traceparent, context: `confirm order ${input.order} op ${input.operation}` },
      )
      const d = (res.json<{ d?: ODataEntity }>().d ?? {}) as ODataEntity
      return { document: String(d.MfgOrderConfirmation), alreadyDone: false }
    } catch (e) {
      // a lost answer: the next round's read-back decides
      if (!(e instanceof EgressFailure && e.ambiguous)) throw e
    }
  }
  throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `confirmation ${reference}: not confirmed by read-back`, {
    ambiguous: true,
  })
}
