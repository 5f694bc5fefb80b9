import { Type } from 'typebox'
import { BLOCK_STATES, DeliveryLine } from '../../model/customer.ts'
import { HOLD_STATES } from '../../model/production.ts'
import { BucketSchema } from '../../model/stock.ts'
import { SAP_MOVEMENT_TYPES } from '../../model/stock-state.ts'
import { defineEventType } from '../event-type.ts'
import { Adoption, Audit, Id, LotRef, MaterialDocument, PlantId, Quantity, Strict } from './refs.ts'

const MovementType = Type.Enum(Object.keys(SAP_MOVEMENT_TYPES))

/** ERP events: stock and order execution, owned by the ERP. */
export const erpEventTypes = [
  defineEventType({
    type: 'erp.goods_receipt.posted.v1',
    routing: 'transactional',
    description: 'A goods receipt was posted; stock landed in a bucket (QI stock when inspection is active).',
    schema: Strict({
      materialDocument: MaterialDocument,
      lot: LotRef,
      supplier: Type.Optional(Id),
      supplierBatch: Type.Optional(Type.String({ maxLength: 64 })),
      purchaseOrder: Type.Optional(Id),
      quantity: Quantity,
      bucket: BucketSchema,
      /** the ERP's inspection lot opened by this receipt (SAP origin 01), when QM is active */
      inspectionLot: Type.Optional(Id),
      /** present when `qualink adopt` took the receipt over at go-live */
      adoption: Type.Optional(Adoption),
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'erp.goods_receipt.reversed.v1',
    routing: 'transactional',
    description: 'A goods receipt was reversed (SAP 102); its quantity leaves the lot.',
    schema: Strict({
      materialDocument: MaterialDocument,
      reversedDocument: MaterialDocument,
      lot: LotRef,
      quantity: Quantity,
      /** the bucket the reversed receipt had landed in (QI stock when inspection is active) */
      bucket: Type.Optional(BucketSchema),
      reason: Type.Optional(Type.String({ maxLength: 500 })),
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'erp.stock.posted.v1',
    routing: 'transactional',
    description:
      'A stock movement between buckets of one lot (321, 350, 349, 553, 331, 122, 309), or out of it to another plant (301, 303: targetPlant).',
    schema: Strict({
      materialDocument: MaterialDocument,
      movementType: MovementType,
      lot: LotRef,
      from: BucketSchema,
      to: Type.Union([BucketSchema, Type.Literal('transferredOut')]),
      quantity: Quantity,
      inspectionLot: Type.Optional(Id),
      targetMaterial: Type.Optional(Id),
      targetLot: Type.Optional(Id),
      /** the receiving plant of a plant-to-plant transfer (301/303); the batch keeps its number unless targetLot says otherwise */
      targetPlant: Type.Optional(PlantId),
      reference: Type.Optional(
        Type.String({ maxLength: 64, description: 'Idempotency reference written on the document' }),
      ),
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'erp.material_document.cancelled.v1',
    routing: 'transactional',
    description: 'A material document was cancelled; the ERP posted the exact inverse movement.',
    schema: Strict({
      materialDocument: MaterialDocument,
      cancelledDocument: MaterialDocument,
      lot: LotRef,
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'erp.production_order.hold_changed.v1',
    routing: 'transactional',
    description: 'A production order was put on quality hold or released from it.',
    schema: Strict({
      productionOrder: Id,
      plant: PlantId,
      hold: Type.Enum(HOLD_STATES),
      reason: Type.Optional(Type.String({ maxLength: 500 })),
      nonconformance: Type.Optional(Id),
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'erp.delivery.shipped.v1',
    routing: 'transactional',
    description:
      'Goods issue posted for an outbound delivery: which lots went to which customer (forward genealogy, recall scope).',
    schema: Strict({
      delivery: Id,
      plant: PlantId,
      customer: Id,
      lines: Type.Array(DeliveryLine, { minItems: 1 }),
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'erp.delivery.block_changed.v1',
    routing: 'transactional',
    description: 'An outbound delivery was blocked or unblocked for quality reasons.',
    schema: Strict({
      delivery: Id,
      plant: PlantId,
      block: Type.Enum(BLOCK_STATES),
      reason: Type.Optional(Type.String({ maxLength: 500 })),
      audit: Audit,
    }),
  }),
]
