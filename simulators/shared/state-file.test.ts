/** Simulators with a `stateFile` (the demo's ./data/simulators) start again where they stopped. */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startCrm } from '../crm/server.ts'
import { startErpS4 } from '../erp-s4/server.ts'
import { goodsReceipt, MATDOC, s4Client } from '../erp-s4/test-client.ts'
import { startQms } from '../qms/server.ts'
import { readStateFile } from './state-file.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-sim-state-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function receipt(url: string, batch: string): Promise<string> {
  const res = await s4Client(url).send(
    'POST',
    `${MATDOC}/A_MaterialDocumentHeader`,
    goodsReceipt(batch, '10'),
  )
  expect(res.status).toBe(201)
  return ((await res.json()) as { d: { MaterialDocument: string } }).d.MaterialDocument
}

describe('simulator state files', () => {
  it('erp-s4 keeps documents, inspection lots, stock and order holds; numbering continues', async () => {
    const stateFile = path.join(dir, 'erp-s4.json')
    const orders = [
      { ManufacturingOrder: 'PO-1', Material: 'FG-1', ProductionPlant: 'P100', TotalQuantity: '5' },
    ]
    const first = await startErpS4({ stateFile, productionOrders: orders })
    const doc1 = await receipt(first.url, 'B1')
    first.model.productionOrders.get('PO-1')!.MfgOrderIsOnHold = true
    const before = first.state
    await first.close()

    const second = await startErpS4({ stateFile, productionOrders: orders })
    const after = second.state
    expect(after.materialDocuments).toEqual(before.materialDocuments)
    expect(after.inspectionLots).toEqual(before.inspectionLots)
    expect(after.stock).toEqual(before.stock)
    // the seeded order is not reset by the seed: its hold survives
    expect(after.productionOrders).toEqual([expect.objectContaining({ order: 'PO-1', onHold: true })])
    const doc2 = await receipt(second.url, 'B2')
    expect(Number(doc2)).toBe(Number(doc1) + 1)
    expect(second.state.inspectionLots.map((l) => l.lot)).toEqual(['010000000001', '010000000002'])
    await second.close()
    // written as one file, no temporary left behind
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('qms and crm keep their records, and new ids follow the old ones', async () => {
    const qmsFile = path.join(dir, 'qms.json')
    const crmFile = path.join(dir, 'crm.json')
    const qms = await startQms({ stateFile: qmsFile })
    const lot = qms.createInspectionLot({
      material: 'M',
      batch: 'B1',
      plant: 'P100',
      quantity: '10',
      unit: 'KG',
    })
    const crm = await startCrm({ stateFile: crmFile })
    crm.fileComplaint({ customer: 'C1', material: 'FG-1', batch: 'FG-B1' })
    await Promise.all([qms.close(), crm.close()])

    const qms2 = await startQms({ stateFile: qmsFile })
    const crm2 = await startCrm({ stateFile: crmFile })
    expect(qms2.state.inspectionLots.map((l) => [l.id, l.batch])).toEqual([[lot.id, 'B1']])
    const next = qms2.createInspectionLot({
      material: 'M',
      batch: 'B2',
      plant: 'P100',
      quantity: '5',
      unit: 'KG',
    })
    expect(next.id).not.toBe(lot.id)
    expect(crm2.state.complaints.map((c) => c.caseId)).toEqual(['CASE-000001'])
    expect(crm2.fileComplaint({ customer: 'C2', material: 'FG-1', batch: 'FG-B2' }).caseId).toBe(
      'CASE-000002',
    )
    await Promise.all([qms2.close(), crm2.close()])
  })

  it('refuses a file of another format or a broken one with its path, and leaves it alone', async () => {
    const bad = path.join(dir, 'bad.json')
    expect(readStateFile(path.join(dir, 'absent.json'))).toBeUndefined()
    writeFileSync(bad, JSON.stringify({ format: 99, state: {} }))
    await expect(startQms({ stateFile: bad })).rejects.toThrow(
      `${bad}: simulator state format 99, expected 1`,
    )
    writeFileSync(bad, '{"format":1,')
    expect(() => readStateFile(bad)).toThrow(/bad\.json: not a simulator state file/)
    expect(existsSync(bad)).toBe(true)
  })
})
