/**
 * AdoptionErpPort over S/4 OData (`qualink adopt`, docs/workflows.md "Go-live adoption"):
 * goods-receipt inspection lots (origin 01) with quantity still to post out of QI
 * (API_INSPECTIONLOT_SRV A_InspectionLot, InspLotQtyToBePosted), and production orders on hold
 * (API_PRODUCTION_ORDER_2_SRV A_ProductionOrder_2, the hold fields setProductionOrderHold writes).
 * Read-only.
 */
import type {
  AdoptionErpPort,
  HeldProductionOrder,
  OpenErpInspectionLot,
} from '../../../workflows/ports/adoption.ts'
import { type SapS4Config, SERVICES } from './config.ts'
import { fromSap } from './mapping.ts'
import { literal, type ODataClient, type ODataEntity, text } from './odata.ts'

const filter = (clauses: string[]) => `$filter=${encodeURIComponent(clauses.join(' and '))}`

function openLot(e: ODataEntity, scale: number): OpenErpInspectionLot {
  const uom = text(e, 'InspectionLotQuantityUnit').toUpperCase()
  const id = text(e, 'InspectionLot')
  const year = Number(text(e, 'MaterialDocumentYear'))
  const item = text(e, 'MaterialDocumentItem')
  return {
    inspectionLot: id,
    plant: text(e, 'Plant'),
    material: text(e, 'Material'),
    lot: text(e, 'Batch'),
    ...(text(e, 'Supplier') ? { supplier: text(e, 'Supplier') } : {}),
    materialDocument: {
      id: text(e, 'MaterialDocument'),
      ...(Number.isInteger(year) && year > 0 ? { year } : {}),
      ...(item ? { item } : {}),
    },
    quantity: fromSap(e.InspectionLotQuantity, scale, uom, `InspectionLot ${id}/InspectionLotQuantity`),
    toBePosted: fromSap(e.InspLotQtyToBePosted, scale, uom, `InspectionLot ${id}/InspLotQtyToBePosted`),
    decidedInErp: e.InspectionLotHasUsageDecision === true,
    ...(text(e, 'InspectionLotText') ? { text: text(e, 'InspectionLotText') } : {}),
  }
}

export function adoptionS4(odata: ODataClient, config: SapS4Config): AdoptionErpPort {
  return {
    async listOpenInspectionLots(opts = {}) {
      const clauses = [`InspectionLotOrigin eq ${literal('01')}`]
      if (opts.plant) clauses.push(`Plant eq ${literal(opts.plant)}`)
      const rows = await odata.getCollection(
        `${SERVICES.lots}/A_InspectionLot?${filter(clauses)}`,
        'read open goods-receipt inspection lots',
      )
      return rows
        .map((e) => openLot(e, config.quantityScale))
        .filter((l) => l.toBePosted.units > 0 && l.materialDocument.id !== '')
    },
    async listHeldProductionOrders(opts = {}) {
      const clauses = ['MfgOrderIsOnHold eq true']
      if (opts.plant) clauses.push(`ProductionPlant eq ${literal(opts.plant)}`)
      const rows = await odata.getCollection(
        `${SERVICES.orders}/A_ProductionOrder_2?${filter(clauses)}`,
        'read production orders on hold',
      )
      return rows.map(
        (e): HeldProductionOrder => ({
          order: text(e, 'ManufacturingOrder'),
          plant: text(e, 'ProductionPlant'),
          material: text(e, 'Material'),
          lot: text(e, 'Batch'),
          reason: text(e, 'MfgOrderHoldReason'),
        }),
      )
    },
  }
}
