import type { IngressStore } from '../../../store/ingress-types.ts'

/** The largest ISA13: nine digits (X12.5 ISA13 is N0 9/9). */
export const MAX_CONTROL_NUMBER = 999_999_999

export function cursorName(partner: string): string {
  return `edi-x12:${partner}:outbound-control`
}

/**
 * The next outbound envelope control number for a trading partner, one durable counter each
 * in `ingress_cursors`. It is advanced *before* the file is written: a crash between the two
 * leaves a gap, which partners accept, where writing first could send one number twice, which
 * partners reject as a duplicate interchange. The read-then-write is not atomic across
 * processes, so the 861 sender runs as the one lease-fenced singleton that owns the counter.
 */
export async function nextControlNumber(
  ingress: Pick<IngressStore, 'getCursor' | 'setCursor'>,
  partner: string,
) {
  const name = cursorName(partner)
  const current = await ingress.getCursor(name)
  const last = current === null ? 0 : Number(current)
  if (!Number.isInteger(last) || last < 0 || last > MAX_CONTROL_NUMBER) {
    throw new Error(`cursor ${name} holds '${current}', not an X12 control number`)
  }
  // After 999999999 the count wraps to 1; partners keep a window far shorter than 10^9 files.
  const next = last >= MAX_CONTROL_NUMBER ? 1 : last + 1
  await ingress.setCursor(name, String(next))
  return next
}

export function isaControl(n: number): string {
  return String(n).padStart(9, '0')
}
