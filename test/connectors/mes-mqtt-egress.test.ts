/**
 * The MES specification publisher connects through the connector's egress policy like an HTTP
 * connector (issue 10 item 5): the broker's origin must be allowlisted, its name is resolved once,
 * every answer is vetted (link-local, metadata and unlisted loopback addresses refused) and the
 * socket goes to the vetted address, so a name that re-resolves elsewhere between the check and
 * the connection (DNS rebinding) cannot move it. The broker is the real Mosquitto; the names are
 * served by an injected resolver, so a publish that arrives proves the pinned address was used.
 */
import net from 'node:net'
import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { mqttSpecificationPublisher } from '../../src/connectors/mes/mqtt/spec-publisher.ts'
import type { Resolver } from '../../src/connectors/sdk/address-policy.ts'
import { EgressAllowlist } from '../../src/connectors/sdk/allowlist.ts'
import { EgressClient } from '../../src/connectors/sdk/egress.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import type { InspectionSpecification } from '../../src/model/inspection.ts'
import { serviceUp, uniqueName } from '../services.ts'

const MQTT_UP = await serviceUp('mosquitto')

/** a resolver that knows only the names given */
const resolverOf =
  (names: Record<string, string>): Resolver =>
  async (host) => {
    const address = names[host]
    return address ? [{ address, family: 4 }] : []
  }

function publisher(url: string, resolver: Resolver, allowAddresses: string[] = []) {
  const egress = new EgressClient({
    connector: 'mes-p100',
    allowlist: new EgressAllowlist([url], { allowAddresses }),
    resolver,
  })
  const prefix = uniqueName('qlk-mes-egress')
  const port = mqttSpecificationPublisher({
    url,
    topicPrefix: prefix,
    clientId: uniqueName('qlk-mes-egress'),
    timeoutMs: 3000,
    vetTarget: (u) => egress.vetTarget(u),
  })
  return { port, prefix }
}

const spec = {
  plant: 'P100',
  material: 'M-1',
  version: 3,
  characteristics: [],
} as unknown as InspectionSpecification

/** the permanent failure `p` ends in: permanent, so the engine dead-letters instead of retrying */
async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  if (!(e instanceof PermanentError)) throw new Error(`expected a permanent failure, got ${String(e)}`)
  return { code: e.code, message: e.message }
}

describe.skipIf(!MQTT_UP)('mes/mqtt egress: allowlist, address policy, pinned connection', () => {
  const closers: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of closers.splice(0)) await c()
  })

  it('connects to the vetted address of an allowlisted name and publishes there', async () => {
    // The name exists only in the injected resolver: the publish reaches Mosquitto only by address.
    const { port, prefix } = publisher(
      'mqtt://mes-broker.plant-a.example:1883',
      resolverOf({ 'mes-broker.plant-a.example': '127.0.0.1' }),
      ['127.0.0.1'],
    )
    const { topic } = await port.publishSpecification({ idempotencyKey: 'k', spec })
    expect(topic).toBe(`${prefix}/P100/specifications/M-1/*/*`)

    const sub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: uniqueName('qlk-mes-sub') })
    closers.push(async () => {
      // the retained message is cleared so the shared broker keeps nothing of the test
      await sub.publishAsync(topic, '', { retain: true, qos: 1 })
      await sub.endAsync()
    })
    const got = new Promise<string>((resolve) => sub.on('message', (_t, m) => resolve(m.toString())))
    await sub.subscribeAsync(topic, { qos: 1 })
    expect(JSON.parse(await got)).toMatchObject({ plant: 'P100', material: 'M-1', version: 3 })
  })

  it('refuses, before any connection, a name that resolves to a loopback address nobody listed', async () => {
    // A listener where the name points: it must never see a connection.
    let connections = 0
    const server = net.createServer((s) => {
      connections++
      s.destroy()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    closers.push(() => new Promise<void>((r) => server.close(() => r())))
    const listening = (server.address() as net.AddressInfo).port

    const { port } = publisher(
      `mqtt://mes.rebound.example:${listening}`,
      resolverOf({ 'mes.rebound.example': '127.0.0.1' }),
    )
    const r = await refusal(port.publishSpecification({ idempotencyKey: 'k', spec }))
    expect(r.code).toBe('QLK_EGRESS_ADDRESS_BLOCKED')
    expect(r.message).toContain('mes.rebound.example resolves to 127.0.0.1 (loopback)')
    expect(connections).toBe(0)
  })

  it('refuses a name that resolves to the cloud metadata address, and a broker off the allowlist', async () => {
    const meta = publisher(
      'mqtt://mes.meta.example:1883',
      resolverOf({ 'mes.meta.example': '169.254.169.254' }),
    )
    const r = await refusal(meta.port.publishSpecification({ idempotencyKey: 'k', spec }))
    expect(r.code).toBe('QLK_EGRESS_ADDRESS_BLOCKED')
    expect(r.message).toContain('169.254.169.254')

    const egress = new EgressClient({
      connector: 'mes-p100',
      allowlist: new EgressAllowlist(['mqtt://mes-broker.plant-a.example:1883']),
      resolver: resolverOf({ 'other.example': '127.0.0.1' }),
    })
    const off = mqttSpecificationPublisher({
      url: 'mqtt://other.example:1883',
      topicPrefix: 'x',
      clientId: uniqueName('qlk-mes-egress'),
      vetTarget: (u) => egress.vetTarget(u),
    })
    const d = await refusal(off.publishSpecification({ idempotencyKey: 'k', spec }))
    expect(d.code).toBe('QLK_EGRESS_DENIED')
    expect(d.message).toContain('other.example')
  })
})
