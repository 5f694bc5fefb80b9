import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serviceUp, uniqueName } from '../../test/services.ts'
import type { OperationCompleted } from './payload.ts'
import { type MesSim, startMes } from './server.ts'

const BROKER = 'mqtt://127.0.0.1:1883'
const up = await serviceUp('mosquitto')

describe.skipIf(!up)('mes simulator (local Mosquitto)', () => {
  const prefix = uniqueName('qlkmes')
  let sim: MesSim
  let sub: mqtt.MqttClient
  const got: OperationCompleted[] = []
  let waiters: Array<{ n: number; resolve: () => void }> = []

  const waitFor = (n: number) =>
    got.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))

  beforeAll(async () => {
    sub = await mqtt.connectAsync(BROKER, { clientId: uniqueName('sub') })
    sub.on('message', (_t, payload) => {
      got.push(JSON.parse(payload.toString()) as OperationCompleted)
      waiters = waiters.filter((w) => {
        if (got.length < w.n) return true
        w.resolve()
        return false
      })
    })
    await sub.subscribeAsync(`${prefix}/#`, { qos: 1 })
    sim = await startMes({
      brokerUrl: BROKER,
      clientId: uniqueName('mes'),
      topicPrefix: prefix,
      site: 'S1',
      area: 'A1',
      port: 0,
      orders: [{ orderId: '1000123', material: 'FG-1', quantity: '100', operations: ['0010', '0020'] }],
    })
  })
  afterAll(async () => {
    await sim?.close()
    await sub?.endAsync()
  })

  it('publishes an operation completion at the ISA-95 path topic and tracks order status', async () => {
    const msg = await sim.completeOperation({
      orderId: '1000123',
      line: 'L1',
      operation: '0010',
      consumed: [{ lot: 'RAW-B1', material: 'RAW-100', quantity: '10.5', unit: 'KG' }],
      produced: [{ lot: 'FG-B1', material: 'FG-1', quantity: '100', unit: 'PC' }],
      measurements: [{ characteristic: 'torque', value: 12.3, unit: 'Nm', lowerLimit: 11, upperLimit: 13 }],
    })
    await waitFor(1)
    expect(got[0]).toEqual(msg)
    expect(sim.state.published[0]!.topic).toBe(`${prefix}/S1/A1/L1/0010/completed`)
    const order = (await (await fetch(`${sim.url}/api/v1/orders/1000123`)).json()) as { status: string }
    expect(order.status).toBe('RUNNING')
  })

  it('duplicates and reorders publishes when told to', async () => {
    const before = got.length
    sim.faults.set({ duplicateRate: 1, times: 1 })
    const a = await sim.completeOperation({ orderId: '1000123', line: 'L1', operation: '0020' })
    sim.faults.set({ outOfOrderRate: 1, times: 1 })
    const b = await sim.completeOperation({ orderId: 'X', line: 'L1', operation: '0030' })
    const c = await sim.completeOperation({ orderId: 'X', line: 'L1', operation: '0040' })
    await waitFor(before + 4)
    expect(got.slice(before).map((m) => m.messageId)).toEqual([
      a.messageId,
      a.messageId,
      c.messageId,
      b.messageId,
    ])
    expect(sim.state.orders[0]!.status).toBe('COMPLETED')
  })
})
