import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { GenealogyProjector } from '../../src/projections/genealogy-projector.ts'
import { trace } from '../../src/projections/trace.ts'
import { migrationsDir } from '../../src/store/migrations.ts'
import { DIALECTS, type Dialect, untilTailCaughtUp } from '../dialects.ts'
import { append } from '../engine/harness.ts'
import { useTestStore } from '../store-fixture.ts'
import { operation, receipt, transfer } from './genealogy-events.ts'

/**
 * Migration 0022: every genealogy edge carries the plant of both its lots, which the trace walk
 * reads instead of looking each reached lot up. The copy must match the lots, be filled in for
 * edges written before 0022, and an edge without it (written before its lot's row) must still be
 * classified by the lot's plant: a lot in another plant is counted, never listed nor dropped.
 */
describe.each(DIALECTS)('plants copied onto genealogy edges (0022) on %s', (dialect: Dialect) => {
  const t = useTestStore(dialect)
  const edges = async () =>
    (
      await t.store.sql.all(
        'SELECT from_lot, to_lot, from_plant, to_plant FROM genealogy_edges ORDER BY from_lot, to_lot',
      )
    ).map((r) => `${r.from_lot}(${r.from_plant})>${r.to_lot}(${r.to_plant})`)
  const lot = (id: string, plant: string) =>
    t.store.sql.run(
      `INSERT INTO lots (lot, plant, stock, first_seen_seq, last_event_seq) VALUES (?, ?, '{}', 1, 1)`,
      [id, plant],
    )
  /** An edge as written before 0022, or before its lots' rows: no plants on it. */
  const bareEdge = (seq: number, from: string, to: string) =>
    t.store.sql.run(
      `INSERT INTO genealogy_edges (event_seq, plant, from_lot, to_lot, kind, at) VALUES (?, 'P100', ?, ?, 'consumed', '2026-11-27T08:00:00Z')`,
      [seq, from, to],
    )

  it('writes both lots’ plants on every edge the projector stores, transfers included', async () => {
    await append(t.store, receipt('R1', 'RAW', 100), operation('P100', 'PO-1', ['R1'], ['B1']))
    await append(t.store, receipt('B1', 'FG', 30), transfer('B1', 'P100', 'P200', 10))
    await untilTailCaughtUp(t.store)
    await new GenealogyProjector(t.store).catchUp(2)
    expect(await edges()).toEqual(['B1(P100)>B1@P200(P200)', 'R1(P100)>B1(P100)'])
  })

  it('fills the plants of edges written before 0022 from the lots, and leaves them empty without a lot row', async () => {
    await lot('X1', 'P100')
    await lot('X2', 'P200')
    await bareEdge(1, 'X1', 'X2')
    await bareEdge(2, 'X2', 'GHOST') // no row for GHOST
    const file = readFileSync(path.join(migrationsDir(dialect), '0022_genealogy_edge_plants.sql'), 'utf8')
    const statements = file
      .split('\n')
      .filter((l) => !l.startsWith('--'))
      .join('\n')
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s.startsWith('UPDATE'))
    expect(statements.length).toBeGreaterThan(0)
    for (const s of statements) await t.store.sql.run(s)
    expect(await edges()).toEqual(['X1(P100)>X2(P200)', 'X2(P200)>GHOST(null)'])
  })

  it('classifies a reached lot by its row when its edge has no plant: counted in another plant, never listed', async () => {
    // R (P100) feeds A (P100) and B (P200); A and B feed C (P100) and D (P200). Every edge written
    // without plants, as for an edge stored before its lots' rows.
    for (const [id, plant] of [
      ['R', 'P100'],
      ['A', 'P100'],
      ['B', 'P200'],
      ['C', 'P100'],
      ['D', 'P200'],
    ] as const)
      await lot(id, plant)
    await bareEdge(1, 'R', 'A')
    await bareEdge(1, 'R', 'B')
    await bareEdge(2, 'A', 'C')
    await bareEdge(3, 'B', 'D')
    const page = (limit: number) =>
      trace(t.store, { plants: ['P100'] }, 'R', { direction: 'forward', depth: 5, limit })
    const whole = await page(10)
    expect(whole!.nodes.map((n) => `${n.lot}@${n.depth}`)).toEqual(['R@0', 'A@1', 'C@2'])
    expect(whole!.outOfScope).toEqual({ lots: 2, plants: ['P200'] })
    expect(whole!.total).toBe(5)
    // A page cut after A (a level read in id order): B is counted in P200 though not listed.
    const first = await page(2)
    expect(first!.nodes.map((n) => n.lot)).toEqual(['R', 'A'])
    expect(first!.outOfScope.lots).toBeGreaterThanOrEqual(1)
    expect(first!.outOfScope.plants).toEqual(['P200'])
  })
})
