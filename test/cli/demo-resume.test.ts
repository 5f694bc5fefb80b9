/**
 * "Running it again resumes from the same data" (issue 8 item 10): the demo's simulators keep
 * their state in <data>/simulators/*.json, so after Ctrl-C and a second start on the same data
 * directory the ERP still holds the earlier lots and documents, a receipt run that was waiting for
 * its usage decision completes on the decision made after the restart, and no ERP document or QMS
 * inspection lot exists twice. Kernel-demo approvals the QA lead had not given yet at the stop are
 * part of the traffic's saved day and are given after the restart, so those orders' runs complete.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { until } from '../engine/harness.ts'
import { DEMO_POLL_MS, type DemoProcess, startDemo } from './demo-process.ts'

interface PlantDay {
  tick: number
  rawLots: string[]
  lateUntil: Array<[string, number]>
  pendingApprovals: Array<{ order: string; due: number }>
  stats: { receipts: number; orders: number }
}
interface QmsFile {
  model: { lots: Array<{ id: string; batch: string; status: string }> }
}
interface ErpFile {
  model: { documents: Array<{ MaterialDocument: string }>; lots: Array<{ InspectionLot: string }> }
}
interface Run {
  key: string
  status: string
  result: { decision?: string; documents?: string[] } | null
}
interface ErpState {
  materialDocuments: Array<{ number: string }>
  inspectionLots: Array<{ lot: string }>
  counts: {
    documentsByLotAndBucket: Record<string, Record<string, number>>
    conservationViolations: string[]
  }
}

describe('the npm start demo, started again on the same data', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'qualink-demo-resume-'))
  const demos: DemoProcess[] = []
  afterAll(() => {
    for (const d of demos) d.kill()
    rmSync(dataDir, { recursive: true, force: true })
  })
  const saved = <T>(name: string): T | undefined => {
    try {
      return (
        JSON.parse(readFileSync(path.join(dataDir, 'simulators', `${name}.json`), 'utf8')) as { state: T }
      ).state
    } catch {
      return undefined // not written yet
    }
  }
  const orderRuns = async (d: DemoProcess) =>
    new Map(
      ((await d.api<{ runs: Run[] }>('/v1/runs?workflow=kernel-demo&limit=1000'))?.runs ?? []).map((r) => [
        r.key,
        r.status,
      ]),
    )
  // every fourth order is rejected by the ledger (dead-lettered before it waits for its approval)
  const approvable = (order: string) => Number(order.split('-').at(-1)) % 4 !== 0
  const receiptRun = async (d: DemoProcess, batch: string) =>
    (await d.api<{ runs: Run[] }>('/v1/runs?workflow=supplier-receipt-inspection&limit=200'))?.runs.find(
      (r) => r.key === batch,
    )

  // Without the ERP's scheduled outages: they come with the tick (every 50 s at 250 ms) while the
  // engine's retry backoff does not, so a run whose ERP call met one could wait minutes for its next
  // attempt (seen once: still pending 170 s after its decision). Outages are not what this checks.
  const start = () => startDemo(dataDir, 250, ['--no-erp-outages'])

  it('keeps the ERP and QMS state, and a run waiting for a decision completes after the restart', async () => {
    const first = await start()
    demos.push(first)
    // Stop while a late usage decision is still due (the traffic decides it only at that tick),
    // its QMS lot open and its receipt run waiting in Qualink.
    let waiting: { qmsLot: string; batch: string } | undefined
    await until(
      async () => {
        const day = saved<PlantDay>('plant-day')
        const qms = saved<QmsFile>('qms')
        const late = day?.lateUntil.find(([, due]) => due > day.tick + 20)
        const lot = late && qms?.model.lots.find((l) => l.id === late[0])
        if (!lot) return false
        waiting = { qmsLot: lot.id, batch: lot.batch }
        return (await receiptRun(first, lot.batch))?.status === 'waiting'
      },
      170_000,
      DEMO_POLL_MS,
    )
    expect(await first.interrupt()).toBe(0)
    const before = {
      day: saved<PlantDay>('plant-day')!,
      qms: saved<QmsFile>('qms')!,
      erp: saved<ErpFile>('erp-s4')!,
    }
    expect(before.qms.model.lots.find((l) => l.id === waiting!.qmsLot)?.status).toBe('OPEN')
    expect(before.erp.model.documents.length).toBeGreaterThan(0)
    // An approval comes 12 ticks after its order and orders come every 5 ticks, so two or three are
    // always still to be given when the demo stops (at most one of two consecutive orders is
    // rejected); the runs of the accepted ones wait for them in Qualink.
    const awaiting = before.day.pendingApprovals.map((a) => a.order).filter(approvable)
    expect(
      awaiting.length,
      `approvals pending at the stop: ${JSON.stringify(before.day.pendingApprovals)}`,
    ).toBeGreaterThan(0)

    const second = await start()
    demos.push(second)
    // Under CI load the second start, the resumed ticks to the late decision (up to 100 ticks) and
    // the webhook can take long; on a timeout, say where it stood.
    await until(
      async () => (await receiptRun(second, waiting!.batch))?.status === 'completed',
      200_000,
      DEMO_POLL_MS,
    ).catch(async (e: Error) => {
      const run = await receiptRun(second, waiting!.batch)
      const lot = saved<QmsFile>('qms')?.model.lots.find((l) => l.id === waiting!.qmsLot)
      const day = saved<PlantDay>('plant-day')
      throw new Error(
        `${e.message}: run ${JSON.stringify(run?.status)}, QMS lot ${waiting!.qmsLot} ${lot?.status}, ` +
          `tick ${day?.tick}, due ${JSON.stringify(day?.lateUntil.find(([id]) => id === waiting!.qmsLot))}; ` +
          `demo output: ${second.output.slice(-1500)}`,
      )
    })
    // The approvals pending at the stop were given after the restart: every order of the first
    // start that the ledger did not reject completed (none left waiting on a lost approval).
    const firstOrders = Array.from({ length: before.day.stats.orders }, (_, i) => i + 1)
      .map((n) => `${before.day.pendingApprovals[0]!.order.replace(/-\d+$/, '')}-${n}`)
      .filter(approvable)
    await until(
      async () => {
        const runs = await orderRuns(second)
        return firstOrders.every((o) => runs.get(o) === 'completed')
      },
      60_000,
      DEMO_POLL_MS,
    ).catch(async (e: Error) => {
      const runs = await orderRuns(second)
      const open = firstOrders.filter((o) => runs.get(o) !== 'completed').map((o) => `${o}: ${runs.get(o)}`)
      throw new Error(`${e.message}: order runs not completed: ${open.join(', ')}`)
    })
    expect(awaiting.every((o) => firstOrders.includes(o))).toBe(true)
    const done = (await receiptRun(second, waiting!.batch))!
    expect(done.result?.decision).toBeTruthy()
    expect(done.result?.documents?.length).toBeGreaterThan(0)

    // The ERP simulator of the second start still holds every earlier lot and document.
    const erpUrl = /S\/4-style simulator (http:\/\/[\d.:]+)/.exec(second.output)![1]!
    const erp = (await (await fetch(`${erpUrl}/__sim/state`)).json()) as ErpState
    const numbers = erp.materialDocuments.map((m) => m.number)
    expect(numbers).toEqual(expect.arrayContaining(before.erp.model.documents.map((m) => m.MaterialDocument)))
    expect(erp.inspectionLots.map((l) => l.lot)).toEqual(
      expect.arrayContaining(before.erp.model.lots.map((l) => l.InspectionLot)),
    )
    // No document twice: numbers are unique, and each lot has one document per bucket it reached.
    expect(new Set(numbers).size).toBe(numbers.length)
    expect(numbers.length).toBeGreaterThan(before.erp.model.documents.length)
    for (const [lot, buckets] of Object.entries(erp.counts.documentsByLotAndBucket))
      for (const [bucket, n] of Object.entries(buckets))
        expect({ lot, bucket, n }).toEqual({ lot, bucket, n: 1 })
    expect(erp.counts.conservationViolations).toEqual([])

    expect(await second.interrupt()).toBe(0)
    // The traffic resumed its counters: the earlier lots, then new ones, no id reused.
    const after = { day: saved<PlantDay>('plant-day')!, qms: saved<QmsFile>('qms')! }
    expect(after.day.rawLots.slice(0, before.day.rawLots.length)).toEqual(before.day.rawLots)
    expect(new Set(after.day.rawLots).size).toBe(after.day.rawLots.length)
    expect(after.day.stats.receipts).toBeGreaterThanOrEqual(before.day.stats.receipts)
    // one QMS inspection lot per batch, the late one decided after the restart
    const batches = after.qms.model.lots.map((l) => l.batch)
    expect(new Set(batches).size).toBe(batches.length)
    expect(after.qms.model.lots.find((l) => l.id === waiting!.qmsLot)?.status).toBe('DECIDED')
  }, 420_000)
})
