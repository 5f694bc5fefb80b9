import { expect, it } from 'vitest'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf, receiveGoods } from '../workflows/helpers.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'
import { FaultProxy } from './fault-proxy.ts'
import { sharedPostgresMissing } from './prerequisites.ts'
import { faultDescribe, report } from './report.ts'

/**
 * F10 (reference/perf-reliability.md §6): the ambiguous timeout. Qualink reaches the S/4
 * simulator only through the TCP fault proxy, which forwards the usage decision and the stock
 * postings, lets the ERP commit them, then swallows the answers and cuts the connection — at the
 * network level, not the simulator's own fault switch. Invariant: the retry carries the same key
 * and the ERP holds exactly one document per lot and stock bucket (SAP never deduplicates, so the
 * simulator's document count is the effect ledger).
 *
 * F13 on the same link: the proxy goes silent (DROP-style partition) as the decisions arrive;
 * the ERP calls hang to the egress timeout and the runs retry. After the heal every run completes,
 * nothing is dead-lettered, and the documents are still one per bucket.
 */
const POST_UD = /^POST \S*\/A_InspLotUsageDecision HTTP/
const POST_STOCK = /^POST \S*A_InspLotMatlDocItem/
const BATCHES = ['B1', 'B2']
const lotKey = (batch: string) => `RAW-100|1000|${batch}`

const scenario = (dialect: Dialect) => () => {
  let proxy: FaultProxy

  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' } }, webhook: true },
    qms: { webhook: true },
    erpVia: async (erp) => {
      proxy = await FaultProxy.start({ port: Number(new URL(erp.url).port) })
      return { url: `http://${proxy.host}`, close: () => proxy.close() }
    },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierReceiptInspection()],
  }))

  /** Goods receipts at the ERP, then the QMS decides every lot: 60 release, 30 block, 10 scrap. */
  const receiveAndDecide = async () => {
    for (const batch of BATCHES) await receiveGoods(hub.erp, batch, '100')
    for (const batch of BATCHES) {
      const lot = await inspectionLotOf(hub.qms, batch)
      hub.qms.makeUsageDecision(lot.id, ACCEPT_SPLIT_60_30_10)
    }
  }
  const completedRuns = async () =>
    (await Promise.all(BATCHES.map((b) => hub.store.engine.listRuns(ALL, { key: b, limit: 5 }))))
      .flat()
      .filter((r) => r.status === 'completed')
      .map((r) => r.key)
  /**
   * Acknowledged: the lots whose usage decision the hub answered 2xx to the QMS webhook for;
   * stored: the lots whose run completed. Effects: one per ERP document, by lot and stock bucket.
   */
  const observe = async () => {
    await hub.qms.webhooks.idle()
    const decided = hub.qms.webhooks.deliveries.filter(
      (d) => d.eventType.includes('usage') && typeof d.status === 'number' && d.status < 300,
    )
    return {
      acked: BATCHES.filter((b) => decided.some((d) => d.body.includes(`"batch":"${b}"`))),
      stored: await completedRuns(),
      effects: BATCHES.flatMap((b) =>
        Object.entries(hub.erp.state.counts.documentsByLotAndBucket[lotKey(b)] ?? {}).flatMap(([bucket, n]) =>
          Array.from({ length: n }, () => `${lotKey(b)}/${bucket}`),
        ),
      ),
    }
  }
  const expectPosted = (effects: readonly string[]) => {
    expect(new Set(effects).size).toBe(BATCHES.length * 4) // qi + unrestricted, blocked, scrap per lot
    expect(hub.erp.state.counts.usageDecisions).toBe(BATCHES.length)
    const stock = hub.erp.state.stock.filter((s) => BATCHES.map(lotKey).includes(s.lot))
    expect(stock).toHaveLength(BATCHES.length)
    for (const s of stock)
      expect(s.buckets).toMatchObject({ qi: 0, unrestricted: 60_000, blocked: 30_000, scrap: 10_000 })
  }

  it('posts exactly one ERP document per bucket when the answers are cut after the commit', async () => {
    const udPosts = proxy.tally(POST_UD)
    const stockPosts = proxy.tally(POST_STOCK)
    // Every first attempt of the usage decision and the first two stock postings per lot are
    // applied by the ERP and their answers lost.
    proxy.cutAfterForward(POST_UD, BATCHES.length)
    proxy.cutAfterForward(POST_STOCK, BATCHES.length * 2)
    await receiveAndDecide()
    await until(async () => (await completedRuns()).length === BATCHES.length, 60_000)
    const recoveredAt = Date.now()
    const o = await observe()
    const r = report(`F10 ERP commit-then-drop (${dialect})`, {
      ...o,
      faultEndedAt: proxy.lastFaultAt,
      recoveredAt,
      detail:
        `cut after forwarding ${proxy.counts.cut}; UD POSTs seen ${udPosts()}, stock POSTs seen ${stockPosts()}; ` +
        `ERP usage decisions ${hub.erp.state.counts.usageDecisions}; recover = last cut to every run completed`,
    })
    expect(r.acknowledged).toBe(BATCHES.length)
    expect(proxy.counts.cut).toBe(BATCHES.length * 3) // every planned cut fired
    expectPosted(o.effects)
  })

  it('F13 to the ERP: a silent link while the decisions arrive, drained after the heal, once per bucket', async () => {
    await receiveAndDecide() // the link goes silent as the decisions reach the hub
    proxy.partition('blackhole')
    const startedAt = Date.now()
    // The runs reach the ERP, hang until the egress timeout (ambiguous for a POST) and retry.
    await until(
      async () => (await hub.store.engine.listRuns(ALL, { limit: 10 })).some((r) => r.attempts > 1),
      30_000,
    )
    const stuck = await completedRuns()
    proxy.heal()
    const healedAt = Date.now()
    await until(async () => (await completedRuns()).length === BATCHES.length, 60_000)
    const recoveredAt = Date.now()
    const o = await observe()
    report(`F13 ERP partition (${dialect})`, {
      ...o,
      faultEndedAt: healedAt,
      recoveredAt,
      detail:
        `partition lasted ${healedAt - startedAt} ms; runs completed during it ${stuck.length}; ` +
        `dead letters ${(await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).length}; recover = heal to every run completed`,
    })
    expect(stuck).toEqual([])
    expect(await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).toEqual([])
    expectPosted(o.effects)
  })
}

faultDescribe(
  'F10 and F13 on the ERP link: answers cut after the commit, a silent link (sqlite)',
  undefined,
  scenario('sqlite'),
)
faultDescribe(
  'F10 and F13 on the ERP link: answers cut after the commit, a silent link (postgres)',
  await sharedPostgresMissing(),
  scenario(DIALECTS[1]),
)
