/**
 * A CRM configured in qualink.yaml: a webhook source with the `crm-webhook` translator, its
 * signing secret from a file, referenced by its plant. The CRM simulator posts a signed
 * `complaint.created` over a real socket; Qualink stores the raw delivery and translates it to
 * `crm.complaint.opened.v1`. A delivery signed with another secret is refused and nothing stored.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CrmSim, startCrm } from '../../simulators/crm/server.ts'
import type { Qualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { ALL, until } from '../engine/harness.ts'
import { type Doc, problemsOf, TempDir } from './fixture.ts'
import { type IngressQualink, startIngressFromConfig } from './ingress-qualink.ts'

function doc(): Doc {
  return {
    version: 1,
    connectors: {
      sap: { kind: 'erp/sap-s4', config: { baseUrl: 'https://s4.plant-a.example:44300' } },
      qms: { kind: 'qms/rest', config: { baseUrl: 'https://qms.example' } },
    },
    egress: { allowlist: { sap: ['https://s4.plant-a.example:44300'], qms: ['https://qms.example'] } },
    ingress: {
      webhooks: {
        'crm-p100': {
          plant: 'P100',
          translator: 'crm-webhook',
          secrets: [{ secretFile: 'crm-secret' }],
          signatureHeader: 'x-crm-signature',
          deliveryIdHeader: 'x-crm-delivery-id',
        },
      },
    },
    plants: { P100: { erp: 'sap', qms: 'qms', crm: 'crm-p100' } },
  }
}

let tmp: TempDir
let hub: IngressQualink
let store: Store
let q: Qualink
let crm: CrmSim | undefined

beforeEach(async () => {
  tmp = new TempDir()
  tmp.write('crm-secret', 'crm-secret-from-file\n')
  hub = await startIngressFromConfig(tmp, doc())
  ;({ store, q } = hub)
})
afterEach(async () => {
  await crm?.close()
  crm = undefined
  await hub?.close()
  tmp.remove()
})

const rawDeliveries = () => hub.rawDeliveries()

describe('crm-webhook source from qualink.yaml', () => {
  it('stores and translates a signed CRM complaint into crm.complaint.opened.v1', async () => {
    crm = await startCrm({
      port: 0,
      webhook: { url: `${q.url}/v1/ingress/crm-p100`, secret: 'crm-secret-from-file' },
    })
    const c = crm.fileComplaint({
      customer: 'C-0042',
      material: 'FG-1',
      batch: 'F1',
      deliveryDocument: '80000001',
      quantityAffected: '12',
      unit: 'PC',
      severity: 'SAFETY',
      description: 'cracked housing',
    })
    await crm.webhooks.idle()
    expect(crm.state.webhooks.map((w) => w.status)).toEqual([202])
    await until(async () => (await rawDeliveries()).length === 1)
    await q.translation.runOnce()
    const events = await store.listEvents(ALL, { limit: 10 })
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      type: 'crm.complaint.opened.v1',
      subject: c.caseId,
      plant: 'P100',
      source: 'urn:qualink:crm-p100',
    })
    expect(events[0]!.envelope).toMatchObject({
      data: {
        complaint: {
          id: c.caseId,
          customer: 'C-0042',
          material: 'FG-1',
          lots: ['F1'],
          deliveries: ['80000001'],
          severity: 'critical',
          quantity: { units: 12_000, scale: 3, uom: 'PC' },
        },
      },
    })
  })

  it('refuses a complaint signed with another secret and stores nothing', async () => {
    crm = await startCrm({ port: 0, webhook: { url: `${q.url}/v1/ingress/crm-p100`, secret: 'guessed' } })
    crm.fileComplaint({ customer: 'C-1', material: 'FG-1', batch: 'F1' })
    await crm.webhooks.idle()
    expect(crm.state.webhooks[0]!.status).toBe(401)
    expect(await rawDeliveries()).toEqual([])
    expect(await store.listEvents(ALL, { limit: 10 })).toEqual([])
  })

  it('a plant may reference only a crm source as its crm', () => {
    const d = doc()
    ;(d.ingress as { webhooks: Record<string, Doc> }).webhooks['qms-p100'] = {
      plant: 'P100',
      translator: 'qms-rest-webhook',
    }
    ;(d.plants as Record<string, Doc>).P100!.crm = 'qms-p100'
    expect(problemsOf(tmp, d)).toContainEqual({
      path: '/plants/P100/crm',
      message: "ingress source 'qms-p100' is not a crm source",
    })
  })
})
