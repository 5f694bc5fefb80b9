import { createHash } from 'node:crypto'
import mqtt from 'mqtt'
import type { RawDelivery } from '../../store/types.ts'

export interface MqttSourceConfig {
  readonly name: string
  readonly plant: string
  readonly url: string
  /** one client id per source: the broker keeps its session (and QoS 1 backlog) across reconnects */
  readonly clientId: string
  readonly topics: readonly string[]
  readonly username?: string
  readonly password?: string
  /**
   * MQTT 5 (default) receives a publisher's user properties, the trace context among them; 4
   * (3.1.1) for a broker older than MQTT 5
   */
  readonly protocolVersion?: 4 | 5
}

/**
 * MQTT 5 ends a session when the connection closes unless the CONNECT asks otherwise (§3.1.2.11.2
 * "Session Expiry Interval": absent means 0; 0xFFFFFFFF means the session does not expire), so
 * the 3.1.1 persistent session (clean: false) is asked for explicitly.
 */
const SESSION_NEVER_EXPIRES = 0xffffffff

/** The W3C traceparent a publisher set as an MQTT 5 user property (the CloudEvents MQTT binary mode's attribute). */
export function mqttTraceparent(
  userProperties: Record<string, string | string[]> | undefined,
): string | undefined {
  const v = userProperties?.traceparent
  return Array.isArray(v) ? v[0] : v
}

export interface MqttSource {
  close(): Promise<void>
}

/** A payload's own message id when it has one, else a hash of topic and bytes. */
export function mqttDeliveryId(topic: string, payload: Buffer): string {
  try {
    const id = (JSON.parse(payload.toString('utf8')) as { messageId?: unknown }).messageId
    if (typeof id === 'string' && /^[\w.:@/-]{1,200}$/.test(id)) return id
  } catch {
    // not JSON: fall through to the content hash
  }
  return createHash('sha256').update(topic).update('\n').update(payload).digest('hex')
}

/**
 * Subscribes with QoS 1 on a persistent session (clean: false) and acknowledges a message only
 * after its raw delivery is committed: mqtt.js sends the PUBACK when `handleMessage` calls back.
 * A failed store leaves the message unacknowledged, so the broker redelivers it after the
 * reconnect; a redelivery is deduplicated on the delivery id.
 */
export async function startMqttSource(
  cfg: MqttSourceConfig,
  store: (d: RawDelivery) => Promise<unknown>,
  onError: (e: unknown) => void = () => {},
): Promise<MqttSource> {
  const client = mqtt.connect(cfg.url, {
    clientId: cfg.clientId,
    clean: false,
    ...((cfg.protocolVersion ?? 5) === 5
      ? { protocolVersion: 5 as const, properties: { sessionExpiryInterval: SESSION_NEVER_EXPIRES } }
      : { protocolVersion: 4 as const }),
    reconnectPeriod: 1000,
    username: cfg.username,
    password: cfg.password,
  })
  client.handleMessage = (packet, done) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    const traceparent = mqttTraceparent(packet.properties?.userProperties)
    store({
      plant: cfg.plant,
      source: cfg.name,
      deliveryId: mqttDeliveryId(packet.topic, payload),
      headers: { topic: packet.topic, qos: String(packet.qos), ...(traceparent ? { traceparent } : {}) },
      body: payload,
    }).then(
      () => done(),
      (e) => {
        onError(e)
        // No PUBACK: drop the link so the broker redelivers from the session.
        client.end(true, () => client.reconnect())
      },
    )
  }
  client.on('error', onError)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', (ack) => {
      // A resumed session keeps its subscriptions; subscribing again is harmless and covers a new one.
      client.subscribe([...cfg.topics], { qos: 1 }, (err) => (err ? reject(err) : resolve()))
      void ack
    })
    client.once('error', reject)
  })
  return { close: () => new Promise<void>((r) => client.end(false, {}, () => r())) }
}
