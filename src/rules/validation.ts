import { QualinkError } from '../contracts/errors.ts'

/** Throws QLK_VALIDATION naming the offending field and the rule it broke. Nothing is stored by rules/. */
export function invalid(path: string, message: string): never {
  throw new QualinkError('QLK_VALIDATION', `${path}: ${message}`, [{ path, message }])
}

export function requireFinite(path: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) invalid(path, 'must be a finite number')
  return value
}

export function requireInteger(path: string, value: number, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) invalid(path, 'must be an integer')
  if (value < min) invalid(path, `must be at least ${min}`)
  return value
}

export function requirePositive(path: string, value: number): number {
  requireFinite(path, value)
  if (value <= 0) invalid(path, 'must be greater than 0')
  return value
}
