import { describe, expect, it } from 'vitest'
import type { SupplierScorecard } from '../../src/projections/supplier-scorecard.ts'
import { supplierQuality } from '../../src/workflows/supplier-quality.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { postEvent } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

describe.each(DIALECTS)('supplier quality status from QMS CAPAs end to end on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { suppliers: ['SUP-7', 'SUP-9'] },
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierQuality(() => ({ onCorrectiveAction: 'block-purchasing' }))],
    capaPolicy: () => 'block-purchasing',
  }))

  const supplier = (id: string) => hub.erp.state.suppliers.find((s) => s.supplier === id)!
  const runs = (key: string) => hub.store.engine.listRuns(ALL, { key, limit: 10 })
  const scorecard = async (id: string) =>
    (
      await hub.q.app.inject({ method: 'GET', url: `/v1/suppliers/${id}/scorecard` })
    ).json() as SupplierScorecard
  const qms = async (method: 'POST' | 'PATCH', path: string, body: unknown) => {
    const r = await fetch(`${hub.qms.url}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(r.status, `${method} ${path}`).toBeLessThan(300)
    return (await r.json()) as { id: string }
  }
  const close = (id: string) => qms('PATCH', `/capas/${id}`, { status: 'COMPLETED' })
  const stored = async (type: string) => (await hub.store.listEvents(ALL, { type, limit: 100 })).length

  it('blocks the supplier for purchasing while any of its CAPAs is open, once, and clears it', async () => {
    hub.qms.faults.set({ duplicateRate: 1, seed: 5 }) // every webhook delivered twice
    const a = await qms('POST', '/capas', { title: 'Moisture above limit', supplier: 'SUP-7' })
    await until(() => supplier('SUP-7').purchasingBlocked)
    // The scorecard is a projection: on PostgreSQL it follows the log below the visibility watermark.
    await until(async () => (await scorecard('SUP-7')).plants?.[0]?.openCapas.length === 1)
    expect((await scorecard('SUP-7')).plants[0]).toMatchObject({
      plant: 'P100',
      qualityStatus: 'purchasing-blocked',
      openCapas: [{ capa: a.id }],
    })

    // The dashboard's supplier page reads the same projection.
    const page = await hub.q.app.inject({ method: 'GET', url: '/ui/suppliers' })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain(a.id)
    expect(page.body).toContain('purchasing-blocked')

    // A second CAPA of the same supplier joins the open run; closing the first keeps the block.
    const b = await qms('POST', '/capas', { title: 'Wrong labels', supplier: 'SUP-7' })
    await close(a.id)
    await until(async () => (await stored('qms.capa.closed.v1')) === 1)
    await until(async () => (await scorecard('SUP-7')).plants[0]!.openCapas.length === 1)
    expect(supplier('SUP-7')).toMatchObject({ purchasingBlocked: true, blockChanges: 1 })

    await close(b.id)
    await until(async () => (await runs('P100/SUP-7'))[0]?.status === 'completed')
    expect(supplier('SUP-7')).toMatchObject({ purchasingBlocked: false, blockChanges: 2 })
    const [run] = await runs('P100/SUP-7')
    expect(run!.result).toEqual({ supplier: 'SUP-7', capas: [a.id, b.id], blocked: true, released: true })
    expect(await runs('P100/SUP-7')).toHaveLength(1)
    expect(hub.qms.faults.counts.duplicate).toBeGreaterThan(0)
    expect(await stored('qms.capa.opened.v1')).toBe(2) // duplicates absorbed at ingress
    await until(async () => (await scorecard('SUP-7')).plants[0]!.openCapas.length === 0)
    expect((await scorecard('SUP-7')).plants[0]).toMatchObject({ qualityStatus: 'released', openCapas: [] })
    const journal = (await hub.store.engine.loadRun(ALL, run!.id))!.journal
    expect(journal.filter((j) => j.kind === 'step').map((j) => j.name)).toEqual([
      'block-supplier',
      'notify-supplier-blocked',
      'release-supplier',
    ])

    // A CAPA without a supplier changes nothing in the ERP.
    await qms('POST', '/capas', { title: 'Internal training' })
    await until(async () => (await stored('qms.capa.opened.v1')) === 3)
    expect(hub.erp.state.suppliers.every((s) => s.blockChanges <= 2)).toBe(true)
  })

  it('a closure that arrives before its opening blocks nothing', async () => {
    const capa = (status: 'open' | 'closed') => ({
      id: 'CAPA-77',
      plant: 'P100',
      kind: 'corrective',
      status,
      eightDStep: status === 'open' ? 'D0' : 'D8',
      title: 'Burrs on edges',
      nonconformances: [],
      supplier: 'SUP-9',
      audit: {
        timestamp: status === 'open' ? '2026-11-27T09:00:00Z' : '2026-11-27T10:00:00Z',
        sourceSystem: 'qms',
        approvalStatus: 'not_required',
      },
    })
    await postEvent(hub.q, 'qms.capa.closed.v1', 'CAPA-77', {
      correctiveAction: capa('closed'),
      effective: true,
    })
    await postEvent(hub.q, 'qms.capa.opened.v1', 'CAPA-77', { correctiveAction: capa('open') })
    await until(async () => (await runs('P100/SUP-9'))[0]?.status === 'completed')
    expect((await runs('P100/SUP-9'))[0]!.result).toMatchObject({
      skipped: 'closed before its opening arrived',
    })
    expect(supplier('SUP-9')).toMatchObject({ purchasingBlocked: false, blockChanges: 0 })
    await until(async () => (await scorecard('SUP-9')).plants?.[0] !== undefined)
    expect((await scorecard('SUP-9')).plants[0]).toMatchObject({ qualityStatus: 'released', openCapas: [] })
  })
})
