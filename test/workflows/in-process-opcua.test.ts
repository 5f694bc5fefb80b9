/**
 * The in-process quality check fed by OPC UA: a torque node sampled every 2nd value and an
 * OperationComplete flag on an in-repo OPC UA server. The completion reports the operation's
 * largest torque; 13.6 Nm is beyond the 13 Nm upper limit, so the ERP production order goes on
 * hold — while the sampled torques, in the log too, start nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { opcUaSources } from '../../src/config/opcua-runtime.ts'
import { opcUaTranslator } from '../../src/connectors/mes/opcua/translator.ts'
import { ConnectorMetrics } from '../../src/observability/connector-metrics.ts'
import { eventLogHistory } from '../../src/projections/measurement-history.ts'
import { inProcessQualityCheck } from '../../src/workflows/in-process-check.ts'
import { type OpcUaPeer, PEER_NODES, startOpcUaPeer } from '../connectors/opcua-peer.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort } from '../services.ts'
import { usePlantHub } from './plant-hub.ts'

let peer: OpcUaPeer
let pki: string
beforeAll(async () => {
  pki = mkdtempSync(path.join(os.tmpdir(), 'qlk-opcua-ipc-'))
  peer = await startOpcUaPeer({ port: await freePort(), pkiDir: pki })
}, 60_000)
afterAll(async () => {
  await peer?.close()
  rmSync(pki, { recursive: true, force: true })
}, 60_000)

describe.each(DIALECTS)('in-process quality check from OPC UA on %s', (dialect: Dialect) => {
  const order = `PO-${dialect.toUpperCase()}`
  const metrics = new ConnectorMetrics()
  // before the hub's own beforeEach starts the source: a flag already true would be a completion
  beforeEach(() => peer.set('complete', false))
  const hub = usePlantHub(dialect, () => ({
    connectorMetrics: metrics,
    erp: {
      productionOrders: [
        { ManufacturingOrder: order, Material: 'FG-1', ProductionPlant: '1000', TotalQuantity: '100' },
      ],
    },
    qms: {},
    workflows: [inProcessQualityCheck()],
    ports: ({ store }) => ({ history: eventLogHistory(store) }),
    translators: [opcUaTranslator('line1-opc')],
    // the same mapping qualink.yaml gets (config/opcua-runtime.ts)
    opcua: opcUaSources(
      {
        'line1-opc': {
          plant: 'P100',
          endpoint: peer.url,
          samplingInterval: '10ms',
          publishingInterval: '50ms',
          equipment: 'L1',
          context: { productionOrder: PEER_NODES.order.id, operation: PEER_NODES.operation.id },
          measurements: [
            {
              nodeId: PEER_NODES.diameter.id,
              characteristic: 'TORQUE',
              unit: 'NM',
              sampling: { every: 2 },
              atCompletion: 'max',
            },
          ],
          completion: { nodeId: PEER_NODES.complete.id },
          reconnect: { initialDelay: '100ms', maxDelay: '500ms' },
        },
      },
      {
        dataDir: path.join(pki, dialect),
        baseDir: pki,
        secret: () => '',
        translatorOf: () => undefined,
      },
    ),
  }))

  it('holds the production order on an out-of-tolerance torque; the samples start no run', async () => {
    const events = async (type: string) =>
      (await hub.store.listEvents(ALL, { limit: 1000 })).filter((e) => e.type === type)
    const runs = () => hub.store.engine.listRuns(ALL, { limit: 100 })
    peer.set('order', order)
    peer.set('operation', '0010')
    const accepted = async () =>
      (await metrics.ingressValues.get()).values
        .filter((v) => v.labels.outcome === 'accepted')
        .reduce((n, v) => n + v.value, 0)
    await until(async () => (await accepted()) >= 1, 60_000) // the node's current value
    let at = Date.now() + 60_000
    // one at a time: the server samples every 10 ms, values set within one sample coalesce
    for (const torque of [12.3, 13.6, 12.4, 12.2]) {
      const before = await accepted()
      at += 10
      peer.set('diameter', torque, { at: new Date(at) })
      await until(async () => (await accepted()) > before)
    }
    await until(async () => (await events('mes.measurement.sampled.v1')).length === 2)
    peer.set('complete', true, { at: new Date(at + 10) })

    await until(async () => (await runs()).some((r) => r.status === 'waiting'), 60_000)
    const held = hub.erp.state.productionOrders.find((o) => o.order === order)!
    expect(held).toMatchObject({ onHold: true, holdChanges: 1 })
    const [completion] = await events('mes.operation.completed.v1')
    expect(completion!.envelope.data).toMatchObject({
      operation: { productionOrder: order, number: '0010', workCenter: 'L1' },
      measurements: [expect.objectContaining({ characteristic: 'TORQUE', value: '13.6', unit: 'NM' })],
    })
    // one run, for the completion; the two sampled torques started none
    expect((await runs()).map((r) => r.key)).toEqual([order])
  }, 120_000)
})
