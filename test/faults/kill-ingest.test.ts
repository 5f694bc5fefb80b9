import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import readline from 'node:readline'
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { fixtureArgs } from '../bundle.ts'
import { createTestDatabase, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'
import { sharedPostgresMissing } from './prerequisites.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F1 (reference/perf-reliability.md §6): Qualink is killed with SIGKILL while it ingests — one
 * request is half sent (its body never complete: before any commit), others are in flight (some
 * committed, some not, their answers lost), and the kill lands the moment the 60th 202 arrives.
 * A new process takes over the same database and the client retries every event id it has, acked
 * or not. Invariants: every acknowledged event stored, none stored twice, the half-sent one not
 * stored until its retry, and every retry answered 202 (a duplicate for what was already stored).
 * Child processes as in test/kernel/crash-after-ack.test.ts.
 */
interface Server {
  readonly child: ChildProcess
  readonly url: string
  /** settles when the process has exited (made at spawn, so an early exit is not missed) */
  readonly exited: Promise<unknown>
}

async function spawnServer(db: TestDatabase): Promise<Server> {
  const child = spawn(
    process.execPath,
    fixtureArgs('serve', db.dir, db.dialect === 'postgres' ? db.location : ''),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = once(child, 'exit')
  const lines = readline.createInterface({ input: child.stdout! })
  const [line] = (await once(lines, 'line')) as [string]
  return { child, url: JSON.parse(line).url, exited }
}

async function post(url: string, e: CloudEvent): Promise<{ status: number; duplicate: boolean }> {
  const r = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(e),
    signal: AbortSignal.timeout(10_000),
  })
  const body = (await r.json().catch(() => ({}))) as { duplicate?: boolean }
  return { status: r.status, duplicate: body.duplicate === true }
}

/** Sends the headers and half the body of a POST, and leaves it hanging. */
async function halfSent(url: string, e: CloudEvent): Promise<net.Socket> {
  const { hostname, port } = new URL(url)
  const body = Buffer.from(JSON.stringify(e))
  const s = net.connect({ host: hostname, port: Number(port) })
  s.on('error', () => {})
  await once(s, 'connect')
  s.write(
    `POST /v1/events HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/cloudevents+json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`,
  )
  s.write(body.subarray(0, body.length >> 1))
  return s
}

const KILL_AT = 60
const TOTAL = 200

const scenario = (dialect: Dialect) => () => {
  let db: TestDatabase
  const children: ChildProcess[] = []

  beforeEach(async () => {
    db = await createTestDatabase(dialect, { migrated: true })
  })
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await db?.cleanup()
  })

  it('keeps every acked event once across a SIGKILL mid-request and client retries of the same ids', async () => {
    const a = await spawnServer(db)
    children.push(a.child)
    const half = ping() as unknown as CloudEvent
    const hanging = await halfSent(a.url, half)
    const events = Array.from({ length: TOTAL }, () => ping() as unknown as CloudEvent)
    const acked: string[] = []
    let killedAt = 0
    let next = 0
    const failedBeforeKill: string[] = []
    const worker = async () => {
      while (!killedAt && next < events.length) {
        const e = events[next++]!
        const r = await post(a.url, e).catch(() => undefined)
        if (r?.status === 202) {
          acked.push(e.id)
          if (acked.length === KILL_AT && !killedAt) {
            // Right after a 202, with the other workers' requests in flight.
            a.child.kill('SIGKILL')
            killedAt = Date.now()
          }
        } else if (!killedAt) failedBeforeKill.push(e.id)
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
    await a.exited
    hanging.destroy()
    expect(failedBeforeKill).toEqual([]) // before the kill every post was acknowledged
    expect(killedAt).toBeGreaterThan(0)

    // What the dead process left: every ack stored, the half-sent event not.
    const store = await db.open()
    const storedAtKill = new Set((await store.listEvents(ALL, { limit: 10_000 })).map((e) => e.id))
    await store.close()
    expect(storedAtKill.has(half.id)).toBe(false)
    const ackedByFirst = acked.length // KILL_AT, plus answers already on their way at the kill
    const inFlightCommitted = [...storedAtKill].filter((id) => !acked.includes(id)).length

    // A new process on the same data; the client retries everything it ever sent, acked or not.
    const b = await spawnServer(db)
    children.push(b.child)
    let recoveredAt = 0
    let duplicates = 0
    const retry = [half, ...events]
    for (let i = 0; i < retry.length; i += 8) {
      await Promise.all(
        retry.slice(i, i + 8).map(async (e) => {
          const r = await post(b.url, e)
          expect(r.status, e.id).toBe(202)
          recoveredAt ||= Date.now()
          if (r.duplicate) duplicates++
          acked.push(e.id)
        }),
      )
    }
    b.child.kill('SIGKILL')
    await b.exited

    const after = await db.open()
    const stored = (await after.listEvents(ALL, { limit: 10_000 })).map((e) => e.id)
    await after.close()
    expect(duplicates).toBe(storedAtKill.size) // exactly what was stored answered as a duplicate
    report(`F1 SIGKILL mid-ingest (${dialect})`, {
      acked,
      stored,
      faultEndedAt: killedAt,
      recoveredAt,
      detail:
        `${ackedByFirst} acked by the killed process (kill at the ${KILL_AT}th 202), ` +
        `${inFlightCommitted} committed in flight without an answer, ` +
        `${TOTAL + 1 - storedAtKill.size} (incl. the half-sent one) stored only by the retry; ` +
        `recover = kill to first 202 from the new process (its start included)`,
    })
    expect(new Set(stored).size).toBe(TOTAL + 1)
  })
}

faultDescribe('F1: SIGKILL during ingest, client retries (sqlite)', undefined, scenario('sqlite'))
faultDescribe(
  'F1: SIGKILL during ingest, client retries (postgres)',
  await sharedPostgresMissing(),
  scenario('postgres'),
)
