import { classify } from '../engine/errors.ts'
import type { Quantity } from '../model/quantity.ts'
import type { ErpPort, LotRef } from './ports/erp.ts'

/** Rounds of read-then-post when another run moves the lot's stock between the read and the post. */
const BLOCK_ROUNDS = 3

/**
 * Moves all of a lot's unrestricted stock to blocked; the documents posted (none when nothing was
 * unrestricted) and the quantity this call transferred (null when it found its transfer by its
 * key or nothing was unrestricted). Used by complaint traceability (suspect lots) and the in-process
 * check (the produced lot while its nonconformance is open). Two complaints tracing to one supplier
 * lot run side by side (their runs are keyed by complaint), so the other may block the stock
 * between this read and this post: the ERP then
 * refuses the transfer (SAP M7/021, deficit of unrestricted stock), the stock is read again and
 * what is left, if anything, is posted. A refusal with the stock unchanged is the ERP's own and
 * stays an error. Found by the out-of-order complaint webhooks of the issue 8 fault matrix: the
 * later run dead-lettered with QLK_REMOTE_REJECTED. Found by its SIGKILL test: an attempt killed
 * after the ERP booked the block left nothing unrestricted, so the retried step reported no
 * document and the CAPA's trace left the lot out; the transfer is now looked up by its key.
 */
export async function blockUnrestricted(
  erp: ErpPort,
  lot: LotRef,
  idempotencyKey: string,
  reason: string,
): Promise<{ documents: string[]; posted: Quantity | null }> {
  for (let round = 1; ; round++) {
    const free = (await erp.readLotStock(lot)).quantities.unrestricted
    if (!free || free.units <= 0) {
      const found = [...((await erp.findTransfer?.({ idempotencyKey, lot })) ?? [])]
      return { documents: found, posted: null }
    }
    try {
      const r = await erp.transferStock({
        idempotencyKey,
        lot,
        from: 'unrestricted',
        to: 'blocked',
        quantity: free,
        reason,
      })
      // found by its key (posted by an earlier attempt): its quantity is not known here
      return { documents: [...r.documents], posted: r.alreadyDone ? null : free }
    } catch (e) {
      if (round >= BLOCK_ROUNDS || classify(e).retryable) throw e
      const now = (await erp.readLotStock(lot)).quantities.unrestricted
      if (now && now.scale === free.scale && now.units >= free.units) throw e
    }
  }
}
