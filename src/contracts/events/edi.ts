import { Type } from 'typebox'
import { Timestamp } from '../../model/common.ts'
import { defineEventType } from '../event-type.ts'
import { Audit, Id, PlantId, Quantity, Strict } from './refs.ts'

/**
 * Events that arrive by EDI. A supplier's ship notice (X12 856) is an ERP-domain fact — goods
 * are on their way against a purchase order — so it is named `erp.*`, whatever the transport.
 */
export const ediEventTypes = [
  defineEventType({
    type: 'erp.ship_notice.received.v1',
    routing: 'transactional',
    description:
      'A supplier announced a shipment (advance ship notice): each line is an expected receipt of a supplier lot.',
    schema: Strict({
      shipment: Id,
      plant: PlantId,
      supplier: Id,
      shippedAt: Type.Optional(Timestamp),
      lines: Type.Array(
        Strict({
          line: Id,
          material: Id,
          supplierLot: Id,
          purchaseOrder: Type.Optional(Id),
          quantity: Quantity,
        }),
        { minItems: 1 },
      ),
      interchange: Strict({
        sender: Type.String({ minLength: 1, maxLength: 15 }),
        controlNumber: Type.String({ pattern: '^\\d{9}$', description: 'ISA13' }),
        transaction: Type.String({ minLength: 4, maxLength: 9, description: 'ST02' }),
      }),
      audit: Audit,
    }),
  }),
]
