/**
 * Fixed-point decimals for spec-limit decisions: value = units / 10^scale, units a bigint. Whether a
 * measurement is in tolerance is decided without binary floating point, so 0.1 + 0.2 style errors can
 * never flip a pass into a fail.
 */
import { invalid } from './validation.ts'

export interface Decimal {
  readonly units: bigint
  readonly scale: number
}

export type RoundingMode = 'half-up' | 'half-even'

const PATTERN = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-]?)\.(\d+)(?:[eE]([+-]?\d+))?$/

/** Parses `'12.340'`, `'-0.5'`, `'1e-3'` or a finite number (through its shortest decimal string). */
export function parseDecimal(path: string, input: string | number): Decimal {
  const text =
    typeof input === 'number' ? (Number.isFinite(input) ? String(input) : '') : String(input).trim()
  const m = PATTERN.exec(text)
  if (!m) return invalid(path, 'must be a decimal number such as 12.5')
  const sign = m[1] ?? m[5] ?? ''
  const whole = m[2] ?? '0'
  const frac = m[3] ?? m[6] ?? ''
  const exp = Number(m[4] ?? m[7] ?? 0)
  let units = BigInt(whole + frac)
  let scale = frac.length - exp
  if (scale < 0) {
    units *= 10n ** BigInt(-scale)
    scale = 0
  }
  return { units: sign === '-' ? -units : units, scale }
}

function rescale(d: Decimal, scale: number): bigint {
  return d.units * 10n ** BigInt(scale - d.scale)
}

export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const s = Math.max(a.scale, b.scale)
  const x = rescale(a, s)
  const y = rescale(b, s)
  return x < y ? -1 : x > y ? 1 : 0
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const s = Math.max(a.scale, b.scale)
  return { units: rescale(a, s) + rescale(b, s), scale: s }
}

export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  return addDecimal(a, { units: -b.units, scale: b.scale })
}

/**
 * Rounds to `decimals` places. `half-up` rounds a tie away from zero (2.5 → 3, −2.5 → −3; Java HALF_UP,
 * the usual commercial rule); `half-even` rounds a tie to the even neighbour (2.5 → 2, 3.5 → 4; ISO 80000-1
 * Annex B rule A, IEEE 754 default).
 */
export function roundDecimal(d: Decimal, decimals: number, mode: RoundingMode): Decimal {
  if (d.scale <= decimals) return { units: rescale(d, decimals), scale: decimals }
  const divisor = 10n ** BigInt(d.scale - decimals)
  const negative = d.units < 0n
  const abs = negative ? -d.units : d.units
  let q = abs / divisor
  const twiceRest = (abs % divisor) * 2n
  if (twiceRest > divisor || (twiceRest === divisor && (mode === 'half-up' || q % 2n === 1n))) q += 1n
  return { units: negative ? -q : q, scale: decimals }
}

export function formatDecimal(d: Decimal): string {
  const negative = d.units < 0n
  const digits = (negative ? -d.units : d.units).toString().padStart(d.scale + 1, '0')
  const body = d.scale === 0 ? digits : `${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}`
  return negative ? `-${body}` : body
}
