import { Type } from 'typebox'
import { defineEventType } from '../event-type.ts'
import { Id, LotRef, Strict } from './refs.ts'

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' })

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
  defineEventType({
    type: 'qualink.lot.release_signed.v1',
    routing: 'transactional',
    description:
      'A lot of a mass release that two different quality approvers signed (POST /v1/lots/mass-release); starts its lot-release run, which moves the blocked stock to unrestricted in the ERP.',
    schema: Strict({
      lot: LotRef,
      /** the SHA-256 of the signed mass-release version: the idempotency of the release */
      massRelease: Sha256,
      /** the accepting QMS decision the lot is released under */
      decision: Strict({
        code: Id,
        valuation: Type.Literal('accepted'),
        eventSeq: Type.Integer({ minimum: 1 }),
      }),
      signatures: Type.Array(
        Strict({
          id: Type.Integer({ minimum: 1 }),
          signer: Id,
          printedName: Type.String({ minLength: 1, maxLength: 200 }),
          meaning: Type.String({ minLength: 1, maxLength: 32 }),
        }),
        { minItems: 2, maxItems: 10 },
      ),
    }),
  }),
]
