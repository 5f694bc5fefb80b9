import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { lotStatus } from '../../src/projections/lot-status.ts'
import { qty } from '../../src/ui/pages/lot-parts.ts'
import { recentLots } from '../../src/ui/pages/lots.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, append, until } from '../engine/harness.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }
const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
const ev = (type: string, subject: string, data: Record<string, unknown>) =>
  ({
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test:lots-list',
    type,
    subject,
    plant: 'P100',
    data: { ...data, audit },
  }) as unknown as CloudEvent
const receipt = (lot: string, qty: number) =>
  ev('erp.goods_receipt.posted.v1', lot, {
    materialDocument: { id: randomUUID().slice(0, 10), year: 2026, item: '0001' },
    lot: { id: lot, material: 'RAW', plant: 'P100' },
    supplier: 'V-42',
    quantity: kg(qty),
    bucket: 'quality_inspection',
  })
const decision = (type: 'made' | 'changed', lot: string, code: string, valuation: string) =>
  ev(`qms.usage_decision.${type}.v1`, lot, {
    inspectionLot: `IL-${lot}`,
    plant: 'P100',
    lot,
    code,
    valuation,
    stockPostings: [{ code: 'RELEASE', quantity: kg(10) }],
    ...(type === 'changed'
      ? {
          previousCode: 'A1',
          reason: 'recheck',
          previousStockPostings: [{ code: 'RELEASE', quantity: kg(10) }],
        }
      : {}),
  })

/** One run per received lot, keyed by the lot: RAW-2's dies (a pending dead letter), the others complete. */
const perLot = defineWorkflow({
  name: 'lots-list-check',
  version: 1,
  triggers: ['erp.goods_receipt.posted.v1'],
  key: (e) => (e.data as { lot: { id: string } }).lot.id,
  retry: { maxAttempts: 1, initialDelayMs: 10, maxDelayMs: 10, factor: 1 },
  async run(_ctx, trigger) {
    if (trigger.envelope.subject === 'RAW-2')
      throw new PermanentError('QLK_VALIDATION', 'refused for the test')
    return { ok: true }
  },
})

/**
 * The lots list shows per lot what its page shows (QMS decision, ERP stock, pending, drift), read
 * in one statement, on both dialects; each row agrees with GET /v1/lots/:id/status.
 */
describe.each(DIALECTS)('lots list columns on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({ workflows: [perLot] }))

  it('decision, stock, pending and drift per lot, as the lot status projection has them', async () => {
    await append(
      hub.store,
      receipt('RAW-1', 50),
      receipt('RAW-2', 5),
      receipt('RAW-3', 7),
      decision('made', 'RAW-1', 'A1', 'accepted'),
      decision('made', 'RAW-3', 'A1', 'accepted'),
      decision('changed', 'RAW-3', 'R9', 'rejected'),
    )
    await until(async () => (await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1)
    await until(
      async () => (await hub.store.engine.listRuns(ALL, { status: 'completed', limit: 5 })).length === 2,
    )
    await hub.store.sql.run(
      `INSERT INTO drift (plant, lot, kind, status, since_ms, checked_at_ms, qms_view, erp_view, detail)
       VALUES ('P100', 'RAW-1', 'posting-missing', 'open', ?, ?, '{}', '{}', 'release not posted')`,
      [Date.now() - 60_000, Date.now()],
    )

    // the page catches the lot projection up to the log it sees, then reads the list
    const ctx = { store: hub.store, scopeOf: () => ALL } as unknown as Parameters<typeof recentLots>[0]
    let page = ''
    await until(async () => {
      const res = await hub.q.app.inject({ method: 'GET', url: '/ui/lots' })
      page = res.body
      expect(res.statusCode).toBe(200)
      return (await recentLots(ctx, {}, '')).length === 3 && page.includes('data-lot="RAW-3"')
    }, 30_000)
    const rows = await recentLots(ctx, {}, '')
    expect(rows.map((r) => r.lot).sort()).toEqual(['RAW-1', 'RAW-2', 'RAW-3'])
    for (const row of rows) {
      const status = (await lotStatus(hub.store, ALL, row.lot))!
      expect(row.qms, row.lot).toEqual(status.qms)
      expect(row.stock, row.lot).toEqual(status.erp.stock)
      expect(row.pending, row.lot).toBe(status.pending.length)
      expect(row.drift, row.lot).toBe(status.drift.length)
    }
    const by = new Map(rows.map((r) => [r.lot, r]))
    expect(by.get('RAW-1')).toMatchObject({
      qms: { code: 'A1', valuation: 'accepted' },
      pending: 0,
      drift: 1,
    })
    expect(by.get('RAW-2')).toMatchObject({ qms: null, pending: 1, drift: 0 })
    expect(by.get('RAW-3')).toMatchObject({ qms: { code: 'R9', valuation: 'rejected', changed: true } })
    expect(by.get('RAW-2')!.stock).toEqual({ quality_inspection: kg(5) })

    const row = (lot: string) => page.slice(page.indexOf(`<tr data-lot="${lot}">`)).split('</tr>')[0]!
    expect(row('RAW-1')).toMatch(/<code class="code">A1<\/code> <span class="badge ok">accepted<\/span>/)
    expect(row('RAW-1')).toMatch(/<td class="num drift"><span class="badge bad">1<\/span>/)
    expect(row('RAW-2')).toContain('none yet')
    expect(row('RAW-2')).toContain(`quality_inspection ${qty(kg(5))}`)
    expect(row('RAW-2')).toMatch(/<td class="num pending"><span class="badge warn">1<\/span>/)
    expect(row('RAW-3')).toMatch(
      /R9<\/code> <span class="badge bad">rejected<\/span> <span class="muted">changed/,
    )
  })
})
