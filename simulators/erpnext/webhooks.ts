/**
 * Webhooks the way Frappe sends them (frappe/integrations/doctype/webhook/webhook.py): on a
 * document event, a POST of the configured JSON (here the whole document) with, when a secret is
 * set, `X-Frappe-Webhook-Signature: base64(HMAC-SHA256(secret, body))`; no timestamp and no
 * delivery id; up to three tries on an error. The duplicate fault sends a second identical copy,
 * as Frappe's retry after a lost answer would.
 */
import { createHmac } from 'node:crypto'
import type { Faults } from '../shared/faults.ts'

export interface FrappeWebhookTarget {
  readonly url: string
  readonly secret?: string
}

export const FRAPPE_SIGNATURE_HEADER = 'x-frappe-webhook-signature'

export function frappeSignature(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('base64')
}

export class FrappeWebhooks {
  readonly sent: Array<{ body: string; status: number | 'network-error'; duplicate: boolean }> = []
  private queue: Promise<void> = Promise.resolve()

  constructor(
    private readonly target: FrappeWebhookTarget | undefined,
    private readonly faults: Faults,
  ) {}

  /** Queues the document's webhook (in order, like Frappe's background job per event). */
  send(doc: Record<string, unknown>): void {
    const target = this.target
    if (!target) return
    const body = JSON.stringify(doc)
    const copies = this.faults.decideCallback() === 'duplicate' ? [false, true] : [false]
    for (const duplicate of copies) this.queue = this.queue.then(() => this.post(target, body, duplicate))
  }

  private async post(target: FrappeWebhookTarget, body: string, duplicate: boolean): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (target.secret) headers[FRAPPE_SIGNATURE_HEADER] = frappeSignature(target.secret, body)
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const res = await fetch(target.url, { method: 'POST', headers, body })
        await res.arrayBuffer()
        this.sent.push({ body, status: res.status, duplicate })
        if (res.ok) return
      } catch {
        this.sent.push({ body, status: 'network-error', duplicate })
      }
    }
  }

  /** Resolves once every queued webhook has been tried. */
  idle(): Promise<void> {
    return this.queue
  }
}
