/**
 * Issue 11 item 6: an OPC UA source configured in qualink.yaml against an in-repo OPC UA server
 * (node-opcua-server, test/connectors/opcua-peer.ts). Raw values stay out of the event log: every
 * Nth diameter and one temperature summary per window become mes.measurement.sampled.v1 (no run
 * starts on them); the OperationComplete flag becomes mes.operation.completed.v1 (a run starts).
 * Bad-quality values are counted and dropped; a server restart is survived without duplicates.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { startOpcUaSource } from '../../src/connectors/mes/opcua/source.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import type { ConnectorMetrics } from '../../src/observability/connector-metrics.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { baseDoc, type Doc, problemsOf, TempDir } from '../config/fixture.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort } from '../services.ts'
import { type OpcUaPeer, PEER_NODES, startOpcUaPeer } from './opcua-peer.ts'

const SOURCE = 'line1-opc'

interface SampledData {
  readonly measurement: { readonly characteristic: string; readonly value: string }
  readonly summary?: { readonly count: number }
}

function opcuaDoc(endpoint: string, pkiDir: string): Doc {
  const doc = baseDoc()
  delete doc.workflows
  ;(doc.ingress as Record<string, unknown>).opcua = {
    [SOURCE]: {
      plant: 'P100',
      endpoint,
      pkiDir,
      samplingInterval: '10ms',
      publishingInterval: '50ms',
      equipment: 'LINE1',
      context: {
        productionOrder: PEER_NODES.order.id,
        operation: PEER_NODES.operation.id,
        lot: PEER_NODES.lot.id,
      },
      measurements: [
        {
          nodeId: PEER_NODES.diameter.id,
          characteristic: 'DIAMETER',
          unit: 'MM',
          sampling: { every: 5 },
          atCompletion: 'max',
        },
        {
          nodeId: PEER_NODES.temperature.id,
          characteristic: 'TEMP',
          unit: 'CEL',
          sampling: { window: '1s' },
        },
      ],
      completion: { nodeId: PEER_NODES.complete.id },
      reconnect: { initialDelay: '100ms', maxDelay: '500ms' },
    },
  }
  return doc
}

describe.each(DIALECTS.filter((d) => AVAILABLE[d]))(
  'OPC UA ingress from qualink.yaml on %s',
  (dialect: Dialect) => {
    let db: TestDatabase
    let store: Store
    let peer: OpcUaPeer
    let pki: string
    let tmp: TempDir
    let q: Qualink | undefined
    let metrics: ConnectorMetrics
    const runsFor = new Set<string>()

    const probe = defineWorkflow<unknown>({
      name: 'opcua-completion-probe',
      version: 1,
      triggers: ['mes.operation.completed.v1'],
      key: () => 'LINE1',
      async run(_ctx, trigger) {
        runsFor.add(String(trigger.envelope.id))
      },
    })

    beforeAll(async () => {
      pki = mkdtempSync(path.join(os.tmpdir(), 'qlk-opcua-'))
      peer = await startOpcUaPeer({ port: await freePort(), pkiDir: pki })
      db = await createTestDatabase(dialect, { migrated: true })
      store = await db.open()
      tmp = new TempDir()
    }, 60_000)
    afterAll(async () => {
      await q?.close()
      await peer?.close()
      await store?.close()
      await db?.cleanup()
      tmp?.remove()
      rmSync(pki, { recursive: true, force: true })
    }, 60_000)

    const count = async (outcome: string) =>
      (await metrics.ingressValues.get()).values
        .filter((v) => v.labels.source === SOURCE && v.labels.outcome === outcome)
        .reduce((n, v) => n + v.value, 0)
    const events = async (type: string) =>
      (await store.listEvents(ALL, { limit: 10_000 })).filter((e) => e.type === type)
    const diameterSamples = async () =>
      (await events('mes.measurement.sampled.v1')).filter(
        (e) => (e.envelope.data as SampledData).measurement.characteristic === 'DIAMETER',
      ).length
    let clock = Math.ceil(Date.now() / 1000) * 1000 + 60_000
    const nextTime = () => {
      clock += 10
      return new Date(clock)
    }
    /** one value, at a source time later than any before, and waits until the source has it */
    const send = async (
      node: 'diameter' | 'temperature',
      value: number,
      opts: { bad?: boolean; at?: number } = {},
    ) => {
      const outcome = opts.bad ? 'bad-quality' : 'accepted'
      const before = await count(outcome)
      clock = opts.at ?? clock + 10
      peer.set(node, value, { at: new Date(clock), bad: opts.bad })
      await until(async () => (await count(outcome)) > before)
    }

    it('samples telemetry, turns a completion into one event and one run, drops bad values', async () => {
      peer.set('order', '1000456')
      peer.set('operation', '0030')
      peer.set('lot', 'F-9001')
      const rt = buildRuntime(
        loadConfig(tmp.write('qualink.yaml', opcuaDoc(peer.url, path.join(pki, 'client'))), {}),
        {
          ERP_SECRET: 'x',
          ERPNEXT_KEY: 'k',
          ERPNEXT_SECRET: 's',
        },
      )
      metrics = rt.options.connectorMetrics!
      q = await startQualink({
        ...rt.options,
        store,
        port: 0,
        logger: pino({ level: 'silent' }),
        anchorFile: `${db.dir}/anchors.jsonl`,
        workflows: [probe],
      })
      // the initial values of both measurement nodes
      await until(async () => (await count('accepted')) >= 2, 60_000)

      const diameters = [12.01, 12.02, 12.03, 12.04, 12.05, 12.06, 12.07, 12.08, 12.09]
      for (const [i, d] of diameters.entries()) {
        await send('diameter', d)
        if (i === 3) await send('diameter', 99, { bad: true })
      }
      // temperature: two values in one window, then one in the next closes it
      const windowStart = Math.ceil(clock / 1000) * 1000 + 1000
      await send('temperature', 61, { at: windowStart + 100 })
      await send('temperature', 63, { at: windowStart + 300 })
      await send('temperature', 70, { at: windowStart + 1200 })
      clock = windowStart + 1200

      // initial value + 9 good diameters = 10 accepted: the 5th and 10th are sampled
      const summaries = async () =>
        (await events('mes.measurement.sampled.v1'))
          .map((e) => e.envelope.data as SampledData)
          .filter((d) => d.measurement.characteristic === 'TEMP' && d.summary?.count === 2)
      await until(async () => (await diameterSamples()) === 2 && (await summaries()).length === 1)
      const sampled = (await events('mes.measurement.sampled.v1')).map((e) => e.envelope.data as SampledData)
      const dia = sampled.filter((d) => d.measurement.characteristic === 'DIAMETER')
      expect(dia.map((d) => d.measurement.value)).toEqual(['12.04', '12.09'])
      expect(dia[0]).toMatchObject({
        plant: 'P100',
        equipment: 'LINE1',
        productionOrder: '1000456',
        operation: '0030',
        lot: 'F-9001',
        origin: { endpoint: peer.url, node: PEER_NODES.diameter.id },
      })
      const windows = sampled.filter((d) => d.measurement.characteristic === 'TEMP' && d.summary?.count === 2)
      expect(windows).toHaveLength(1)
      expect(windows[0]!.summary).toMatchObject({ count: 2, mean: '62', min: '61', max: '63' })
      expect(await count('bad-quality')).toBe(1)

      await send('diameter', 12.1)
      peer.set('complete', true, { at: nextTime() })
      await until(async () => (await events('mes.operation.completed.v1')).length === 1)
      const [done] = await events('mes.operation.completed.v1')
      expect(done!.envelope.data).toMatchObject({
        operation: { productionOrder: '1000456', number: '0030', workCenter: 'LINE1' },
        plant: 'P100',
        measurements: expect.arrayContaining([
          // the largest good value since start: the bad 99 was dropped
          expect.objectContaining({ characteristic: 'DIAMETER', value: '12.1', unit: 'MM' }),
          expect.objectContaining({ characteristic: 'TEMP', value: '70', unit: 'CEL' }),
        ]),
      })
      await until(() => runsFor.size === 1)
      expect([...runsFor]).toEqual([done!.id])
      // sampled results are history, not triggers: exactly one run for all of the above
      const runs = await store.sql.all('SELECT count(*) AS n FROM workflow_runs', [])
      expect(Number(runs[0]!.n)).toBe(1)
      // 17 values were received; the log holds 2 + the temperature windows + 1 completion
      expect(await count('accepted')).toBeGreaterThanOrEqual(14)
      expect((await store.listEvents(ALL, { limit: 10_000 })).length).toBeLessThanOrEqual(6)
    }, 120_000)

    it('reconnects after a server restart and resumes without duplicates', async () => {
      const repeats = await count('repeat')
      await peer.restart()
      // after the reconnect the server sends the current values again: same source time, a repeat
      await until(async () => (await count('repeat')) >= repeats + 2, 60_000)
      // the completion flag re-read as true is no new completion, the diameters no new samples
      expect(await events('mes.operation.completed.v1')).toHaveLength(1)
      expect(await count('completion')).toBe(1)
      expect(await diameterSamples()).toBe(2)

      peer.set('order', '1000457')
      peer.set('complete', false, { at: nextTime() })
      await send('diameter', 12.2)
      peer.set('complete', true, { at: nextTime() })
      await until(async () => (await events('mes.operation.completed.v1')).length === 2)
      const orders = (await events('mes.operation.completed.v1')).map(
        (e) => (e.envelope.data as { operation: { productionOrder: string } }).operation.productionOrder,
      )
      expect(orders).toEqual(['1000456', '1000457'])
      await until(() => runsFor.size === 2)
      const all = await store.ingress.listRawDeliveries(ALL, { limit: 1000 })
      expect(new Set(all.map((r) => r.deliveryId)).size).toBe(all.length)
    }, 120_000)
  },
)

describe('OPC UA source with its server down', () => {
  it('fails its start within the deadline, so the singleton retries it at the next heartbeat', async () => {
    const pki = mkdtempSync(path.join(os.tmpdir(), 'qlk-opcua-down-'))
    const links: string[] = []
    try {
      const endpoint = `opc.tcp://127.0.0.1:${await freePort()}`
      await expect(
        startOpcUaSource(
          {
            name: 'down-opc',
            plant: 'P100',
            endpoint,
            securityMode: 'None',
            securityPolicy: 'None',
            pkiDir: pki,
            samplingIntervalMs: 100,
            publishingIntervalMs: 100,
            measurements: [],
            startTimeoutMs: 1500,
            reconnect: { initialDelayMs: 100, maxDelayMs: 200 },
          },
          async () => undefined,
          { metrics: { value: () => {}, link: (e) => links.push(e.state) } },
        ),
      ).rejects.toThrow(`OPC UA endpoint ${endpoint}: not ready within 1500 ms`)
      expect(links.at(-1)).toBe('down')
    } finally {
      rmSync(pki, { recursive: true, force: true })
    }
  }, 30_000)
})

describe('OPC UA configuration', () => {
  const tmp = new TempDir()
  afterAll(() => tmp.remove())
  const source = (patch: Record<string, unknown>) => {
    const doc = opcuaDoc('opc.tcp://127.0.0.1:4840', './pki')
    const sources = (doc.ingress as Record<string, Record<string, Record<string, unknown>>>).opcua!
    sources[SOURCE] = { ...sources[SOURCE], ...patch }
    return doc
  }
  const at = `/ingress/opcua/${SOURCE}`

  it('accepts the test configuration as is', () => {
    expect(() => loadConfig(tmp.write('qualink.yaml', source({})), {})).not.toThrow()
  })

  it('refuses security None toward a plant-network server, naming the field', () => {
    const problems = problemsOf(tmp, source({ endpoint: 'opc.tcp://plc-7.plant.example:4840' }))
    expect(problems).toContainEqual(expect.objectContaining({ path: `${at}/securityMode` }))
    expect(problemsOf(tmp, source({ securityMode: 'Sign' }))).toContainEqual(
      expect.objectContaining({ path: `${at}/securityPolicy` }),
    )
  })

  it('refuses an ambiguous sampling policy, a completion without context and a malformed NodeId', () => {
    const problems = problemsOf(
      tmp,
      source({
        context: undefined,
        measurements: [
          { nodeId: 'ns=1;s=A', characteristic: 'A', unit: 'MM', sampling: { every: 5, window: '1m' } },
          { nodeId: 'Line1.Diameter', characteristic: 'B', unit: 'MM' },
        ],
      }),
    )
    const paths = problems.map((p) => p.path)
    expect(paths).toContain(`${at}/measurements/0/sampling`)
    expect(paths).toContain(`${at}/measurements/1/nodeId`)
    expect(paths).toContain(`${at}/completion/context/productionOrder`)
  })
})
