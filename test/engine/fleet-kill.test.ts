/**
 * Issue 11, Tests: "three worker processes on the local PostgreSQL with one killed mid-run:
 * nothing lost, no duplicate effects, per-key order kept, every singleton taken over once, the
 * shared rate limit held" — all in one run. Three worker processes (test/fixtures/fleet-worker.ts)
 * execute the kernel demo workflow (two orders per key: the second run waits for the first),
 * call the ledger through an egress client whose token bucket lives in PostgreSQL, and hold four
 * lease-fenced singletons. The process holding the first singleton is SIGKILLed once the ledger
 * has committed a few documents.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import readline from 'node:readline'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type LedgerServer, startLedgerServer } from '../../simulators/ledger/server.ts'
import type { Store } from '../../src/store/types.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { fixtureArgs } from '../bundle.ts'
import { createTestDatabase, dialectAvailable, type TestDatabase } from '../dialects.ts'
import { engine, until } from './harness.ts'
import { expectKeyOrderKept, ordersApprovedPerKey } from './keyed-orders.ts'

const SINGLETONS = ['relay:fleet', 'sealer:fleet', 'scheduler:fleet', 'mqtt:fleet']
const RATE = { ratePerSecond: 5, burst: 2 }
/** how late a request may reach the ledger after its token was taken (a loaded 2-core machine) */
const JITTER_S = 0.5

interface Worker {
  readonly child: ChildProcess
  readonly owner: string
  /** `took <name> <token>` / `halted <name>` lines, in order */
  readonly lines: string[]
}

async function worker(db: TestDatabase, ledgerUrl: string): Promise<Worker> {
  const child = spawn(
    process.execPath,
    fixtureArgs(
      'fleet-worker',
      db.location,
      ledgerUrl,
      // Run lease: a live worker whose renewals all fail for this long loses its run while a
      // step may still be in flight (the effect is not fenced; see docs/deployment.md "Known
      // limits"). At 1.5 s on this shared machine (load ~25) that happened once: a closing
      // document posted twice. 5 s keeps the test about the killed worker.
      '5000',
      '4000', // singleton lease
      String(RATE.ratePerSecond),
      String(RATE.burst),
      SINGLETONS.join(','),
    ),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const lines: string[] = []
  const rl = readline.createInterface({ input: child.stdout! })
  const ready = once(rl, 'line')
  rl.on('line', (l) => lines.push(l))
  await ready
  return { child, owner: `child-${child.pid}`, lines }
}

describe.skipIf(!(await dialectAvailable('postgres')))('three worker processes, one killed mid-run', () => {
  let db: TestDatabase
  let store: Store
  let ledger: LedgerServer
  const workers: Worker[] = []
  /** when each request reached the ledger (ms), through `front` */
  const arrivals: number[] = []
  /** in front of the ledger: notes when each request arrives, then passes it on */
  let front: http.Server
  let frontUrl: string

  beforeEach(async () => {
    db = await createTestDatabase('postgres')
    store = await db.open()
    ledger = await startLedgerServer()
    engine(store, { workflows: [kernelDemo] }) // routing for the events this test appends
    const target = new URL(ledger.url)
    front = http.createServer((req, res) => {
      arrivals.push(Date.now())
      const out = http.request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        },
      )
      out.on('error', () => res.destroy())
      req.pipe(out)
    })
    front.listen(0, '127.0.0.1')
    await once(front, 'listening')
    frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`
  })
  afterEach(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL')
    front?.closeAllConnections()
    await new Promise((r) => front?.close(r))
    await ledger?.close()
    await store?.close()
    await db?.cleanup()
  })

  const holders = async () =>
    new Map(
      (
        (await store.sql.all(`SELECT name, owner, token FROM leases WHERE name IN (?, ?, ?, ?)`, [
          ...SINGLETONS,
        ])) as Array<{ name: string; owner: string; token: number }>
      ).map((r) => [r.name, { owner: r.owner, token: Number(r.token) }]),
    )

  it('loses nothing, doubles nothing, keeps per-key order, moves each singleton once, holds the rate', async () => {
    for (let i = 0; i < 3; i++) workers.push(await worker(db, frontUrl))
    await until(async () => (await holders()).size === SINGLETONS.length)
    const before = await holders()
    const victim = workers.find((w) => w.owner === before.get(SINGLETONS[0]!)!.owner)!
    const survivors = workers.filter((w) => w !== victim)

    ledger.onCommitted = () => {
      if (ledger.docs.length === 8 && victim.child.exitCode === null) victim.child.kill('SIGKILL')
    }
    const keys = Array.from({ length: 10 }, (_, i) => `F-${i}`)
    const runsOf = await ordersApprovedPerKey(store, keys, 90_000)
    expect(victim.child.signalCode).toBe('SIGKILL')

    // nothing lost, nothing doubled, per-key order: each key's documents in its runs' order
    await expectKeyOrderKept(store, ledger, keys, runsOf)
    expect(ledger.docs).toHaveLength(keys.length * 5)

    // every singleton the victim held moved to a survivor, once; the others never moved
    await until(async () =>
      [...(await holders()).values()].every((h) => survivors.some((s) => s.owner === h.owner)),
    )
    const after = await holders()
    const took = (w: Worker, name: string) => w.lines.filter((l) => l.startsWith(`took ${name} `))
    for (const name of SINGLETONS) {
      const was = before.get(name)!
      const now = after.get(name)!
      const takes = workers.flatMap((w) => took(w, name).map((l) => `${w.owner} ${l}`))
      if (was.owner === victim.owner) {
        expect(now.token, name).toBe(was.token + 1)
        expect(takes, name).toEqual([
          `${victim.owner} took ${name} ${was.token}`,
          `${now.owner} took ${name} ${now.token}`,
        ])
      } else {
        expect(now, name).toEqual(was)
        expect(takes, name).toEqual([`${was.owner} took ${name} ${was.token}`])
      }
    }
    expect(survivors.flatMap((w) => w.lines.filter((l) => l.startsWith('halted')))).toEqual([])

    // the shared rate held: no span of requests (reads and posts) reached the ledger faster than
    // one bucket allows (burst + rate × span), over the whole run and across the kill. With a
    // bucket per process (no sharing) this fails: three buckets let through three times the rate.
    for (let i = 0; i < arrivals.length; i++) {
      for (let j = i + 1; j < arrivals.length; j++) {
        const span = (arrivals[j]! - arrivals[i]!) / 1000
        expect(j - i + 1, `${j - i + 1} requests in ${span} s`).toBeLessThanOrEqual(
          RATE.burst + Math.ceil(RATE.ratePerSecond * (span + JITTER_S)),
        )
      }
    }
  }, 240_000)
})
