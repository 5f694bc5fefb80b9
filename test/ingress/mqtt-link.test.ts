/**
 * Issue 6: "a broken MQTT link loses no QoS 1 message". The subscriber reaches the local Mosquitto
 * through a TCP fault proxy: the link is cut abruptly (no DISCONNECT) while the MES keeps
 * publishing; and the store fails for a while, so no PUBACK is sent and the broker must
 * redeliver. Every completion is stored exactly once.
 */
import mqtt from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type MesSim, startMes } from '../../simulators/index.ts'
import { startMqttSource } from '../../src/connectors/ingress/mqtt-source.ts'
import type { RawDelivery, Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { FaultProxy } from '../faults/fault-proxy.ts'
import { serviceUp, uniqueName } from '../services.ts'

const BROKER = 'mqtt://127.0.0.1:1883'

describe.skipIf(!(await serviceUp('mosquitto')))('MQTT ingress across a broken link', () => {
  let db: TestDatabase
  let store: Store
  let proxy: FaultProxy
  let mes: MesSim
  let prefix: string
  let clientId: string

  beforeEach(async () => {
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
    proxy = await FaultProxy.start({ port: 1883 })
    prefix = uniqueName('qlk')
    clientId = uniqueName('qualink-mes')
    mes = await startMes({ brokerUrl: BROKER, topicPrefix: prefix, clientId: uniqueName('mes-sim') })
  })
  afterEach(async () => {
    await mes?.close()
    await proxy?.close()
    const cleaner = await mqtt.connectAsync(BROKER, { clientId, clean: true })
    await cleaner.endAsync()
    await store?.close()
    await db?.cleanup()
  })

  const raws = () => store.ingress.listRawDeliveries(ALL, { limit: 1000 })
  const completion = (n: number) =>
    mes.completeOperation({
      orderId: `200${n}`,
      line: 'L1',
      operation: '0010',
      consumed: [{ lot: `RAW-${n}`, material: 'RAW-100', quantity: '1', unit: 'KG' }],
      produced: [{ lot: `FG-${n}`, material: 'FG-1', quantity: '10', unit: 'PC' }],
      measurements: [{ characteristic: 'torque', value: 12.3, unit: 'Nm', lowerLimit: 11, upperLimit: 13 }],
    })
  const subscribe = (store: (d: RawDelivery) => Promise<unknown>) =>
    startMqttSource(
      { name: 'mes-p100', plant: 'P100', url: `mqtt://${proxy.host}`, clientId, topics: [`${prefix}/#`] },
      store,
    )

  it('keeps what was published while the link was cut and stores each once after it heals', async () => {
    const sub = await subscribe((d) => store.insertRawDelivery(d))
    try {
      for (let n = 1; n <= 5; n++) await completion(n)
      await until(async () => (await raws()).length === 5)
      proxy.partition('refuse') // the subscriber's socket dies without a DISCONNECT; reconnects refused
      for (let n = 6; n <= 15; n++) await completion(n)
      await new Promise((r) => setTimeout(r, 1500)) // reconnect attempts fail meanwhile
      expect(await raws()).toHaveLength(5)
      proxy.heal()
      await until(async () => (await raws()).length === 15, 20_000)
      expect(new Set((await raws()).map((r) => r.deliveryId)).size).toBe(15)
      expect(proxy.counts.refused).toBeGreaterThan(0)
    } finally {
      await sub.close()
    }
  }, 40_000)

  it('withholds the PUBACK while the store fails; the broker redelivers and nothing is lost', async () => {
    let failing = 3
    const sub = await subscribe(async (d) => {
      if (failing > 0) {
        failing--
        throw new Error('store unavailable')
      }
      return store.insertRawDelivery(d)
    })
    try {
      for (let n = 1; n <= 4; n++) await completion(n)
      await until(async () => (await raws()).length === 4, 20_000)
      expect(failing).toBe(0) // three deliveries were refused and came again
      expect(new Set((await raws()).map((r) => r.deliveryId)).size).toBe(4)
    } finally {
      await sub.close()
    }
  }, 40_000)
})
