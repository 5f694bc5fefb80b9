/**
 * Shared pieces of the per-workflow fault matrices (issue 8, Tests): the ERP faults every
 * effect is put through, a chat stub that records who was told what, the story the audit trail
 * tells about a lot, and dead-letter replay through the API.
 */
import { expect } from 'vitest'
import type { FaultConfig } from '../../simulators/shared/faults.ts'
import { notifyWebhookConnector } from '../../src/connectors/notify/webhook/connector.ts'
import type { WorkflowDefinition } from '../../src/engine/workflow.ts'
import type { Qualink } from '../../src/server/qualink.ts'
import type { DeadLetter } from '../../src/store/engine-types.ts'
import { marks } from '../../src/store/sql-executor.ts'
import type { Store } from '../../src/store/types.ts'
import { type HttpStub, startStub } from '../connectors/http-stub.ts'
import { ALL } from '../engine/harness.ts'

/** The fault counter of the simulator's `faults.counts` a case moves. */
type FaultCounter = 'error' | 'rateLimit' | 'dropResponse'

export interface ErpFaultCase {
  readonly name: string
  readonly faults: (path: string, method: string) => Partial<FaultConfig>
  readonly counter: FaultCounter
  readonly injected: number
}

/**
 * ERP 5xx and 429 (refused, nothing applied: retried by the engine, the 429 inline after its
 * Retry-After) and the ambiguous one: the change committed and its answer dropped, which only a
 * read-back can tell. Each case hits only the effect's own request (`match`).
 */
export const ERP_FAULTS: readonly ErpFaultCase[] = [
  {
    name: 'ERP 503 twice',
    faults: (path, method) => ({ errorRate: 1, errorStatus: 503, times: 2, match: { path, method } }),
    counter: 'error',
    injected: 2,
  },
  {
    name: 'ERP 429 twice (Retry-After 1 s)',
    faults: (path, method) => ({ rateLimitRate: 1, retryAfterSeconds: 1, times: 2, match: { path, method } }),
    counter: 'rateLimit',
    injected: 2,
  },
  {
    name: 'ERP commits, answer dropped',
    faults: (path, method) => ({ dropResponseRate: 1, times: 1, match: { path, method } }),
    counter: 'dropResponse',
    injected: 1,
  },
]

/** A Slack-compatible incoming webhook recording what people were told, and the port to it. */
export async function startChat(envVar: string) {
  const chat: HttpStub = await startStub(() => ({ status: 200, body: 'ok' }))
  process.env[envVar] = `${chat.url}/services/T/B/X`
  const notify = notifyWebhookConnector.instantiate(
    { urlEnv: envVar, format: 'slack' },
    { name: 'notify', allowlist: [chat.url], leaseMs: 30_000 },
  )
  return {
    notify,
    /** messages that contain `text` */
    told: (text: string) => chat.requests.filter((r) => r.body.includes(text)).length,
    close: () => chat.close(),
  }
}

/**
 * The audit trail of `subjects` (the lot, the production order) as the store holds it, in
 * commit order: `action`, or `action:step` for a workflow step. Read from the audit rows and
 * their payloads directly, not from the sealed evidence bundle: on a PostgreSQL server the sealer
 * and the projections read below a server-wide watermark, which any long transaction (even in
 * another database) holds back. Waits until it holds every entry of `expected` (with
 * multiplicity), then returns it.
 */
export async function auditStory(
  store: Store,
  subjects: readonly string[],
  expected: readonly string[],
): Promise<string[]> {
  const read = async () => {
    const rows = (
      await Promise.all(subjects.map((subject) => store.listAudit(ALL, { subject, limit: 1000 })))
    )
      .flat()
      .sort((a, b) => a.seq - b.seq)
    if (rows.length === 0) return []
    const payloads = new Map<number, { step?: string }>()
    for (const p of await store.sql.all(
      `SELECT audit_seq, payload FROM audit_payloads WHERE audit_seq IN (${marks(rows.length)})`,
      rows.map((r) => r.seq),
    ))
      payloads.set(
        Number(p.audit_seq),
        (typeof p.payload === 'string' ? JSON.parse(p.payload) : p.payload) as { step?: string },
      )
    return rows.map((r) => {
      const step = payloads.get(r.seq)?.step
      return step ? `${r.action}:${step}` : r.action
    })
  }
  const holds = (story: string[]) => {
    const left = [...story]
    return expected.every((e) => {
      const i = left.indexOf(e)
      if (i >= 0) left.splice(i, 1)
      return i >= 0
    })
  }
  // polled (not `until`) so a miss reports what the trail did hold
  const giveUpAt = Date.now() + 30_000
  let story = await read()
  while (!holds(story) && Date.now() < giveUpAt) {
    await new Promise((r) => setTimeout(r, 100))
    story = await read()
  }
  expect(
    holds(story),
    `the audit trail of ${subjects.join(', ')} [${story.join(', ')}] holds [${expected.join(', ')}]`,
  ).toBe(true)
  return story
}

/**
 * The workflow with a short retry budget of `maxAttempts` (fast backoff), so an ERP that stays
 * down dead-letters the run within the test; unchanged without one.
 */
export function withRetryBudget<P, C>(
  workflow: WorkflowDefinition<P, C>,
  maxAttempts?: number,
): WorkflowDefinition<P, C> {
  return maxAttempts ? { ...workflow, retry: { maxAttempts, initialDelayMs: 50, maxDelayMs: 200 } } : workflow
}

/** How often `entry` occurs in a story. */
export const times = (story: readonly string[], entry: string) => story.filter((s) => s === entry).length

/** Replays a dead letter through the API (as `qualink runs replay <id>` does); the HTTP status. */
export async function replayDeadLetter(q: Qualink, dl: DeadLetter): Promise<number> {
  const r = await q.app.inject({ method: 'POST', url: `/v1/dead-letters/${dl.id}/replay` })
  return r.statusCode
}

/** Sends a stored event's envelope again (a source resending the same message); its answer. */
export async function resend(q: Qualink, envelope: unknown) {
  const r = await q.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(envelope),
  })
  return r.json() as { duplicate?: boolean; seq?: number }
}
