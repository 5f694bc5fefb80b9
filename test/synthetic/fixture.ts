/** The S/4 and QMS simulators with a plant's designated test records, and a qualink.yaml over them. */
import { type ErpS4Sim, type QmsSim, startErpS4, startQms } from '../../simulators/index.ts'
import type { Doc } from '../config/fixture.ts'

export const TEST_ORDER = '1000001'
export const TEST_DELIVERY = '80000001'

export const WORKFLOWS = [
  'supplier-receipt-inspection',
  'in-process-quality-check',
  'finished-goods-release',
  'complaint-traceability',
] as const

export interface SyntheticSims {
  readonly erp: ErpS4Sim
  readonly qms: QmsSim
  close(): Promise<void>
}

export async function startSyntheticSims(): Promise<SyntheticSims> {
  const erp = await startErpS4({
    port: 0,
    materials: { 'TEST-RAW': { baseUnit: 'KG' } },
    productionOrders: [
      { ManufacturingOrder: TEST_ORDER, Material: 'TEST-FG', ProductionPlant: 'P100', TotalQuantity: '10' },
    ],
    deliveries: [
      {
        DeliveryDocument: TEST_DELIVERY,
        ShipToParty: 'TEST-CUST',
        items: [{ Material: 'TEST-FG', Plant: 'P100', Batch: 'TESTFG1', quantity: '1' }],
      },
    ],
  })
  const qms = await startQms({ port: 0 }).catch(async (e) => {
    await erp.close()
    throw e
  })
  return { erp, qms, close: async () => void (await Promise.all([erp.close(), qms.close()])) }
}

/** One plant on the simulators, every workflow enabled, test records designated. */
export function syntheticDoc(urls: { erp: string; qms: string }): Doc {
  return {
    version: 1,
    connectors: {
      erp: { kind: 'erp/sap-s4', config: { baseUrl: urls.erp, egress: { timeoutMs: 2000 } } },
      qms: { kind: 'qms/rest', config: { baseUrl: urls.qms, egress: { timeoutMs: 2000 } } },
    },
    egress: { allowlist: { erp: [urls.erp], qms: [urls.qms] } },
    plants: {
      P100: {
        erp: 'erp',
        qms: 'qms',
        synthetic: {
          materials: ['TEST-RAW'],
          supplier: 'SUP-TEST',
          quantity: 5,
          unit: 'KG',
          productionOrder: TEST_ORDER,
          delivery: TEST_DELIVERY,
        },
      },
    },
    workflows: Object.fromEntries(WORKFLOWS.map((w) => [w, { enabled: true }])),
  }
}

/** Physical stock per lot with any (unrestricted, QI, blocked, reserves), as the ERP simulator holds it. */
export function physicalStock(erp: ErpS4Sim): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {}
  for (const l of erp.state.stock) {
    const b = l.buckets as Record<string, number>
    const physical = {
      unrestricted: b.unrestricted ?? 0,
      qi: b.qi ?? 0,
      blocked: b.blocked ?? 0,
      reserves: b.reserves ?? 0,
    }
    if (Object.values(physical).some((n) => n !== 0)) out[l.lot] = physical
  }
  return out
}
