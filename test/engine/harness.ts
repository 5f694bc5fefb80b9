import { randomUUID } from 'node:crypto'
import path from 'node:path'
import pino from 'pino'
import { afterEach, beforeEach } from 'vitest'
import { httpLedger, type LedgerServer, startLedgerServer } from '../../simulators/ledger/server.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { Engine, type EngineOptions } from '../../src/engine/engine.ts'
import { type Qualink, type QualinkOptions, startQualink } from '../../src/server/qualink.ts'
import { toAppendEvent } from '../../src/store/append-event.ts'
import type { Store } from '../../src/store/types.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { AVAILABLE, createTestDatabase, type Dialect, type TestDatabase } from '../dialects.ts'

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

/** One LIMS CSV result row: lot F-1 measured 57.1 HRC, inside its 55–60 specification. */
export const limsHardnessRow = (sampleId: string) => ({
  sampleId,
  lot: 'F-1',
  material: 'M-1',
  analysis: 'hardness',
  value: '57.1',
  unit: 'HRC',
  specMin: '55',
  specMax: '60',
  analyst: 'lab',
  timestamp: '2026-11-27T08:00:00Z',
})

/** Posts a CloudEvents envelope to /v1/events in-process; the response is the caller's to check. */
export const injectEvent = (q: Qualink, body: object) =>
  q.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(body),
  })

/** An in-process API call with a bearer key (JSON body; CloudEvents for /v1/events). */
export const bearerCall = (q: Qualink, key: string, method: 'GET' | 'POST', url: string, body?: object) =>
  q.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body
        ? { 'content-type': url === '/v1/events' ? 'application/cloudevents+json' : 'application/json' }
        : {}),
    },
    payload: body ? JSON.stringify(body) : undefined,
  })

/**
 * Waits until `cond` holds, checking it every `intervalMs`. The 10 ms default suits in-process
 * checks; a check that asks a child process (its HTTP API, its state files) should pass a longer
 * interval: at 10 ms the test's polling keeps the child's one event loop busy answering it, and
 * the child's own work (the demo's traffic ticks, its workflow runs) slows down accordingly.
 */
export async function until(
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  intervalMs = 10,
): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

export interface DemoHub {
  readonly q: Qualink
  readonly store: Store
  readonly ledger: LedgerServer
  close(): Promise<void>
}

/**
 * A live Qualink on a fresh `dialect` database with the kernel demo workflow and the ledger
 * simulator; `extra` adds or overrides options (API keys, ...). `close` stops and removes it all.
 */
export async function startDemoHub(dialect: Dialect, extra: Partial<QualinkOptions> = {}): Promise<DemoHub> {
  const db = await createTestDatabase(dialect, { migrated: true })
  let store: Store | undefined
  let ledger: LedgerServer | undefined
  let q: Qualink | undefined
  const close = async () => {
    await q?.close()
    await ledger?.close()
    await store?.close()
    await db.cleanup()
  }
  try {
    store = await db.open()
    ledger = await startLedgerServer()
    q = await startQualink({
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(db.dir, 'anchors.jsonl'),
      workflows: [kernelDemo],
      ports: { ledger: httpLedger(ledger.url) },
      ...extra,
    })
    return { q, store, ledger, close }
  } catch (e) {
    await close()
    throw e
  }
}

/** What useEngineStore gives each test: read its fields inside the test, they are new for each one. */
export interface EngineTestBed {
  readonly store: Store
  readonly ledger: LedgerServer
}

/**
 * Registers, in the calling describe block, a fresh migrated database of `dialect` for each test
 * with its store open and a ledger server, all closed after the test; the test is skipped where the
 * dialect is not available here.
 */
export function useEngineStore(dialect: Dialect): EngineTestBed {
  const bed: { db?: TestDatabase; store?: Store; ledger?: LedgerServer } = {}
  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    bed.db = await createTestDatabase(dialect, { migrated: true })
    bed.store = await bed.db.open()
    bed.ledger = await startLedgerServer()
  })
  afterEach(async () => {
    await bed.ledger?.close()
    await bed.store?.close()
    await bed.db?.cleanup()
  })
  return bed as EngineTestBed
}
