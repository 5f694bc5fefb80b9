/**
 * The ceiling on an upstream answer's size. A remote is untrusted input (OWASP API10, unsafe
 * consumption of APIs): buffering whatever it sends would let a broken or hostile ERP exhaust the
 * worker's memory with one answer. pinned-http.ts reads up to it and cancels the transfer past it.
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
