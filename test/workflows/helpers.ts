import { randomUUID } from 'node:crypto'
import { expect } from 'vitest'

export { freePort } from '../services.ts'

import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import type { ErpS4Sim, QmsSim } from '../../simulators/index.ts'
import type { UsageDecisionInput } from '../../simulators/qms/inspections.ts'
import type { Qualink } from '../../src/server/qualink.ts'
import { marks } from '../../src/store/sql-executor.ts'
import type { Store } from '../../src/store/types.ts'
import { ALL, until } from '../engine/harness.ts'
import { connectorPorts } from './plant-hub.ts'

/** Posts one canonical event through the ingest API, as a connector would, and expects 202. */
export async function postEvent(
  q: Qualink,
  type: string,
  subject: string,
  data: Record<string, unknown>,
  plant = 'P100',
) {
  const r = await q.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({
      specversion: '1.0',
      id: randomUUID(),
      source: 'urn:test',
      type,
      subject,
      plant,
      data,
    }),
  })
  expect(r.statusCode).toBe(202)
}

export { webhookSource } from './plant-hub.ts'

/** ERP and QMS ports over the simulators, each allowed to reach only its own simulator. */
export const simulatorPorts = (urls: { erp?: string; qms?: string }) => connectorPorts(urls)

/**
 * Works a nonconformance through the QMS simulator's lifecycle by its REST API, as the quality
 * engineer would: CONTAINED → UNDER_REVIEW → DISPOSITIONED (or the first of `statuses`), each 200.
 */
export async function workNonconformance(
  qmsUrl: string,
  ncId: string,
  statuses: readonly string[] = ['CONTAINED', 'UNDER_REVIEW', 'DISPOSITIONED'],
): Promise<void> {
  for (const status of statuses) {
    const r = await fetch(`${qmsUrl}/api/v1/nonconformances/${ncId}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status }),
    })
    expect(r.status, status).toBe(200)
  }
}

/** Posts a goods receipt of RAW-100 batch `batch` (`qty` KG) in the S/4 simulator; its document. */
export async function receiveGoods(erp: ErpS4Sim, batch: string, qty: string) {
  const res = await s4Client(erp.url).send(
    'POST',
    `${MATDOC}/A_MaterialDocumentHeader`,
    goodsReceipt(batch, qty),
  )
  expect(res.status).toBe(201)
  const d = (await res.json()) as { d: { MaterialDocument: string; MaterialDocumentYear: string } }
  return { id: d.d.MaterialDocument, year: d.d.MaterialDocumentYear }
}

/** Waits for the QMS simulator's inspection lot of `batch` (as its state lists it). */
export async function inspectionLotOf(qms: QmsSim, batch: string) {
  const find = () => qms.state.inspectionLots.find((l) => l.batch === batch)
  await until(() => find() !== undefined)
  return find() as { id: string } & Record<string, unknown>
}

/** The QMS accepts a lot of 100 split three ways (A2): 60 used as is, 30 reworked, 10 scrapped. */
export const ACCEPT_SPLIT_60_30_10: UsageDecisionInput = {
  decision: 'ACCEPT',
  code: 'A2',
  dispositions: [
    { disposition: 'USE_AS_IS', quantity: '60' },
    { disposition: 'REWORK', quantity: '30' },
    { disposition: 'SCRAP', quantity: '10' },
  ],
}

/** The QMS rejects a lot of 50 (R1) yet lists it as used as is: nothing may be released on it. */
export const REJECT_50_AS_IS: UsageDecisionInput = {
  decision: 'REJECT',
  code: 'R1',
  dispositions: [{ disposition: 'USE_AS_IS', quantity: '50' }],
}

/**
 * The audit trail of one subject in seq order, each row with its payload (as the evidence bundle
 * carries it): what a test reads to check the story an auditor would be told.
 */
export async function auditStory(
  store: Store,
  subject: string,
): Promise<Array<{ action: string; payload: Record<string, unknown> }>> {
  const rows = (await store.listAudit(ALL, { subject, limit: 1000 })).sort((a, b) => a.seq - b.seq)
  if (rows.length === 0) return []
  const payloads = new Map<number, Record<string, unknown>>()
  for (const p of await store.sql.all(
    `SELECT audit_seq, payload FROM audit_payloads WHERE audit_seq IN (${marks(rows.length)})`,
    rows.map((r) => r.seq),
  ))
    payloads.set(
      Number(p.audit_seq),
      (typeof p.payload === 'string' ? JSON.parse(p.payload) : p.payload) as Record<string, unknown>,
    )
  return rows.map((r) => ({ action: r.action, payload: payloads.get(r.seq) ?? {} }))
}

/** The step names of a subject's `workflow.step.completed` audit rows, in order. */
export const auditedSteps = (story: Awaited<ReturnType<typeof auditStory>>) =>
  story.filter((a) => a.action === 'workflow.step.completed').map((a) => a.payload.step)
