/**
 * Inspection specifications to the MES over MQTT: one message per scope (retained, QoS 1 unless
 * configured otherwise: connector.ts) on
 * `<topicPrefix>/<plant>/specifications/<material>/<route|*>/<supplier|*>`, so a MES line that
 * (re)connects reads the current revision at once. The payload names its version; the workflow
 * publishes only a version the QMS took as current (never a late older one), and publishing the
 * same version again rewrites the same retained message. One short connection per publish:
 * plans change a few times a day, and no session outlives the call.
 */
import mqtt from 'mqtt'
import { PermanentError, RetryableError } from '../../../engine/errors.ts'
import type { MesPort } from '../../../workflows/ports/mes.ts'

export interface SpecPublisherOptions {
  /** mqtt://host:1883 or mqtts://… */
  readonly url: string
  readonly topicPrefix: string
  readonly clientId: string
  readonly username?: string
  readonly password?: string
  /** connect + publish budget (default 5 s); shorter than the engine lease */
  readonly timeoutMs?: number
  /** default 1: the broker acknowledges (PUBACK) before the step completes */
  readonly qos?: 0 | 1 | 2
  /** default true: the broker keeps the last specification per topic for a line that connects later */
  readonly retain?: boolean
  /**
   * The checked address to connect to for the broker URL (the connector's egress: allowlist and
   * address policy, resolved once); without it the client resolves the name itself.
   */
  readonly vetTarget?: (url: URL) => Promise<{ readonly address: string }>
}

const level = (s: string | undefined) => (s ?? '*').replace(/[/#+]/g, '_')

export function mqttSpecificationPublisher(o: SpecPublisherOptions): MesPort {
  return {
    async publishSpecification({ spec }) {
      const topic = [o.topicPrefix, spec.plant, 'specifications', spec.material, spec.route, spec.supplier]
        .map((s, i) => (i < 3 ? s : level(s)))
        .join('/')
      const timeoutMs = o.timeoutMs ?? 5000
      let client: mqtt.MqttClient | undefined
      const url = new URL(o.url)
      try {
        // Refused before any connection, and permanently: the same broker name gets the same verdict.
        const to = await o.vetTarget?.(url)
        client = await mqtt.connectAsync(o.url, {
          // the socket goes to the vetted address; TLS still checks the certificate for the name
          ...(to ? { host: to.address, hostname: to.address, servername: url.hostname } : {}),
          clientId: o.clientId,
          clean: true,
          connectTimeout: timeoutMs,
          reconnectPeriod: 0,
          ...(o.username ? { username: o.username, password: o.password } : {}),
        })
        const { audit: _, ...payload } = spec
        await client.publishAsync(topic, JSON.stringify(payload), {
          qos: o.qos ?? 1,
          retain: o.retain ?? true,
        })
        return { topic }
      } catch (e) {
        if (e instanceof PermanentError) throw e
        // a name that does not resolve now, a refused connection, a lost PUBACK: the engine retries
        throw new RetryableError('QLK_EGRESS_NETWORK', `MES broker ${o.url}: ${(e as Error).message}`, {
          cause: e,
        })
      } finally {
        // Closing after a failed connect or publish may fail too; the error that matters is thrown above.
        await client?.endAsync().catch(() => undefined)
      }
    },
  }
}
