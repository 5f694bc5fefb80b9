import mqtt from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startMes } from '../../simulators/index.ts'
import { startMqttSource } from '../../src/connectors/ingress/mqtt-source.ts'
import { mesTranslator } from '../../src/connectors/mes/mqtt/translator.ts'
import { catalogue } from '../../src/contracts/catalogue.ts'
import { EventRegistry } from '../../src/contracts/registry.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { serviceUp, uniqueName } from '../services.ts'

const BROKER = 'mqtt://127.0.0.1:1883'

describe.skipIf(!(await serviceUp('mosquitto')))('MQTT ingress against the local Mosquitto', () => {
  let db: TestDatabase
  let store: Store
  let prefix: string
  let clientId: string

  beforeEach(async () => {
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
    prefix = uniqueName('qlk')
    clientId = uniqueName('qualink-mes')
  })
  afterEach(async () => {
    // Remove the persistent session this test created on the shared broker.
    const cleaner = await mqtt.connectAsync(BROKER, { clientId, clean: true })
    await cleaner.endAsync()
    await store?.close()
    await db?.cleanup()
  })

  const raws = async () => store.ingress.listRawDeliveries(ALL, { limit: 1000 })
  const source = () =>
    startMqttSource(
      { name: 'mes-p100', plant: 'P100', url: BROKER, clientId, topics: [`${prefix}/#`] },
      (d) => store.insertRawDelivery(d),
    )

  it('stores every QoS 1 completion, including those sent while the link was down', async () => {
    const mes = await startMes({ brokerUrl: BROKER, topicPrefix: prefix, clientId: uniqueName('mes-sim') })
    const op = (n: number) => ({
      orderId: `100${n}`,
      line: 'L1',
      operation: '0010',
      consumed: [{ lot: `RAW-${n}`, material: 'RAW-100', quantity: '10.5', unit: 'KG' }],
      produced: [{ lot: `FG-${n}`, material: 'FG-1', quantity: '100', unit: 'PC' }],
      measurements: [{ characteristic: 'torque', value: 12.3, unit: 'Nm', lowerLimit: 11, upperLimit: 13 }],
    })
    try {
      let sub = await source()
      for (let n = 1; n <= 3; n++) await mes.completeOperation(op(n))
      await until(async () => (await raws()).length === 3)
      // The link breaks; the broker keeps QoS 1 messages for the persistent session.
      await sub.close()
      for (let n = 4; n <= 6; n++) await mes.completeOperation(op(n))
      sub = await source()
      await until(async () => (await raws()).length === 6)
      await sub.close()

      const all = await raws()
      expect(new Set(all.map((r) => r.deliveryId)).size).toBe(6)
      // What arrived translates into valid canonical events.
      const registry = new EventRegistry(catalogue)
      const t = mesTranslator({ source: 'mes-p100' })
      const events = await t.translate(all[0]!, {
        resolve: async () => undefined,
        reverse: async () => undefined,
      })
      const ev = registry.validate(events[0])
      expect(ev.data).toMatchObject({
        operation: { productionOrder: '1001', number: '0010' },
        consumed: [{ lot: 'RAW-1', quantity: { units: 10500, scale: 3, uom: 'KG' } }],
        measurements: [{ characteristic: 'TORQUE', value: '12.3', unit: 'NM' }],
      })
    } finally {
      await mes.close()
    }
  })
})
