/**
 * erp/sap-s4, the fault matrix per effect (issue 6): transfer posting, usage decision, production
 * order hold and delivery block, each under 5xx, 429 with Retry-After, a hang and commit-then-drop,
 * ends with exactly one ERP document or change, counted in the simulator's state; a replayed step
 * changes nothing. Then the ETag cases (412 Precondition Failed: re-read and retry once with the
 * fresh ETag, or QLK_REMOTE_CONFLICT when the state moved on or keeps moving) and SAP's QA 185
 * "already posted" reached and verified by read-back, with another SAP user acting at an exact
 * moment through an interposer between the connector and the simulator.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { LOTS, s4Client } from '../../simulators/erp-s4/test-client.ts'
import type { FaultConfig, FaultMatch } from '../../simulators/shared/faults.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import type { TransferStockInput } from '../../src/workflows/ports/erp.ts'
import { asEngine } from './engine-retry.ts'
import { type Exchange, type Interposer, startInterposer } from './interposer.ts'
import { DELIVERY, kg, LOT, ORDER, type S4Fixture, STOCK_KEY, startS4Fixture } from './s4-fixture.ts'

let fx: S4Fixture | undefined
let via: Interposer | undefined
afterEach(async () => {
  await via?.close()
  await fx?.sim.close()
  fx = undefined
  via = undefined
})

const TRANSFER: TransferStockInput = {
  idempotencyKey: 'complaint-9/block',
  lot: LOT,
  from: 'unrestricted',
  to: 'blocked',
  quantity: kg(40),
}
const HOLD = { idempotencyKey: 'nc-1/hold', order: ORDER, onHold: true, reason: 'NC-1 out of tolerance' }
const BLOCK = { idempotencyKey: 'c-1/block', delivery: DELIVERY, blocked: true }

interface Effect {
  readonly match: FaultMatch
  /** what has to be in SAP before the effect can be made */
  prepare(f: S4Fixture): Promise<unknown>
  run(f: S4Fixture): Promise<unknown>
  /** documents (or state changes) the effect left in the simulator */
  count(f: S4Fixture): number
}

const EFFECTS: Record<string, Effect> = {
  'transfer posting': {
    match: { method: 'POST', path: 'A_MaterialDocumentHeader' },
    prepare: async (f) => {
      await f.decide()
      await f.erp.postStockDisposition({ ...f.split(), lines: [{ bucket: 'release', quantity: kg(100) }] })
    },
    run: (f) => f.erp.transferStock(TRANSFER),
    count: (f) =>
      f.sim.state.materialDocuments.filter((d) => d.items.some((i) => i.movementType === '344')).length,
  },
  'usage decision': {
    match: { method: 'POST', path: 'A_InspLotUsageDecision' },
    prepare: async () => {},
    run: (f) => f.decide(),
    count: (f) => f.sim.state.counts.usageDecisions,
  },
  'production order hold': {
    match: { method: 'PATCH', path: 'A_ProductionOrder_2' },
    prepare: async () => {},
    run: (f) => f.erp.setProductionOrderHold(HOLD),
    count: (f) => f.sim.state.productionOrders[0]!.holdChanges,
  },
  'delivery block': {
    match: { method: 'PATCH', path: 'A_OutbDeliveryHeader' },
    prepare: async () => {},
    run: (f) => f.erp.setDeliveryBlock(BLOCK),
    count: (f) => f.sim.state.deliveries[0]!.blockChanges,
  },
}

const FAULTS: Record<string, Partial<FaultConfig>> = {
  '5xx': { errorRate: 1, errorStatus: 503, times: 2 },
  '429 with Retry-After': { rateLimitRate: 1, retryAfterSeconds: 2, times: 2 },
  hang: { hangRate: 1, times: 1 },
  'commit-then-drop': { dropResponseRate: 1, times: 2 },
}

describe('erp/sap-s4 fault matrix: exactly one ERP document per effect', () => {
  for (const [effect, e] of Object.entries(EFFECTS)) {
    for (const [fault, config] of Object.entries(FAULTS)) {
      it(`${effect} under ${fault}`, async () => {
        fx = await startS4Fixture()
        await e.prepare(fx)
        fx.sim.faults.set({ ...config, match: e.match })
        await asEngine(() => e.run(fx!))
        expect(Object.values(fx.sim.state.faultsInjected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
        expect(e.count(fx)).toBe(1)
        if (config.rateLimitRate)
          expect(fx.metrics.waits).toContainEqual(
            expect.objectContaining({ reason: 'retry-after', waitMs: 2000 }),
          )
        // the step replayed with the same key reads back and sends nothing
        await e.run(fx)
        expect(e.count(fx)).toBe(1)
        expect(fx.sim.state.counts.conservationViolations).toEqual([])
      })
    }
  }
})

/** The connector reaches the simulator through an interposer; `act` runs once, on the first matching answer. */
async function interposed(
  when: (x: Exchange) => boolean,
  act: (f: S4Fixture) => Promise<void>,
  options: Parameters<typeof startS4Fixture>[0] = {},
): Promise<S4Fixture> {
  let done = false
  const f = await startS4Fixture({
    ...options,
    connectTo: async (url) => {
      via = await startInterposer(url)
      via.onAnswer = async (x) => {
        if (done || !when(x)) return undefined
        done = true
        await act(f)
        return undefined
      }
      return via.url
    },
  })
  fx = f
  return f
}

/** Another SAP user's change, made with the entity's current ETag (as the GUI would). */
async function otherUser(f: S4Fixture, method: string, path: string, body: unknown): Promise<void> {
  const c = s4Client(f.sim.url)
  const etag = (await c.get(path)).headers.get('etag') ?? '*'
  const res = await c.send(method, path, body, { 'if-match': etag })
  expect(res.status, `${method} ${path}`).toBeLessThan(300)
}

const ORDER_PATH = `/sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2('${ORDER}')`
const isOrderRead = (x: Exchange) => x.method === 'GET' && x.path.includes('A_ProductionOrder_2(')
const isPostingsRead = (x: Exchange) => x.method === 'GET' && x.path.includes('/to_InspLotMatlDocItem')

describe('erp/sap-s4 stale ETag (412 Precondition Failed)', () => {
  it('a hold: someone changed the order after our read; re-read, retry once with the fresh ETag', async () => {
    const f = await interposed(isOrderRead, (f) =>
      otherUser(f, 'PATCH', ORDER_PATH, { MfgOrderHoldReason: 'planner note' }),
    )
    expect(await f.erp.setProductionOrderHold(HOLD)).toEqual({ changed: true })
    expect(f.sim.state.productionOrders[0]).toMatchObject({ onHold: true, holdChanges: 1 })
    expect(f.metrics.calls.filter((c) => c.status === 412)).toHaveLength(1)
  })

  it('a hold the other user already set: the re-read shows it done, nothing more is sent', async () => {
    const f = await interposed(isOrderRead, (f) =>
      otherUser(f, 'PATCH', ORDER_PATH, { MfgOrderIsOnHold: true, MfgOrderHoldReason: 'by hand' }),
    )
    expect(await f.erp.setProductionOrderHold(HOLD)).toEqual({ changed: false })
    expect(f.sim.state.productionOrders[0]).toMatchObject({ onHold: true, holdChanges: 1, reason: 'by hand' })
  })

  it('UD stock posting: another user posts a different split meanwhile → QLK_REMOTE_CONFLICT, ours not posted', async () => {
    const f = await interposed(isPostingsRead, (f) =>
      otherUser(f, 'POST', `${LOTS}/A_InspLotMatlDocItem`, {
        InspectionLot: f.inspectionLot,
        UsageDecisionStockType: 'VMENGE02',
        InspLotQtyPosted: '100',
      }),
    )
    await f.decide()
    const err = await f.erp.postStockDisposition(f.split()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect((err as PermanentError).code).toBe('QLK_REMOTE_CONFLICT')
    expect(f.sim.state.counts.documentsByLotAndBucket[STOCK_KEY]).toEqual({ qi: 1, scrap: 1 })
  })

  it('a second 412 after the re-read is permanent (QLK_REMOTE_CONFLICT), not a third guess', async () => {
    let changes = 0
    fx = await startS4Fixture({
      connectTo: async (url) => {
        via = await startInterposer(url)
        via.onAnswer = async (x) => {
          // the order changes after every read of ours: someone keeps editing it
          if (isOrderRead(x) && changes < 2) {
            changes++
            await otherUser(fx!, 'PATCH', ORDER_PATH, { MfgOrderHoldReason: `edit ${changes}` })
          }
          return undefined
        }
        return via.url
      },
    })
    const err = await fx.erp.setProductionOrderHold(HOLD).catch((e: unknown) => e)
    expect((err as PermanentError).code).toBe('QLK_REMOTE_CONFLICT')
    expect((err as PermanentError).message).toMatch(/412/)
    expect(fx.sim.state.productionOrders[0]).toMatchObject({ onHold: false, holdChanges: 0 })
  })
})

describe('erp/sap-s4 QA 185 "already posted"', () => {
  it('counts as success only after the read-back shows exactly the decided split', async () => {
    // A Gateway service without ETags (no __metadata.etag, no If-Match check): the posting is
    // not fenced, so a colleague's identical posting in the GUI between our read and our POST
    // completes the lot and our POST is answered with QA 185.
    const f = await interposed(
      isPostingsRead,
      async (f) => {
        for (const [st, qty] of [
          ['VMENGE01', '60'],
          ['VMENGE04', '30'],
          ['VMENGE02', '10'],
        ])
          await otherUser(f, 'POST', `${LOTS}/A_InspLotMatlDocItem`, {
            InspectionLot: f.inspectionLot,
            UsageDecisionStockType: st,
            InspLotQtyPosted: qty,
          })
      },
      { sim: { requireConcurrencyToken: false } },
    )
    via!.onAnswer = withoutEtags(via!.onAnswer!)
    await f.decide()
    const r = await f.erp.postStockDisposition(f.split())
    expect(r).toMatchObject({ alreadyDone: false })
    expect(r.documents).toHaveLength(3)
    expect(f.metrics.calls.some((c) => c.status === 400)).toBe(true) // the QA 185 answer
    expect(f.sim.state.counts.documentsByLotAndBucket[STOCK_KEY]).toEqual({
      qi: 1,
      unrestricted: 1,
      blocked: 1,
      scrap: 1,
    })
  })
})

/** Strips `etag` from every OData answer, as a service without ETag support sends none. */
function withoutEtags(next: NonNullable<Interposer['onAnswer']>): NonNullable<Interposer['onAnswer']> {
  return async (x) => {
    const body = (await next(x)) ?? x.body
    if (!body.startsWith('{')) return body
    return JSON.stringify(JSON.parse(body), (k, v) => (k === 'etag' ? undefined : v))
  }
}
