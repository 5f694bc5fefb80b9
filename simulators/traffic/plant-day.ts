import { randomUUID } from 'node:crypto'
import type { CrmSim } from '../crm/server.ts'
import type { ErpS4Sim } from '../erp-s4/server.ts'
import { MATDOC, s4Client } from '../erp-s4/test-client.ts'
import { startLims, startMes } from '../index.ts'
import type { LimsSim } from '../lims/server.ts'
import type { MesSim } from '../mes/server.ts'
import type { QmsSim } from '../qms/server.ts'
import { readStateFile, writeStateFile } from '../shared/state-file.ts'
import { supplierCapas } from './supplier-capas.ts'

/** Production orders the demo ERP is seeded with; the MES completes operations on them. */
export const DEMO_ORDERS = Array.from({ length: 40 }, (_, i) => `PO-${1001 + i}`)

export interface PlantDayOptions {
  /** Qualink's API */
  readonly url: string
  readonly plant?: string
  /** MQTT broker for the MES simulator; without one, MES completions are posted as canonical events */
  readonly brokerUrl?: string
  readonly mqttTopicPrefix?: string
  /** the folder Qualink watches for LIMS result files */
  readonly limsDir: string
  readonly tickMs?: number
  readonly log?: (msg: string) => void
  /** when given, receipts are posted in this ERP (its webhook tells Qualink) instead of as events */
  readonly erp?: ErpS4Sim
  /** when given, a quality engineer decides this QMS's open inspection lots */
  readonly qms?: QmsSim
  /** when given, a customer now and then complains about a shipped lot */
  readonly crm?: CrmSim
  /** keep the day's counters and lots in this JSON file, so a restart resumes them (no id reused) */
  readonly stateFile?: string
}

/** What `stateFile` holds: where the day stopped. */
interface PlantDaySaved {
  readonly run: string
  readonly tick: number
  readonly stats: Record<string, number>
  readonly rawLots: string[]
  readonly decided: string[]
  readonly shipped: Array<{ lot: string; customer: string }>
  readonly pendingDispositions: Array<{ lot: string; due: number }>
  readonly finished: string[]
  readonly lateUntil: Array<[string, number]>
  readonly capas: ReadonlyArray<{ id: string; step: number }>
}

export interface PlantDay {
  readonly stats: Record<string, number>
  stop(): Promise<void>
}

const audit = (system: string) => ({
  timestamp: new Date().toISOString(),
  sourceSystem: system,
  approvalStatus: 'not_required',
})
const kg = (n: number) => ({ units: Math.round(n * 1000), scale: 3, uom: 'KG' })

/**
 * A plant day for the demo: supplier receipts land in quality-inspection stock and are released,
 * the MES completes operations (raw lot → finished lot, torque measurements, now and then out of
 * tolerance) over MQTT, the LIMS drops result files (some failing), finished lots ship to
 * customers, and orders run through the kernel demo workflow, some rejected by the ledger so the
 * Exceptions page has real dead letters to replay. Deterministic in its rhythm, not in its ids.
 */
/** a late decision comes this many ticks after the lot was opened (2.5 min at 1.5 s a tick) */
const LATE_DECISION_TICKS = 100
/** an ERP outage of 20 ticks (30 s) every 200 ticks (5 min) */
const OUTAGE_EVERY_TICKS = 200
const OUTAGE_TICKS = 20

export async function startPlantDay(o: PlantDayOptions): Promise<PlantDay> {
  const plant = o.plant ?? 'P100'
  const saved = o.stateFile ? readStateFile<PlantDaySaved>(o.stateFile) : undefined
  // ids carry the run and a counter: a resumed day keeps both, so it never reuses an id
  const run = saved?.run ?? Date.now().toString(36).toUpperCase()
  const stats: Record<string, number> = {
    receipts: 0,
    decisions: 0,
    complaints: 0,
    dispositions: 0,
    operations: 0,
    labFiles: 0,
    packed: 0,
    lateDecisions: 0,
    erpOutages: 0,
    shipments: 0,
    orders: 0,
    capasOpened: 0,
    capasClosed: 0,
    refused: 0,
    failed: 0,
    ...saved?.stats,
  }
  const lims: LimsSim = await startLims({ dir: o.limsDir })
  let mes: MesSim | undefined
  if (o.brokerUrl) {
    try {
      mes = await startMes({
        brokerUrl: o.brokerUrl,
        topicPrefix: o.mqttTopicPrefix ?? 'plant',
        clientId: `qualink-demo-mes-${run}`,
      })
    } catch (e) {
      o.log?.(
        `MES simulator could not reach ${o.brokerUrl} (${(e as Error).message}); MES completions go to the API instead`,
      )
    }
  }
  const rawLots: string[] = [...(saved?.rawLots ?? [])]
  const decided = new Set<string>(saved?.decided)
  const shipped: Array<{ lot: string; customer: string }> = [...(saved?.shipped ?? [])]
  const pendingDispositions: Array<{ lot: string; due: number }> = [...(saved?.pendingDispositions ?? [])]
  const finished: string[] = [...(saved?.finished ?? [])]
  const lateUntil = new Map<string, number>(saved?.lateUntil)
  let tick = saved?.tick ?? 0
  const capas = o.qms ? supplierCapas(o.qms, 'V-77', saved?.capas) : undefined
  const saver = o.stateFile
    ? writeStateFile(
        o.stateFile,
        (): PlantDaySaved => ({
          run,
          tick,
          stats,
          rawLots,
          decided: [...decided],
          shipped,
          pendingDispositions,
          finished,
          lateUntil: [...lateUntil],
          capas: capas?.worked ?? [],
        }),
      )
    : undefined

  async function post(
    type: string,
    subject: string,
    data: Record<string, unknown>,
    source: string,
  ): Promise<void> {
    const r = await fetch(`${o.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', 'x-qualink-actor': 'demo-traffic' },
      body: JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source,
        type,
        subject,
        plant,
        time: new Date().toISOString(),
        data,
      }),
    })
    if (r.status >= 500) stats.failed!++
    else if (r.status >= 400) stats.refused!++
  }

  async function receipt(): Promise<void> {
    const lot = `RAW-${run}-${String(rawLots.length + 1).padStart(3, '0')}`
    rawLots.push(lot)
    const supplier = tick % 20 === 0 ? 'V-77' : 'V-42'
    stats.receipts!++
    if (o.erp) {
      // A 101 goods receipt into quality-inspection stock; the ERP opens its inspection lot and
      // tells Qualink by webhook, which starts the supplier-receipt-inspection workflow.
      const res = await s4Client(o.erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, {
        GoodsMovementCode: '01',
        to_MaterialDocumentItem: [
          {
            Material: 'RAW-100',
            Plant: plant,
            StorageLocation: '0001',
            Batch: lot,
            GoodsMovementType: '101',
            PurchaseOrder: '4500000017',
            PurchaseOrderItem: '10',
            Supplier: supplier,
            QuantityInEntryUnit: '500',
            EntryUnit: 'KG',
          },
        ],
      })
      if (res.status !== 201) stats.failed!++
      return
    }
    const doc = { id: String(5_000_000_000 + tick), year: new Date().getFullYear(), item: '0001' }
    await post(
      'erp.goods_receipt.posted.v1',
      lot,
      {
        materialDocument: doc,
        lot: { id: lot, material: 'RAW-100', plant },
        supplier,
        quantity: kg(500),
        bucket: 'qualityInspection',
        audit: audit('sap-p100'),
      },
      'urn:erp:sap-p100',
    )
  }

  /**
   * A quality engineer decides open inspection lots: mostly accept, some split, some reject; now
   * and then one waits for a late lab result, past the demo's 2-minute decision deadline, so the
   * run asks the QMS, escalates, and still finishes when the decision comes.
   */
  function decide(): void {
    if (!o.qms) return
    for (const l of o.qms.state.inspectionLots) {
      const id = String(l.id)
      if (l.status !== 'OPEN' || decided.has(id)) continue
      if (!lateUntil.has(id)) {
        // every ninth lot the engineer sees waits for a late lab result
        const late = (lateUntil.size + 1) % 9 === 0
        lateUntil.set(id, late ? tick + LATE_DECISION_TICKS : 0)
        if (late) stats.lateDecisions!++
      }
      if (tick < lateUntil.get(id)!) continue
      decided.add(id)
      const n = decided.size
      const qty = String(l.quantity)
      if (n % 7 === 0)
        o.qms.makeUsageDecision(String(l.id), {
          decision: 'REJECT',
          code: 'R1',
          dispositions: [{ disposition: 'RETURN_TO_VENDOR', quantity: qty }],
        })
      else if (n % 5 === 0)
        o.qms.makeUsageDecision(String(l.id), {
          decision: 'ACCEPT',
          code: 'A2',
          dispositions: [
            { disposition: 'USE_AS_IS', quantity: String(Number(qty) - 20) },
            { disposition: 'SCRAP', quantity: '20' },
          ],
        })
      else o.qms.makeUsageDecision(String(l.id), { decision: 'ACCEPT', code: 'A1' })
      stats.decisions!++
      return // one decision per tick, like a person working a queue
    }
  }

  async function release(lot: string): Promise<void> {
    await post(
      'erp.stock.posted.v1',
      lot,
      {
        materialDocument: { id: String(4_900_000_000 + tick), year: new Date().getFullYear(), item: '0001' },
        movementType: '321',
        lot: { id: lot, material: 'RAW-100', plant },
        from: 'qualityInspection',
        to: 'unrestricted',
        quantity: kg(500),
        audit: audit('sap-p100'),
      },
      'urn:erp:sap-p100',
    )
  }

  async function operation(): Promise<void> {
    const raw = rawLots.at(-1)
    if (!raw) return
    const fg = `FG-${run}-${String(finished.length + 1).padStart(4, '0')}`
    finished.push(fg)
    // Orders come from the ERP's seeded pool (DEMO_ORDERS), four completions each.
    const order = DEMO_ORDERS[Math.floor(finished.length / 4) % DEMO_ORDERS.length]!
    const torque = tick % 15 === 0 ? 13.6 : 12 + (tick % 7) / 10 // now and then above the 13 Nm limit
    const consumed = [{ lot: raw, material: 'RAW-100', quantity: '25', unit: 'KG' }]
    const produced = [{ lot: fg, material: 'FG-900', quantity: '40', unit: 'PC' }]
    const measurements = [
      { characteristic: 'torque', value: torque, unit: 'Nm', lowerLimit: 11, upperLimit: 13 },
    ]
    if (mes) {
      await mes.completeOperation({
        orderId: order,
        line: 'L1',
        operation: '0010',
        consumed,
        produced,
        measurements,
      })
    } else {
      await post(
        'mes.operation.completed.v1',
        order,
        {
          operation: { productionOrder: order, number: '0010', workCenter: 'L1' },
          plant,
          measurements: [{ characteristic: 'TORQUE', value: String(torque), unit: 'NM' }],
          consumed: [{ lot: raw, material: 'RAW-100', quantity: kg(25) }],
          produced: [{ lot: fg, material: 'FG-900', quantity: { units: 40, scale: 0, uom: 'PC' } }],
          audit: audit('mes-p100'),
        },
        'urn:mes:p100',
      )
    }
    stats.operations!++
    if (torque > 13) pendingDispositions.push({ lot: fg, due: tick + 8 })
  }

  /** The quality engineer works out-of-tolerance nonconformances: contain, review, disposition. */
  async function disposition(): Promise<void> {
    const next = pendingDispositions[0]
    if (!next || next.due > tick || !o.qms) return
    const list = (await (await fetch(`${o.qms.url}/api/v1/nonconformances`)).json()) as
      | Array<{ id: string; batch?: string; status: string }>
      | { items?: Array<{ id: string; batch?: string; status: string }> }
    const nc = (Array.isArray(list) ? list : (list.items ?? [])).find((x) => x.batch === next.lot)
    if (!nc) return // not opened yet: try again next tick
    pendingDispositions.shift()
    // The disposition with its quantity split reaches Qualink as the QMS's own signed webhook.
    for (const status of ['CONTAINED', 'UNDER_REVIEW', 'DISPOSITIONED']) {
      await fetch(`${o.qms.url}/api/v1/nonconformances/${nc.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          status === 'DISPOSITIONED'
            ? {
                status,
                dispositionedBy: 'qe.on.duty',
                dispositions: [{ disposition: 'REWORK', quantity: '40', unit: 'PC' }],
              }
            : { status },
        ),
      })
    }
    stats.dispositions!++
  }

  async function labResults(): Promise<void> {
    const lot = finished.at(-1)
    if (!lot) return
    const value = tick % 24 === 0 ? '61.2' : (57 + (tick % 5) * 0.4).toFixed(1) // spec 55-60 HRC
    await lims.writeResults([
      {
        sampleId: `LS-${lot}`,
        lot,
        material: 'FG-900',
        analysis: 'hardness',
        value,
        unit: 'HRC',
        specMin: '55',
        specMax: '60',
        analyst: 'lab.tech',
        timestamp: new Date().toISOString(),
      },
    ])
    stats.labFiles!++
  }

  /**
   * Finished goods release: the ERP holds an outbound delivery for the lot under a quality block,
   * the packing line verifies the lot, and QA signs the final approval in the QMS. Together with
   * the LIMS file (some failing) that lets the release workflow lift the block, or keep it.
   */
  async function pack(): Promise<void> {
    const lot = finished.at(-1)
    if (!lot || !o.erp) return
    const delivery = `81${run.slice(-5)}${String(stats.packed).padStart(3, '0')}`
    o.erp.createDelivery(
      {
        DeliveryDocument: delivery,
        ShipToParty: ['CUST-88', 'CUST-12', 'CUST-40'][stats.packed! % 3]!,
        items: [{ Material: 'FG-900', Plant: plant, Batch: lot, quantity: '40' }],
      },
      '01',
    )
    await post(
      'mes.packaging.verified.v1',
      lot,
      {
        lot,
        plant,
        delivery,
        checks: [
          { name: 'label', passed: true },
          { name: 'count', passed: true },
        ],
        verified: true,
        audit: audit('mes-p100'),
      },
      'urn:mes:p100',
    )
    await post(
      'qms.usage_decision.made.v1',
      lot,
      {
        inspectionLot: `04${run.slice(-6)}${String(stats.packed).padStart(4, '0')}`,
        plant,
        lot,
        code: 'A1',
        valuation: 'accepted',
        stockPostings: [{ code: 'RELEASE', quantity: { units: 40, scale: 0, uom: 'PC' } }],
        audit: audit('qms'),
      },
      'urn:qms:cloud',
    )
    stats.packed!++
  }

  async function ship(): Promise<void> {
    const lot = finished[Math.max(0, finished.length - 5)]
    if (!lot) return
    await post(
      'erp.delivery.shipped.v1',
      lot,
      {
        delivery: `80${run.slice(-4)}${String(stats.shipments).padStart(3, '0')}`,
        plant,
        customer: ['CUST-88', 'CUST-12', 'CUST-40'][stats.shipments! % 3],
        lines: [{ item: '000010', material: 'FG-900', lot, quantity: { units: 30, scale: 0, uom: 'PC' } }],
        audit: audit('sap-p100'),
      },
      'urn:erp:sap-p100',
    )
    stats.shipments!++
    shipped.push({ lot, customer: ['CUST-88', 'CUST-12', 'CUST-40'][(stats.shipments! - 1) % 3]! })
  }

  /** A customer complains about a lot it received: the complaint traceability workflow starts. */
  function complain(): void {
    const target = shipped.at(-1)
    if (!o.crm || !target) return
    o.crm.fileComplaint({
      customer: target.customer,
      material: 'FG-900',
      batch: target.lot,
      severity: 'HIGH',
      description: 'housing cracked on assembly',
    })
    stats.complaints!++
  }

  async function order(): Promise<void> {
    const id = `SO-${run}-${stats.orders! + 1}`
    stats.orders!++
    await post(
      'qualink.demo.order_received.v1',
      id,
      { order: id, lines: 2, ...(stats.orders! % 4 === 0 ? { failOnLine: 2 } : {}) },
      'urn:demo:orders',
    )
    setTimeout(
      () => {
        void post(
          'qualink.demo.approval_given.v1',
          id,
          { order: id, approver: 'qa.lead' },
          'urn:demo:orders',
        ).catch(() => {})
      },
      2 * (o.tickMs ?? 1500),
    ).unref()
  }

  /** Now and then the ERP is down for a while (every call 503): runs retry, the breaker opens. */
  function erpWeather(): void {
    if (!o.erp) return
    if (tick % OUTAGE_EVERY_TICKS === OUTAGE_EVERY_TICKS - OUTAGE_TICKS) {
      o.erp.faults.set({ errorRate: 1, errorStatus: 503 })
      stats.erpOutages!++
      o.log?.('ERP outage: every ERP call answers 503 for a while')
    } else if (tick % OUTAGE_EVERY_TICKS === 0 && stats.erpOutages! > 0) {
      o.erp.faults.set({})
      o.log?.('ERP back')
    }
  }

  let stopped = false
  let chain: Promise<void> = Promise.resolve()
  const step = async () => {
    tick++
    erpWeather()
    if (tick % 10 === 1) await receipt()
    if (tick % 10 === 3 && rawLots.length && !o.erp) await release(rawLots.at(-1)!)
    if (tick % 4 === 2) decide()
    await disposition()
    if (tick % 3 === 0) await operation()
    if (tick % 6 === 0) {
      await labResults()
      await pack()
    }
    if (tick % 12 === 0) await ship()
    if (tick % 5 === 0) await order()
    if (tick % 40 === 39) complain()
    if (capas && tick % 60 === 7) {
      await capas.open(`Hardness out of spec on ${rawLots.at(-1) ?? 'receipt'}`)
      stats.capasOpened!++
    }
    if (capas && tick % 3 === 1) stats.capasClosed! += await capas.work()
  }
  const timer = setInterval(() => {
    if (stopped) return
    chain = chain.then(step).catch((e) => o.log?.(`traffic step failed: ${(e as Error).message}`))
  }, o.tickMs ?? 1500)

  return {
    stats,
    async stop() {
      stopped = true
      clearInterval(timer)
      await chain
      saver?.close()
      await mes?.close()
      await lims.close()
    },
  }
}
