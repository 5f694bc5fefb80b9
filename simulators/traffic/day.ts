/**
 * What every part of the plant day shares: the options, the day's counters and lots (saved in the
 * state file, so a restarted demo resumes them), the current tick, and the one way to post a
 * canonical event to Qualink. The parts (receipts.ts, shop-floor.ts, outbound.ts, weather.ts)
 * read and change this state; plant-day.ts owns its rhythm and its saving.
 */
import { randomUUID } from 'node:crypto'
import type { CrmSim } from '../crm/server.ts'
import type { ErpS4Sim } from '../erp-s4/server.ts'
import type { QmsSim } from '../qms/server.ts'

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
  /** false: the ERP never has its scheduled outages (weather.ts); default true */
  readonly erpOutages?: boolean
  /** when given, a quality engineer decides this QMS's open inspection lots */
  readonly qms?: QmsSim
  /** when given, a customer now and then complains about a shipped lot */
  readonly crm?: CrmSim
  /** keep the day's counters and lots in this JSON file, so a restart resumes them (no id reused) */
  readonly stateFile?: string
}

/** An approval the QA lead gives for a kernel-demo order at tick `due`. */
export interface PendingApproval {
  readonly order: string
  readonly due: number
}

/** What `stateFile` holds: where the day stopped. */
export interface PlantDaySaved {
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
  /** absent in files written before approvals were saved */
  readonly pendingApprovals?: PendingApproval[]
}

export interface Day {
  readonly o: PlantDayOptions
  readonly plant: string
  /** part of every id the day makes: a resumed day keeps it, so it never reuses an id */
  readonly run: string
  readonly stats: Record<string, number>
  readonly rawLots: string[]
  readonly decided: Set<string>
  readonly shipped: Array<{ lot: string; customer: string }>
  readonly pendingDispositions: Array<{ lot: string; due: number }>
  readonly finished: string[]
  readonly lateUntil: Map<string, number>
  readonly pendingApprovals: PendingApproval[]
  tick: number
  /** posts one canonical event to Qualink's API; a refusal or failure is counted, never thrown */
  post(type: string, subject: string, data: Record<string, unknown>, source: string): Promise<number>
}

export const audit = (system: string) => ({
  timestamp: new Date().toISOString(),
  sourceSystem: system,
  approvalStatus: 'not_required',
})
export const kg = (n: number) => ({ units: Math.round(n * 1000), scale: 3, uom: 'KG' })
export const CUSTOMERS = ['CUST-88', 'CUST-12', 'CUST-40'] as const

export function newDay(o: PlantDayOptions, saved: PlantDaySaved | undefined): Day {
  const plant = o.plant ?? 'P100'
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
  return {
    o,
    plant,
    run: saved?.run ?? Date.now().toString(36).toUpperCase(),
    stats,
    rawLots: [...(saved?.rawLots ?? [])],
    decided: new Set<string>(saved?.decided),
    shipped: [...(saved?.shipped ?? [])],
    pendingDispositions: [...(saved?.pendingDispositions ?? [])],
    finished: [...(saved?.finished ?? [])],
    lateUntil: new Map<string, number>(saved?.lateUntil),
    pendingApprovals: [...(saved?.pendingApprovals ?? [])],
    tick: saved?.tick ?? 0,
    async post(type, subject, data, source) {
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
      return r.status
    },
  }
}

/** The day as the state file keeps it. */
export function savedDay(d: Day, capas: ReadonlyArray<{ id: string; step: number }>): PlantDaySaved {
  return {
    run: d.run,
    tick: d.tick,
    stats: d.stats,
    rawLots: d.rawLots,
    decided: [...d.decided],
    shipped: d.shipped,
    pendingDispositions: d.pendingDispositions,
    finished: d.finished,
    lateUntil: [...d.lateUntil],
    capas,
    pendingApprovals: d.pendingApprovals,
  }
}
