/**
 * The translation stage translates a pass's deliveries side by side but appends their events in
 * the order the deliveries were received, so a key's events keep their arrival order (DESIGN §6)
 * however long each translation takes. A delivery stored while a pass runs is translated right
 * after that pass, not at the stage's next poll.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { catalogue } from '../../src/contracts/catalogue.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { EventRegistry } from '../../src/contracts/registry.ts'
import { TranslationStage, type Translator } from '../../src/engine/translation-stage.ts'
import type { Store } from '../../src/store/types.ts'
import { WriteQueue } from '../../src/store/write-queue.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'

/** Each delivery's body names its lot, its number and how long its translation takes. */
interface Body {
  lot: string
  n: number
  delayMs: number
  fail?: boolean
}

const translator: Translator = {
  source: 'order-test',
  async translate(raw) {
    const body = JSON.parse(raw.body.toString('utf8')) as Body
    await new Promise((r) => setTimeout(r, body.delayMs))
    if (body.fail) throw new Error(`delivery ${body.n} cannot be read`)
    return [
      {
        specversion: '1.0',
        id: `${raw.deliveryId}#0`,
        source: 'urn:order-test',
        type: 'qualink.test.pinged.v1',
        subject: body.lot,
        plant: raw.plant,
        data: { n: body.n },
      } as CloudEvent,
    ]
  },
}

const delivery = (b: Body) => ({
  plant: 'P100',
  source: 'order-test',
  deliveryId: `d-${b.lot}-${b.n}`,
  headers: {},
  body: Buffer.from(JSON.stringify(b)),
})

describe.each(DIALECTS)('translation stage order and wake-ups on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  let stage: TranslationStage | undefined

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
  })
  afterEach(async () => {
    await stage?.stop()
    stage = undefined
    await store?.close()
    await db?.cleanup()
  })

  const newStage = (pollMs?: number) =>
    new TranslationStage({
      store,
      queue: new WriteQueue(store),
      registry: new EventRegistry(catalogue),
      translators: [translator],
      pollMs,
    })

  const numbersOf = async (lot: string) =>
    (await store.listEvents(ALL, { subject: lot, limit: 100 }))
      .sort((a, b) => a.seq - b.seq)
      .map((e) => (e.envelope.data as { n: number }).n)

  it('appends one pass of deliveries in the order they were received, the slowest first included', async () => {
    // Earlier deliveries translate slower: one at a time or in parallel without order, the later
    // ones would be appended first.
    for (let n = 1; n <= 8; n++)
      await store.insertRawDelivery(delivery({ lot: 'L1', n, delayMs: (9 - n) * 15 }))
    // A delivery that fails in the middle neither blocks nor reorders the others; it stays pending.
    await store.insertRawDelivery(delivery({ lot: 'L1', n: 9, delayMs: 40, fail: true }))
    await store.insertRawDelivery(delivery({ lot: 'L1', n: 10, delayMs: 0 }))
    const settled = await newStage().runOnce()
    expect(settled).toBe(10)
    expect(await numbersOf('L1')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 10])
    const raws = await store.ingress.listRawDeliveries(ALL, { limit: 20 })
    expect(raws.filter((r) => r.status === 'translated')).toHaveLength(9)
    expect(raws.filter((r) => r.status !== 'translated').map((r) => r.lastError)).toEqual([
      expect.stringContaining('delivery 9 cannot be read'),
    ])
  })

  it('translates a delivery stored during a pass right after that pass, though the stage polls once an hour', async () => {
    stage = newStage(3_600_000)
    await store.insertRawDelivery(delivery({ lot: 'L2', n: 1, delayMs: 300 }))
    stage.start()
    // The first pass claimed delivery 1 and is translating it: 2 arrives now, after the claim.
    await until(async () =>
      (await store.ingress.listRawDeliveries(ALL, { limit: 5 })).some((r) => r.attempts > 0),
    )
    await store.insertRawDelivery(delivery({ lot: 'L2', n: 2, delayMs: 0 }))
    stage.wake()
    await until(async () => (await numbersOf('L2')).length === 2)
    expect(await numbersOf('L2')).toEqual([1, 2])
  })
})
