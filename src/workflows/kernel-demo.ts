import { PermanentError } from '../engine/errors.ts'
import { defineWorkflow } from '../engine/workflow.ts'
import type { KernelDemoPorts, LedgerPort } from './ports.ts'

interface DemoConfig {
  readonly approvalTimeout: string
  readonly settle: string
}

interface OrderData {
  readonly order: string
  readonly lines: number
  readonly failOnLine?: number
}

/**
 * The ERP idempotency pattern (DESIGN §6): write the idempotency key into the document's
 * reference field and read it back before posting, so a retry after an ambiguous failure
 * (crash, timeout, dropped response) finds the first document instead of making a second.
 */
export async function postOnce(ledger: LedgerPort, doc: { ref: string; key: string; line: number }) {
  const existing = await ledger.findByReference(doc.ref)
  if (existing.length > 0) return existing[0]!
  return ledger.post(doc)
}

/**
 * Proves the engine until the quality workflows arrive: a loop of effects, a wait with a
 * deadline, a durable timer, a final effect.
 */
export const kernelDemo = defineWorkflow<KernelDemoPorts, DemoConfig>({
  name: 'kernel-demo',
  version: 1,
  triggers: ['qualink.demo.order_received.v1'],
  key: (e) => (e.data as OrderData).order,
  config: () => ({ approvalTimeout: '1h', settle: '50ms' }),
  async run(ctx, trigger) {
    const order = trigger.envelope.data as OrderData
    const posted: string[] = []
    for (let line = 1; line <= order.lines; line++) {
      const doc = await ctx.step('post-line', async ({ idempotencyKey }) => {
        if (order.failOnLine === line)
          throw new PermanentError('QLK_DEMO_REJECTED', `line ${line} rejected by the ledger`)
        return postOnce(ctx.ports.ledger, { ref: idempotencyKey, key: ctx.key, line })
      })
      posted.push(doc.id)
    }
    const approval = await ctx.waitFor('qualink.demo.approval_given.v1', {
      subject: ctx.key,
      timeout: ctx.config.approvalTimeout,
    })
    if (approval.timedOut) {
      await ctx.step('escalate', async () => ({ escalated: true }))
      return { posted, approved: false }
    }
    await ctx.sleep(ctx.config.settle)
    const closing = await ctx.step('post-closing', ({ idempotencyKey }) =>
      postOnce(ctx.ports.ledger, { ref: idempotencyKey, key: ctx.key, line: 0 }),
    )
    return { posted, closing: closing.id, approved: true }
  },
  async compensate(ctx, info) {
    await ctx.step('reverse-lines', async () => ({
      reversed: info.completedSteps.filter((s) => s === 'post-line').length,
    }))
  },
})
