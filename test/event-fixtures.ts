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
