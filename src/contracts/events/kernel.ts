import { Type } from 'typebox'
import { defineEventType } from '../event-type.ts'

/** Types the kernel itself needs for its own tests and the operations API. */
export const kernelEventTypes = [
  defineEventType({
    type: 'qualink.test.pinged.v1',
    routing: 'transactional',
    description: 'A no-op event used by health checks, benchmarks and kernel tests.',
    schema: Type.Object(
      { note: Type.Optional(Type.String({ maxLength: 200 })), n: Type.Optional(Type.Integer()) },
      { additionalProperties: false },
    ),
  }),
  defineEventType({
    type: 'qualink.demo.order_received.v1',
    routing: 'transactional',
    description: 'Starts the kernel demo workflow: post one ledger line per item, then wait for approval.',
    schema: Type.Object(
      {
        order: Type.String({ minLength: 1, maxLength: 100 }),
        lines: Type.Integer({ minimum: 0, maximum: 100 }),
        failOnLine: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
  }),
  defineEventType({
    type: 'qualink.demo.approval_given.v1',
    routing: 'transactional',
    description: 'Approves a kernel demo order; the demo workflow waits for it.',
    schema: Type.Object(
      { order: Type.String({ minLength: 1, maxLength: 100 }), approver: Type.String({ minLength: 1 }) },
      { additionalProperties: false },
    ),
  }),
]
