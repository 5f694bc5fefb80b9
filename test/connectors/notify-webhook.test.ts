import { afterEach, describe, expect, it } from 'vitest'
import { notifyWebhookConnector } from '../../src/connectors/notify/webhook/connector.ts'
import { ManualClock } from '../../src/connectors/sdk/index.ts'
import { PermanentError, RetryableError } from '../../src/engine/errors.ts'
import type { Notification } from '../../src/workflows/ports/notify.ts'
import { type HttpStub, startStub } from './http-stub.ts'

let stub: HttpStub | undefined
afterEach(async () => {
  await stub?.close()
  stub = undefined
})

const msg: Notification = {
  idempotencyKey: 'nc-7/notify',
  title: 'Line 3 on hold',
  text: 'Torque <11 Nm & rising',
  severity: 'critical',
  facts: [{ name: 'Order', value: '1000123' }],
  link: { url: 'http://127.0.0.1:8080/runs/1', label: 'Open run' },
}

async function port(format: 'slack' | 'teams', status = 200) {
  stub = await startStub(() => ({ status, body: status === 200 ? 'ok' : '{"error":"invalid_payload"}' }))
  process.env.QLK_TEST_HOOK = `${stub.url}/services/T000/B000/XXXX`
  return notifyWebhookConnector.instantiate(
    { urlEnv: 'QLK_TEST_HOOK', format },
    { name: 'notify-test', allowlist: [stub.url], clock: new ManualClock() },
  )
}

describe('notify/webhook', () => {
  it('posts Slack Block Kit with escaped mrkdwn and the idempotency key header', async () => {
    const n = await port('slack')
    expect(await n.send(msg)).toEqual({ delivered: true })
    const req = stub!.requests[0]!
    expect(req.url).toBe('/services/T000/B000/XXXX')
    expect(req.headers['x-qualink-idempotency-key']).toBe('nc-7/notify')
    const body = JSON.parse(req.body) as {
      text: string
      blocks: Array<{ type: string; text?: { text: string } }>
    }
    expect(body.text).toContain('Line 3 on hold')
    expect(body.blocks[1]?.text?.text).toBe('Torque &lt;11 Nm &amp; rising')
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'actions'])
  })

  it('posts a Teams Adaptive Card message', async () => {
    const n = await port('teams')
    await n.send(msg)
    const body = JSON.parse(stub!.requests[0]!.body) as {
      attachments: Array<{ contentType: string; content: { body: unknown[] } }>
    }
    expect(body.attachments[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive')
    expect(body.attachments[0]?.content.body).toHaveLength(3)
  })

  it('400 is permanent, 500 retryable', async () => {
    const bad = await port('slack', 400)
    await expect(bad.send(msg)).rejects.toBeInstanceOf(PermanentError)
    await stub?.close()
    const down = await port('slack', 500)
    await expect(down.send(msg)).rejects.toBeInstanceOf(RetryableError)
  })

  it('refuses a webhook URL whose origin is not allowlisted', async () => {
    process.env.QLK_TEST_HOOK2 = 'https://hooks.slack.com/services/T/B/X'
    expect(() =>
      notifyWebhookConnector.instantiate(
        { urlEnv: 'QLK_TEST_HOOK2' },
        { name: 'n', allowlist: ['http://127.0.0.1:1'] },
      ),
    ).toThrow(/allowlist/)
  })
})
