/**
 * Outbound webhook delivery shared by the simulators: one ordered queue per sender, HMAC or bearer
 * authentication, bounded retries, and the duplicate / out-of-order faults.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { Faults } from './faults.ts'
import { signPayload } from './signing.ts'

export interface WebhookTarget {
  readonly url: string
  /** HMAC-SHA256 secret; the signature goes into `signatureHeader`. */
  readonly secret?: string
  /** Sent as `Authorization: Bearer <token>` when set. */
  readonly bearerToken?: string
}

export interface WebhookSenderOptions {
  readonly target?: WebhookTarget
  readonly faults: Faults
  /** Header names, e.g. X-QMS-Signature / X-QMS-Delivery / X-QMS-Event. */
  readonly signatureHeader: string
  readonly deliveryIdHeader: string
  readonly eventTypeHeader: string
  readonly maxAttempts?: number
  readonly retryDelayMs?: number
  /** Unix seconds for the signature; injectable so tests can produce stale signatures. */
  readonly clock?: () => number
}

export interface DeliveryRecord {
  readonly deliveryId: string
  readonly eventType: string
  readonly body: string
  readonly contentType: string
  attempts: number
  status: number | 'network-error' | 'pending'
  /** True for the extra copy sent by the duplicate fault. */
  readonly duplicate: boolean
}

export class WebhookSender {
  private target: WebhookTarget | undefined
  private chain: Promise<void> = Promise.resolve()
  private heldBack: Array<() => Promise<void>> = []
  private stopped = false
  readonly deliveries: DeliveryRecord[] = []

  constructor(private readonly opts: WebhookSenderOptions) {
    this.target = opts.target
  }

  setTarget(target: WebhookTarget | undefined): void {
    this.target = target
  }

  /**
   * Queues an event. The delivery id is stable across retries and duplicates, as a real sender's
   * would be, so a receiver can deduplicate on it.
   */
  send(eventType: string, payload: unknown, contentType = 'application/json'): string {
    const deliveryId = randomUUID()
    // Non-JSON payloads (IDoc XML) are sent as the string they are.
    const body =
      typeof payload === 'string' && contentType !== 'application/json' ? payload : JSON.stringify(payload)
    const fault = this.opts.faults.decideCallback()
    const job = async (): Promise<void> => {
      await this.deliver({
        deliveryId,
        eventType,
        body,
        contentType,
        attempts: 0,
        status: 'pending',
        duplicate: false,
      })
      if (fault === 'duplicate') {
        await this.deliver({
          deliveryId,
          eventType,
          body,
          contentType,
          attempts: 0,
          status: 'pending',
          duplicate: true,
        })
      }
    }
    if (fault === 'out-of-order') {
      this.heldBack.push(job)
    } else {
      const held = this.heldBack
      this.heldBack = []
      this.chain = this.chain.then(job).then(async () => {
        for (const h of held) await h()
      })
    }
    return deliveryId
  }

  /** Resolves when everything queued so far was attempted; held-back deliveries are released first. */
  async idle(): Promise<void> {
    if (this.heldBack.length > 0) {
      const held = this.heldBack
      this.heldBack = []
      this.chain = this.chain.then(async () => {
        for (const h of held) await h()
      })
    }
    let seen: Promise<void>
    do {
      seen = this.chain
      await seen
    } while (seen !== this.chain)
  }

  /** Stops retries and further deliveries (the simulator is closing); resolves when in-flight work ends. */
  async stop(): Promise<void> {
    this.stopped = true
    this.heldBack = []
    await this.chain
  }

  private async deliver(rec: DeliveryRecord): Promise<void> {
    const target = this.target
    if (!target || this.stopped) return
    this.deliveries.push(rec)
    const max = this.opts.maxAttempts ?? 3
    const latency = this.opts.faults.callbackLatencyMs()
    if (latency > 0) await delay(latency)
    for (let attempt = 1; attempt <= max; attempt++) {
      rec.attempts = attempt
      const headers: Record<string, string> = {
        'content-type': rec.contentType,
        [this.opts.deliveryIdHeader]: rec.deliveryId,
        [this.opts.eventTypeHeader]: rec.eventType,
      }
      if (target.secret) {
        const t = (this.opts.clock ?? (() => Math.floor(Date.now() / 1000)))()
        headers[this.opts.signatureHeader] = signPayload(target.secret, t, rec.body)
      }
      if (target.bearerToken) headers.authorization = `Bearer ${target.bearerToken}`
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers,
          body: rec.body,
          signal: AbortSignal.timeout(10_000),
        })
        await res.arrayBuffer()
        rec.status = res.status
        if (res.ok || (res.status >= 400 && res.status < 500 && res.status !== 429)) return
      } catch {
        rec.status = 'network-error'
      }
      if (attempt < max && !this.stopped) await delay((this.opts.retryDelayMs ?? 100) * 2 ** (attempt - 1))
      if (this.stopped) return
    }
  }
}
