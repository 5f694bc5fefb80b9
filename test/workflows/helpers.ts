import { randomUUID } from 'node:crypto'
import { expect } from 'vitest'

export { freePort } from '../services.ts'

import { sapS4Connector } from '../../src/connectors/erp/sap-s4/connector.ts'
import { qmsRestConnector } from '../../src/connectors/qms/rest/connector.ts'
import type { Qualink } from '../../src/server/qualink.ts'

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

/** The simulators' webhook sources as Qualink configures them (their header names). */
export const webhookSource = {
  erp: (secret: string) => ({
    name: 'erp-s4',
    plant: 'P100',
    secrets: [secret],
    signatureHeader: 'x-erp-signature',
    deliveryIdHeader: 'x-erp-delivery-id',
  }),
  qms: (secret: string) => ({
    name: 'qms',
    plant: 'P100',
    secrets: [secret],
    signatureHeader: 'x-qms-signature',
    deliveryIdHeader: 'x-qms-delivery-id',
  }),
  crm: (secret: string) => ({
    name: 'crm',
    plant: 'P100',
    secrets: [secret],
    signatureHeader: 'x-crm-signature',
    deliveryIdHeader: 'x-crm-delivery-id',
  }),
}

/** ERP and QMS ports over the simulators, each allowed to reach only its own simulator. */
export function simulatorPorts(urls: { erp?: string; qms?: string }) {
  const runtime = (name: string, url: string) => ({ name, allowlist: [url], leaseMs: 30_000 })
  return {
    ...(urls.erp ? { erp: sapS4Connector.instantiate({ baseUrl: urls.erp }, runtime('erp', urls.erp)) } : {}),
    ...(urls.qms
      ? { qms: qmsRestConnector.instantiate({ baseUrl: urls.qms }, runtime('qms', urls.qms)) }
      : {}),
  }
}
