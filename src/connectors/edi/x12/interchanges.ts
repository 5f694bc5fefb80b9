/**
 * Inbound interchange control numbers (X12.5 ISA13, unique per sender: a partner increments it
 * for each interchange it sends). Qualink keys a dropped X12 file by its envelope — sender
 * qualifier, sender id and ISA13 — instead of by file name, so the raw-delivery store (durable,
 * on both dialects) is the register of interchanges received: the same interchange dropped again,
 * under any name, is a duplicate there and is stored and translated once. Gaps (numbers a sender
 * skipped: a lost file) are read back from that register per sender.
 */
import type { Scope, Store } from '../../../store/types.ts'
import { parseX12, X12ParseError } from './parser.ts'

const PREFIX = 'x12:'

/**
 * The file drop's delivery id of an X12 file: `x12:<ISA05>:<ISA06>:<ISA13>`. A file whose envelope
 * cannot be read keeps the default id (file name and hash); the check has refused it already.
 */
export function x12DeliveryId(_fileName: string, content: Buffer): string | undefined {
  try {
    const x = parseX12(content)
    return `${PREFIX}${x.senderQualifier}:${x.sender}:${x.controlNumber}`
  } catch (e) {
    if (e instanceof X12ParseError) return undefined
    throw e
  }
}

export interface InterchangeGaps {
  /** `<ISA05>:<ISA06>` */
  readonly sender: string
  readonly first: number
  readonly last: number
  /** ranges of control numbers between first and last never received, inclusive */
  readonly missing: ReadonlyArray<readonly [number, number]>
}

/** Per sender of `source`: the control numbers received and the ranges missing between them. */
export async function interchangeGaps(
  store: Pick<Store, 'ingress'>,
  scope: Scope,
  source: string,
  limit = 10_000,
): Promise<InterchangeGaps[]> {
  const bySender = new Map<string, number[]>()
  for (const d of await store.ingress.listRawDeliveries(scope, { source, limit })) {
    if (!d.deliveryId.startsWith(PREFIX)) continue
    const at = d.deliveryId.lastIndexOf(':')
    const sender = d.deliveryId.slice(PREFIX.length, at)
    const n = Number(d.deliveryId.slice(at + 1))
    if (Number.isInteger(n)) bySender.set(sender, [...(bySender.get(sender) ?? []), n])
  }
  return [...bySender.entries()].map(([sender, numbers]) => {
    const sorted = [...new Set(numbers)].sort((a, b) => a - b)
    const missing: Array<[number, number]> = []
    for (let i = 1; i < sorted.length; i++)
      if (sorted[i]! > sorted[i - 1]! + 1) missing.push([sorted[i - 1]! + 1, sorted[i]! - 1])
    return { sender, first: sorted[0]!, last: sorted.at(-1)!, missing }
  })
}
