import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { notifyWebhookConnector } from '../../src/connectors/notify/webhook/connector.ts'
import { SloEvaluator } from '../../src/observability/slo-evaluator.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { receiveGoods } from '../workflows/helpers.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'
import { parsePrometheus } from './prom-text.ts'

interface Received {
  readonly key: string | undefined
  readonly body: { text: string; blocks: unknown[] }
}

/** A chat webhook receiver on a real socket: records every POST. */
async function startReceiver(): Promise<{ url: string; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      got.push({
        key: req.headers['x-qualink-idempotency-key'] as string | undefined,
        body: JSON.parse(body),
      })
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/qa`
  return { url, got, close: () => new Promise((r) => server.close(() => r())) }
}

const OBJECTIVE = {
  name: 'inspections-reach-qms',
  indicator: 'inspections-awaiting-creation',
  threshold: 0,
  windowMs: 0,
  plants: ['P100'],
} as const

describe.each(DIALECTS)('SLO breach and recovery notifications on %s', (dialect: Dialect) => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    receiver = await startReceiver()
    process.env.QLK_TEST_SLO_HOOK = receiver.url
  })
  afterEach(async () => {
    await receiver?.close()
    delete process.env.QLK_TEST_SLO_HOOK
  })
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' } }, webhook: true },
    qms: {},
    workflows: [supplierReceiptInspection()],
    ports: () => ({
      notify: notifyWebhookConnector.instantiate(
        { urlEnv: 'QLK_TEST_SLO_HOOK' },
        { name: 'qa-chat', allowlist: [new URL(receiver.url).origin], leaseMs: 30_000 },
      ),
    }),
    slos: { everyMs: 50, objectives: [OBJECTIVE] },
  }))

  const morePasses = async (n: number) => {
    const target = hub.q.sloEvaluator!.passes + n
    await until(() => hub.q.sloEvaluator!.passes >= target)
  }
  const scrape = async () =>
    parsePrometheus((await hub.q.app.inject({ method: 'GET', url: '/metrics' })).body)
  const labels = { slo: OBJECTIVE.name, plant: 'P100' }

  it('notifies a breach once while it lasts and a recovery once, each audited; a takeover does not repeat them', async () => {
    await morePasses(2)
    expect(receiver.got).toHaveLength(0)

    // The QMS is down: the goods receipt's inspection cannot be created.
    hub.qms.faults.set({ errorRate: 1, errorStatus: 503, match: { method: 'POST' } })
    await receiveGoods(hub.erp, 'B1', '100')
    await until(() => receiver.got.length === 1)
    await morePasses(3)
    expect(receiver.got).toHaveLength(1)
    const [breach] = receiver.got
    expect(breach!.body.text).toMatch(
      /^SLO breached: inspections-reach-qms \(P100\): inspections-awaiting-creation/,
    )
    expect(breach!.key).toBe('slo:inspections-reach-qms:P100:breach:0')
    expect((await scrape()).value('qualink_slo_breached', labels)).toBe(1)
    expect((await scrape()).value('qualink_slo_indicator_value', labels)).toBe(1)

    // The overview shows the objective breached and the receipt not yet in the QMS.
    const overview = async () => (await hub.q.app.inject({ method: 'GET', url: '/' })).body
    const sloRow = (body: string) =>
      /<tr data-slo="inspections-reach-qms" data-plant="P100">[\s\S]*?<\/tr>/.exec(body)?.[0] ?? ''
    let body = await overview()
    expect(sloRow(body)).toContain('<span class="badge bad">breached</span>')
    expect(sloRow(body)).toContain('<td>1</td>')
    expect(body).toMatch(/<div class="value warn">1<\/div><div class="label">inspections not yet in the QMS/)

    // Another process taking the lease over reads the state from the audit trail: no repeat.
    const successor = new SloEvaluator(hub.store, { send: async () => expect.unreachable() }, [OBJECTIVE])
    expect((await successor.runOnce())[0]).toMatchObject({ state: 'breached', transition: undefined })

    // The QMS recovers; the inspection lot is created and the objective is met again.
    hub.qms.faults.reset()
    await until(() => receiver.got.length === 2, 45_000)
    await morePasses(3)
    expect(receiver.got).toHaveLength(2)
    expect(receiver.got[1]!.body.text).toMatch(/^SLO recovered: inspections-reach-qms \(P100\)/)
    expect(receiver.got[1]!.key).toMatch(/^slo:inspections-reach-qms:P100:recovery:\d+$/)
    expect((await scrape()).value('qualink_slo_breached', labels)).toBe(0)
    body = await overview()
    expect(sloRow(body)).toContain('<span class="badge ok">met</span>')
    expect(body).toMatch(/<div class="value ">0<\/div><div class="label">inspections not yet in the QMS/)

    const audit = await hub.store.listAudit(ALL, { subject: 'slo:inspections-reach-qms', limit: 10 })
    expect(audit.map((a) => `${a.plant} ${a.actor} ${a.action}`)).toEqual([
      'P100 slo-evaluator slo.breached',
      'P100 slo-evaluator slo.recovered',
    ])
  })
})
