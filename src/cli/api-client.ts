/** The CLI talks to a running Qualink through its API (one process owns an SQLite file). */
export interface ApiOptions {
  readonly url: string
  readonly actor?: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code?: string; detail?: string; errors?: Array<{ path: string; message: string }> },
  ) {
    super(`${body.code ?? `HTTP ${status}`}: ${body.detail ?? 'request failed'}`)
  }
}

/** Who calls: the caller's API key or token when authentication is on, and the actor for the audit. */
export function callerHeaders(actor?: string): Record<string, string> {
  return {
    // with authentication on, the caller's own API key or token (never from argv: ps shows it)
    ...(process.env.QUALINK_API_KEY ? { authorization: `Bearer ${process.env.QUALINK_API_KEY}` } : {}),
    'x-qualink-actor': actor ?? `cli:${process.env.USER ?? 'unknown'}`,
  }
}

export async function api<T>(
  o: ApiOptions,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  let res: Response
  try {
    res = await fetch(`${o.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...callerHeaders(o.actor),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (e) {
    throw new Error(`cannot reach Qualink at ${o.url} (${(e as Error).message}); is it running? set --url`)
  }
  const json = (await res.json()) as T
  if (!res.ok) throw new ApiError(res.status, json as ApiError['body'])
  return json
}

export const DEFAULT_URL = process.env.QUALINK_URL ?? `http://127.0.0.1:${process.env.QUALINK_PORT ?? 8080}`

export function table(rows: ReadonlyArray<object>, columns: readonly string[]): string {
  const cells = rows.map((r) => columns.map((c) => String((r as Record<string, unknown>)[c] ?? '')))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)))
  const line = (vals: readonly string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ')
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}
