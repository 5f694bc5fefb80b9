import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Faults } from './faults.ts'
import { signPayload, verifySignature } from './signing.ts'
import { type Receiver, startReceiver } from './test-support.ts'
import { WebhookSender } from './webhooks.ts'

let rx: Receiver
let faults: Faults
let sender: WebhookSender

beforeEach(async () => {
  rx = await startReceiver()
  faults = new Faults()
  sender = new WebhookSender({
    target: { url: rx.url, secret: 's3cret' },
    faults,
    signatureHeader: 'x-sig',
    deliveryIdHeader: 'x-delivery',
    eventTypeHeader: 'x-event',
    clock: () => 1_700_000_000,
  })
})
afterEach(() => rx.close())

const seqs = () => rx.received.map((r) => (JSON.parse(r.body) as { seq: number }).seq)

describe('webhook sender', () => {
  it('signs "<t>.<rawBody>" with HMAC-SHA256 and sends a delivery id', async () => {
    sender.send('thing.created', { seq: 1 })
    const [d] = await rx.waitFor(1)
    expect(d!.headers['x-sig']).toBe(signPayload('s3cret', 1_700_000_000, d!.body))
    expect(verifySignature('s3cret', String(d!.headers['x-sig']), d!.body)).toBe(true)
    expect(verifySignature('other', String(d!.headers['x-sig']), d!.body)).toBe(false)
    expect(d!.headers['x-delivery']).toMatch(/^[0-9a-f-]{36}$/)
    expect(d!.headers['x-event']).toBe('thing.created')
  })

  it('duplicates a delivery with the same delivery id', async () => {
    faults.set({ duplicateRate: 1, times: 1 })
    sender.send('e', { seq: 1 })
    sender.send('e', { seq: 2 })
    await rx.waitFor(3)
    await sender.idle()
    expect(seqs()).toEqual([1, 1, 2])
    expect(rx.received[0]!.headers['x-delivery']).toBe(rx.received[1]!.headers['x-delivery'])
  })

  it('delivers a held-back event after the next one (out of order)', async () => {
    faults.set({ outOfOrderRate: 1, times: 1 })
    sender.send('e', { seq: 1 })
    sender.send('e', { seq: 2 })
    sender.send('e', { seq: 3 })
    await sender.idle()
    expect(seqs()).toEqual([2, 1, 3])
  })

  it('retries a failed delivery', async () => {
    const failing = await startReceiver(503)
    const s = new WebhookSender({
      target: { url: failing.url },
      faults,
      signatureHeader: 'x-sig',
      deliveryIdHeader: 'x-delivery',
      eventTypeHeader: 'x-event',
      maxAttempts: 3,
      retryDelayMs: 1,
    })
    s.send('e', { seq: 1 })
    await s.idle()
    expect(failing.received).toHaveLength(3)
    expect(s.deliveries[0]).toMatchObject({ attempts: 3, status: 503 })
    await failing.close()
  })
})
