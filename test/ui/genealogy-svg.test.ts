import { describe, expect, it } from 'vitest'
import type { TraceNode, TraceResult } from '../../src/projections/trace.ts'
import { genealogySvg, MAX_PER_COLUMN } from '../../src/ui/genealogy-svg.ts'

const node = (lot: string, depth: number, plant = 'P100'): TraceNode =>
  ({ lot, plant, material: 'RAW', supplier: null, stock: {}, depth }) as unknown as TraceNode
const edge = (fromLot: string, toLot: string) => ({
  eventSeq: 1,
  plant: 'P100',
  fromLot,
  toLot,
  kind: 'consumed' as const,
  operation: '0010',
  productionOrder: 'PO-1',
  quantity: null,
  at: '2026-11-27T08:00:00Z',
})
const trace = (direction: 'backward' | 'forward', nodes: TraceNode[], other: number): TraceResult => ({
  root: 'FG-1',
  direction,
  depth: 5,
  total: nodes.length + other,
  nodes,
  edges: nodes
    .filter((n) => n.depth > 0)
    .map((n) => (direction === 'backward' ? edge(n.lot, 'FG-1') : edge('FG-1', n.lot))),
  outOfScope: { lots: other, plants: other ? ['P200'] : [] },
  nextCursor: null,
  truncated: false,
  exactCounts: true,
})

/**
 * The genealogy picture as a function of a trace (the page test draws a real one): lots in other
 * plants are counted in the picture, and a wide level is cut at MAX_PER_COLUMN with the rest counted.
 */
describe('genealogy picture', () => {
  it('counts the lots in other plants and cuts a wide level', () => {
    const sources = Array.from({ length: MAX_PER_COLUMN + 3 }, (_, i) =>
      node(`RAW-${String(i).padStart(2, '0')}`, 1),
    )
    const svg = genealogySvg(
      trace('backward', [node('FG-1', 0), ...sources], 2),
      trace('forward', [node('FG-1', 0), node('PK-1', 1)], 1),
    ).value
    expect(svg).toContain(
      `aria-label="Genealogy of FG-1: ${MAX_PER_COLUMN + 3} source lots, 1 downstream lot, 3 lots in other plants"`,
    )
    expect(svg).toContain('data-other-plants="3"')
    expect(svg).toContain('3 lots in other plants (P200)</text>')
    expect(svg).toContain('+3 more</text>')
    expect(svg.match(/data-depth="-1"/g)).toHaveLength(MAX_PER_COLUMN)
    // edges drawn only between drawn lots: the cut ones have none
    expect(svg.match(/<g data-from=/g)).toHaveLength(MAX_PER_COLUMN + 1)
  })

  it('a lot without genealogy is one box', () => {
    const svg = genealogySvg(
      trace('backward', [node('FG-1', 0)], 0),
      trace('forward', [node('FG-1', 0)], 0),
    ).value
    expect(svg).toContain('aria-label="Genealogy of FG-1: 0 source lots, 0 downstream lots"')
    expect(svg.match(/<a href=/g)).toHaveLength(1)
  })
})
