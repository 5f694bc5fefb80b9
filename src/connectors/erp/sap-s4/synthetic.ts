/**
 * SyntheticErpPort over API_MATERIAL_DOCUMENT_SRV: a goods receipt (101, GoodsMovementCode 01)
 * of a test material into quality inspection, and its return delivery (122 from unrestricted).
 * Neither is retried after an ambiguous failure: a synthetic run reports the step as failed and a
 * person looks, rather than risk a second receipt of test stock.
 */
import type { SyntheticErpPort, SyntheticReceipt } from '../../../workflows/ports/synthetic.ts'
import { type SapS4Config, SERVICES } from './config.ts'
import { toSap } from './mapping.ts'
import { type ODataClient, type ODataEntity, text } from './odata.ts'

function firstItem(doc: ODataEntity): ODataEntity {
  const nav = doc.to_MaterialDocumentItem as { results?: unknown } | undefined
  return (Array.isArray(nav?.results) ? (nav.results[0] as ODataEntity | undefined) : undefined) ?? {}
}

export function syntheticS4(odata: ODataClient, config: SapS4Config): SyntheticErpPort {
  const post = async (body: unknown, context: string): Promise<ODataEntity> => {
    const res = await odata.modify('POST', SERVICES.documents, '/A_MaterialDocumentHeader', body, { context })
    return (res.json<{ d?: ODataEntity }>().d ?? {}) as ODataEntity
  }
  return {
    async postGoodsReceipt(input): Promise<SyntheticReceipt> {
      const d = await post(
        {
          GoodsMovementCode: '01',
          MaterialDocumentHeaderText: input.reference,
          ReferenceDocument: input.reference.slice(0, 16),
          to_MaterialDocumentItem: [
            {
              Material: input.lot.material,
              Plant: input.lot.plant,
              Batch: input.lot.lot,
              GoodsMovementType: '101',
              InventoryStockType: '02',
              ...(input.supplier ? { Supplier: input.supplier } : {}),
              QuantityInEntryUnit: toSap(input.quantity, config.quantityScale, 'quantity'),
              EntryUnit: input.quantity.uom,
            },
          ],
        },
        `synthetic goods receipt of ${input.lot.material}/${input.lot.lot}`,
      )
      return { document: text(d, 'MaterialDocument'), inspectionLot: text(firstItem(d), 'InspectionLot') }
    },
    async returnGoodsReceipt(input) {
      const d = await post(
        {
          GoodsMovementCode: '01',
          MaterialDocumentHeaderText: input.reference,
          ReferenceDocument: input.receipt.document.slice(0, 16),
          to_MaterialDocumentItem: [
            {
              Material: input.lot.material,
              Plant: input.lot.plant,
              Batch: input.lot.lot,
              GoodsMovementType: '122',
              InventoryStockType: input.from === 'unrestricted' ? '01' : '02',
              ...(input.supplier ? { Supplier: input.supplier } : {}),
              QuantityInEntryUnit: toSap(input.quantity, config.quantityScale, 'quantity'),
              EntryUnit: input.quantity.uom,
            },
          ],
        },
        `synthetic return delivery of ${input.lot.material}/${input.lot.lot}`,
      )
      return { document: text(d, 'MaterialDocument') }
    },
  }
}
