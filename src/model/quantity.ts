import { type Static, Type } from 'typebox'
import { QualinkError } from '../contracts/errors.ts'

/**
 * Fixed-point quantity: `units` is an integer count of the unit's smallest step (10^-scale uom).
 * 12.345 KG at scale 3 is `{ units: 12345, scale: 3, uom: 'KG' }`. Integers (not decimal strings)
 * because they are JSON-native, Ajv can bound them, and JS arithmetic on them is exact while they
 * stay safe integers; SAP's DEC 13,3 (largest 9 999 999 999.999 → 10^13 steps) fits in 2^53 with
 * room to spare. Every operation re-checks the safe range, so a float never decides conservation.
 */
export const MAX_SCALE = 6

export const UomCode = Type.String({
  pattern: '^[A-Z][A-Z0-9_]{0,11}$',
  description: 'Enterprise unit-of-measure code (upper case), e.g. KG, G, EA, M',
})

export const Quantity = Type.Object(
  {
    units: Type.Integer({
      minimum: Number.MIN_SAFE_INTEGER,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Integer count of the smallest step (10^-scale of uom)',
    }),
    scale: Type.Integer({ minimum: 0, maximum: MAX_SCALE, description: 'Decimal places of one step' }),
    uom: UomCode,
  },
  { additionalProperties: false, description: 'Fixed-point quantity; value = units / 10^scale uom' },
)
export type Quantity = Static<typeof Quantity>

export function quantity(units: number, scale: number, uom: string, field = 'quantity'): Quantity {
  checkScale(scale, field)
  checkSafe(units, field)
  return { units, scale, uom }
}

function checkScale(scale: number, field: string): void {
  if (!Number.isInteger(scale) || scale < 0 || scale > MAX_SCALE) {
    throw new QualinkError(
      'QLK_VALIDATION',
      `${field}: scale ${scale} is not an integer in 0..${MAX_SCALE}`,
      [{ path: `${field}/scale`, message: `must be an integer in 0..${MAX_SCALE}` }],
    )
  }
}

function checkSafe(units: number, field: string): void {
  if (!Number.isSafeInteger(units)) {
    throw new QualinkError('QLK_VALIDATION', `${field}: ${units} steps is not a safe integer`, [
      { path: `${field}/units`, message: 'must be an integer within ±(2^53-1)' },
    ])
  }
}

function fromBig(v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new QualinkError('QLK_VALIDATION', `${field}: result ${v} steps exceeds the safe integer range`, [
      { path: `${field}/units`, message: 'must be an integer within ±(2^53-1)' },
    ])
  }
  return Number(v)
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/

/**
 * Parses a plain decimal string ("12.345", "-0.5", "7") at a fixed scale. More fractional digits
 * than the scale is an error unless they are zeros: silently rounding a source quantity would
 * break conservation the moment the ERP posts the exact figure.
 */
export function parseDecimal(text: string, scale: number, uom: string, field = 'quantity'): Quantity {
  checkScale(scale, field)
  const m = DECIMAL.exec(text.trim())
  if (!m) {
    throw new QualinkError('QLK_VALIDATION', `${field}: '${text}' is not a plain decimal number`, [
      { path: field, message: 'must match [+-]digits[.digits] (no exponent, no grouping)' },
    ])
  }
  const [, sign, intPart, fracRaw = ''] = m
  const extra = fracRaw.slice(scale)
  if (/[1-9]/.test(extra)) {
    throw new QualinkError('QLK_VALIDATION', `${field}: '${text}' has more than ${scale} decimal places`, [
      { path: field, message: `must have at most ${scale} significant decimal places` },
    ])
  }
  const frac = fracRaw.slice(0, scale).padEnd(scale, '0')
  const big = BigInt(`${intPart}${frac}`) * (sign === '-' ? -1n : 1n)
  return { units: fromBig(big, field), scale, uom }
}

/** Renders exactly, e.g. `{ units: 12345, scale: 3 }` → "12.345"; never via floating point. */
export function formatDecimal(q: Quantity): string {
  const neg = q.units < 0
  const digits = String(Math.abs(q.units)).padStart(q.scale + 1, '0')
  const body = q.scale === 0 ? digits : `${digits.slice(0, -q.scale)}.${digits.slice(-q.scale)}`
  return neg ? `-${body}` : body
}

/** Same quantity at a larger (finer) scale; exact. Going coarser is a unit conversion concern. */
export function rescale(q: Quantity, scale: number, field = 'quantity'): Quantity {
  checkScale(scale, field)
  if (scale < q.scale) {
    const div = 10n ** BigInt(q.scale - scale)
    const big = BigInt(q.units)
    if (big % div !== 0n) {
      throw new QualinkError(
        'QLK_UNIT_CONVERSION',
        `${field}: ${formatDecimal(q)} does not fit scale ${scale}`,
        [{ path: field, message: `would lose precision at scale ${scale}` }],
      )
    }
    return { units: fromBig(big / div, field), scale, uom: q.uom }
  }
  return { units: fromBig(BigInt(q.units) * 10n ** BigInt(scale - q.scale), field), scale, uom: q.uom }
}

function align(a: Quantity, b: Quantity, field: string): [Quantity, Quantity] {
  if (a.uom !== b.uom) {
    throw new QualinkError('QLK_UNIT_CONVERSION', `${field}: cannot combine ${a.uom} with ${b.uom}`, [
      { path: `${field}/uom`, message: `must be ${a.uom}; convert units first` },
    ])
  }
  const scale = Math.max(a.scale, b.scale)
  return [rescale(a, scale, field), rescale(b, scale, field)]
}

export function add(a: Quantity, b: Quantity, field = 'quantity'): Quantity {
  const [x, y] = align(a, b, field)
  return { units: fromBig(BigInt(x.units) + BigInt(y.units), field), scale: x.scale, uom: x.uom }
}

export function subtract(a: Quantity, b: Quantity, field = 'quantity'): Quantity {
  const [x, y] = align(a, b, field)
  return { units: fromBig(BigInt(x.units) - BigInt(y.units), field), scale: x.scale, uom: x.uom }
}

/** -1, 0 or 1. Quantities in different units are not comparable without a conversion. */
export function compare(a: Quantity, b: Quantity, field = 'quantity'): -1 | 0 | 1 {
  const [x, y] = align(a, b, field)
  return x.units < y.units ? -1 : x.units > y.units ? 1 : 0
}

export function equals(a: Quantity, b: Quantity): boolean {
  return a.uom === b.uom && compare(a, b) === 0
}

export function isZero(q: Quantity): boolean {
  return q.units === 0
}

export function sum(qs: readonly Quantity[], zero: Quantity, field = 'quantity'): Quantity {
  return qs.reduce((acc, q, i) => add(acc, q, `${field}/${i}`), zero)
}
