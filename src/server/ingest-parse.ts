import type { CloudEvent } from '../contracts/envelope.ts'
import { QualinkError } from '../contracts/errors.ts'
import type { EventRegistry } from '../contracts/registry.ts'

export const MAX_BATCH_EVENTS = 1000

export type IngestMode = 'structured' | 'batch' | 'binary'

function parseJson(body: Buffer, path: string): unknown {
  if (body.length === 0)
    throw new QualinkError('QLK_MALFORMED_JSON', 'the body is empty', [{ path, message: 'is empty' }])
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (e) {
    throw new QualinkError('QLK_MALFORMED_JSON', `the body is not valid JSON: ${(e as Error).message}`, [
      { path, message: 'is not valid JSON' },
    ])
  }
}

/**
 * CloudEvents HTTP protocol binding (cloudevents/spec http-protocol-binding.md): structured
 * mode carries the whole event in an `application/cloudevents+json` body, batch mode an array
 * in `application/cloudevents-batch+json`, binary mode the attributes in `ce-*` headers and
 * only `data` in the body.
 */
export function parseIngest(
  contentType: string | undefined,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): { mode: IngestMode; candidates: unknown[] } {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (media === 'application/cloudevents+json')
    return { mode: 'structured', candidates: [parseJson(body, '/')] }
  if (media === 'application/cloudevents-batch+json') {
    const parsed = parseJson(body, '/')
    if (!Array.isArray(parsed)) {
      throw new QualinkError('QLK_VALIDATION', 'a batch must be a JSON array of CloudEvents', [
        { path: '/', message: 'must be an array' },
      ])
    }
    if (parsed.length === 0) throw new QualinkError('QLK_BATCH_EMPTY', 'the batch contains no events')
    if (parsed.length > MAX_BATCH_EVENTS) {
      throw new QualinkError('QLK_BATCH_TOO_LARGE', `a batch may hold at most ${MAX_BATCH_EVENTS} events`, [
        { path: '/', message: `has ${parsed.length} items, more than ${MAX_BATCH_EVENTS}` },
      ])
    }
    return { mode: 'batch', candidates: parsed }
  }
  if (media === 'application/json' && headers['ce-specversion'] !== undefined) {
    const event: Record<string, unknown> = {
      datacontenttype: 'application/json',
      data: parseJson(body, '/data'),
    }
    for (const [name, value] of Object.entries(headers)) {
      if (!name.startsWith('ce-') || typeof value !== 'string') continue
      const attr = name.slice(3)
      // HTTP carries every attribute as a string; `sequence` is an integer extension.
      event[attr] =
        attr === 'sequence' && /^\d{1,15}$/.test(value) ? Number(value) : decodeURIComponent(value)
    }
    return { mode: 'binary', candidates: [event] }
  }
  throw new QualinkError(
    'QLK_CONTENT_TYPE',
    `content type '${media || '(none)'}' is not accepted: use application/cloudevents+json, ` +
      'application/cloudevents-batch+json, or application/json with ce-* headers (binary mode)',
    [{ path: '/content-type', message: 'must be a CloudEvents content mode' }],
  )
}

/** Validates every candidate before anything is stored; a batch is refused whole. */
export function validateAll(registry: EventRegistry, mode: IngestMode, candidates: unknown[]): CloudEvent[] {
  const events: CloudEvent[] = []
  const problems: QualinkError[] = []
  candidates.forEach((c, i) => {
    try {
      events.push(registry.validate(c, mode === 'batch' ? `/${i}` : ''))
    } catch (e) {
      if (!(e instanceof QualinkError)) throw e
      problems.push(e)
    }
  })
  if (problems.length === 1) throw problems[0]
  if (problems.length > 1) {
    const first = problems[0]!
    throw new QualinkError(
      first.code,
      `${problems.length} of ${candidates.length} events are invalid; nothing was stored`,
      problems.flatMap((p) => p.errors),
    )
  }
  return events
}
