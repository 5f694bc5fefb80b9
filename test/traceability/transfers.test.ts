import { readFileSync } from 'node:fs'
import path from 'node:path'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { GenealogyProjector } from '../../src/projections/genealogy-projector.ts'
import { recallScope, trace } from '../../src/projections/trace.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { startQualink } from '../../src/server/qualink.ts'
import { migrationsDir } from '../../src/store/migrations.ts'
import { DIALECTS, type Dialect, untilTailCaughtUp } from '../dialects.ts'
import { append } from '../engine/harness.ts'
import { useTestStore } from '../store-fixture.ts'
import { cancelled, documentOf, kg, operation, receipt, shipped, transfer } from './genealogy-events.ts'

const ALL = { allPlants: true, reason: 'test' } as const

describe.each(DIALECTS)('plant-to-plant transfers in genealogy on %s', (dialect: Dialect) => {
  const t = useTestStore(dialect)

  const project = async () => {
    await untilTailCaughtUp(t.store)
    await new GenealogyProjector(t.store).catchUp(2) // a transfer and its target in separate batches
  }
  const stockOf = async (lot: string) => (await t.store.genealogy.lotsById([lot]))[0]!.stock

  /**
   * R1 (P100) → B1 (P100); B1: 10 kg to P200 (301), 5 kg to P300 (303, in transfer); P200
   * consumes B1 into C1 and ships 3 kg of C1 to CUST-9.
   */
  async function twoPlantHistory() {
    await append(t.store, receipt('R1', 'RAW', 100), operation('P100', 'PO-1', ['R1'], ['B1']))
    await append(t.store, receipt('B1', 'FG', 30))
    const oneStep = transfer('B1', 'P100', 'P200', 10)
    await append(t.store, oneStep, transfer('B1', 'P100', 'P300', 5, '303'))
    await append(t.store, operation('P200', 'PO-9', ['B1'], ['C1']), receipt('C1', 'FG', 4, 'P200'))
    await append(t.store, shipped('C1', 'CUST-9', 3, 'P200'))
    await project()
    return { oneStep }
  }

  it('links a batch to the same batch in the receiving plant, with its own stock', async () => {
    await twoPlantHistory()
    expect(await stockOf('B1')).toMatchObject({ unrestricted: kg(15) })
    const [b200, b300] = await t.store.genealogy
      .lotsById(['B1@P200', 'B1@P300'])
      .then((ls) => ['B1@P200', 'B1@P300'].map((id) => ls.find((l) => l.lot === id)))
    expect(b200).toMatchObject({ plant: 'P200', material: 'FG', stock: { unrestricted: kg(10) } })
    expect(b300).toMatchObject({ plant: 'P300', stock: { inTransfer: kg(5) } })
    const fwd = await trace(t.store, ALL, 'R1', { direction: 'forward', depth: 10, limit: 100 })
    expect(fwd!.nodes.map((n) => `${n.lot}@${n.depth}`)).toEqual([
      'R1@0',
      'B1@1',
      'B1@P200@2',
      'B1@P300@2',
      'C1@3',
    ])
    expect(fwd!.edges.filter((e) => e.kind === 'transfer').map((e) => `${e.fromLot}>${e.toLot}`)).toEqual([
      'B1>B1@P200',
      'B1>B1@P300',
    ])
    // the receiving plant's consumption of the batch hangs under its own lot there
    const back = await trace(t.store, { plants: ['P200'] }, 'C1', {
      direction: 'backward',
      depth: 10,
      limit: 100,
    })
    expect(back!.nodes.map((n) => n.lot)).toEqual(['C1', 'B1@P200'])
    expect(back!.outOfScope).toEqual({ lots: 2, plants: ['P100'] })
  })

  it('counts the other plants’ part of a trace and a recall for a caller scoped to one plant', async () => {
    await twoPlantHistory()
    const fwd = await trace(t.store, { plants: ['P100'] }, 'R1', {
      direction: 'forward',
      depth: 10,
      limit: 100,
      exactCounts: true,
    })
    expect(fwd!.nodes.map((n) => n.lot)).toEqual(['R1', 'B1'])
    expect(fwd!.outOfScope).toEqual({ lots: 3, plants: ['P200', 'P300'] })
    expect(fwd!.total).toBe(5)

    const scoped = await recallScope(t.store, { plants: ['P100'] }, 'B1')
    expect(scoped!.lots.map((l) => l.lot)).toEqual(['B1'])
    expect(scoped!.outOfScope).toEqual({ lots: 3, shipments: 1, plants: ['P200', 'P300'] })
    expect(scoped!.customers).toEqual([])

    const all = await recallScope(t.store, ALL, 'B1')
    expect(all!.customers).toEqual(['CUST-9'])
    const fg = all!.totals.find((t) => t.material === 'FG')!
    // B1 15 + B1@P200 10 + B1@P300 5 in transfer + C1 4 received − 3 shipped = 31 in stock
    expect(fg).toMatchObject({ shipped: kg(3), inStock: kg(31) })
  })

  it('undoes a cancelled transfer in both plants, and walks a transfer back as a loop', async () => {
    const { oneStep } = await twoPlantHistory()
    await append(t.store, transfer('B1', 'P200', 'P100', 2))
    await project()
    expect(await stockOf('B1')).toMatchObject({ unrestricted: kg(17) })
    expect(await stockOf('B1@P200')).toMatchObject({ unrestricted: kg(8) })
    const loop = await trace(t.store, ALL, 'B1', { direction: 'forward', depth: 10, limit: 100 })
    expect(loop!.nodes.map((n) => n.lot)).toEqual(['B1', 'B1@P200', 'B1@P300', 'C1'])
    expect(loop!.edges.map((e) => `${e.fromLot}>${e.toLot}`)).toContain('B1@P200>B1')

    await append(t.store, cancelled(documentOf(oneStep), 'B1'))
    await project()
    expect(await stockOf('B1')).toMatchObject({ unrestricted: kg(27) })
    expect(await stockOf('B1@P200')).toMatchObject({ unrestricted: kg(-2) })
  })

  it('answers GET /v1/lots/B1 in the receiving plant with the lot as received there', async () => {
    await twoPlantHistory()
    const keys = { p100: 'k-p100-transfers', p200: 'k-p200-transfers', both: 'k-both-transfers' }
    const q = await startQualink({
      store: t.store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(t.db.dir, 'anchors.jsonl'),
      runEngine: false,
      apiKeys: [
        { id: 'p100', sha256: hashApiKey(keys.p100), roles: ['viewer'], plants: ['P100'] },
        { id: 'p200', sha256: hashApiKey(keys.p200), roles: ['viewer'], plants: ['P200'] },
        { id: 'both', sha256: hashApiKey(keys.both), roles: ['viewer'], plants: ['P100', 'P200'] },
      ],
    })
    const get = (url: string, key: string) =>
      q.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })
    try {
      // Each single plant gets its own lot of batch B1: P100 the origin, P200 the one it received.
      const p100 = await get('/v1/lots/B1', keys.p100)
      expect(p100.statusCode).toBe(200)
      expect(p100.json()).toMatchObject({ lot: 'B1', plant: 'P100', stock: { unrestricted: kg(15) } })
      const p200 = await get('/v1/lots/B1', keys.p200)
      expect(p200.statusCode).toBe(200)
      expect(p200.json()).toMatchObject({ lot: 'B1@P200', plant: 'P200', stock: { unrestricted: kg(10) } })
      // The key itself still answers; P300's lot is not P200's to see, by either name.
      expect((await get('/v1/lots/B1@P200', keys.p200)).json()).toMatchObject({ lot: 'B1@P200' })
      expect((await get('/v1/lots/B1@P300', keys.p200)).statusCode).toBe(404)
      expect((await get('/v1/lots/B1?plant=P300', keys.p200)).json().code).toBe('QLK_NOT_FOUND')

      // Both plants: no silent pick. 409 names each plant's lot; ?plant= chooses one.
      const both = await get('/v1/lots/B1', keys.both)
      expect(both.statusCode).toBe(409)
      expect(both.json()).toMatchObject({
        code: 'QLK_LOT_AMBIGUOUS',
        errors: [
          { path: '/query/plant', message: 'plant P100: lot B1 (GET /v1/lots/B1)' },
          { path: '/query/plant', message: 'plant P200: lot B1@P200 (GET /v1/lots/B1%40P200)' },
        ],
      })
      expect((await get('/v1/lots/B1?plant=P200', keys.both)).json()).toMatchObject({
        lot: 'B1@P200',
        plant: 'P200',
      })
      expect((await get('/v1/lots/B1?plant=P100', keys.both)).json()).toMatchObject({
        lot: 'B1',
        plant: 'P100',
      })
      expect((await get('/v1/lots/B1@P200', keys.both)).json()).toMatchObject({ lot: 'B1@P200' })
      // a lot no transfer touched is unambiguous for everyone who may see it
      expect((await get('/v1/lots/C1', keys.both)).json()).toMatchObject({ lot: 'C1', plant: 'P200' })
      expect((await get('/v1/lots/C1', keys.p100)).statusCode).toBe(404)
      expect((await get('/v1/lots/B1?plant=', keys.both)).statusCode).toBe(400)
    } finally {
      await q.close()
    }
  })

  it('fills the batch of lots transferred before migration 0023 from their key', async () => {
    const lot = (id: string, plant: string) =>
      t.store.sql.run(
        `INSERT INTO lots (lot, plant, stock, first_seen_seq, last_event_seq) VALUES (?, ?, '{}', 1, 1)`,
        [id, plant],
      )
    // as the projector wrote them before 0023: no batch
    await lot('Z1', 'P100')
    await lot('Z1@P200', 'P200')
    await lot('Y@P9', 'P100') // an '@' in a lot's own id is not a transfer
    const sql = readFileSync(path.join(migrationsDir(dialect), '0023_lot_batches.sql'), 'utf8')
    await t.store.sql.run(sql.slice(sql.indexOf('UPDATE'), sql.indexOf(';', sql.indexOf('UPDATE'))))
    const rows = await t.store.sql.all(
      `SELECT lot, batch FROM lots WHERE lot IN ('Z1', 'Z1@P200', 'Y@P9') ORDER BY lot`,
    )
    expect(rows.map((r) => [r.lot, r.batch])).toEqual([
      ['Y@P9', null],
      ['Z1', null],
      ['Z1@P200', 'Z1'],
    ])
    expect((await t.store.genealogy.findLots({ plants: ['P200'] }, 'Z1')).map((l) => l.lot)).toEqual([
      'Z1@P200',
    ])
  })
})
