import { describe, expect, it } from 'vitest'
import { type Checkpoint, evaluateRelease, type ReleaseCondition } from './release-conditions.ts'

// Hand-written scenarios for the finished-goods release gate (DESIGN.md §1: LIMS + MES + QMS approval).
const NOW = '2026-03-01T12:00:00Z'
const cp = (id: string, status: Checkpoint['status'], deadline?: string): Checkpoint =>
  status === 'waived'
    ? { id, status, deadline, waiver: { by: 'qa.lead', reason: 'customer concession C-17' } }
    : { id, status, deadline }

const GATE: ReleaseCondition = {
  all: [
    { checkpoint: 'lims' },
    { checkpoint: 'packaging' },
    { any: [{ checkpoint: 'qa-approval' }, { checkpoint: 'qp-approval' }] },
  ],
}

describe('evaluateRelease', () => {
  it('released when every required checkpoint passed or was waived', () => {
    const r = evaluateRelease(
      GATE,
      [
        cp('lims', 'passed'),
        cp('packaging', 'waived'),
        cp('qa-approval', 'pending'),
        cp('qp-approval', 'passed'),
      ],
      NOW,
    )
    expect(r.decision).toBe('released')
    expect(r.reasons.find((x) => x.checkpoint === 'packaging')?.message).toMatch(/waived by qa.lead/)
  })
  it('blocked as soon as a required checkpoint failed, naming it', () => {
    const r = evaluateRelease(
      GATE,
      [
        cp('lims', 'failed'),
        cp('packaging', 'pending'),
        cp('qa-approval', 'pending'),
        cp('qp-approval', 'pending'),
      ],
      NOW,
    )
    expect(r).toEqual({
      decision: 'blocked',
      reasons: [{ checkpoint: 'lims', status: 'failed', decision: 'blocked', message: 'failed' }],
    })
  })
  it('pending before the deadline, escalate one second after it', () => {
    const cps = (deadline: string) => [
      cp('lims', 'passed'),
      cp('packaging', 'pending', deadline),
      cp('qa-approval', 'passed'),
      cp('qp-approval', 'pending'),
    ]
    expect(evaluateRelease(GATE, cps('2026-03-01T12:00:00Z'), NOW).decision).toBe('pending')
    const late = evaluateRelease(GATE, cps('2026-03-01T11:59:59Z'), NOW)
    expect(late.decision).toBe('escalate')
    expect(late.reasons[0]?.message).toMatch(/after its deadline/)
  })
  it('any: blocked only when every alternative failed', () => {
    const any: ReleaseCondition = { any: [{ checkpoint: 'a' }, { checkpoint: 'b' }] }
    expect(evaluateRelease(any, [cp('a', 'failed'), cp('b', 'pending')], NOW).decision).toBe('pending')
    expect(evaluateRelease(any, [cp('a', 'failed'), cp('b', 'failed')], NOW).decision).toBe('blocked')
  })
  it('rejects unknown references, empty groups, bad deadlines and unexplained waivers, naming the field', () => {
    expect(() => evaluateRelease({ checkpoint: 'x' }, [], NOW)).toThrow(/\/condition\/checkpoint/)
    expect(() => evaluateRelease({ all: [] }, [], NOW)).toThrow(/\/condition\/all/)
    expect(() => evaluateRelease({ checkpoint: 'a' }, [cp('a', 'pending', 'tomorrow')], NOW)).toThrow(
      /\/checkpoints\/0\/deadline/,
    )
    expect(() => evaluateRelease({ checkpoint: 'a' }, [{ id: 'a', status: 'waived' }], NOW)).toThrow(
      /\/checkpoints\/0\/waiver/,
    )
    expect(() => evaluateRelease({ checkpoint: 'a' }, [cp('a', 'passed'), cp('a', 'passed')], NOW)).toThrow(
      /duplicates/,
    )
    expect(() => evaluateRelease({ checkpoint: 'a' }, [cp('a', 'passed')], 'now')).toThrow(/\/now/)
  })
})
