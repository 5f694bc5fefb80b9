/**
 * The MES simulator's OPC UA face read by Qualink's OPC UA source: a completion on line L2 moves
 * the line's nodes as a PLC would (order, operation, lot, the measured values, then the flag and
 * the counter), and the source turns it into one valid mes.operation.completed.v1.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MesOpcUaFace, startMesOpcUaFace } from '../../simulators/mes/opcua-face.ts'
import { startOpcUaSource } from '../../src/connectors/mes/opcua/source.ts'
import { opcUaTranslator } from '../../src/connectors/mes/opcua/translator.ts'
import { catalogue } from '../../src/contracts/catalogue.ts'
import { EventRegistry } from '../../src/contracts/registry.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort } from '../services.ts'

describe('MES simulator OPC UA face', () => {
  let face: MesOpcUaFace
  let pki: string
  let db: TestDatabase
  let store: Store
  beforeAll(async () => {
    pki = mkdtempSync(path.join(os.tmpdir(), 'qlk-mes-opcua-'))
    face = await startMesOpcUaFace({ port: await freePort(), pkiDir: path.join(pki, 'sim') })
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
  }, 60_000)
  afterAll(async () => {
    await face?.close()
    await store?.close()
    await db?.cleanup()
    rmSync(pki, { recursive: true, force: true })
  }, 60_000)

  it('exposes a completion that the OPC UA source turns into mes.operation.completed.v1', async () => {
    const input = {
      orderId: '1000777',
      line: 'L2',
      operation: '0020',
      measurements: [{ characteristic: 'TORQUE', value: 12.6, unit: 'NM' }],
      produced: [{ lot: 'FG-77', material: 'FG-1', quantity: '10', unit: 'PC' }],
    }
    // the nodes exist once the line has completed something (a PLC program defines them up front)
    await face.completeOperation({ ...input, orderId: '1000776' })
    const node = (n: string) => `ns=1;s=L2.${n}`
    const source = await startOpcUaSource(
      {
        name: 'mes-opc',
        plant: 'P100',
        endpoint: face.url,
        securityMode: 'None',
        securityPolicy: 'None',
        pkiDir: path.join(pki, 'client'),
        samplingIntervalMs: 20,
        publishingIntervalMs: 50,
        measurements: [
          {
            nodeId: node('TORQUE'),
            characteristic: 'TORQUE',
            unit: 'NM',
            equipment: 'L2',
            context: {},
            sampling: { none: true },
            atCompletion: 'last',
          },
        ],
        completion: {
          nodeId: node('CompletedCount'),
          equipment: 'L2',
          context: { productionOrder: node('Order'), operation: node('Operation'), lot: node('Lot') },
        },
      },
      (d) => store.insertRawDelivery(d),
    )
    try {
      await face.completeOperation(input)
      await until(async () => (await store.ingress.listRawDeliveries(ALL, { limit: 10 })).length === 1)
      const [raw] = await store.ingress.listRawDeliveries(ALL, { limit: 10 })
      const [event] = await opcUaTranslator('mes-opc').translate(raw!, {
        resolve: async () => undefined,
        reverse: async () => undefined,
      })
      const valid = new EventRegistry(catalogue).validate(event)
      expect(valid.data).toMatchObject({
        operation: { productionOrder: '1000777', number: '0020', workCenter: 'L2' },
        measurements: [{ characteristic: 'TORQUE', value: '12.6', unit: 'NM' }],
      })
    } finally {
      await source.close()
    }
  }, 60_000)
})
