/**
 * Release-condition evaluator for the finished-goods release workflow: a tree of all/any groups over
 * checkpoints (LIMS result, MES packaging verification, QMS approval, …), each with a status and an
 * optional deadline. Pure: the caller passes `now` (the workflow's ctx.now()), so a replay decides the same.
 *
 * Decision of a node:
 * - checkpoint: passed or waived → released; failed → blocked; pending → escalate when its deadline has
 *   passed, else pending.
 * - all: blocked if any child is blocked, else escalate if any child escalates, else pending if any child
 *   is pending, else released.
 * - any: released if any child is released, else escalate if any child escalates, else pending if any
 *   child is pending, else blocked (every child blocked).
 */
import { invalid } from './validation.ts'

export type CheckpointStatus = 'pending' | 'passed' | 'failed' | 'waived'
export type ReleaseDecision = 'released' | 'blocked' | 'pending' | 'escalate'

export interface Checkpoint {
  readonly id: string
  readonly status: CheckpointStatus
  /** ISO 8601 instant; a pending checkpoint past it escalates */
  readonly deadline?: string
  /** who waived it and why; required for a waived checkpoint so the audit trail can show it */
  readonly waiver?: { readonly by: string; readonly reason: string }
}

export type ReleaseCondition =
  | { readonly all: readonly ReleaseCondition[] }
  | { readonly any: readonly ReleaseCondition[] }
  | { readonly checkpoint: string }

export interface ReleaseReason {
  readonly checkpoint: string
  readonly status: CheckpointStatus
  readonly decision: ReleaseDecision
  readonly message: string
}

export interface ReleaseEvaluation {
  readonly decision: ReleaseDecision
  /** the checkpoints that produced the decision (for released: those that satisfied it) */
  readonly reasons: readonly ReleaseReason[]
}

const STATUSES: readonly CheckpointStatus[] = ['pending', 'passed', 'failed', 'waived']

function parseInstant(path: string, value: string): number {
  const t = Date.parse(value)
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(t)) {
    invalid(path, 'must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z')
  }
  return t
}

export function evaluateRelease(
  condition: ReleaseCondition,
  checkpoints: readonly Checkpoint[],
  now: string,
): ReleaseEvaluation {
  const nowMs = parseInstant('/now', now)
  const byId = new Map<string, Checkpoint>()
  checkpoints.forEach((c, i) => {
    if (typeof c.id !== 'string' || c.id === '') invalid(`/checkpoints/${i}/id`, 'must be a non-empty string')
    if (byId.has(c.id)) invalid(`/checkpoints/${i}/id`, `duplicates checkpoint ${c.id}`)
    if (!STATUSES.includes(c.status))
      invalid(`/checkpoints/${i}/status`, `must be one of ${STATUSES.join(', ')}`)
    if (c.deadline !== undefined) parseInstant(`/checkpoints/${i}/deadline`, c.deadline)
    if (c.status === 'waived' && (!c.waiver?.by || !c.waiver.reason)) {
      invalid(`/checkpoints/${i}/waiver`, 'a waived checkpoint needs waiver.by and waiver.reason')
    }
    byId.set(c.id, c)
  })
  return evaluate(condition, byId, nowMs, '/condition')
}

function evaluate(
  node: ReleaseCondition,
  byId: Map<string, Checkpoint>,
  now: number,
  path: string,
): ReleaseEvaluation {
  if ('checkpoint' in node) {
    const c = byId.get(node.checkpoint)
    if (!c) return invalid(`${path}/checkpoint`, `refers to unknown checkpoint ${node.checkpoint}`)
    return { decision: checkpointDecision(c, now), reasons: [reason(c, now)] }
  }
  const isAll = 'all' in node
  const children = isAll
    ? node.all
    : 'any' in node
      ? node.any
      : invalid(path, 'must have all, any or checkpoint')
  if (!Array.isArray(children) || children.length === 0)
    invalid(`${path}/${isAll ? 'all' : 'any'}`, 'must not be empty')
  const results = children.map((child, i) =>
    evaluate(child, byId, now, `${path}/${isAll ? 'all' : 'any'}/${i}`),
  )
  const having = (d: ReleaseDecision) => results.filter((r) => r.decision === d)
  const order: ReleaseDecision[] = isAll
    ? ['blocked', 'escalate', 'pending', 'released']
    : ['released', 'escalate', 'pending', 'blocked']
  for (const decision of order) {
    const matching = having(decision)
    if (matching.length > 0) return { decision, reasons: matching.flatMap((r) => r.reasons) }
  }
  throw new Error('unreachable: a non-empty group always has a decision')
}

function checkpointDecision(c: Checkpoint, now: number): ReleaseDecision {
  if (c.status === 'passed' || c.status === 'waived') return 'released'
  if (c.status === 'failed') return 'blocked'
  return c.deadline !== undefined && now > Date.parse(c.deadline) ? 'escalate' : 'pending'
}

function reason(c: Checkpoint, now: number): ReleaseReason {
  const decision = checkpointDecision(c, now)
  const message =
    c.status === 'waived'
      ? `waived by ${c.waiver?.by}: ${c.waiver?.reason}`
      : decision === 'escalate'
        ? `still pending after its deadline ${c.deadline}`
        : decision === 'pending'
          ? c.deadline
            ? `pending, due ${c.deadline}`
            : 'pending'
          : c.status
  return { checkpoint: c.id, status: c.status, decision, message }
}
