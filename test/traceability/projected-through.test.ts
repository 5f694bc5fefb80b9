/**
 * The genealogy projection tells whether it has consumed a given event (GenealogyStore
 * .projectedThrough), and the traceability port refuses to trace from a projection that has not:
 * it fails retryably with QLK_PROJECTION_BEHIND instead of answering with an empty recall scope
 * (issue 8 kill test: a complaint on PostgreSQL traced to nothing while the projection lagged).
 */
import { describe, expect, it } from 'vitest'
import { RetryableError } from '../../src/engine/errors.ts'
import { GENEALOGY_PROJECTION, GenealogyProjector } from '../../src/projections/genealogy-projector.ts'
import { genealogyTraceability } from '../../src/projections/traceability-port.ts'
import { DIALECTS, type Dialect, untilTailCaughtUp } from '../dialects.ts'
import { ALL, append } from '../engine/harness.ts'
import { useTestStore } from '../store-fixture.ts'
import { operation, receipt } from './genealogy-events.ts'

describe.each(DIALECTS)('a trace waits for the genealogy projection on %s', (dialect: Dialect) => {
  const t = useTestStore(dialect)

  it('reports an event projected only once the projector consumed it; the port retries until then', async () => {
    await append(t.store, receipt('R1', 'RAW', 100), operation('P100', 'PO-1', ['R1'], ['F1']))
    const [last] = (await t.store.listEvents(ALL, { limit: 10 })).slice(-1)
    expect(await t.store.genealogy.projectedThrough(GENEALOGY_PROJECTION, last!.seq)).toBe(false)

    const projector = new GenealogyProjector(t.store)
    // A port whose catch-up does nothing: the projection lags behind the asking event.
    const lagging = genealogyTraceability(t.store)
    const refused = await lagging.investigate(['F1'], 5, { through: last!.seq }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(RetryableError)
    expect(refused).toMatchObject({ code: 'QLK_PROJECTION_BEHIND' })

    await untilTailCaughtUp(t.store)
    await projector.catchUp()
    expect(await t.store.genealogy.projectedThrough(GENEALOGY_PROJECTION, last!.seq)).toBe(true)
    const scope = await lagging.investigate(['F1'], 5, { through: last!.seq })
    expect(scope.supplierLots.map((s) => s.lot)).toEqual(['R1'])
    expect(scope.productionOrders).toEqual(['PO-1'])
  })
})
