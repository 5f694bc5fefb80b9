import { describe, expect, it } from 'vitest'
import { isQualinkError } from '../../contracts/errors.ts'
import type { LotResult } from './switching.ts'
import {
  emptySwitchingBook,
  recordLotFor,
  resumeFor,
  type SwitchingBook,
  type SwitchingKey,
  switchingStateOf,
} from './switching-book.ts'

// Switching applies to each class of nonconformity separately, per supplier and material
// (sampling-tables.md §8: MIL-STD-105E §4.7, ANSI/ASQ Z1.4-2003 §8).
const STEADY = { steadyProduction: true, authorityApprovesReduced: false }
const A: LotResult = { decision: 'accept', nonconforming: 0, acceptanceNumber: 2 }
const R: LotResult = { decision: 'reject', nonconforming: 3, acceptanceNumber: 2 }

const major: SwitchingKey = { supplier: 'SUP-7', material: 'RAW-100', defectClass: 'B' }
const minor: SwitchingKey = { ...major, defectClass: 'C' }
const otherSupplier: SwitchingKey = { ...major, supplier: 'SUP-8' }

function feed(book: SwitchingBook, key: SwitchingKey, lots: LotResult[]): SwitchingBook {
  let b = book
  for (const l of lots) b = recordLotFor(b, key, l, STEADY).book
  return b
}

describe('one switching state per supplier × material × class', () => {
  it('tightens the class that failed twice in five lots and no other key', () => {
    let book = feed(emptySwitchingBook(), major, [R, A, A])
    book = feed(book, minor, [A, A, R])
    book = feed(book, otherSupplier, [R])
    const step = recordLotFor(book, major, R, STEADY)
    expect(step.transition).toMatchObject({ from: 'normal', to: 'tightened' })
    expect(switchingStateOf(step.book, major).severity).toBe('tightened')
    expect(switchingStateOf(step.book, minor).severity).toBe('normal')
    expect(switchingStateOf(step.book, otherSupplier).severity).toBe('normal')
    // the class's own history: one more rejection of the minor class is its second in 5: tightened too
    expect(recordLotFor(step.book, minor, R, STEADY).transition).toMatchObject({ to: 'tightened' })
    // the book before the lot is unchanged (immutable)
    expect(switchingStateOf(book, major).severity).toBe('normal')
  })

  it('discontinues one key and resumes it on tightened only after accepted corrective action', () => {
    let book = feed(emptySwitchingBook(), major, [R, R])
    book = feed(book, major, [R, R, R, R])
    expect(switchingStateOf(book, major).severity).toBe('tightened')
    book = recordLotFor(book, major, R, STEADY).book
    expect(switchingStateOf(book, major).severity).toBe('discontinued')
    expect(switchingStateOf(book, minor).severity).toBe('normal')
    expect(() => resumeFor(book, major, false)).toThrow(/corrective action/)
    expect(switchingStateOf(resumeFor(book, major, true).book, major).severity).toBe('tightened')
  })

  it('a key without lots starts on normal, or on the severity the plant names', () => {
    expect(switchingStateOf(emptySwitchingBook(), major).severity).toBe('normal')
    expect(switchingStateOf(emptySwitchingBook(), major, 'tightened').severity).toBe('tightened')
  })

  it('refuses an incomplete key, naming the part', () => {
    try {
      recordLotFor(emptySwitchingBook(), { ...major, defectClass: ' ' }, A, STEADY)
      expect.unreachable()
    } catch (e) {
      expect(isQualinkError(e) && e.code).toBe('QLK_VALIDATION')
      expect(isQualinkError(e) && e.errors[0]?.path).toBe('/key/defectClass')
    }
  })
})
