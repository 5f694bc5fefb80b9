/**
 * erp/sap-s4 against the erp-s4 simulator over real sockets. Effects are counted from the
 * simulator's state (documents per lot and bucket), which, like SAP, never deduplicates.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ErpS4Sim } from '../../simulators/erp-s4/server.ts'
import type { FaultConfig } from '../../simulators/shared/faults.ts'
import { sapS4Connector } from '../../src/connectors/erp/sap-s4/connector.ts'
import type { RecordingMetrics } from '../../src/connectors/sdk/index.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import type { ErpPort, PostStockDispositionInput } from '../../src/workflows/ports/erp.ts'
import { asEngine } from './engine-retry.ts'
import { kg, LOT, type S4Fixture, STOCK_KEY, startS4Fixture } from './s4-fixture.ts'

let fx: S4Fixture
let sim: ErpS4Sim
let erp: ErpPort
let metrics: RecordingMetrics
let inspectionLot: string

beforeEach(async () => {
  fx = await startS4Fixture()
  ;({ sim, erp, metrics, inspectionLot } = fx)
})
afterEach(() => sim.close())

const split = (key?: string): PostStockDispositionInput => fx.split(key)
const decide = async () => {
  await fx.decide()
}

function expectOneDocumentPerBucket(): void {
  expect(sim.state.counts.documentsByLotAndBucket[STOCK_KEY]).toEqual({
    qi: 1,
    unrestricted: 1,
    blocked: 1,
    scrap: 1,
  })
  expect(sim.state.counts.lotPostings).toBe(3)
  expect(sim.state.counts.conservationViolations).toEqual([])
}

const POSTING = { method: 'POST', path: 'A_InspLotMatlDocItem' }
const FAULTS: Array<[string, Partial<FaultConfig>]> = [
  ['commit-then-drop-response, every posting once', { dropResponseRate: 1, times: 3, match: POSTING }],
  ['5xx', { errorRate: 1, errorStatus: 503, times: 2, match: POSTING }],
  ['429 with Retry-After', { rateLimitRate: 1, retryAfterSeconds: 1, times: 2, match: POSTING }],
  ['hang', { hangRate: 1, times: 1, match: POSTING }],
  ['latency', { latencyMs: 20, match: POSTING }],
  ['5xx on reads and writes alike (seeded)', { errorRate: 0.5, seed: 7, times: 3 }],
]

describe('erp/sap-s4 UD stock posting', () => {
  for (const [name, faults] of FAULTS) {
    it(`${name}: exactly one document per bucket`, async () => {
      await decide()
      sim.faults.set(faults)
      const r = await asEngine(() => erp.postStockDisposition(split()))
      expect(r.documents).toHaveLength(3)
      expectOneDocumentPerBucket()
      const injected = Object.values(sim.state.faultsInjected).reduce((a, b) => a + b, 0)
      if (!faults.latencyMs) expect(injected).toBeGreaterThan(0)
      // a replayed step (same key) reads back and posts nothing
      const again = await erp.postStockDisposition(split())
      expect(again.alreadyDone).toBe(true)
      expectOneDocumentPerBucket()
    })
  }

  it('honours 429 Retry-After by waiting on the limiter (observable), not by hammering', async () => {
    await decide()
    sim.faults.set({ rateLimitRate: 1, retryAfterSeconds: 3, times: 1, match: POSTING })
    await erp.postStockDisposition(split())
    expect(metrics.waits).toEqual([expect.objectContaining({ reason: 'retry-after', waitMs: 3000 })])
    expect(sim.state.faultsInjected.rateLimit).toBe(1)
    expectOneDocumentPerBucket()
  })

  it('refreshes an expired CSRF token and still posts once', async () => {
    await decide()
    await erp.postStockDisposition({ ...split(), lines: [{ bucket: 'release', quantity: kg(60) }] })
    sim.csrf.expireAll()
    await erp.postStockDisposition(split())
    expectOneDocumentPerBucket()
  })

  it('a different split on a completed lot is a conflict and posts nothing', async () => {
    await decide()
    await erp.postStockDisposition(split())
    const other: PostStockDispositionInput = {
      ...split('run-2/post-stock'),
      lines: [{ bucket: 'release', quantity: kg(100) }],
    }
    const err = await erp.postStockDisposition(other).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect((err as PermanentError).code).toBe('QLK_REMOTE_CONFLICT')
    expectOneDocumentPerBucket()
  })

  it('records the usage decision once across a dropped answer; a different code is a conflict', async () => {
    sim.faults.set({
      dropResponseRate: 1,
      times: 1,
      match: { method: 'POST', path: 'A_InspLotUsageDecision' },
    })
    await asEngine(() => decide())
    expect(sim.state.counts.usageDecisions).toBe(1)
    const err = await erp
      .recordUsageDecision({ idempotencyKey: 'x', inspectionLot, valuation: 'accepted', code: 'A1' })
      .catch((e: unknown) => e)
    expect((err as PermanentError).code).toBe('QLK_REMOTE_CONFLICT')
  })

  it('reads the lot stock per bucket after the posting', async () => {
    await decide()
    await erp.postStockDisposition(split())
    const s = await erp.readLotStock(LOT)
    // scrap has left stock, as in SAP; only physical stock types are reported
    expect(s.quantities).toEqual({ unrestricted: kg(60), blocked: kg(30) })
  })
})

describe('erp/sap-s4 transfers and holds', () => {
  it('transfer with commit-then-drop: one document carrying the reference', async () => {
    await decide()
    await erp.postStockDisposition({ ...split(), lines: [{ bucket: 'release', quantity: kg(100) }] })
    sim.faults.set({
      dropResponseRate: 1,
      times: 2,
      match: { method: 'POST', path: 'A_MaterialDocumentHeader' },
    })
    const t = {
      idempotencyKey: 'complaint-9/block',
      lot: LOT,
      from: 'unrestricted',
      to: 'blocked',
      quantity: kg(40),
    } as const
    const r = await asEngine(() => erp.transferStock(t))
    expect(r.documents).toHaveLength(1)
    const again = await erp.transferStock(t)
    expect(again).toEqual({ documents: r.documents, alreadyDone: true })
    const blocks = sim.state.materialDocuments.filter((d) => d.items.some((i) => i.movementType === '344'))
    expect(blocks).toHaveLength(1)
    expect(blocks[0]!.headerText).toMatch(/^QLK[0-9A-F]{22}$/)
    expect(sim.state.counts.documentsByLotAndBucket[STOCK_KEY]?.blocked).toBe(1)
  })

  it('hold and delivery block: one change each across dropped answers and stale ETags', async () => {
    sim.faults.set({ dropResponseRate: 1, times: 2, match: { method: 'PATCH' } })
    const h = { idempotencyKey: 'nc-1/hold', order: '1000123', onHold: true, reason: 'NC-1 out of tolerance' }
    await asEngine(() => erp.setProductionOrderHold(h))
    await asEngine(() =>
      erp.setDeliveryBlock({ idempotencyKey: 'c-1/block', delivery: '80000001', blocked: true }),
    )
    expect(await erp.setProductionOrderHold(h)).toEqual({ changed: false })
    expect(sim.state.productionOrders[0]).toMatchObject({ onHold: true, holdChanges: 1 })
    expect(sim.state.deliveries[0]).toMatchObject({ blockReason: '01', blockChanges: 1 })
  })
})

describe('erp/sap-s4 config', () => {
  it('refuses a base URL off the allowlist and a timeout not below the lease', () => {
    expect(() => sapS4Connector.instantiate({ baseUrl: sim.url }, { name: 'x', allowlist: [] })).toThrow(
      /allowlist/,
    )
    expect(() =>
      sapS4Connector.instantiate(
        { baseUrl: sim.url, egress: { timeoutMs: 40_000 } },
        { name: 'x', allowlist: [sim.url], leaseMs: 30_000 },
      ),
    ).toThrow(/lease/)
    expect(() => sapS4Connector.instantiate({ baseUrl: 'not a url' }, { name: 'x', allowlist: [] })).toThrow(
      /\/baseUrl/,
    )
  })
})
