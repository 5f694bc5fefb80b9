/**
 * NotifyPort: a message to people (supervisor, QA on duty) through a chat webhook. Delivery is
 * at-least-once: chat webhooks have no reference to read back, so a retry after a lost answer may
 * show the message twice; the key travels along so a receiver that can deduplicate does.
 */
export interface Notification {
  readonly idempotencyKey: string
  readonly title: string
  readonly text: string
  readonly severity: 'info' | 'warning' | 'critical'
  /** key/value lines (lot, material, order, quantity) */
  readonly facts?: ReadonlyArray<{ readonly name: string; readonly value: string }>
  readonly link?: { readonly url: string; readonly label: string }
  readonly traceparent?: string
}

export interface NotifyPort {
  send(message: Notification): Promise<{ readonly delivered: true }>
}
