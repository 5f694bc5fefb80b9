import pino from 'pino'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { type ErpS4Sim, startErpS4 } from '../../simulators/index.ts'
import { sapS4Connector } from '../../src/connectors/erp/sap-s4/connector.ts'
import { RecordingMetrics } from '../../src/connectors/sdk/index.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import type { ErpPort } from '../../src/workflows/ports/erp.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, append, demoEvent, until } from '../engine/harness.ts'
import { FaultProxy } from './fault-proxy.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F9 (reference/perf-reliability.md §6): an ERP that answers 5xx or 429 for a while. One step
 * records a usage decision on the S/4 simulator through the sap-s4 connector; the TCP fault proxy
 * in front of the simulator counts the attempts it was sent. Each attempt starts by reading the
 * lot's usage decision (the connector's read-before-write), so reads of
 * `A_InspLotUsageDecision('…')` are the attempts the ERP saw. Invariants: attempts seen ≤ the
 * retry policy's budget (maxAttempts engine attempts, each with at most rateLimitRetries inline
 * 429 retries); the run completes when the ERP recovers within the budget and dead-letters with
 * its error when it does not; the circuit opens after `failureThreshold` failures, refuses
 * without sending, and closes after a successful probe; a replay from the DLQ posts once.
 */
const POLICY = { maxAttempts: 4, initialDelayMs: 50, maxDelayMs: 200, factor: 2 }
const BREAKER = { failureThreshold: 3, openMs: 1000, halfOpenProbes: 1 }
const RATE_LIMIT_RETRIES = 2 // the egress default (src/connectors/sdk/egress.ts)
const UD_READ = /^GET \S*A_InspLotUsageDecision\('/

interface Trigger {
  readonly order: string
  readonly lot: string
}

const recordDecision = defineWorkflow<{ erp: ErpPort }>({
  name: 'f9-usage-decision',
  version: 1,
  triggers: ['qualink.demo.order_received.v1'],
  key: (e) => (e.data as Trigger).order,
  retry: POLICY,
  async run(ctx, trigger) {
    const { lot } = trigger.envelope.data as Trigger
    return ctx.step('usage-decision', ({ idempotencyKey }) =>
      ctx.ports.erp.recordUsageDecision({
        idempotencyKey,
        inspectionLot: lot,
        valuation: 'accepted',
        code: 'A1',
      }),
    )
  },
})

faultDescribe('F9: ERP answering 5xx and 429 for a while', undefined, () => {
  let db: TestDatabase
  let store: Store
  let erp: ErpS4Sim
  let proxy: FaultProxy
  let q: Qualink
  const metrics = new RecordingMetrics()
  const lots = new Map<string, string>()

  beforeAll(async () => {
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
    erp = await startErpS4({ materials: { 'RAW-100': { baseUnit: 'KG' } } })
    for (const batch of ['A', 'B', 'C', 'D']) {
      const res = await s4Client(erp.url).send(
        'POST',
        `${MATDOC}/A_MaterialDocumentHeader`,
        goodsReceipt(batch, '10'),
      )
      expect(res.status).toBe(201)
      lots.set(batch, erp.state.inspectionLots.find((l) => l.stockLot === `RAW-100|1000|${batch}`)!.lot)
    }
    proxy = await FaultProxy.start({ port: Number(new URL(erp.url).port) })
    const url = `http://${proxy.host}`
    q = await startQualink({
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: `${db.dir}/anchors.jsonl`,
      workflows: [recordDecision],
      ports: {
        erp: sapS4Connector.instantiate(
          { baseUrl: url, egress: { timeoutMs: 2000, breaker: BREAKER } },
          { name: 'erp', allowlist: [url], leaseMs: 30_000, metrics },
        ),
      },
    })
  })
  afterAll(async () => {
    await q?.close()
    await proxy?.close()
    await erp?.close()
    await store?.close()
    await db?.cleanup()
  })

  const start = async (batch: string) => {
    const e = demoEvent('order_received', { order: `F9-${batch}`, lines: 1, lot: lots.get(batch) })
    await append(store, e)
    return e.id
  }
  const run = async (batch: string) => (await store.engine.listRuns(ALL, { key: `F9-${batch}`, limit: 2 }))[0]
  const decisions = () => erp.state.counts.usageDecisions
  /** one entry per lot the ERP holds a usage decision for (the simulator refuses a second) */
  const effects = () => erp.state.inspectionLots.filter((l) => l.usageDecision).map((l) => l.lot)
  const stored = async () => (await store.listEvents(ALL, { limit: 100 })).map((e) => e.id)

  it('5xx shorter than the budget: retried within it, completed, circuit stays closed', async () => {
    const seen = proxy.tally(UD_READ)
    erp.faults.set({ errorRate: 1, errorStatus: 503, times: 2, match: { path: 'A_InspLotUsageDecision' } })
    const id = await start('A')
    await until(async () => (await run('A'))?.status === 'completed', 30_000)
    expect(seen()).toBe(3) // two refused attempts, one that went through
    expect(seen()).toBeLessThanOrEqual(POLICY.maxAttempts)
    expect(decisions()).toBe(1)
    expect(metrics.states).toEqual([])
    report('F9 ERP 503 ×2 (within budget)', {
      acked: [id],
      stored: await stored(),
      effects: effects(),
      detail: `attempts seen ${seen()} of ${POLICY.maxAttempts}; 503s ${erp.faults.counts.error}`,
    })
  })

  it('429 with Retry-After: waited inline, not a breaker failure, within the attempt budget', async () => {
    const seen = proxy.tally(UD_READ)
    erp.faults.set({
      rateLimitRate: 1,
      retryAfterSeconds: 1,
      times: 2,
      match: { path: 'A_InspLotUsageDecision' },
    })
    const id = await start('B')
    await until(async () => (await run('B'))?.status === 'completed', 30_000)
    expect(seen()).toBeLessThanOrEqual(POLICY.maxAttempts * (1 + RATE_LIMIT_RETRIES))
    expect(erp.faults.counts.rateLimit).toBe(2)
    // Each 429 waited out inline (the bucket also holds the target's next request until then).
    const waited = metrics.waits.filter((w) => w.reason === 'retry-after')
    expect(waited.length).toBeGreaterThanOrEqual(2)
    expect(decisions()).toBe(2)
    expect(metrics.states).toEqual([])
    report('F9 ERP 429 ×2 (Retry-After 1 s)', {
      acked: [id],
      stored: await stored(),
      effects: effects(),
      detail:
        `requests seen ${seen()} (budget ${POLICY.maxAttempts * (1 + RATE_LIMIT_RETRIES)}), ` +
        `429s ${erp.faults.counts.rateLimit}, Retry-After waits ${waited.length}`,
    })
  })

  it('5xx past the budget: dead-letters with its error, the circuit opens, then closes and a replay posts once', async () => {
    const seen = proxy.tally(UD_READ)
    erp.faults.set({ errorRate: 1, errorStatus: 502, match: { path: 'A_InspLotUsageDecision' } })
    const id = await start('C')
    await until(async () => (await store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1, 30_000)
    const [dl] = await store.engine.listDeadLetters(ALL, { limit: 5 })
    expect(dl).toMatchObject({ key: 'F9-C', attempts: POLICY.maxAttempts, status: 'open' })
    expect(['QLK_REMOTE_UNAVAILABLE', 'QLK_CIRCUIT_OPEN']).toContain(dl!.errorCode)
    expect(dl!.error).toMatch(/usage decision|circuit/i)
    // Three failures open the circuit; the fourth attempt is refused without reaching the ERP.
    const seenByC = seen()
    expect(seenByC).toBe(BREAKER.failureThreshold)
    expect(seenByC).toBeLessThanOrEqual(POLICY.maxAttempts)
    expect(metrics.states.map((s) => s.state)).toEqual(['open'])
    expect(decisions()).toBe(2)

    // The ERP recovers. A new run waits out the open circuit, probes once, and closes it.
    erp.faults.reset()
    const healedAt = Date.now()
    const idD = await start('D')
    await until(async () => (await run('D'))?.status === 'completed', 30_000)
    const recoveredAt = Date.now()
    expect(metrics.states.map((s) => s.state)).toEqual(['open', 'half-open', 'closed'])

    // Replaying the dead letter records C's decision once.
    await store.engine.replayDeadLetter(ALL, dl!.id, 1, {
      actor: 'test',
      action: 'dead_letter.replayed',
      subject: dl!.key,
      correlationId: null,
      payload: { id: dl!.id },
    })
    await until(async () => (await run('C'))?.status === 'completed', 30_000)
    expect(decisions()).toBe(4)
    report('F9 ERP 502 past the budget', {
      acked: [id, idD],
      stored: await stored(),
      effects: effects(),
      faultEndedAt: healedAt,
      recoveredAt,
      detail:
        `attempts seen before the dead letter ${seenByC} (budget ${POLICY.maxAttempts}); dead letter ${dl!.errorCode} after ${dl!.attempts}; ` +
        `circuit ${metrics.states.map((s) => s.state).join('→')}; recover = heal to the next run completed`,
    })
  })
})
