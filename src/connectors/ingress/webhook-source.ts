/** A configured webhook source: who may post raw deliveries to `/v1/ingress/<name>`. */
export interface WebhookSource {
  readonly name: string
  /** every delivery of this source belongs to this plant */
  readonly plant: string
  /** HMAC secrets (current first); without any, deliveries are not signature-checked */
  readonly secrets?: readonly string[]
  readonly signatureHeader?: string
  readonly deliveryIdHeader?: string
  readonly toleranceSeconds?: number
}

export const DEFAULT_SIGNATURE_HEADER = 'x-qualink-signature'
export const DEFAULT_DELIVERY_ID_HEADER = 'x-delivery-id'

/** Headers never stored with a raw delivery. */
export const UNSTORED_HEADERS = new Set(['authorization', 'cookie', 'x-api-key'])
