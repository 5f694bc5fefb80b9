import type { IngressStore } from '../../../store/ingress-types.ts'

/** The largest ISA13: nine digits (X12.5 ISA13 is N0 9/9). */
export const MAX_CONTROL_NUMBER = 999_999_999

export function cursorName(partner: string): string {
  return `edi-x12:${partner}:outbound-control`
}

/**
 * The next outbound envelope control number for a trading partner, one durable counter each
 * in `ingress_cursors`, allocated in one statement by the database (IngressStore.nextCounter), so
 * any number of processes sending 861s never reuse a number. It is taken *before* the file is
 * written: a crash between the two leaves a gap, which partners accept, where writing first could
 * send one number twice, which partners reject as a duplicate interchange. After 999999999 the
 * count wraps to 1; partners keep a window far shorter than 10^9 files.
 */
export async function nextControlNumber(ingress: Pick<IngressStore, 'nextCounter'>, partner: string) {
  return ingress.nextCounter(cursorName(partner), MAX_CONTROL_NUMBER)
}

export function isaControl(n: number): string {
  return String(n).padStart(9, '0')
}
