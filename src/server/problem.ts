import type { FastifyReply } from 'fastify'
import { ERRORS, type ErrorCode, type FieldProblem, isQualinkError } from '../contracts/errors.ts'

/** RFC 9457 problem details, with the stable `code` and the per-field `errors` list. */
export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly code: ErrorCode
  readonly errors: readonly FieldProblem[]
  readonly instance?: string
}

export function problem(code: ErrorCode, detail: string, errors: readonly FieldProblem[] = []): Problem {
  const spec = ERRORS[code]
  return {
    type: `https://qualink.dev/errors/${code}`,
    title: spec.title,
    status: spec.status,
    detail,
    code,
    errors,
  }
}

/** Fastify's own error codes that are the caller's fault, mapped onto ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'QLK_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'QLK_CONTENT_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'QLK_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'QLK_MALFORMED_JSON',
  FST_ERR_VALIDATION: 'QLK_VALIDATION',
}

export function toProblem(err: unknown): Problem {
  if (isQualinkError(err)) return problem(err.code, err.message, err.errors)
  const e = err as { code?: string; message?: string; statusCode?: number; validation?: unknown[] }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined
  if (mapped) {
    const errors =
      (
        e.validation as
          | Array<{
              instancePath?: string
              message?: string
              keyword?: string
              params?: Record<string, unknown>
            }>
          | undefined
      )?.map((v) =>
        v.keyword === 'additionalProperties'
          ? {
              path: `${v.instancePath ?? ''}/${String(v.params?.additionalProperty)}`,
              message: 'is not allowed',
            }
          : { path: v.instancePath || '/', message: v.message ?? 'is invalid' },
      ) ?? []
    return problem(mapped, e.message ?? mapped, errors)
  }
  if (e.statusCode === 404) return problem('QLK_NOT_FOUND', e.message ?? 'not found')
  return problem('QLK_INTERNAL', 'an internal error occurred; it has been logged')
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p)
}
