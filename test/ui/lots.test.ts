import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { append } from '../engine/harness.ts'
import { type Dashboard, EVIL_KEY, startDashboard } from './fixture.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }
const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
const ESCAPED_EVIL = '&lt;script&gt;alert(&quot;qlk&quot;)&lt;/script&gt;'

function ev(type: string, subject: string, data: Record<string, unknown>): CloudEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test:lots',
    type,
    subject,
    plant: 'P100',
    data: { ...data, audit },
  } as unknown as CloudEvent
}
const receipt = (lot: string, material: string, qty: number) =>
  ev('erp.goods_receipt.posted.v1', lot, {
    materialDocument: { id: randomUUID().slice(0, 10), year: 2026, item: '0001' },
    lot: { id: lot, material, plant: 'P100' },
    supplier: 'V-42',
    quantity: kg(qty),
    bucket: 'unrestricted',
  })
const operation = (order: string, consumed: string[], produced: string[]) =>
  ev('mes.operation.completed.v1', order, {
    operation: { productionOrder: order, number: '0010' },
    plant: 'P100',
    measurements: [],
    consumed: consumed.map((lot) => ({ lot, material: 'RAW', quantity: kg(1) })),
    produced: produced.map((lot) => ({ lot, material: 'FG', quantity: kg(1) })),
  })
const decision = (lot: string) =>
  ev('qms.usage_decision.made.v1', lot, {
    inspectionLot: `IL-${lot}`,
    plant: 'P100',
    lot,
    code: 'A1',
    valuation: 'accepted',
    stockPostings: [
      { code: 'RELEASE', quantity: kg(48) },
      { code: 'SAMPLE_CONSUMED', quantity: kg(2) },
    ],
  })

describe('lots and drift pages (fastify inject)', () => {
  let d: Dashboard
  beforeAll(async () => {
    d = await startDashboard()
    await append(
      d.store,
      receipt('RAW-1', 'RAW', 50),
      receipt('RAW-2', 'RAW', 5),
      operation('PO-7', ['RAW-1', 'RAW-2'], ['FG-1']),
      operation('PO-8', ['FG-1'], ['PK-1']),
      decision('RAW-1'),
      receipt(EVIL_KEY, 'RAW', 1),
    )
  })
  afterAll(async () => {
    await d?.close()
  })

  const get = (url: string) => d.q.app.inject({ method: 'GET', url })

  it('nav links to Lots and Drift', async () => {
    const body = (await get('/ui/lots')).body
    expect(body).toContain('href="/ui/lots" class="active"')
    expect(body).toContain('href="/ui/drift"')
  })

  it('lists recent lots with a search form; a search filters, an exact id redirects', async () => {
    const r = await get('/ui/lots')
    expect(r.statusCode).toBe(200)
    expect(r.body).toContain('<form class="toolbar" method="get" action="/ui/lots">')
    for (const lot of ['RAW-1', 'RAW-2', 'FG-1', 'PK-1']) expect(r.body).toContain(`href="/ui/lots/${lot}"`)
    expect(r.body).toContain(ESCAPED_EVIL)
    expect(r.body).not.toContain(EVIL_KEY)
    const some = await get('/ui/lots?lot=RAW')
    expect(some.body).toContain('/ui/lots/RAW-2')
    expect(some.body).not.toContain('/ui/lots/FG-1')
    const none = await get('/ui/lots?lot=%25')
    expect(none.body).toContain('No lot matches this search.')
    const exact = await get('/ui/lots?lot=RAW-1')
    expect(exact.statusCode).toBe(303)
    expect(exact.headers.location).toBe('/ui/lots/RAW-1')
  })

  it('lot page: header, QMS decision, ERP stock, genealogy both ways, timeline, audit', async () => {
    const r = await get('/ui/lots/RAW-1')
    expect(r.statusCode).toBe(200)
    expect(r.body).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=/)
    expect(r.body).toMatch(/<th>Material<\/th><td>RAW<\/td>/)
    expect(r.body).toMatch(/<th>Supplier<\/th><td>V-42<\/td>/)
    // QMS view: the decision and its posting lines, exactly formatted
    expect(r.body).toContain('<code class="code">A1</code> <span class="badge ok">accepted</span>')
    expect(r.body).toContain('<tr><td>RELEASE</td><td class="num">48.000 KG</td></tr>')
    expect(r.body).toContain('<tr><td>SAMPLE_CONSUMED</td><td class="num">2.000 KG</td></tr>')
    // ERP view: the stock vector from the genealogy projection
    expect(r.body).toMatch(/<tr><td>unrestricted<\/td><td class="num">\d+\.000 KG<\/td><\/tr>/)
    // forward trace two levels deep: RAW-1 → FG-1 → PK-1
    const fwd = r.body.slice(r.body.indexOf('genealogy forward'))
    expect(fwd).toMatch(/FG-1[\s\S]*order PO-7[\s\S]*<ul><li><a href="\/ui\/lots\/PK-1">/)
    expect(r.body).toContain('No source lots.')
    // timeline newest first: the decision after the receipt
    const tl = r.body.slice(r.body.indexOf('class="timeline"'))
    expect(tl.indexOf('qms.usage_decision.made.v1')).toBeGreaterThan(0)
    expect(tl.indexOf('qms.usage_decision.made.v1')).toBeLessThan(tl.indexOf('erp.goods_receipt.posted.v1'))
    expect(r.body).toMatch(
      /<h2>Audit<\/h2><div class="banner ok" role="status"><strong>Chain intact\.<\/strong>/,
    )
    expect(r.body).toContain('Nothing pending for this lot.')
    expect(r.body).toContain('No open drift.')
  })

  it('genealogy picture: sources left, the lot, downstream right, edges labelled with the operation', async () => {
    const r = await get('/ui/lots/FG-1')
    const svg = r.body.slice(r.body.indexOf('<svg class="genealogy-graph"')).split('</svg>')[0]!
    expect(svg).toContain('aria-label="Genealogy of FG-1: 2 source lots, 1 downstream lot"')
    for (const [lot, depth] of [
      ['RAW-1', -1],
      ['RAW-2', -1],
      ['FG-1', 0],
      ['PK-1', 1],
    ] as const)
      expect(svg).toContain(`<a href="/ui/lots/${lot}" data-lot="${lot}" data-depth="${depth}">`)
    expect(svg).toMatch(
      /<g data-from="RAW-1" data-to="FG-1">[^<]*<line[^>]*\/><text[^>]*>PO-7 \/ 0010<\/text>/,
    )
    expect(svg).toMatch(
      /<g data-from="FG-1" data-to="PK-1">[^<]*<line[^>]*\/><text[^>]*>PO-8 \/ 0010<\/text>/,
    )
    expect(svg).not.toContain('other plants')
    expect(r.body).not.toMatch(/\sstyle=/)
  })

  it('backward trace of a finished lot reaches both raw lots', async () => {
    const r = await get('/ui/lots/PK-1')
    const back = r.body.slice(r.body.indexOf('genealogy backward'), r.body.indexOf('genealogy forward'))
    for (const lot of ['FG-1', 'RAW-1', 'RAW-2']) expect(back).toContain(`href="/ui/lots/${lot}"`)
    expect(r.body).toContain('No usage decision yet.')
  })

  it('a hostile lot id is escaped everywhere on its page', async () => {
    const r = await get(`/ui/lots/${encodeURIComponent(EVIL_KEY)}`)
    expect(r.statusCode).toBe(200)
    expect(r.body).toContain(ESCAPED_EVIL)
    expect(r.body).not.toContain(EVIL_KEY)
    const missing = await get(`/ui/lots/${encodeURIComponent(`${EVIL_KEY}-x`)}`)
    expect(missing.statusCode).toBe(404)
    expect(missing.body).not.toContain(EVIL_KEY)
  })

  it('an unknown lot is an HTML 404', async () => {
    const r = await get('/ui/lots/NOPE-1')
    expect(r.statusCode).toBe(404)
    expect(r.headers['content-type']).toContain('text/html')
    expect(r.body).toContain('lot NOPE-1 not found')
  })

  it('drift page: all clear, then an open drift row with both views, linked to its lot', async () => {
    const clear = await get('/ui/drift')
    expect(clear.statusCode).toBe(200)
    expect(clear.body).toContain('No open drift.')
    // the row as the reconciler writes it (src/projections/reconciliation.ts)
    await d.store.sql.run(
      `INSERT INTO drift (plant, lot, kind, status, since_ms, checked_at_ms, qms_view, erp_view, detail) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)`,
      [
        'P100',
        'RAW-2',
        'posting-missing',
        Date.now() - 90_000,
        Date.now(),
        JSON.stringify({ released: kg(5) }),
        JSON.stringify({ unrestricted: kg(0) }),
        `release not posted ${EVIL_KEY}`,
      ],
    )
    const r = await get('/ui/drift')
    expect(r.body).toContain('<strong>1</strong> lot where the QMS and the ERP disagree.')
    expect(r.body).toContain('<code class="code">posting-missing</code>')
    expect(r.body).toContain('href="/ui/lots/RAW-2"')
    expect(r.body).toContain(`release not posted ${ESCAPED_EVIL}`)
    expect(r.body).not.toContain(EVIL_KEY)
    expect(r.body).toContain('(1m 30s)')
    const lot = await get('/ui/lots/RAW-2')
    expect(lot.body).toContain('The QMS and the ERP disagree on this lot')
    expect(lot.body).toContain('&quot;released&quot;')
    expect((await get('/ui/lots/RAW-1')).body).not.toContain('disagree on this lot')
  })
})
