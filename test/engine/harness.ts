import { randomUUID } from 'node:crypto'
import pino from 'pino'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { Engine, type EngineOptions } from '../../src/engine/engine.ts'
import { toAppendEvent } from '../../src/store/append-event.ts'
import type { Store } from '../../src/store/types.ts'

export const ALL = { allPlants: true, reason: 'test' } as const

export function demoEvent(
  type: 'order_received' | 'approval_given',
  data: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test:engine',
    type: `qualink.demo.${type}.v1`,
    subject: String(data.order),
    plant: 'P100',
    data,
    ...extra,
  } as unknown as CloudEvent
}

export async function append(store: Store, ...events: CloudEvent[]): Promise<void> {
  const at = new Date().toISOString()
  await store.appendEvents([{ actor: 'test', events: events.map((e) => toAppendEvent(e, at)) }])
}

export function engine(
  store: Store,
  opts: Partial<EngineOptions> & Pick<EngineOptions, 'workflows'>,
): Engine {
  return new Engine({
    store,
    owner: `test-${randomUUID().slice(0, 8)}`,
    leaseTtlMs: 5000,
    logger: pino({ level: 'silent' }),
    random: () => 0, // backoff delay 0: retries are due at once
    ...opts,
  })
}

export async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
