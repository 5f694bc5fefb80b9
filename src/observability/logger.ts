import pino from 'pino'
import { activeTraceIds } from './tracing.ts'

export type Logger = pino.Logger

/**
 * JSON logs on stdout; every request's lines carry its correlation id (see server/app.ts), and
 * every line written while a span is active carries `trace_id` and `span_id` (the OpenTelemetry
 * log data model's names), so a log search and a trace view meet. `destination` is for tests.
 */
export function createLogger(
  level = process.env.QUALINK_LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      level,
      base: { service: 'qualink' },
      mixin: () => activeTraceIds() ?? {},
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.secret', '*.password'],
        censor: '[redacted]',
      },
    },
    destination,
  )
}
