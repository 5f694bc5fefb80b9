/**
 * API_INSPECTIONPLAN_SRV in the S/4 simulator: a change is a new internal version, every version
 * stays readable, LastChangeDateTime filters with a datetimeoffset literal, the navigation
 * properties expand, and plans survive a restart on the state file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { InspectionPlanInput } from './inspection-plans.ts'
import { type ErpS4Sim, startErpS4 } from './server.ts'
import { s4Client } from './test-client.ts'

type Many = { d: { results: Array<Record<string, unknown>> } }
const SRV = '/sap/opu/odata/sap/API_INSPECTIONPLAN_SRV'
const plan = (upper: string): InspectionPlanInput => ({
  InspectionPlanGroup: 'QP1',
  Plant: '1000',
  materials: [{ Material: 'M-1', Supplier: 'SUP-7' }],
  operations: [
    {
      characteristics: [
        { InspectionSpecificationText: 'Diameter', InspSpecLowerLimit: '1', InspSpecUpperLimit: upper },
      ],
    },
  ],
})

let sim: ErpS4Sim | undefined
const dirs: string[] = []
afterEach(async () => {
  await sim?.close()
  sim = undefined
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const read = async (url: string, query: string) => {
  const res = await s4Client(url).get(`${SRV}/A_InspectionPlan?${query}`)
  expect(res.status).toBe(200)
  return ((await res.json()) as Many).d.results
}
const changedAt = (v: Record<string, unknown>) =>
  Number(/\/Date\((\d+)/.exec(String(v.LastChangeDateTime))![1])

describe('erp-s4 inspection plans', () => {
  it('keeps every version, filters on LastChangeDateTime and expands materials, operations, characteristics', async () => {
    sim = await startErpS4({ port: 0 })
    expect(sim.upsertInspectionPlan(plan('2'))).toEqual({ plan: 'QP1/1', version: '1' })
    expect(sim.upsertInspectionPlan(plan('3'))).toEqual({ plan: 'QP1/1', version: '2' })
    const all = await read(sim.url, '$orderby=LastChangeDateTime')
    expect(all.map((v) => v.InspectionPlanInternalVersion)).toEqual(['1', '2'])
    expect(all[0]).not.toHaveProperty('to_InspPlanOperation')

    const since = new Date(changedAt(all[0]!)).toISOString()
    const gt = await read(
      sim.url,
      `$filter=${encodeURIComponent(`LastChangeDateTime gt datetimeoffset'${since}'`)}`,
    )
    expect(gt.map((v) => v.InspectionPlanInternalVersion)).toEqual(['2'])
    const ge = await read(
      sim.url,
      `$filter=${encodeURIComponent(`LastChangeDateTime ge datetimeoffset'${since}'`)}&$top=1&$expand=to_InspPlanMaterialAssgmt,to_InspPlanOperation/to_InspPlanOpCharacteristic`,
    )
    expect(ge).toHaveLength(1)
    expect(ge[0]).toMatchObject({
      InspectionPlanGroup: 'QP1',
      InspectionPlan: '1',
      InspectionPlanInternalVersion: '1',
      BillOfOperationsType: 'Q',
      Plant: '1000',
      to_InspPlanMaterialAssgmt: { results: [{ Material: 'M-1', Supplier: 'SUP-7', Plant: '1000' }] },
      to_InspPlanOperation: {
        results: [
          {
            Operation: '0010',
            to_InspPlanOpCharacteristic: {
              results: [{ BOOCharacteristic: '10', InspSpecLowerLimit: '1', InspSpecUpperLimit: '2' }],
            },
          },
        ],
      },
    })
    const bad = await s4Client(sim.url).get(
      `${SRV}/A_InspectionPlan?$filter=${encodeURIComponent("LastChangeDateTime ge datetimeoffset'yesterday'")}`,
    )
    expect(bad.status).toBe(400)
    const chars = await s4Client(sim.url).get(
      `${SRV}/A_InspPlanOpCharacteristic?$filter=InspectionPlanInternalVersion eq '2'`,
    )
    expect(((await chars.json()) as Many).d.results.map((c) => c.InspSpecUpperLimit)).toEqual(['3'])
    expect(sim.state.inspectionPlans).toEqual([
      { plan: 'QP1/1', version: '1', materials: ['M-1'] },
      { plan: 'QP1/1', version: '2', materials: ['M-1'] },
    ])
  })

  it('keeps its plans in the state file across a restart, and versions on from there', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'erp-s4-plans-'))
    dirs.push(dir)
    const stateFile = path.join(dir, 'erp-s4.json')
    sim = await startErpS4({ port: 0, stateFile })
    sim.upsertInspectionPlan(plan('2'))
    await sim.close()
    sim = await startErpS4({ port: 0, stateFile })
    expect(sim.upsertInspectionPlan(plan('3'))).toEqual({ plan: 'QP1/1', version: '2' })
    expect((await read(sim.url, '')).map((v) => v.InspectionPlanInternalVersion)).toEqual(['1', '2'])
  })
})
