import { expect, it } from 'vitest'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import type { PoisonPolicy } from '../../src/store/engine-types.ts'
import type { Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { mesMessage, natsMissing, useNatsMesHub } from './nats-mes-hub.ts'
import { sharedPostgresMissing } from './prerequisites.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F15 (reference/perf-reliability.md §6): poison messages through a broker source (a private
 * JetStream stream on the shared NATS, unique names). Two kinds:
 * - schema-invalid: the MES message cannot become a valid canonical event. Its raw delivery is
 *   dead at once (no retry can fix it) with its body, code and message kept, and it is acked on
 *   the broker, so it is not redelivered forever.
 * - a workflow step that throws deterministically: the run is retried, then dead-lettered after
 *   N attempts with its context (workflow, key, code, message, attempts). The workflow's per-key
 *   policy (DESIGN §6, `poisonPolicy`) decides what the key's later events do: `block` queues
 *   them behind the failed run until an operator discards (or replays) it; `skip` lets them run.
 * Other keys proceed under both policies. Applied order per key follows the MES `sequence`.
 */
const ATTEMPTS = 3

interface Completion {
  readonly operation: { productionOrder: string }
  readonly measurements: Array<{ characteristic: string; value: string }>
}

const scenario = (dialect: Dialect, policy: PoisonPolicy) => () => {
  /** per production order, the MES sequence numbers the step applied, in order */
  const applied: Record<string, number[]> = {}
  const attemptsSeen: Record<string, number> = {}

  const poisonCheck = defineWorkflow<unknown>({
    name: 'poison-check',
    version: 1,
    triggers: ['mes.operation.completed.v1'],
    key: (e) => (e.data as Completion).operation.productionOrder,
    poisonPolicy: policy,
    retry: { maxAttempts: ATTEMPTS, initialDelayMs: 10, maxDelayMs: 50, factor: 2 },
    async run(ctx, trigger) {
      const d = trigger.envelope.data as Completion
      const order = d.operation.productionOrder
      return ctx.step('apply-measurement', async () => {
        if (d.measurements.some((m) => m.characteristic === 'POISON')) {
          attemptsSeen[trigger.id] = (attemptsSeen[trigger.id] ?? 0) + 1
          throw new Error(`measurement POISON of order ${order} cannot be applied`)
        }
        applied[order] = [...(applied[order] ?? []), trigger.sourceSequence ?? -1]
        return { applied: true }
      })
    },
  })

  const hub = useNatsMesHub(dialect, { workflows: [poisonCheck] })
  const { publish, runsOf, storedIds: stored } = hub

  it(`dead-letters both poisons with their context; policy ${policy} for the key's later events`, async () => {
    // A schema-invalid message: no order, a measurement without a value.
    const invalid = { messageId: 'x', line: 'L1', measurements: [{ characteristic: 'D', unit: 'mm' }] }
    await publish('invalid-1', invalid)
    // O-1: a poisoned completion, then (once it is being retried) a good one for the same order.
    await publish('p-1', mesMessage('p-1', 'O-1', 1, 'POISON'))
    await until(async () => (await runsOf('O-1')).length === 1)
    await publish('n-1', mesMessage('n-1', 'O-1', 2))
    await publish('g-1', mesMessage('g-1', 'O-2', 1))

    await until(async () => (await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1)
    const [dl] = await hub.store.engine.listDeadLetters(ALL, { limit: 5 })
    expect(dl).toMatchObject({ workflow: 'poison-check', key: 'O-1', attempts: ATTEMPTS, status: 'open' })
    expect(dl!.error).toContain('measurement POISON of order O-1')
    expect(attemptsSeen['p-1']).toBe(ATTEMPTS)

    // The schema-invalid delivery: dead on its first attempt, its body kept, acked on the broker.
    await until(
      async () => (await hub.store.ingress.listRawDeliveries(ALL, { status: 'dead', limit: 5 })).length === 1,
    )
    const [dead] = await hub.store.ingress.listRawDeliveries(ALL, { status: 'dead', limit: 5 })
    expect(dead).toMatchObject({ deliveryId: 'invalid-1', attempts: 1 })
    expect(dead!.lastErrorCode).toMatch(/^QLK_/)
    expect(JSON.parse(dead!.body.toString('utf8'))).toEqual(invalid)
    await hub.allAcked()

    // Other keys are never held up.
    await until(async () => (await runsOf('O-2'))[0]?.status === 'completed')
    // n-1 is in the log; routing happens in the same transaction, so its fate is decided.
    await until(async () => (await stored()).includes('n-1'))
    const faultEndedAt = Date.now()
    if (policy === 'block') {
      expect((await runsOf('O-1')).map((r) => r.status)).toEqual(['failed'])
      expect((await hub.store.engine.engineCounts()).blockedKeys).toBe(1)
      expect(applied['O-1']).toBeUndefined()
      // The operator discards the poisoned run: the key unblocks and its queued event runs.
      await hub.store.engine.discardDeadLetter(ALL, dl!.id, 'poison: measurement cannot be applied', {
        actor: 'test',
        action: 'dead_letter.discarded',
        subject: 'O-1',
        correlationId: null,
        payload: { id: dl!.id },
      })
      hub.q.engine.wake()
    }
    await until(async () => (await runsOf('O-1')).some((r) => r.status === 'completed'))
    const recoveredAt = Date.now()
    // (a discarded blocked run is dead too)
    expect((await runsOf('O-1')).map((r) => r.status).sort()).toEqual(['completed', 'dead'])
    const acked = ['invalid-1', 'p-1', 'n-1', 'g-1']
    const raws = (await hub.store.ingress.listRawDeliveries(ALL, { limit: 10 })).map((r) => r.deliveryId)
    report(`F15 poison message, policy ${policy} (${dialect})`, {
      acked,
      stored: raws,
      effects: Object.entries(applied).flatMap(([k, seqs]) => seqs.map((s) => `${k}#${s}`)),
      applied,
      faultEndedAt: policy === 'block' ? faultEndedAt : undefined,
      recoveredAt: policy === 'block' ? recoveredAt : undefined,
      detail:
        `schema-invalid delivery dead (${dead!.lastErrorCode}) on attempt 1; step poison dead-lettered after ` +
        `${dl!.attempts} attempts (${dl!.errorCode}); O-1's later event ${policy === 'block' ? 'waited until the discard (recover = discard to completed)' : 'ran at once'}`,
    })
    expect(applied).toEqual({ 'O-1': [2], 'O-2': [1] })
  })
}

const nats = await natsMissing()
const pgMissing = (await sharedPostgresMissing()) ?? nats
for (const policy of ['block', 'skip'] as const) {
  faultDescribe(`F15: poison messages, policy ${policy} (sqlite)`, nats, scenario('sqlite', policy))
  faultDescribe(`F15: poison messages, policy ${policy} (postgres)`, pgMissing, scenario('postgres', policy))
}
