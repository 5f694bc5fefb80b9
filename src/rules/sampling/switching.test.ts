import { describe, expect, it } from 'vitest'
import type { LotDecision } from './plans.ts'
import {
  type AuthorityInputs,
  ISO_2859_1_SWITCHING,
  initialSwitchingState,
  type LotResult,
  recordLot,
  resumeAfterCorrectiveAction,
  type SwitchingConfig,
  type SwitchingState,
  type SwitchingStep,
  Z14_SWITCHING,
} from './switching.ts'

// Rules under test: sampling-tables.md §8 (MIL-STD-105E §4.7, ANSI/ASQ Z1.4-2003 §8) and §10.2 (ISO 2859-1).
const STEADY: AuthorityInputs = { steadyProduction: true, authorityApprovesReduced: true }
const NO_APPROVAL: AuthorityInputs = { steadyProduction: true, authorityApprovesReduced: false }

function lot(
  decision: LotDecision,
  nonconforming = decision === 'accept' ? 0 : 3,
  acceptanceNumber = 2,
): LotResult {
  return { decision, nonconforming, acceptanceNumber, acceptedAtOneStepTighterAql: decision === 'accept' }
}

function run(
  state: SwitchingState,
  lots: readonly LotResult[],
  inputs = STEADY,
  config: SwitchingConfig = Z14_SWITCHING,
): SwitchingStep[] {
  const steps: SwitchingStep[] = []
  let s = state
  for (const l of lots) {
    const step = recordLot(s, l, inputs, config)
    steps.push(step)
    s = step.state
  }
  return steps
}

const last = (steps: SwitchingStep[]) => steps[steps.length - 1]!
const A = lot('accept')
const R = lot('reject')

describe('normal → tightened: 2 of ≤ 5 consecutive lots not accepted', () => {
  it('switches on the 2nd rejection within 5 lots', () => {
    const steps = run(initialSwitchingState(), [R, A, A, A, R], NO_APPROVAL)
    expect(last(steps).transition).toMatchObject({ from: 'normal', to: 'tightened' })
  })
  it('does not switch when the rejections are 6 lots apart (narrowly outside the window)', () => {
    const steps = run(initialSwitchingState(), [R, A, A, A, A, R], NO_APPROVAL)
    expect(steps.every((s) => s.transition === null)).toBe(true)
    expect(last(steps).state.severity).toBe('normal')
  })
  it('ignores resubmitted lots', () => {
    const steps = run(initialSwitchingState(), [R, { ...R, resubmitted: true }], NO_APPROVAL)
    expect(last(steps).state.severity).toBe('normal')
  })
})

describe('tightened → normal and discontinuation', () => {
  it('returns to normal after 5 consecutive accepted, not after 4', () => {
    const four = run(initialSwitchingState('tightened'), [A, A, A, A])
    expect(last(four).state.severity).toBe('tightened')
    const five = run(initialSwitchingState('tightened'), [A, A, A, A, A])
    expect(last(five).transition).toMatchObject({ from: 'tightened', to: 'normal' })
  })
  it('a rejection restarts the consecutive count', () => {
    const steps = run(initialSwitchingState('tightened'), [A, A, A, A, R, A, A, A, A])
    expect(last(steps).state.severity).toBe('tightened')
  })
  it('discontinues when 5 lots (cumulative) are not accepted on tightened; 4 is not enough', () => {
    const four = run(initialSwitchingState('tightened'), [R, A, R, A, R, R])
    expect(last(four).state.severity).toBe('tightened')
    const five = run(initialSwitchingState('tightened'), [R, A, R, A, R, R, R])
    expect(last(five).transition).toMatchObject({ to: 'discontinued' })
    expect(() => recordLot(last(five).state, A, STEADY)).toThrow(/discontinued/)
  })
  it('resumes on tightened only after accepted corrective action', () => {
    const discontinued = last(run(initialSwitchingState('tightened'), [R, R, R, R, R])).state
    expect(() => resumeAfterCorrectiveAction(discontinued, false)).toThrow(/correctiveActionAccepted/)
    expect(resumeAfterCorrectiveAction(discontinued, true).state.severity).toBe('tightened')
    expect(() => resumeAfterCorrectiveAction(initialSwitchingState(), true)).toThrow(/discontinued/)
  })
})

describe('normal → reduced, Z1.4 limit numbers', () => {
  const withLimit: SwitchingConfig = {
    ...Z14_SWITCHING,
    normalToReduced: { method: 'limit-numbers', precedingLots: 10, limitNumber: 2 },
  }
  it('needs 10 accepted lots, steady production and approval', () => {
    expect(last(run(initialSwitchingState(), Array(9).fill(A))).state.severity).toBe('normal')
    expect(last(run(initialSwitchingState(), Array(10).fill(A))).transition).toMatchObject({ to: 'reduced' })
    expect(last(run(initialSwitchingState(), Array(10).fill(A), NO_APPROVAL)).state.severity).toBe('normal')
    const unsteady = { steadyProduction: false, authorityApprovesReduced: true }
    expect(last(run(initialSwitchingState(), Array(10).fill(A), unsteady)).state.severity).toBe('normal')
  })
  it('applies the limit number when configured: total 2 passes, total 3 does not', () => {
    const two = [lot('accept', 1), lot('accept', 1), ...Array(8).fill(A)]
    expect(last(run(initialSwitchingState(), two, STEADY, withLimit)).transition).toMatchObject({
      to: 'reduced',
    })
    const three = [lot('accept', 1), lot('accept', 2), ...Array(8).fill(A)]
    expect(last(run(initialSwitchingState(), three, STEADY, withLimit)).state.severity).toBe('normal')
  })
})

describe('reduced → normal', () => {
  const reduced = initialSwitchingState('reduced')
  it('on a rejected lot', () => {
    expect(recordLot(reduced, R, STEADY).transition).toMatchObject({ to: 'normal' })
  })
  it('on a lot accepted between Ac and Re (Z1.4 †), but not under the ISO config', () => {
    const between = lot('accept-and-revert-to-normal', 2, 1)
    expect(recordLot(reduced, between, STEADY).transition).toMatchObject({ to: 'normal' })
    expect(recordLot(reduced, between, STEADY, ISO_2859_1_SWITCHING).transition).toBeNull()
  })
  it('on irregular production or other conditions stated by the authority', () => {
    expect(recordLot(reduced, A, { ...STEADY, productionIrregular: true }).transition).toMatchObject({
      to: 'normal',
    })
    expect(recordLot(reduced, A, { ...STEADY, otherConditionsWarrantNormal: true }).state.severity).toBe(
      'normal',
    )
    expect(recordLot(reduced, A, STEADY).transition).toBeNull()
  })
})

describe('ISO 2859-1 switching score (increments UNVERIFIED, configurable)', () => {
  it('Ac ≥ 2 lots passing one step tighter add 3: reduced after 10 such lots (score 30)', () => {
    const steps = run(initialSwitchingState(), Array(10).fill(A), STEADY, ISO_2859_1_SWITCHING)
    expect(steps[8]!.state.switchingScore).toBe(27)
    expect(last(steps).transition).toMatchObject({ to: 'reduced' })
  })
  it('Ac ≤ 1 lots add 2: 14 lots give 28 (no switch), the 15th gives 30', () => {
    const low = lot('accept', 0, 1)
    expect(
      last(run(initialSwitchingState(), Array(14).fill(low), STEADY, ISO_2859_1_SWITCHING)).state
        .switchingScore,
    ).toBe(28)
    expect(
      last(run(initialSwitchingState(), Array(15).fill(low), STEADY, ISO_2859_1_SWITCHING)).transition,
    ).toMatchObject({
      to: 'reduced',
    })
  })
  it('an Ac ≥ 2 lot that would fail one step tighter resets the score', () => {
    const marginal: LotResult = {
      decision: 'accept',
      nonconforming: 2,
      acceptanceNumber: 2,
      acceptedAtOneStepTighterAql: false,
    }
    const steps = run(initialSwitchingState(), [A, A, marginal], STEADY, ISO_2859_1_SWITCHING)
    expect(last(steps).state.switchingScore).toBe(0)
  })
  it('requires acceptedAtOneStepTighterAql when Ac ≥ 2', () => {
    const missing: LotResult = { decision: 'accept', nonconforming: 0, acceptanceNumber: 3 }
    expect(() => recordLot(initialSwitchingState(), missing, STEADY, ISO_2859_1_SWITCHING)).toThrow(
      /acceptedAtOneStepTighterAql/,
    )
  })
})

describe('config validation', () => {
  it('names the field', () => {
    const bad = { ...Z14_SWITCHING, normalToTightened: { notAccepted: 6, window: 5 } }
    expect(() => recordLot(initialSwitchingState(), A, STEADY, bad)).toThrow(/normalToTightened\/notAccepted/)
  })
})
