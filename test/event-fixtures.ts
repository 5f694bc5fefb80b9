import { randomUUID } from 'node:crypto'

/** A valid structured-mode CloudEvent of the kernel's ping type. */
export function ping(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:qualink:test',
    type: 'qualink.test.pinged.v1',
    time: new Date().toISOString(),
    subject: 'lot-1',
    plant: 'P100',
    data: { note: 'hello', n: 1 },
    ...overrides,
  }
}

/** Strings that need escaping in SQL literals, JSON and array literals (the one-round-trip writes). */
export const AWKWARD = [
  `it's "quoted"`,
  "back\\slash \\\\ and E'\\x41'",
  "'); DROP TABLE events; --",
  'controls \b\f\n\r\t \u0001 \u001f \u007f end',
  'ünïcödé ✓ 漢字 😀 \u2028 \u2029',
  '$1 $$ $tag$ ? :name',
]
