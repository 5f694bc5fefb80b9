/**
 * Reverse identity mapping on egress: a plant's ErpPort / QmsPort whose inputs carry enterprise ids
 * (what the workflows speak) and whose connector receives the target system's own codes. The
 * mapping itself is src/mapping/id-mapping.ts (the same code the translators use on ingress);
 * this file only knows which fields of which call hold which kind of id. Results that echo a lot
 * back carry the caller's (enterprise) ids, so a workflow never sees a foreign code.
 */
import {
  type IdMappingSettings,
  inboundIds,
  inboundVia,
  type MapId,
  mapOptional,
  outboundIds,
  type XrefRef,
} from '../../mapping/id-mapping.ts'
import type { ErpPort, LotRef, StockSplitLine } from './erp.ts'
import type { QmsInspectionLotView, QmsPort } from './qms.ts'

async function lotRef(map: MapId, lot: LotRef, field: string): Promise<LotRef> {
  return {
    ...lot,
    plant: await map('plant', lot.plant, `${field}/plant`),
    material: await map('material', lot.material, `${field}/material`),
    lot: await map('lot', lot.lot, `${field}/lot`),
  }
}

/** An input's optional `plant` in the system's code (absent stays absent). */
async function withPlant<T extends { readonly plant?: string }>(
  map: MapId,
  input: T,
  field = '/plant',
): Promise<T> {
  const plant = await mapOptional(map, 'plant', input.plant, field)
  return plant === undefined ? input : { ...input, plant }
}

async function splitLines(map: MapId, lines: readonly StockSplitLine[]): Promise<StockSplitLine[]> {
  return Promise.all(
    lines.map(async (l, i) => {
      const targetMaterial = await mapOptional(
        map,
        'material',
        l.targetMaterial,
        `/lines/${i}/targetMaterial`,
      )
      const targetLot = await mapOptional(map, 'lot', l.targetLot, `/lines/${i}/targetLot`)
      return {
        ...l,
        ...(targetMaterial === undefined ? {} : { targetMaterial }),
        ...(targetLot === undefined ? {} : { targetLot }),
      }
    }),
  )
}

/**
 * The plant's ERP port with lots, materials and plants mapped to the ERP's codes; identity without
 * settings. It sits behind the plant router (ports/by-plant.ts), which routes by the Qualink plant.
 */
export function mappedErpPort(
  port: ErpPort,
  xref: XrefRef,
  settings: IdMappingSettings | undefined,
  plant: string,
): ErpPort {
  if (!settings || settings.entities.length === 0) return port
  const map = outboundIds(xref, settings, plant)
  const mapped: ErpPort = {
    recordUsageDecision: async (input) => port.recordUsageDecision(await withPlant(map, input)),
    postStockDisposition: async (input) =>
      port.postStockDisposition({
        ...input,
        lot: await lotRef(map, input.lot, '/lot'),
        lines: await splitLines(map, input.lines),
      }),
    readLotStock: async (lot, opts) => ({
      ...(await port.readLotStock(await lotRef(map, lot, '/lot'), opts)),
      lot,
    }),
    transferStock: async (input) =>
      port.transferStock({ ...input, lot: await lotRef(map, input.lot, '/lot') }),
    setProductionOrderHold: async (input) => port.setProductionOrderHold(await withPlant(map, input)),
    setDeliveryBlock: async (input) => port.setDeliveryBlock(await withPlant(map, input)),
  }
  const change = port.changeUsageDecision?.bind(port)
  const remainder = port.readInspectionLotRemainder?.bind(port)
  const supplierBlock = port.setSupplierPurchasingBlock?.bind(port)
  const confirm = port.confirmOperation?.bind(port)
  const findTransfer = port.findTransfer?.bind(port)
  return {
    ...mapped,
    ...(findTransfer
      ? {
          findTransfer: async (input) =>
            findTransfer({ ...input, lot: await lotRef(map, input.lot, '/lot') }),
        }
      : {}),
    ...(confirm ? { confirmOperation: async (input) => confirm(await withPlant(map, input)) } : {}),
    ...(supplierBlock
      ? {
          setSupplierPurchasingBlock: async (input) =>
            supplierBlock({
              ...(await withPlant(map, input)),
              supplier: await map('supplier', input.supplier, '/supplier'),
            }),
        }
      : {}),
    ...(change
      ? {
          changeUsageDecision: async (input) =>
            change({ ...input, lot: await lotRef(map, input.lot, '/lot') }),
        }
      : {}),
    ...(remainder
      ? {
          readInspectionLotRemainder: async (id, opts) =>
            remainder(id, opts && (await withPlant(map, opts, '/opts/plant'))),
        }
      : {}),
  }
}

/** The plant's QMS port with materials, lots, suppliers and plants mapped to the QMS's codes. */
export function mappedQmsPort(
  port: QmsPort,
  xref: XrefRef,
  settings: IdMappingSettings | undefined,
  plant: string,
): QmsPort {
  if (!settings || settings.entities.length === 0) return port
  const map = outboundIds(xref, settings, plant)
  // What the QMS reads back names its own codes: mapped to enterprise ids by the ingress rule
  // (`unknown: reject` fails the read with QLK_XREF_MISSING, retried until the mapping is added),
  // so a workflow never hands a QMS code to the ERP (after-run.ts reads the lot it compensates).
  const back = inboundVia(xref, settings, plant)
  const lotBack = async (v: QmsInspectionLotView): Promise<QmsInspectionLotView> => ({
    ...v,
    plant: await back('plant', v.plant, '/plant'),
    material: await back('material', v.material, '/material'),
    lot: await back('lot', v.lot, '/lot'),
  })
  return {
    createInspectionLot: async (input) => {
      const supplier = await mapOptional(map, 'supplier', input.supplier, '/supplier')
      const created = await port.createInspectionLot({
        ...input,
        plant: await map('plant', input.plant, '/plant'),
        material: await map('material', input.material, '/material'),
        lot: await map('lot', input.lot, '/lot'),
        ...(supplier === undefined ? {} : { supplier }),
      })
      return {
        ...created,
        record: { ...created.record, plant: input.plant, material: input.material, lot: input.lot },
      }
    },
    getInspectionLot: async (id) => {
      const v = await port.getInspectionLot(id)
      return v && lotBack(v)
    },
    getUsageDecision: (id) => port.getUsageDecision(id),
    setInspectionLotQuantity: async (input) => lotBack(await port.setInspectionLotQuantity(input)),
    cancelInspectionLot: (input) => port.cancelInspectionLot(input),
    openNonconformance: async (input) => {
      const lot = await mapOptional(map, 'lot', input.lot, '/lot')
      const opened = await port.openNonconformance({
        ...input,
        plant: await map('plant', input.plant, '/plant'),
        ...(lot === undefined ? {} : { lot }),
      })
      // the batch echoed back as the caller named it
      return input.lot === undefined ? opened : { ...opened, record: { ...opened.record, lot: input.lot } }
    },
    setNonconformanceStatus: (input) => port.setNonconformanceStatus(input),
    openCorrectiveAction: async (input) => {
      const supplier = await mapOptional(map, 'supplier', input.supplier, '/supplier')
      return port.openCorrectiveAction({
        ...input,
        plant: await map('plant', input.plant, '/plant'),
        ...(supplier === undefined ? {} : { supplier }),
      })
    },
    ...(port.upsertSpecification
      ? {
          upsertSpecification: async (input) => {
            const supplier = await mapOptional(map, 'supplier', input.spec.supplier, '/spec/supplier')
            return port.upsertSpecification!({
              ...input,
              spec: {
                ...input.spec,
                plant: await map('plant', input.spec.plant, '/spec/plant'),
                material: await map('material', input.spec.material, '/spec/material'),
                ...(supplier === undefined ? {} : { supplier }),
              },
            })
          },
        }
      : {}),
    ...(port.listSpecifications
      ? {
          listSpecifications: async (input) => {
            const specs = await port.listSpecifications!({
              ...input,
              plant: await map('plant', input.plant, '/plant'),
              material: await map('material', input.material, '/material'),
            })
            // the QMS's supplier codes back to enterprise ids, so the workflow compares like with like;
            // one without a mapping keeps the QMS's code (it then fits no receipt's supplier)
            const back = xref.current ? inboundIds(xref.current, settings, plant) : undefined
            return Promise.all(
              specs.map(async (s) => {
                if (!s.supplier || !back) return s
                const supplier = await back('supplier', s.supplier, '/supplier').catch(() => s.supplier!)
                return { ...s, supplier }
              }),
            )
          },
        }
      : {}),
  }
}
