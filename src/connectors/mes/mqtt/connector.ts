/**
 * mes/mqtt: the MesPort as a qualink.yaml connector, so a plant's MES publisher is declared and
 * validated like every other egress (docs/connectors.md): the broker URL (its origin must be on the
 * connector's egress allowlist, as an mqtt:// or mqtts:// entry; its name is resolved and vetted
 * by the connector's egress and the socket pinned to that address), the topic prefix, the client id,
 * QoS and retain. A plant names it as `mesPublisher`; the inspection-plan-distribution workflow then
 * publishes each revision the QMS took as current (spec-publisher.ts).
 *
 * The client id is used for one short session per publish. MQTT allows one connection per client
 * id at a time (MQTT 3.1.1 §3.1.4: the server disconnects the existing client), so two processes
 * publishing at the same instant make one publish fail and retry; plans change a few times a day.
 */
import { type Static, Type } from 'typebox'
import type { MesPort } from '../../../workflows/ports/mes.ts'
import { defineConnector } from '../../sdk/define-connector.ts'
import { atMostOneSecret, connectorSecret, SecretEnvField, SecretFileField } from '../../sdk/secrets.ts'
import { mqttSpecificationPublisher } from './spec-publisher.ts'

export const MesMqttConfig = Type.Object(
  {
    /** the broker: scheme, host and port only (credentials go in usernameEnv/passwordEnv) */
    url: Type.String({ pattern: '^mqtts?://[^/\\s@]+$' }),
    /** first topic levels; specifications go to <topicPrefix>/<plant>/specifications/… */
    topicPrefix: Type.String({
      minLength: 1,
      maxLength: 200,
      // no wildcards in a topic name, and no empty level at either end (MQTT 3.1.1 §4.7)
      pattern: '^[^/#+\\s](?:[^#+\\s]*[^/#+\\s])?$',
    }),
    /**
     * MQTT 3.1.1 §3.1.3.1: every server must accept 1–23 characters of [0-9a-zA-Z]; longer ids and
     * `-_.:` are accepted by common brokers (Mosquitto, EMQX, HiveMQ), so up to 64 are allowed
     */
    clientId: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }),
    qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1 }),
    /** true: the broker keeps the current specification per scope for MES lines that connect later */
    retain: Type.Boolean({ default: true }),
    usernameEnv: SecretEnvField(),
    usernameFile: SecretFileField(),
    passwordEnv: SecretEnvField(),
    passwordFile: SecretFileField(),
    /** connect + publish budget; shorter than the engine lease */
    timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
  },
  { additionalProperties: false, allOf: [atMostOneSecret('username'), atMostOneSecret('password')] },
)
export type MesMqttConfig = Static<typeof MesMqttConfig>

export const mesMqttConnector = defineConnector({
  kind: 'mes/mqtt',
  description: 'MES over MQTT: inspection specifications as one message per scope (retained by default)',
  configSchema: MesMqttConfig,
  actions: ['publishSpecification'],
  targets: (c) => [c.url],
  // the publish budget is the egress timeout the lease check compares (define-connector.ts)
  egressSettings: (c) => ({ timeoutMs: c.timeoutMs }),
  create(config, ctx): MesPort {
    const who = { kind: 'mes/mqtt', name: ctx.name }
    const username = connectorSecret(config, 'username', '', ctx.environment, who, true)
    const password = connectorSecret(config, 'password', '', ctx.environment, who, true)
    return mqttSpecificationPublisher({
      url: config.url,
      topicPrefix: config.topicPrefix,
      clientId: config.clientId,
      qos: config.qos,
      retain: config.retain,
      timeoutMs: config.timeoutMs,
      vetTarget: (url) => ctx.egress.vetTarget(url),
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    })
  },
})
