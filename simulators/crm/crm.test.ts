import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verifySignature } from '../shared/signing.ts'
import { type Receiver, startReceiver } from '../shared/test-support.ts'
import { type CrmSim, startCrm } from './server.ts'

let sim: CrmSim
let hook: Receiver

beforeEach(async () => {
  hook = await startReceiver()
  sim = await startCrm({ port: 0, webhook: { url: hook.url, secret: 'crm-s', bearerToken: 'tok' } })
})
afterEach(async () => {
  await sim.close()
  await hook.close()
})

describe('crm simulator', () => {
  it('posts a signed, bearer-authenticated complaint webhook', async () => {
    const res = await fetch(`${sim.url}/api/v1/complaints`, {
      method: 'POST',
      body: JSON.stringify({
        customer: 'C-9',
        material: 'FG-1',
        batch: 'FG-B1',
        deliveryDocument: '80000001',
        severity: 'SAFETY',
      }),
    })
    expect(res.status).toBe(201)
    const [d] = await hook.waitFor(1)
    expect(d!.headers.authorization).toBe('Bearer tok')
    expect(verifySignature('crm-s', String(d!.headers['x-crm-signature']), d!.body)).toBe(true)
    expect(JSON.parse(d!.body)).toMatchObject({
      type: 'complaint.created',
      data: { batch: 'FG-B1', severity: 'SAFETY' },
    })
  })

  it('reorders complaint webhooks on demand', async () => {
    sim.faults.set({ outOfOrderRate: 1, times: 1 })
    sim.fileComplaint({ customer: 'C1', material: 'M', batch: 'B1' })
    sim.fileComplaint({ customer: 'C2', material: 'M', batch: 'B2' })
    await hook.waitFor(2)
    await sim.webhooks.idle()
    expect(hook.received.map((r) => (JSON.parse(r.body) as { data: { batch: string } }).data.batch)).toEqual([
      'B2',
      'B1',
    ])
  })
})
