/**
 * Reads an upstream answer with a ceiling on its size. A remote is untrusted input (OWASP API10,
 * unsafe consumption of APIs): `res.text()` would buffer whatever it sends, so a broken or
 * hostile ERP could exhaust the worker's memory with one answer.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024

export class ResponseTooLarge extends Error {
  constructor(
    readonly limit: number,
    readonly declared: number | undefined,
  ) {
    super(
      declared !== undefined
        ? `answer declares ${declared} bytes, above the ${limit}-byte limit`
        : `answer exceeded the ${limit}-byte limit`,
    )
    this.name = 'ResponseTooLarge'
  }
}

/** The body as UTF-8 text, refusing (and cancelling the transfer) past `limit` bytes. */
export async function readCapped(res: Response, limit: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel()
    throw new ResponseTooLarge(limit, declared)
  }
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw new ResponseTooLarge(limit, undefined)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
