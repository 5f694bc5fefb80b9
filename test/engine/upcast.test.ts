/**
 * Issue 4, item 4: "upcasters turn v1 events into v2 when a v2 exists, so consumers see one shape".
 * A QMS still sending qms.result.recorded.v1 reaches a workflow written for v2: the event starts
 * it (routing by the newest major), and its trigger, its inbox and its waits all hand the workflow
 * the v2 shape. The log keeps the v1 event as it was sent.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, append, demoEvent, engine, until } from './harness.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'qms-p100', approvalStatus: 'approved' }

/** a v1 result as an older QMS connector sends it: flat value and unit */
function resultV1(lot: string, value: string): CloudEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test:qms',
    type: 'qms.result.recorded.v1',
    subject: lot,
    plant: 'P100',
    data: {
      inspectionLot: lot,
      plant: 'P100',
      characteristic: 'DIA',
      value,
      unit: 'MM',
      valuation: 'accepted',
      audit,
    },
  } as CloudEvent
}

const v2 = (value: string) => ({
  type: 'qms.result.recorded.v2',
  data: expect.objectContaining({ measured: { value, unit: { code: 'MM', system: 'qualink' } } }),
})
const shape = (e: { type: string; envelope: Record<string, unknown> }) => ({
  type: e.type,
  data: e.envelope.data as Record<string, unknown>,
})

/** written for v2 only: started by a result, takes the next one of its lot from its inbox */
const resultsV2 = defineWorkflow<unknown>({
  name: 'results-v2',
  version: 1,
  triggers: ['qms.result.recorded.v2'],
  key: (e) => (e.data as { inspectionLot: string }).inspectionLot,
  async run(ctx, trigger) {
    const next = await ctx.receive({ timeout: '1h' })
    return { trigger: shape(trigger), next: next.timedOut ? null : shape(next.event) }
  },
})

/** waits for a result about its order under the v1 name: receives it as v2 */
const waitsForResult = defineWorkflow<unknown>({
  name: 'waits-for-result',
  version: 1,
  triggers: ['qualink.demo.order_received.v1'],
  key: (e) => (e.data as { order: string }).order,
  async run(ctx) {
    const r = await ctx.waitFor('qms.result.recorded.v1', { subject: ctx.key, timeout: '1h' })
    return r.timedOut ? null : shape(r.event)
  },
})

describe.each(DIALECTS)('upcasting in the engine on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
  })
  afterEach(async () => {
    await store?.close()
    await db?.cleanup()
  })

  const resultOf = async (key: string) => {
    const [run] = await store.engine.listRuns(ALL, { key, limit: 5 })
    return run?.status === 'completed' ? run.result : undefined
  }

  it('starts a v2 workflow on a v1 event and hands trigger and inbox over as v2', async () => {
    const e = engine(store, { workflows: [resultsV2] })
    await append(store, resultV1('IL-1', '12.03'))
    await e.drain()
    await append(store, resultV1('IL-1', '12.05'))
    await until(async () => {
      await e.drain()
      return (await resultOf('IL-1')) !== undefined
    })
    expect(await resultOf('IL-1')).toEqual({ trigger: v2('12.03'), next: v2('12.05') })
    // the log keeps what the QMS sent
    const stored = await store.listEvents(ALL, { type: 'qms.result.recorded.v1', limit: 5 })
    expect(stored.map((s) => s.envelope.data)).toEqual([
      expect.objectContaining({ value: '12.03', unit: 'MM' }),
      expect.objectContaining({ value: '12.05', unit: 'MM' }),
    ])
  })

  it('a wait for the family receives a v1 event in the v2 shape', async () => {
    const e = engine(store, { workflows: [waitsForResult] })
    await append(store, demoEvent('order_received', { order: 'O-9', lines: 0 }))
    await e.drain()
    await append(store, resultV1('O-9', '7.5'))
    await until(async () => {
      await e.drain()
      return (await resultOf('O-9')) !== undefined
    })
    expect(await resultOf('O-9')).toEqual(v2('7.5'))
  })
})
