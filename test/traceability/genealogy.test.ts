import { randomUUID } from 'node:crypto'
import path from 'node:path'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { FileAnchorSink } from '../../src/audit/anchors.ts'
import { buildEvidence, type EvidenceBundle } from '../../src/audit/evidence.ts'
import { verifyBundle } from '../../src/audit/evidence-verify.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { GenealogyProjector } from '../../src/projections/genealogy-projector.ts'
import { recallCsv, recallScope, trace, walk } from '../../src/projections/trace.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import { DIALECTS, type Dialect, untilTailCaughtUp } from '../dialects.ts'
import { append, until } from '../engine/harness.ts'
import { useTestStore } from '../store-fixture.ts'
import { cancelled, documentOf, ev, kg, operation, receipt, shipped, split } from './genealogy-events.ts'

describe.each(DIALECTS)('genealogy and traceability on %s', (dialect: Dialect) => {
  const t = useTestStore(dialect)

  /** R1,R2 → I1 (merge); I1 → F1,F2 (split by operation); F2 → I1 (rework loop); F1 → F1A (309 split); I1 → X1 in P200. */
  async function plantHistory() {
    await append(t.store, receipt('R1', 'RAW', 100), receipt('R2', 'RAW', 50), receipt('F1', 'FG', 0))
    await append(t.store, operation('P100', 'PO-1', ['R1', 'R2'], ['I1']))
    await append(t.store, operation('P100', 'PO-2', ['I1'], ['F1', 'F2']))
    await append(t.store, operation('P100', 'PO-3', ['F2'], ['I1']))
    await append(t.store, receipt('F1', 'FG', 30))
    await append(t.store, split('F1', 'F1A', 12))
    await append(t.store, shipped('F1A', 'CUST-1', 10))
    await append(t.store, operation('P200', 'PO-9', ['I1'], ['X1']))
    await untilTailCaughtUp(t.store)
    await new GenealogyProjector(t.store).catchUp(3) // small batches: the cursor moves many times
  }

  it('traces forward and backward through merges, splits and a rework loop, counting other plants', async () => {
    await plantHistory()
    const scope = { plants: ['P100'] }
    const fwd = await trace(t.store, scope, 'R1', { direction: 'forward', depth: 10, limit: 100 })
    expect(fwd!.nodes.map((n) => `${n.lot}@${n.depth}`)).toEqual(['R1@0', 'I1@1', 'F1@2', 'F2@2', 'F1A@3'])
    expect(fwd!.outOfScope).toEqual({ lots: 1, plants: ['P200'] })
    expect(fwd!.total).toBe(6)
    const back = await trace(t.store, scope, 'F1A', { direction: 'backward', depth: 10, limit: 100 })
    expect(back!.nodes.map((n) => n.lot).sort()).toEqual(['F1', 'F1A', 'F2', 'I1', 'R1', 'R2'])
    const shallow = await trace(t.store, scope, 'F1A', { direction: 'backward', depth: 1, limit: 100 })
    expect(shallow!.nodes.map((n) => n.lot)).toEqual(['F1A', 'F1'])
    const paged = await trace(t.store, scope, 'R1', { direction: 'forward', depth: 10, limit: 2 })
    expect(paged!.nodes).toHaveLength(2)
    const page2 = await trace(t.store, scope, 'R1', {
      direction: 'forward',
      depth: 10,
      limit: 2,
      cursor: Number(paged!.nextCursor),
    })
    expect(page2!.nodes.map((n) => n.lot)).toEqual(['F1', 'F2'])
    expect(
      await trace(t.store, { plants: ['P200'] }, 'R1', { direction: 'forward', depth: 10, limit: 10 }),
    ).toBeUndefined()
  })

  it('sums the recall scope: shipped versus still in stock, with customers', async () => {
    await plantHistory()
    const r = await recallScope(t.store, { plants: ['P100'] }, 'I1')
    expect(r!.customers).toEqual(['CUST-1'])
    const fg = r!.totals.find((t) => t.material === 'FG')!
    expect(fg.shipped).toEqual(kg(10))
    // F1: 30 received − 12 split off = 18; F1A: 12 arrived by the split − 10 shipped (goods issue) = 2.
    expect(fg.inStock).toEqual(kg(20))
    expect(r!.outOfScope.lots).toBe(1)
    expect(recallCsv(r!)).toContain('shipment,F1A,P100,FG,,')
  })

  it('undoes a reversed goods receipt and a cancelled posting exactly, and ships out of unrestricted', async () => {
    const gr = receipt('R5', 'RAW', 40)
    const grDoc = documentOf(gr)
    const release = ev('erp.stock.posted.v1', 'P100', 'R5', {
      materialDocument: { id: 'M-REL-5', year: 2026, item: '0001' },
      movementType: '321',
      lot: { id: 'R5', material: 'RAW', plant: 'P100' },
      from: 'unrestricted',
      to: 'blocked',
      quantity: kg(15),
    })
    const cut = split('R5', 'R5A', 5)
    const cutDoc = documentOf(cut)
    await append(t.store, gr, release, cut)
    await append(t.store, cancelled({ id: 'M-REL-5', year: 2026 }, 'R5'), cancelled(cutDoc, 'R5'))
    await append(
      t.store,
      ev('erp.goods_receipt.reversed.v1', 'P100', 'R5', {
        materialDocument: { id: randomUUID().slice(0, 10), year: 2026, item: '0001' },
        reversedDocument: grDoc,
        lot: { id: 'R5', material: 'RAW', plant: 'P100' },
        quantity: kg(10),
      }),
      shipped('R5', 'CUST-2', 1),
    )
    await untilTailCaughtUp(t.store)
    await new GenealogyProjector(t.store).catchUp(2)
    const [r5, r5a] = await t.store.genealogy
      .lotsById(['R5', 'R5A'])
      .then((ls) => ['R5', 'R5A'].map((id) => ls.find((l) => l.lot === id)!))
    // R5: 40 received into unrestricted; 15 blocked and back (cancelled); 5 split off and back
    // (cancelled); 10 reversed out of the bucket the receipt used; 1 shipped. R5A: 5 in, 5 back.
    expect(r5!.stock.unrestricted).toEqual(kg(29))
    expect(r5!.stock.blocked).toEqual(kg(0))
    expect(r5a!.stock.unrestricted).toEqual(kg(0))
  })

  it('matches an independent reachability computation on generated graphs with cycles', async () => {
    let seed = 42
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const n = 120
    const edges: Array<[number, number]> = []
    for (let i = 0; i < 300; i++) edges.push([Math.floor(rnd() * n), Math.floor(rnd() * n)])
    const batch: CloudEvent[] = edges.map(([a, b], i) => operation('P100', `PO-${i}`, [`L${a}`], [`L${b}`]))
    for (let i = 0; i < batch.length; i += 50) await append(t.store, ...batch.slice(i, i + 50))
    await untilTailCaughtUp(t.store)
    await new GenealogyProjector(t.store).catchUp()
    for (const start of [0, 7, 33]) {
      const expected = new Map<number, number>([[start, 0]])
      let frontier = [start]
      for (let d = 1; d <= 4; d++) {
        const next: number[] = []
        for (const f of frontier)
          for (const [a, b] of edges)
            if (a === f && !expected.has(b)) {
              expected.set(b, d)
              next.push(b)
            }
        frontier = next
      }
      const { depthOf } = await walk(t.store, `L${start}`, 'forward', 4)
      expect(new Map([...depthOf].map(([k, v]) => [Number(k.slice(1)), v]))).toEqual(expected)
    }
  })

  it('exports an evidence bundle that verifies offline and fails when one byte changes', async () => {
    const q: Qualink = await startQualink({
      store: t.store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(t.db.dir, 'anchors.jsonl'),
      runEngine: false,
    })
    try {
      await append(t.store, receipt('R7', 'RAW', 5), operation('P100', 'PO-7', ['R7'], ['F7']))
      await untilTailCaughtUp(t.store)
      await until(async () => {
        await q.sealer.sealOnce()
        return (await t.store.countUnsealedAudit()) === 0
      })
      const res = await q.app.inject({ method: 'GET', url: '/v1/lots/R7/evidence' })
      expect(res.statusCode).toBe(200)
      const bundle = res.json() as EvidenceBundle
      // its own receipt, and the MES operation that consumed it (filed under the order, found
      // through genealogy), with that event's ingest entry so the verifier checks it too
      expect(bundle.events.map((e) => e.type)).toEqual([
        'erp.goods_receipt.posted.v1',
        'mes.operation.completed.v1',
      ])
      const consumedBy = bundle.events[1]!
      expect(
        bundle.audit.some(
          (a) => a.row.action === 'event.ingested' && (a.payload as { id?: string })?.id === consumedBy.id,
        ),
      ).toBe(true)
      expect(bundle.anchor).not.toBeNull()
      expect(verifyBundle(bundle)).toMatchObject({ ok: true })
      const text = JSON.stringify(bundle)
      for (const [from, to] of [
        ['"supplier":"V-42"', '"supplier":"V-43"'],
        ['"actor":"test"', '"actor":"tesu"'],
        [bundle.chain[0]!.hash, bundle.chain[0]!.hash.replace(/.$/, (c) => (c === '0' ? '1' : '0'))],
      ] as const) {
        expect(text.includes(from)).toBe(true)
        expect(verifyBundle(JSON.parse(text.replace(from, to))).ok, `after changing ${from}`).toBe(false)
      }
      const direct = await buildEvidence(
        t.store,
        new FileAnchorSink(path.join(t.db.dir, 'anchors.jsonl')),
        { plants: ['P200'] },
        'R7',
      )
      expect(direct).toBeUndefined()
      const exact = await q.app.inject({ method: 'GET', url: '/v1/lots/F7/trace?exactCounts=true' })
      expect(exact.json()).toMatchObject({ exactCounts: true, total: 2 })
      const tr = await q.app.inject({ method: 'GET', url: '/v1/lots/F7/trace?direction=backward' })
      expect(tr.json().nodes.map((n: { lot: string }) => n.lot)).toEqual(['F7', 'R7'])
      expect((await q.app.inject({ method: 'GET', url: '/v1/lots/F7/trace?depth=99' })).statusCode).toBe(400)
      const recall = await q.app.inject({ method: 'GET', url: '/v1/lots/R7/recall' })
      expect(recall.statusCode).toBe(200)
      expect(recall.json()).toMatchObject({ suspect: 'R7' })
      expect(recall.json().lots.map((l: { lot: string }) => l.lot)).toContain('F7')
      const csv = await q.app.inject({ method: 'GET', url: '/v1/lots/R7/recall?format=csv' })
      expect(csv.headers['content-type']).toMatch(/^text\/csv/)
      expect(csv.body).toMatch(
        /^record,lot,plant,material,depth,bucket_or_delivery,customer,quantity,uom\nstock,R7,P100,/,
      )
      expect((await q.app.inject({ method: 'GET', url: '/v1/lots/NOPE/recall' })).statusCode).toBe(404)
    } finally {
      await q.close()
    }
  })
})
