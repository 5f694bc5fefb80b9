/**
 * Fixed-point quantities: integers in thousandths, like SAP's DEC 13,3 (DESIGN.md §6).
 * No float ever decides conservation, so parsing goes through the decimal string.
 */
export const QTY_SCALE = 1000

export class QuantityError extends Error {}

export function parseQuantity(input: unknown, field = 'quantity'): number {
  const text = typeof input === 'number' ? numberToText(input) : typeof input === 'string' ? input.trim() : ''
  const m = /^(-)?(\d+)(?:\.(\d{1,3}))?$/.exec(text)
  if (!m) throw new QuantityError(`${field}: '${String(input)}' is not a decimal with at most 3 places`)
  const whole = Number(m[2])
  const frac = Number((m[3] ?? '').padEnd(3, '0'))
  const milli = whole * QTY_SCALE + frac
  if (!Number.isSafeInteger(milli)) throw new QuantityError(`${field}: '${text}' is out of range`)
  return m[1] ? -milli : milli
}

function numberToText(n: number): string {
  if (!Number.isFinite(n)) return 'NaN'
  // A JSON number like 0.1 must be read as the decimal its author wrote, not its binary expansion.
  const s = String(n)
  return /e/i.test(s) ? n.toFixed(3) : s
}

export function formatQuantity(milli: number): string {
  const sign = milli < 0 ? '-' : ''
  const abs = Math.abs(milli)
  return `${sign}${Math.floor(abs / QTY_SCALE)}.${String(abs % QTY_SCALE).padStart(3, '0')}`
}
