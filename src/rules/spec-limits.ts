/**
 * Characteristic evaluation against specification limits, in fixed point, after the plant's rounding.
 * The measured value is rounded to the configured decimals first and then compared, as inspection plans
 * usually specify ("report to 0.01 mm, then judge"). Limits are inclusive unless configured otherwise.
 */

import { QualinkError } from '../contracts/errors.ts'
import {
  addDecimal,
  compareDecimal,
  type Decimal,
  formatDecimal,
  parseDecimal,
  type RoundingMode,
  roundDecimal,
  subtractDecimal,
} from './decimal.ts'
import { invalid, requireInteger } from './validation.ts'

type Num = string | number

export type Tolerance =
  | { readonly kind: 'two-sided'; readonly lower: Num; readonly upper: Num }
  | { readonly kind: 'upper-only'; readonly upper: Num }
  | { readonly kind: 'lower-only'; readonly lower: Num }
  /** target − minus … target + plus; symmetric when minus = plus */
  | { readonly kind: 'target'; readonly target: Num; readonly minus: Num; readonly plus: Num }

export interface Characteristic {
  readonly id: string
  readonly unit: string
  readonly tolerance: Tolerance
  /** plant rounding applied to the measured value before comparing; none = compare as measured */
  readonly rounding?: { readonly decimals: number; readonly mode: RoundingMode }
  /** default true: a value equal to a limit conforms */
  readonly limitsInclusive?: boolean
}

export interface Measurement {
  readonly value: Num
  readonly unit: string
}

/** Converts a value between units, exactly (rules/ stays pure: unit knowledge is injected by the caller). */
export type UnitConverter = (value: Decimal, from: string, to: string) => Decimal | null

export interface CharacteristicResult {
  readonly characteristicId: string
  readonly status: 'pass' | 'fail'
  /** the value compared, after conversion and rounding */
  readonly value: string
  readonly unit: string
  readonly lower: string | null
  readonly upper: string | null
  readonly violated: 'lower' | 'upper' | null
  /** distance beyond the violated limit, in the characteristic's unit */
  readonly excess: string | null
}

function limits(t: Tolerance): { lower: Decimal | null; upper: Decimal | null } {
  switch (t.kind) {
    case 'two-sided':
      return {
        lower: parseDecimal('/tolerance/lower', t.lower),
        upper: parseDecimal('/tolerance/upper', t.upper),
      }
    case 'upper-only':
      return { lower: null, upper: parseDecimal('/tolerance/upper', t.upper) }
    case 'lower-only':
      return { lower: parseDecimal('/tolerance/lower', t.lower), upper: null }
    case 'target': {
      const target = parseDecimal('/tolerance/target', t.target)
      const minus = parseDecimal('/tolerance/minus', t.minus)
      const plus = parseDecimal('/tolerance/plus', t.plus)
      if (minus.units < 0n)
        invalid('/tolerance/minus', 'must not be negative (it is subtracted from the target)')
      if (plus.units < 0n) invalid('/tolerance/plus', 'must not be negative')
      return { lower: subtractDecimal(target, minus), upper: addDecimal(target, plus) }
    }
    default:
      return invalid('/tolerance/kind', 'must be two-sided, upper-only, lower-only or target')
  }
}

export function evaluateCharacteristic(
  characteristic: Characteristic,
  measurement: Measurement,
  convert?: UnitConverter,
): CharacteristicResult {
  const { lower, upper } = limits(characteristic.tolerance)
  if (lower && upper && compareDecimal(lower, upper) > 0)
    invalid('/tolerance/upper', 'must not be below lower')
  let value = parseDecimal('/measurement/value', measurement.value)
  if (measurement.unit !== characteristic.unit) {
    const converted = convert?.(value, measurement.unit, characteristic.unit) ?? null
    if (!converted) {
      throw new QualinkError(
        'QLK_UNIT_CONVERSION',
        `cannot convert ${measurement.unit} to ${characteristic.unit}`,
        [{ path: '/measurement/unit', message: `must be ${characteristic.unit} or convertible to it` }],
      )
    }
    value = converted
  }
  const r = characteristic.rounding
  if (r) {
    requireInteger('/rounding/decimals', r.decimals, 0)
    if (r.mode !== 'half-up' && r.mode !== 'half-even')
      invalid('/rounding/mode', 'must be half-up or half-even')
    value = roundDecimal(value, r.decimals, r.mode)
  }
  const inclusive = characteristic.limitsInclusive ?? true
  const below =
    lower !== null && (inclusive ? compareDecimal(value, lower) < 0 : compareDecimal(value, lower) <= 0)
  const above =
    upper !== null && (inclusive ? compareDecimal(value, upper) > 0 : compareDecimal(value, upper) >= 0)
  const violated = below ? 'lower' : above ? 'upper' : null
  const excess = below ? subtractDecimal(lower!, value) : above ? subtractDecimal(value, upper!) : null
  return {
    characteristicId: characteristic.id,
    status: violated ? 'fail' : 'pass',
    value: formatDecimal(value),
    unit: characteristic.unit,
    lower: lower ? formatDecimal(lower) : null,
    upper: upper ? formatDecimal(upper) : null,
    violated,
    excess: excess ? formatDecimal(excess) : null,
  }
}
