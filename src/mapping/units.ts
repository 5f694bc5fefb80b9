import { QualinkError } from '../contracts/errors.ts'
import { MAX_SCALE, type Quantity } from '../model/quantity.ts'

/** An exact positive ratio. Unit factors are rational so KG↔LB is exact (DESIGN §6). */
export interface Rational {
  readonly num: bigint
  readonly den: bigint
}

export function rational(num: bigint, den = 1n): Rational {
  if (den <= 0n || num <= 0n) throw new Error(`unit factor ${num}/${den} must be positive`)
  const g = gcd(num, den)
  return { num: num / g, den: den / g }
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a
  let y = b < 0n ? -b : b
  while (y !== 0n) [x, y] = [y, x % y]
  return x
}

export type Dimension = 'mass' | 'length' | 'count'

export interface UnitDefinition {
  readonly dimension: Dimension
  /** How many base units (KG, M, EA) one of this unit is; absent for per-material count units. */
  readonly toBase?: Rational
}

/**
 * Built-in units. 1 lb = 0.453 592 37 kg exactly and 1 in = 0.0254 m exactly (International Yard
 * and Pound Agreement, 1959; NIST SP 811 appendix B). BOX and other packs depend on the material,
 * so their factor comes from the material's conversion table.
 */
export const UNITS: Readonly<Record<string, UnitDefinition>> = {
  KG: { dimension: 'mass', toBase: rational(1n) },
  G: { dimension: 'mass', toBase: rational(1n, 1000n) },
  MG: { dimension: 'mass', toBase: rational(1n, 1_000_000n) },
  LB: { dimension: 'mass', toBase: rational(45_359_237n, 100_000_000n) },
  M: { dimension: 'length', toBase: rational(1n) },
  CM: { dimension: 'length', toBase: rational(1n, 100n) },
  MM: { dimension: 'length', toBase: rational(1n, 1000n) },
  IN: { dimension: 'length', toBase: rational(254n, 10_000n) },
  EA: { dimension: 'count', toBase: rational(1n) },
  PC: { dimension: 'count', toBase: rational(1n) },
  BOX: { dimension: 'count' },
}

export type RoundingMode = 'exact' | 'half-even' | 'half-up' | 'down' | 'up'

export interface ConvertOptions {
  /** Scale of the result; defaults to the source scale. */
  readonly scale?: number
  /** 'exact' (default) throws QLK_UNIT_CONVERSION instead of losing precision. */
  readonly rounding?: RoundingMode
  /** Field name for errors, e.g. `/data/quantity`. */
  readonly field?: string
  /** Per-material count units: how many EA one unit holds, e.g. `{ BOX: rational(12n) }`. */
  readonly materialFactors?: Readonly<Record<string, Rational>>
  /** Extra or overriding unit definitions (plant-specific units). */
  readonly units?: Readonly<Record<string, UnitDefinition>>
}

function fail(field: string, detail: string, message: string): QualinkError {
  return new QualinkError('QLK_UNIT_CONVERSION', `${field}: ${detail}`, [{ path: field, message }])
}

function factorOf(
  uom: string,
  opts: ConvertOptions,
  field: string,
): { dimension: Dimension; toBase: Rational } {
  const def = opts.units?.[uom] ?? UNITS[uom]
  if (!def) throw fail(field, `unknown unit ${uom}`, `unit ${uom} is not defined`)
  const material = opts.materialFactors?.[uom]
  const toBase = material ?? def.toBase
  if (!toBase)
    throw fail(
      field,
      `${uom} needs a per-material factor`,
      `no conversion factor for ${uom} on this material`,
    )
  return { dimension: def.dimension, toBase }
}

/** Divides with the given rounding; `exact` returns undefined when there is a remainder. */
function divide(n: bigint, d: bigint, mode: RoundingMode): bigint | undefined {
  const q = n / d // truncates toward zero
  const r = n % d
  if (r === 0n) return q
  if (mode === 'exact') return undefined
  const neg = n < 0n !== d < 0n
  const away = neg ? q - 1n : q + 1n
  if (mode === 'down') return neg ? away : q // floor
  if (mode === 'up') return neg ? q : away // ceiling
  const twice = 2n * (r < 0n ? -r : r)
  const absD = d < 0n ? -d : d
  if (twice > absD) return away
  if (twice < absD) return q
  return mode === 'half-up' ? away : q % 2n === 0n ? q : away
}

/**
 * Converts a fixed-point quantity exactly: target steps = steps × 10^(toScale−fromScale) ×
 * from.toBase / to.toBase, computed in bigint. Throws QLK_UNIT_CONVERSION naming the field when
 * the dimensions differ, a factor is missing, or the result would lose precision at the target
 * scale (unless a rounding mode is given explicitly).
 */
export function convert(q: Quantity, toUom: string, opts: ConvertOptions = {}): Quantity {
  const field = opts.field ?? 'quantity'
  const scale = opts.scale ?? q.scale
  if (!Number.isInteger(scale) || scale < 0 || scale > MAX_SCALE) {
    throw fail(field, `target scale ${scale} outside 0..${MAX_SCALE}`, `scale must be 0..${MAX_SCALE}`)
  }
  const from = factorOf(q.uom, opts, field)
  const to = factorOf(toUom, opts, field)
  if (from.dimension !== to.dimension) {
    throw fail(
      field,
      `cannot convert ${q.uom} (${from.dimension}) to ${toUom} (${to.dimension})`,
      'units must share a dimension',
    )
  }
  const shift = scale - q.scale
  let num = BigInt(q.units) * from.toBase.num * to.toBase.den
  let den = from.toBase.den * to.toBase.num
  if (shift >= 0) num *= 10n ** BigInt(shift)
  else den *= 10n ** BigInt(-shift)
  const units = divide(num, den, opts.rounding ?? 'exact')
  if (units === undefined) {
    throw fail(
      field,
      `${q.units}e-${q.scale} ${q.uom} is not exactly representable in ${toUom} at scale ${scale}`,
      `conversion ${q.uom}→${toUom} would lose precision at scale ${scale}; give a rounding mode or a finer scale`,
    )
  }
  if (units > BigInt(Number.MAX_SAFE_INTEGER) || units < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw fail(field, `result ${units} steps exceeds the safe integer range`, 'result too large')
  }
  return { units: Number(units), scale, uom: toUom }
}

/**
 * A source system's unit text as a canonical unit code (the Quantity schema's `^[A-Z][A-Z0-9_]{0,11}$`):
 * upper case, anything else an underscore, at most 12 characters. `Kg` → `KG`, `m/s` → `M_S`.
 */
export function canonicalUom(unit: string): string {
  return unit
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_')
    .slice(0, 12)
}
