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
]
