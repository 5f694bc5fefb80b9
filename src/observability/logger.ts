import pino from 'pino'

export type Logger = pino.Logger

/** JSON logs on stdout; every request's lines carry its correlation id (see server/app.ts). */
export function createLogger(level = process.env.QUALINK_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'qualink' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.secret', '*.password'],
      censor: '[redacted]',
    },
  })
}
