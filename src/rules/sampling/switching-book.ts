/**
 * The switching states of a plant, one per (supplier × material × class of nonconformity), as the
 * standard keeps them (MIL-STD-105E §4.7 / Z1.4 §8 apply the rules to each class separately). Pure
 * and immutable like the state machine it wraps: recording a lot returns a new book; the caller
 * stores it. A key never seen starts on normal inspection (or the severity the caller names).
 */
import { invalid } from '../validation.ts'
import {
  type AuthorityInputs,
  initialSwitchingState,
  type LotResult,
  recordLot,
  resumeAfterCorrectiveAction,
  type SwitchingConfig,
  type SwitchingState,
  type SwitchingStep,
  Z14_SWITCHING,
} from './switching.ts'

export interface SwitchingKey {
  readonly supplier: string
  readonly material: string
  /** class of nonconformity, e.g. A (critical), B (major), C (minor) */
  readonly defectClass: string
}

export type SwitchingBook = ReadonlyMap<string, SwitchingState>

export const emptySwitchingBook = (): SwitchingBook => new Map()

/** The book's key for (supplier, material, class); refuses an empty or missing part, naming it. */
export function switchingKeyId(key: SwitchingKey): string {
  for (const f of ['supplier', 'material', 'defectClass'] as const) {
    const v = key?.[f]
    if (typeof v !== 'string' || v.trim() === '') invalid(`/key/${f}`, 'must be a non-empty string')
  }
  return JSON.stringify([key.supplier, key.material, key.defectClass])
}

/** The key's current state; a key without lots is on normal inspection unless `initial` says otherwise. */
export function switchingStateOf(
  book: SwitchingBook,
  key: SwitchingKey,
  initial: 'normal' | 'tightened' | 'reduced' = 'normal',
): SwitchingState {
  return book.get(switchingKeyId(key)) ?? initialSwitchingState(initial)
}

export interface BookStep extends SwitchingStep {
  readonly book: SwitchingBook
}

function put(book: SwitchingBook, key: SwitchingKey, step: SwitchingStep): BookStep {
  const next = new Map(book)
  next.set(switchingKeyId(key), step.state)
  return { ...step, book: next }
}

/** Records one lot of original inspection for its key; every other key is untouched. */
export function recordLotFor(
  book: SwitchingBook,
  key: SwitchingKey,
  lot: LotResult,
  inputs: AuthorityInputs,
  config: SwitchingConfig = Z14_SWITCHING,
): BookStep {
  return put(book, key, recordLot(switchingStateOf(book, key), lot, inputs, config))
}

/** Resumes a discontinued key on tightened inspection once the corrective action is accepted. */
export function resumeFor(
  book: SwitchingBook,
  key: SwitchingKey,
  correctiveActionAccepted: boolean,
): BookStep {
  return put(book, key, resumeAfterCorrectiveAction(switchingStateOf(book, key), correctiveActionAccepted))
}
