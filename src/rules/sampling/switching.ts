/**
 * Switching between normal, tightened and reduced inspection, and discontinuation, as a pure state
 * machine. Keep one state per (supplier × material × class of nonconformity): the standard applies the
 * rules to each class separately and counts original inspection only (resubmitted lots are ignored).
 *
 * Sources (sampling-tables.md §8, §10): MIL-STD-105E §4.7 and ANSI/ASQ Z1.4-2003 §8 for
 * normal↔tightened, normal↔reduced and the 5-lot discontinuation rule; ISO 2859-1:1999 for the
 * switching score. Conditions the standard leaves to the responsible authority are inputs, not guesses.
 */
import { QualinkError } from '../../contracts/errors.ts'
import { invalid, requireInteger } from '../validation.ts'
import type { LotDecision } from './plans.ts'

export type SwitchingSeverity = 'normal' | 'tightened' | 'reduced' | 'discontinued'

export type NormalToReducedRule =
  /**
   * MIL-STD-105E §4.7.3 / Z1.4 §8.3.3: the preceding `precedingLots` lots on normal inspection all
   * accepted, and their total nonconforming count ≤ `limitNumber`. Table VIII (limit numbers) is not
   * transcribed, so the plant supplies the number; `null` drops the condition, which Z1.4 allows by
   * agreement of both parties.
   */
  | { readonly method: 'limit-numbers'; readonly precedingLots: number; readonly limitNumber: number | null }
  /**
   * ISO 2859-1:1999 switching score. Threshold 30 is confirmed by two sources. The increments (+3 when
   * Ac ≥ 2 and the lot would also pass one AQL step tighter, +2 when Ac ≤ 1 and accepted, otherwise
   * reset to 0) come from ONE source and are NOT verified against the standard text: configure them.
   */
  | {
      readonly method: 'switching-score'
      readonly threshold: number
      readonly incrementWhenAcAtLeast2: number
      readonly incrementWhenAcAtMost1: number
    }
  | { readonly method: 'never' }

export interface SwitchingConfig {
  /** normal → tightened when this many of the last `window` consecutive lots are not accepted (2 of ≤ 5) */
  readonly normalToTightened: { readonly notAccepted: number; readonly window: number }
  /** tightened → normal after this many consecutive accepted lots (5) */
  readonly tightenedToNormal: { readonly consecutiveAccepted: number }
  /**
   * Discontinue when the lots not accepted on tightened inspection reach this number (5: Z1.4-2003 and
   * ISO 2859-1). MIL-STD-105E's own rule is disputed between sources (10 lots remaining on tightened vs
   * 5 not accepted) and is NOT verified.
   */
  readonly discontinuation: { readonly notAcceptedOnTightened: number }
  readonly normalToReduced: NormalToReducedRule
  /** Z1.4 only: a reduced lot accepted with Ac < d < Re reinstates normal inspection (II-C footnote †) */
  readonly revertOnAcceptAndRevert: boolean
}

export const Z14_SWITCHING: SwitchingConfig = Object.freeze<SwitchingConfig>({
  normalToTightened: { notAccepted: 2, window: 5 },
  tightenedToNormal: { consecutiveAccepted: 5 },
  discontinuation: { notAcceptedOnTightened: 5 },
  normalToReduced: { method: 'limit-numbers', precedingLots: 10, limitNumber: null },
  revertOnAcceptAndRevert: true,
})

/** UNVERIFIED score increments; see {@link NormalToReducedRule}. */
export const ISO_2859_1_SWITCHING: SwitchingConfig = Object.freeze<SwitchingConfig>({
  normalToTightened: { notAccepted: 2, window: 5 },
  tightenedToNormal: { consecutiveAccepted: 5 },
  discontinuation: { notAcceptedOnTightened: 5 },
  normalToReduced: {
    method: 'switching-score',
    threshold: 30,
    incrementWhenAcAtLeast2: 3,
    incrementWhenAcAtMost1: 2,
  },
  revertOnAcceptAndRevert: false,
})

export interface SwitchingState {
  readonly severity: SwitchingSeverity
  /** results of the most recent lots on normal inspection, oldest first, true = not accepted */
  readonly recentNormal: readonly boolean[]
  /** nonconforming counts of the current run of accepted lots on normal inspection, oldest first */
  readonly acceptedNormalCounts: readonly number[]
  readonly switchingScore: number
  readonly consecutiveAcceptedOnTightened: number
  readonly notAcceptedOnTightened: number
}

export interface LotResult {
  readonly decision: LotDecision
  readonly nonconforming: number
  /** acceptance number of the plan used; the ISO score depends on it */
  readonly acceptanceNumber: number
  /** ISO score only, required when Ac ≥ 2: would the lot have been accepted one AQL step tighter? */
  readonly acceptedAtOneStepTighterAql?: boolean
  /** resubmitted lots do not count for switching */
  readonly resubmitted?: boolean
}

/** Conditions the standard leaves to the responsible authority; the caller states them for each lot. */
export interface AuthorityInputs {
  readonly steadyProduction: boolean
  readonly authorityApprovesReduced: boolean
  /** reduced → normal: production irregular or delayed */
  readonly productionIrregular?: boolean
  /** reduced → normal: other conditions warrant normal inspection */
  readonly otherConditionsWarrantNormal?: boolean
}

export interface Transition {
  readonly from: SwitchingSeverity
  readonly to: SwitchingSeverity
  readonly reason: string
}

export interface SwitchingStep {
  readonly state: SwitchingState
  readonly transition: Transition | null
}

export function initialSwitchingState(
  severity: Exclude<SwitchingSeverity, 'discontinued'> = 'normal',
): SwitchingState {
  return enter(severity)
}

function enter(severity: SwitchingSeverity): SwitchingState {
  return {
    severity,
    recentNormal: [],
    acceptedNormalCounts: [],
    switchingScore: 0,
    consecutiveAcceptedOnTightened: 0,
    notAcceptedOnTightened: 0,
  }
}

function move(from: SwitchingSeverity, to: SwitchingSeverity, reason: string): SwitchingStep {
  return { state: enter(to), transition: { from, to, reason } }
}

export function validateSwitchingConfig(config: SwitchingConfig): void {
  const t = config.normalToTightened
  requireInteger('/normalToTightened/window', t.window, 1)
  requireInteger('/normalToTightened/notAccepted', t.notAccepted, 1)
  if (t.notAccepted > t.window) invalid('/normalToTightened/notAccepted', 'must not exceed window')
  requireInteger('/tightenedToNormal/consecutiveAccepted', config.tightenedToNormal.consecutiveAccepted, 1)
  requireInteger('/discontinuation/notAcceptedOnTightened', config.discontinuation.notAcceptedOnTightened, 1)
  const r = config.normalToReduced
  if (r.method === 'limit-numbers') {
    requireInteger('/normalToReduced/precedingLots', r.precedingLots, 1)
    if (r.limitNumber !== null) requireInteger('/normalToReduced/limitNumber', r.limitNumber, 0)
  } else if (r.method === 'switching-score') {
    requireInteger('/normalToReduced/threshold', r.threshold, 1)
    requireInteger('/normalToReduced/incrementWhenAcAtLeast2', r.incrementWhenAcAtLeast2, 1)
    requireInteger('/normalToReduced/incrementWhenAcAtMost1', r.incrementWhenAcAtMost1, 1)
  } else if (r.method !== 'never') {
    invalid('/normalToReduced/method', 'must be limit-numbers, switching-score or never')
  }
}

/** Applies one lot's result on original inspection and returns the next state and any switch. */
export function recordLot(
  state: SwitchingState,
  lot: LotResult,
  inputs: AuthorityInputs,
  config: SwitchingConfig = Z14_SWITCHING,
): SwitchingStep {
  validateSwitchingConfig(config)
  requireInteger('/lot/nonconforming', lot.nonconforming, 0)
  requireInteger('/lot/acceptanceNumber', lot.acceptanceNumber, 0)
  if (lot.resubmitted) return { state, transition: null }
  const accepted = lot.decision !== 'reject'
  switch (state.severity) {
    case 'discontinued':
      throw new QualinkError('QLK_ILLEGAL_TRANSITION', 'acceptance inspection is discontinued for this key', [
        {
          path: '/state/severity',
          message: 'resume only after corrective action (resumeAfterCorrectiveAction)',
        },
      ])
    case 'normal':
      return onNormal(state, lot, accepted, inputs, config)
    case 'tightened':
      return onTightened(state, accepted, config)
    case 'reduced':
      return onReduced(state, lot, inputs, config)
    default:
      return invalid('/state/severity', 'must be normal, tightened, reduced or discontinued')
  }
}

function onNormal(
  state: SwitchingState,
  lot: LotResult,
  accepted: boolean,
  inputs: AuthorityInputs,
  config: SwitchingConfig,
): SwitchingStep {
  const { window, notAccepted } = config.normalToTightened
  const recentNormal = [...state.recentNormal, !accepted].slice(-window)
  if (recentNormal.filter(Boolean).length >= notAccepted) {
    return move(
      'normal',
      'tightened',
      `${notAccepted} of the last ${recentNormal.length} lots not accepted on normal inspection`,
    )
  }
  const rule = config.normalToReduced
  const acceptedNormalCounts = accepted ? [...state.acceptedNormalCounts, lot.nonconforming] : []
  const switchingScore =
    rule.method === 'switching-score' ? nextScore(state.switchingScore, lot, accepted, rule) : 0
  const next: SwitchingState = { ...state, recentNormal, acceptedNormalCounts, switchingScore }
  const authority = inputs.steadyProduction && inputs.authorityApprovesReduced
  if (rule.method === 'limit-numbers' && authority && acceptedNormalCounts.length >= rule.precedingLots) {
    const total = acceptedNormalCounts.slice(-rule.precedingLots).reduce((a, b) => a + b, 0)
    if (rule.limitNumber === null || total <= rule.limitNumber) {
      const limit =
        rule.limitNumber === null
          ? 'limit number waived by agreement'
          : `total ${total} ≤ limit ${rule.limitNumber}`
      return move(
        'normal',
        'reduced',
        `last ${rule.precedingLots} lots accepted (${limit}), steady production, authority approved`,
      )
    }
  }
  if (rule.method === 'switching-score' && authority && switchingScore >= rule.threshold) {
    return move(
      'normal',
      'reduced',
      `switching score ${switchingScore} ≥ ${rule.threshold}, steady production, authority approved`,
    )
  }
  return { state: next, transition: null }
}

function nextScore(
  score: number,
  lot: LotResult,
  accepted: boolean,
  rule: Extract<NormalToReducedRule, { method: 'switching-score' }>,
): number {
  if (!accepted) return 0
  if (lot.acceptanceNumber <= 1) return score + rule.incrementWhenAcAtMost1
  if (lot.acceptedAtOneStepTighterAql === undefined) {
    invalid('/lot/acceptedAtOneStepTighterAql', 'is required by the switching score when Ac ≥ 2')
  }
  return lot.acceptedAtOneStepTighterAql ? score + rule.incrementWhenAcAtLeast2 : 0
}

function onTightened(state: SwitchingState, accepted: boolean, config: SwitchingConfig): SwitchingStep {
  if (!accepted) {
    const notAcceptedOnTightened = state.notAcceptedOnTightened + 1
    if (notAcceptedOnTightened >= config.discontinuation.notAcceptedOnTightened) {
      return move(
        'tightened',
        'discontinued',
        `${notAcceptedOnTightened} lots not accepted on tightened inspection`,
      )
    }
    return {
      state: { ...state, notAcceptedOnTightened, consecutiveAcceptedOnTightened: 0 },
      transition: null,
    }
  }
  const consecutiveAcceptedOnTightened = state.consecutiveAcceptedOnTightened + 1
  if (consecutiveAcceptedOnTightened >= config.tightenedToNormal.consecutiveAccepted) {
    return move(
      'tightened',
      'normal',
      `${consecutiveAcceptedOnTightened} consecutive lots accepted on tightened inspection`,
    )
  }
  return { state: { ...state, consecutiveAcceptedOnTightened }, transition: null }
}

function onReduced(
  state: SwitchingState,
  lot: LotResult,
  inputs: AuthorityInputs,
  config: SwitchingConfig,
): SwitchingStep {
  if (lot.decision === 'reject') return move('reduced', 'normal', 'lot not accepted on reduced inspection')
  if (lot.decision === 'accept-and-revert-to-normal' && config.revertOnAcceptAndRevert) {
    return move('reduced', 'normal', 'lot accepted with Ac < count < Re on reduced inspection (II-C †)')
  }
  if (inputs.productionIrregular) return move('reduced', 'normal', 'production irregular or delayed')
  if (inputs.otherConditionsWarrantNormal)
    return move('reduced', 'normal', 'other conditions warrant normal inspection')
  return { state, transition: null }
}

/** Discontinued inspection resumes, on tightened inspection, once the supplier's corrective action is accepted. */
export function resumeAfterCorrectiveAction(
  state: SwitchingState,
  correctiveActionAccepted: boolean,
): SwitchingStep {
  if (state.severity !== 'discontinued') {
    throw new QualinkError('QLK_ILLEGAL_TRANSITION', 'only discontinued inspection can be resumed', [
      { path: '/state/severity', message: `is ${state.severity}, expected discontinued` },
    ])
  }
  if (!correctiveActionAccepted) {
    invalid('/correctiveActionAccepted', 'the responsible authority must accept the corrective action first')
  }
  return move('discontinued', 'tightened', 'corrective action accepted; inspection resumes on tightened')
}
