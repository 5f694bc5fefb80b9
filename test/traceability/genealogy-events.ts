import { randomUUID } from 'node:crypto'
import type { CloudEvent } from '../../src/contracts/envelope.ts'

/** Canonical events that build genealogy, for the traceability tests. */
export const audit = {
  timestamp: '2026-11-27T08:00:00Z',
  sourceSystem: 'test',
  approvalStatus: 'not_required',
}
export const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
const doc = () => ({ id: randomUUID().slice(0, 10), year: 2026, item: '0001' })

export function ev(type: string, plant: string, subject: string, data: Record<string, unknown>): CloudEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test',
    type,
    subject,
    plant,
    data: { ...data, audit },
  } as unknown as CloudEvent
}
export const receipt = (lot: string, material: string, qty: number, plant = 'P100') =>
  ev('erp.goods_receipt.posted.v1', plant, lot, {
    materialDocument: doc(),
    lot: { id: lot, material, plant },
    supplier: 'V-42',
    quantity: kg(qty),
    bucket: 'unrestricted',
  })
export const operation = (plant: string, order: string, consumed: string[], produced: string[]) =>
  ev('mes.operation.completed.v1', plant, order, {
    operation: { productionOrder: order, number: '0010' },
    plant,
    measurements: [],
    consumed: consumed.map((lot) => ({ lot, material: 'RAW', quantity: kg(1) })),
    produced: produced.map((lot) => ({ lot, material: 'FG', quantity: kg(1) })),
  })
export const split = (lot: string, target: string, qty: number) =>
  ev('erp.stock.posted.v1', 'P100', lot, {
    materialDocument: doc(),
    movementType: '309',
    lot: { id: lot, material: 'FG', plant: 'P100' },
    from: 'unrestricted',
    to: 'transferredOut',
    quantity: kg(qty),
    targetLot: target,
  })
/** A plant-to-plant transfer posting (301 one step, 303 two steps) of batch `lot`. */
export const transfer = (lot: string, from: string, to: string, qty: number, movementType = '301') =>
  ev('erp.stock.posted.v1', from, lot, {
    materialDocument: doc(),
    movementType,
    lot: { id: lot, material: 'FG', plant: from },
    from: 'unrestricted',
    to: 'transferredOut',
    quantity: kg(qty),
    targetPlant: to,
  })
export const cancelled = (document: { id: string; year: number }, lot: string, plant = 'P100') =>
  ev('erp.material_document.cancelled.v1', plant, lot, {
    materialDocument: doc(),
    cancelledDocument: document,
    lot: { id: lot, material: 'RAW', plant },
  })
export const shipped = (lot: string, customer: string, qty: number, plant = 'P100') =>
  ev('erp.delivery.shipped.v1', plant, lot, {
    delivery: `80${Math.floor(Math.random() * 1e6)}`,
    plant,
    customer,
    lines: [{ item: '000010', material: 'FG', lot, quantity: kg(qty) }],
  })
/** The material document an ERP event posted. */
export const documentOf = (e: CloudEvent) =>
  (e.data as { materialDocument: { id: string; year: number } }).materialDocument
