/**
 * Issue 8 item 5: the receipt's QMS inspection lot names the inspection-plan revision it is
 * inspected against: the QMS's current specification for the lot's scope, the most specific one
 * (material and supplier before the material alone; one limited to another supplier or to a
 * routing operation does not fit a receipt). The revision is read inside the step that creates the
 * lot, so it is journaled with it, and the finished run's result names it.
 */
import { describe, expect, it } from 'vitest'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf, receiveGoods } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const characteristics = [
  {
    id: 'DIA',
    name: 'Diameter',
    quantitative: true,
    lowerLimit: '11.92',
    upperLimit: '12.08',
    sampleRule: { kind: 'full' },
    required: true,
  },
]

describe.each(DIALECTS)('the receipt lot names the plan revision on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' } }, webhook: true },
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierReceiptInspection()],
  }))
  const putSpec = async (id: string, version: number, scope: { supplier?: string; route?: string } = {}) => {
    const res = await fetch(`${hub.qms.url}/api/v1/specifications/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version, plant: 'P100', material: 'RAW-100', ...scope, characteristics }),
    })
    expect(res.status).toBeLessThan(300)
  }
  const runOf = async (lot: string) => (await hub.store.engine.listRuns(ALL, { key: lot, limit: 5 }))[0]

  it('names the supplier’s plan over the material’s, in the QMS lot, the journal and the result', async () => {
    await putSpec('PLAN-M', 3)
    await putSpec('PLAN-M', 4) // the material's plan changed: revision 4 is current
    await putSpec('PLAN-S7', 2, { supplier: 'SUP-7' })
    await putSpec('PLAN-S9', 8, { supplier: 'SUP-9' })
    await putSpec('PLAN-OP20', 5, { route: '0020' })

    await receiveGoods(hub.erp, 'R1', '100') // from SUP-7
    const lot = await inspectionLotOf(hub.qms, 'R1')
    expect(lot).toMatchObject({ specification: 'PLAN-S7', specificationVersion: 2 })

    hub.qms.makeUsageDecision(lot.id, ACCEPT_SPLIT_60_30_10)
    await until(async () => (await runOf('R1'))?.status === 'completed', 45_000)
    const run = (await runOf('R1'))!
    expect(run.result).toMatchObject({
      inspectionLot: lot.id,
      specification: { id: 'PLAN-S7', version: 2 },
      valuation: 'accepted',
    })
    const journal = (await hub.store.engine.loadRun(ALL, run.id))!.journal
    const created = journal.find((j) => j.name === 'create-inspection-lot')!
    expect(JSON.stringify(created)).toContain('"specification":{"id":"PLAN-S7","version":2}')
  })

  it('names the material’s current revision when no plan is limited to the supplier, and none when the QMS holds none', async () => {
    await receiveGoods(hub.erp, 'R2', '50')
    const bare = await inspectionLotOf(hub.qms, 'R2')
    expect(bare).toMatchObject({ specification: null, specificationVersion: null })

    await putSpec('PLAN-M', 4)
    await putSpec('PLAN-S9', 8, { supplier: 'SUP-9' })
    await receiveGoods(hub.erp, 'R3', '50')
    expect(await inspectionLotOf(hub.qms, 'R3')).toMatchObject({
      specification: 'PLAN-M',
      specificationVersion: 4,
    })
  })
})
