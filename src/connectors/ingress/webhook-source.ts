/** A configured webhook source: who may post raw deliveries to `/v1/ingress/<name>`. */
export interface WebhookSource {
  readonly name: string
  /** every delivery of this source belongs to this plant */
  readonly plant: string
  /** HMAC secrets (current first); without any, deliveries are not signature-checked */
  readonly secrets?: readonly string[]
  readonly signatureHeader?: string
  /**
   * `timestamped` (default): `t=…,v1=…` over timestamp and body; `frappe`: ERPNext/Frappe's base64
   * HMAC of the body (header default x-frappe-webhook-signature), whose deliveries carry no id:
   * without the delivery-id header a delivery is keyed by its body's SHA-256
   */
  readonly signatureScheme?: 'timestamped' | 'frappe'
  readonly deliveryIdHeader?: string
  readonly toleranceSeconds?: number
}

export const DEFAULT_SIGNATURE_HEADER = 'x-qualink-signature'
export const DEFAULT_DELIVERY_ID_HEADER = 'x-delivery-id'
export const FRAPPE_SIGNATURE_HEADER = 'x-frappe-webhook-signature'

/** Headers never stored with a raw delivery. */
export const UNSTORED_HEADERS = new Set(['authorization', 'cookie', 'x-api-key'])
