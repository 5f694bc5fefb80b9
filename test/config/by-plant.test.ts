/** Plant routing over two erp-s4 simulators (real sockets): each call reaches its plant's ERP only. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { type ErpS4Sim, startErpS4 } from '../../simulators/index.ts'
import { sapS4Connector } from '../../src/connectors/erp/sap-s4/connector.ts'
import { erpByPlant } from '../../src/workflows/ports/by-plant.ts'
import type { ErpPort } from '../../src/workflows/ports/erp.ts'

const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
let a: ErpS4Sim
let b: ErpS4Sim

async function receive(sim: ErpS4Sim, plant: string, batch: string): Promise<void> {
  const gr = goodsReceipt(batch, '10') as { to_MaterialDocumentItem: Array<{ Plant: string }> }
  gr.to_MaterialDocumentItem[0]!.Plant = plant
  expect((await s4Client(sim.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, gr)).status).toBe(201)
}
const connect = (sim: ErpS4Sim, name: string): ErpPort =>
  sapS4Connector.instantiate({ baseUrl: sim.url }, { name, allowlist: [sim.url], leaseMs: 30_000 })

beforeAll(async () => {
  const start = () => startErpS4({ port: 0, materials: { 'RAW-100': { baseUnit: 'KG' } } })
  ;[a, b] = await Promise.all([start(), start()])
  await receive(a, 'P100', 'A1')
  await receive(b, 'P200', 'B1')
})
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()])
})

describe('erpByPlant', () => {
  it('dispatches by the LotRef plant, and by an explicit plant for document-id calls', async () => {
    const erp = erpByPlant({ P100: connect(a, 'sap-p100'), P200: connect(b, 'sap-p200') })
    await erp.transferStock({
      idempotencyKey: 'complaint-1/block',
      lot: { plant: 'P200', material: 'RAW-100', lot: 'B1' },
      from: 'qualityInspection',
      to: 'blocked',
      quantity: kg(4),
    })
    expect(a.state.counts.documentsByLotAndBucket['RAW-100|P100|A1']).toEqual({ qi: 1 })
    expect(b.state.counts.documentsByLotAndBucket['RAW-100|P200|B1']).toEqual({ qi: 1, blocked: 1 })
    const stock = await erp.readLotStock({ plant: 'P100', material: 'RAW-100', lot: 'A1' })
    expect(stock.quantities.qualityInspection).toMatchObject({ units: 10_000 })
    const lotB = b.state.inspectionLots[0]!.lot
    await erp.recordUsageDecision({
      plant: 'P200',
      idempotencyKey: 'run-b/ud',
      inspectionLot: lotB,
      valuation: 'rejected',
      code: 'R2',
    })
    expect(b.state.inspectionLots[0]!.usageDecision).toBeTruthy()
    expect(a.state.inspectionLots[0]!.usageDecision).toBeFalsy()
    await expect(
      erp.recordUsageDecision({
        idempotencyKey: 'x',
        inspectionLot: lotB,
        valuation: 'accepted',
        code: 'A1',
      }),
    ).rejects.toMatchObject({ code: 'QLK_CONFIG_INVALID' })
    expect(erp.forPlant('P100')).not.toBe(erp.forPlant('P200'))
  })

  it('plants sharing one ERP connector need no plant on document-id calls', async () => {
    const shared = connect(a, 'sap-shared')
    const erp = erpByPlant({ P100: shared, P101: shared })
    const r = await erp
      .setProductionOrderHold({ idempotencyKey: 'h', order: '999', onHold: true })
      .catch((e) => e)
    // the simulator has no order 999: the call reached it (a remote refusal), not a routing error
    expect(r).toMatchObject({ code: expect.stringMatching(/^QLK_REMOTE_/) })
  })
})
