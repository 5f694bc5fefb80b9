import { expect, it } from 'vitest'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import type { Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { mesMessage, natsMissing, useNatsMesHub } from './nats-mes-hub.ts'
import { sharedPostgresMissing } from './prerequisites.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F8 (reference/perf-reliability.md §6): reordering within a key. The MES numbers its messages
 * (CloudEvents `sequence`); production order O-1's completions reach Qualink out of order —
 * sequence 2 first, then the older 1, then 3 — through a private JetStream stream in that
 * publish order, while O-2's arrive in order. Runs of one key start in arrival order; the
 * engine's stale-trigger guard (src/engine/stale-trigger.ts) parks a trigger whose sequence is
 * not newer than one already applied to its key: a dead letter QLK_STALE_SEQUENCE, the key not
 * blocked. Invariants: per key the applied sequences only rise (0 inversions), the late older
 * event is never applied, and everything acked is stored once.
 */
interface Completion {
  readonly operation: { productionOrder: string }
}

const scenario = (dialect: Dialect) => () => {
  /** per production order, the MES sequences the step applied, in order */
  const applied: Record<string, number[]> = {}
  const applyInOrder = defineWorkflow<unknown>({
    name: 'apply-in-order',
    version: 1,
    triggers: ['mes.operation.completed.v1'],
    key: (e) => (e.data as Completion).operation.productionOrder,
    async run(ctx, trigger) {
      const order = (trigger.envelope.data as Completion).operation.productionOrder
      return ctx.step('apply', async () => {
        applied[order] = [...(applied[order] ?? []), trigger.sourceSequence ?? -1]
        return { sequence: trigger.sourceSequence }
      })
    },
  })
  const hub = useNatsMesHub(dialect, { workflows: [applyInOrder] })

  it('applies each key in its source sequence and parks the late older event', async () => {
    const sent: Array<[string, string, number]> = [
      ['o1-s2', 'O-1', 2],
      ['o2-s1', 'O-2', 1],
      ['o1-s1', 'O-1', 1], // older than what O-1 already applied
      ['o2-s2', 'O-2', 2],
      ['o1-s3', 'O-1', 3],
      ['o2-s3', 'O-2', 3],
    ]
    for (const [id, order, seq] of sent) await hub.publish(id, mesMessage(id, order, seq))
    await hub.allAcked()
    const settled = async (key: string, n: number) =>
      (await hub.runsOf(key)).filter((r) => r.status === 'completed' || r.status === 'dead').length === n
    await until(async () => (await settled('O-1', 3)) && (await settled('O-2', 3)))

    const dls = await hub.store.engine.listDeadLetters(ALL, { limit: 10 })
    report(`F8 reordering within a key (${dialect})`, {
      acked: sent.map(([id]) => id),
      stored: await hub.storedIds(),
      effects: Object.entries(applied).flatMap(([k, seqs]) => seqs.map((s) => `${k}#${s}`)),
      applied,
      detail:
        `arrival O-1: 2,1,3 and O-2: 1,2,3; parked ${dls.length} (${dls.map((d) => d.errorCode).join(',')}); ` +
        `O-1 runs ${(await hub.runsOf('O-1')).map((r) => r.status).join(',')}`,
    })
    expect(applied).toEqual({ 'O-1': [2, 3], 'O-2': [1, 2, 3] })
    expect(dls).toHaveLength(1)
    expect(dls[0]).toMatchObject({ key: 'O-1', errorCode: 'QLK_STALE_SEQUENCE', status: 'open' })
    expect(dls[0]!.error).toMatch(/sequence 1, not newer than sequence 2/)
    expect((await hub.store.engine.engineCounts()).blockedKeys).toBe(0)
  })
}

const nats = await natsMissing()
faultDescribe('F8: reordering within a key (sqlite)', nats, scenario('sqlite'))
faultDescribe(
  'F8: reordering within a key (postgres)',
  (await sharedPostgresMissing()) ?? nats,
  scenario('postgres'),
)
