/**
 * Issue 8's fault matrix for the supplier quality flow (a QMS CAPA naming a supplier → purchasing
 * block in the S/4 simulator while it is open → cleared when it closes), on both dialects: the ERP
 * answering 5xx and 429 on the block and on the release (and losing the block's answer), QMS
 * webhooks duplicated and out of order, and a finished run's opening delivered again. The ERP's
 * supplier master counts each real change of its purchasing block (`blockChanges`, nothing
 * deduplicated): one block and one release, whatever the fault. The flow has no deadline: the
 * block lasts as long as the CAPA is open. A process killed between the two effects is
 * supplier-quality-kill.test.ts.
 */
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { supplierQuality } from '../../src/workflows/supplier-quality.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { auditedSteps, auditStory } from './helpers.ts'
import { type PlantHub, usePlantHub } from './plant-hub.ts'

const SUPPLIER_PATCH = { method: 'PATCH', path: 'A_Supplier' }
const SUPPLIER_READ = { method: 'GET', path: 'A_Supplier' }
const KEY = 'P100/SUP-7'
const STEPS = ['block-supplier', 'notify-supplier-blocked', 'release-supplier']

interface Row {
  readonly name: string
  /** when the fault is set: before the CAPA is opened (the block) or before it is closed (the release) */
  readonly phase: 'block' | 'release'
  readonly inject: (hub: PlantHub) => void
  readonly injected: (hub: PlantHub) => void
}

const erpFault = (name: string, phase: Row['phase'], fault: Record<string, unknown>, count: string): Row => ({
  name,
  phase,
  inject: (h) => h.erp.faults.set({ times: 2, seed: 1, ...fault }),
  injected: (h) => expect(h.erp.faults.counts[count as 'error']).toBe(Number(fault.times ?? 2)),
})
const E503 = { errorRate: 1, errorStatus: 503 }
const E429 = { rateLimitRate: 1, retryAfterSeconds: 1 }

const ROWS: Row[] = [
  erpFault('ERP 503 on the block', 'block', { ...E503, match: SUPPLIER_PATCH }, 'error'),
  erpFault('ERP 429 on the block', 'block', { ...E429, match: SUPPLIER_PATCH }, 'rateLimit'),
  erpFault(
    'ERP 502 on the read before the block',
    'block',
    { ...E503, errorStatus: 502, match: SUPPLIER_READ },
    'error',
  ),
  erpFault(
    'ERP books the block, its answer is lost',
    'block',
    { dropResponseRate: 1, times: 1, match: SUPPLIER_PATCH },
    'dropResponse',
  ),
  erpFault('ERP 503 on the release', 'release', { ...E503, match: SUPPLIER_PATCH }, 'error'),
  erpFault('ERP 429 on the release', 'release', { ...E429, match: SUPPLIER_PATCH }, 'rateLimit'),
  {
    name: 'every QMS webhook delivered twice',
    phase: 'block',
    inject: (h) => h.qms.faults.set({ duplicateRate: 1, seed: 5 }),
    injected: (h) => expect(h.qms.faults.counts.duplicate).toBeGreaterThan(0),
  },
]

describe.each(DIALECTS)('supplier quality fault matrix on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { suppliers: ['SUP-7'] },
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierQuality(() => ({ onCorrectiveAction: 'block-purchasing' }))],
    capaPolicy: () => 'block-purchasing',
  }))

  const supplier = () => hub.erp.state.suppliers.find((s) => s.supplier === 'SUP-7')!
  const runs = () => hub.store.engine.listRuns(ALL, { key: KEY, limit: 10 })
  const completedRuns = async (n: number) => {
    await until(async () => {
      const all = await runs()
      return all.length === n && all.every((r) => r.status === 'completed')
    }, 45_000)
    return runs()
  }
  const qms = async (method: 'POST' | 'PATCH', path: string, body: unknown) => {
    const r = await fetch(`${hub.qms.url}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(r.status, `${method} ${path}`).toBeLessThan(300)
    return (await r.json()) as { id: string }
  }
  const open = () => qms('POST', '/capas', { title: 'Moisture above limit', supplier: 'SUP-7' })
  const close = (id: string) => qms('PATCH', `/capas/${id}`, { status: 'COMPLETED' })
  const stored = async (type: string) => (await hub.store.listEvents(ALL, { type, limit: 100 })).length

  /** The audit trail of the supplier's run, and of the CAPA's own events (subject: the CAPA). */
  const expectStory = async (capa: string, runsOfSupplier: number) => {
    const story = await auditStory(hub.store, KEY)
    expect(auditedSteps(story)).toEqual(STEPS)
    expect(story.filter((a) => a.action === 'workflow.completed')).toHaveLength(runsOfSupplier)
    const ingested = (await auditStory(hub.store, capa)).filter((a) => a.action === 'event.ingested')
    expect(ingested.map((a) => a.payload.type)).toEqual(
      expect.arrayContaining(['qms.capa.opened.v1', 'qms.capa.closed.v1']),
    )
  }

  it.each(ROWS)('$name: one block, one release, the story audited', async (row) => {
    if (row.phase === 'block') row.inject(hub)
    const capa = await open()
    await until(() => supplier().purchasingBlocked, 45_000)
    if (row.phase === 'release') row.inject(hub)
    await close(capa.id)
    const [run] = await completedRuns(1)
    await hub.qms.webhooks.idle()
    row.injected(hub)

    expect(supplier()).toMatchObject({ purchasingBlocked: false, blockChanges: 2 })
    expect(run!.result).toEqual({ supplier: 'SUP-7', capas: [capa.id], blocked: true, released: true })
    expect(await stored('qms.capa.opened.v1')).toBe(1) // a duplicate delivery is absorbed at ingress
    expect(await stored('qms.capa.closed.v1')).toBe(1)
    await expectStory(capa.id, 1)
  })

  it('QMS webhooks out of order (the closure before the opening): nothing is blocked', async () => {
    // The opening's webhook is held back and delivered after the next one, the closure.
    hub.qms.faults.set({ outOfOrderRate: 1, times: 1, seed: 5 })
    const capa = await open()
    await close(capa.id)
    const [run] = await completedRuns(1)
    await hub.qms.webhooks.idle()
    expect(hub.qms.faults.counts.outOfOrder).toBe(1)
    const [closed] = await hub.store.listEvents(ALL, { type: 'qms.capa.closed.v1', limit: 1 })
    const [opened] = await hub.store.listEvents(ALL, { type: 'qms.capa.opened.v1', limit: 1 })
    expect(closed!.seq).toBeLessThan(opened!.seq) // stored in the order they arrived
    expect(run!.result).toMatchObject({ capa: capa.id, skipped: 'closed before its opening arrived' })
    expect(supplier()).toMatchObject({ purchasingBlocked: false, blockChanges: 0 })
    const story = await auditStory(hub.store, KEY)
    expect(auditedSteps(story)).toEqual([])
    expect(story.map((a) => a.action)).toContain('workflow.completed')
  })

  it('a finished run replayed (same event again, and the opening sent as a new event) repeats no effect', async () => {
    const capa = await open()
    await until(() => supplier().purchasingBlocked, 45_000)
    await close(capa.id)
    const [first] = await completedRuns(1)
    await hub.qms.webhooks.idle()
    expect(supplier()).toMatchObject({ purchasingBlocked: false, blockChanges: 2 })

    // The stored opening posted again: a duplicate, no run.
    const [opened] = await hub.store.listEvents(ALL, { type: 'qms.capa.opened.v1', limit: 1 })
    const again = await hub.q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(opened!.envelope),
    })
    expect(again.json()).toMatchObject({ duplicate: true, seq: opened!.seq })

    // The QMS sends the CAPA's creation again as a new event (new ids, the same CAPA as it was
    // created): a new run starts, finds the later closure stored and blocks nothing.
    const created = hub.qms.state.webhooks.deliveries.find((d) => d.eventType === 'capa.created')!
    const body = JSON.parse(created.body) as { data: unknown }
    hub.qms.webhooks.send('capa.created', {
      id: randomUUID(),
      type: 'capa.created',
      occurredAt: new Date().toISOString(),
      data: body.data,
    })
    const all = await completedRuns(2)
    const replayed = all.find((r) => r.id !== first!.id)!
    expect(replayed.result).toMatchObject({ capa: capa.id, skipped: 'closed before its opening arrived' })
    expect(supplier()).toMatchObject({ purchasingBlocked: false, blockChanges: 2 })
    expect(await stored('qms.capa.opened.v1')).toBe(2)
    await expectStory(capa.id, 2)
  })
})
