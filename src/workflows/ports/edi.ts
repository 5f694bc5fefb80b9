/**
 * EdiPort: documents Qualink sends to a supplier over EDI after a quality decision. The X12
 * implementation (src/connectors/edi/x12/advice-port.ts) writes an 861 receiving advice /
 * acceptance certificate through the folder transport.
 */
import type { DispositionCode } from '../../model/nonconformance.ts'
import type { Quantity } from '../../model/quantity.ts'

export interface ReceivingAdviceInput {
  /** the step's key: a retried step resends the same interchange (same control number), never a new one */
  readonly idempotencyKey: string
  readonly plant: string
  /** our batch: the receipt it certifies is found by it */
  readonly lot: string
  readonly decision: {
    readonly inspectionLot: string
    readonly code: string
    readonly stockPostings: readonly { readonly code: DispositionCode; readonly quantity: Quantity }[]
  }
}

export type ReceivingAdviceResult =
  | { readonly sent: true; readonly file: string; readonly controlNumber: number; readonly resent: boolean }
  | { readonly sent: false; readonly reason: string }

export interface EdiPort {
  /** Sends the receiving advice for the lot's receipt to its supplier, if that supplier trades by EDI. */
  sendReceivingAdvice(input: ReceivingAdviceInput): Promise<ReceivingAdviceResult>
}
