/**
 * Inspection plans from the ERP reach the QMS, versioned per plan and scoped by material, route and
 * supplier (issue 8 item 5c, QMS side); counted in the QMS simulator, which keeps every version seen.
 */
import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { mqttSpecificationPublisher } from '../../src/connectors/mes/mqtt/spec-publisher.ts'
import { inspectionPlanDistribution } from '../../src/workflows/inspection-plan-distribution.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { serviceUp, uniqueName } from '../services.ts'
import { postEvent } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'sap-p100', approvalStatus: 'not_required' }
const diameter = (upper: string) => ({
  id: 'DIA',
  name: 'Diameter',
  quantitative: true,
  target: '12.00',
  lowerLimit: '11.92',
  upperLimit: upper,
  unit: 'MM',
  sampleRule: { kind: 'aql', aql: '1.0', inspectionLevel: 'II' },
  required: true,
})

const BROKER = 'mqtt://127.0.0.1:1883'
const MQTT_UP = await serviceUp('mosquitto')

describe.each(DIALECTS)('inspection plans to the QMS and the MES on %s', (dialect: Dialect) => {
  const prefix = uniqueName('qlk-specs')
  const hub = usePlantHub(dialect, () => ({
    qms: {},
    workflows: [inspectionPlanDistribution()],
    ports: () =>
      MQTT_UP
        ? {
            mes: mqttSpecificationPublisher({
              url: BROKER,
              topicPrefix: prefix,
              clientId: uniqueName('qlk-pub'),
            }),
          }
        : {},
  }))
  afterEach(async () => {
    if (!MQTT_UP) return
    // Retained messages outlive the test: clear each scope's (an empty retained payload deletes it).
    const c = await mqtt.connectAsync(BROKER, { clientId: uniqueName('qlk-clean'), clean: true })
    for (const t of [
      `${prefix}/P100/specifications/M-100/*/*`,
      `${prefix}/P100/specifications/M-100/*/SUP-7`,
    ])
      await c.publishAsync(t, '', { qos: 1, retain: true })
    await c.endAsync()
  })
  /** The retained specification a MES line subscribing now would read, per topic. */
  const retained = async () => {
    const c = await mqtt.connectAsync(BROKER, { clientId: uniqueName('qlk-mes'), clean: true })
    const got = new Map<string, { version: number; supplier?: string }>()
    c.on('message', (topic, payload) => {
      if (payload.length > 0) got.set(topic.slice(prefix.length + 1), JSON.parse(payload.toString()))
    })
    await c.subscribeAsync(`${prefix}/#`, { qos: 1 })
    await until(() => got.size >= 2)
    await c.endAsync()
    return got
  }

  const plan = (
    id: string,
    version: number,
    upper: string,
    scope: { route?: string; supplier?: string } = {},
  ) =>
    postEvent(hub.q, 'md.inspection_plan.upserted.v1', id, {
      version,
      inspectionPlan: {
        id,
        plant: 'P100',
        material: 'M-100',
        ...scope,
        version,
        characteristics: [diameter(upper)],
        audit,
      },
    })
  const finished = async (key: string, n: number) => {
    const runs = await hub.store.engine.listRuns(ALL, { key, limit: 20 })
    return runs.length === n && runs.every((r) => r.status === 'completed')
  }
  const results = async (key: string) =>
    (await hub.store.engine.listRuns(ALL, { key, limit: 20 }))
      .sort((a, b) => a.createdAtMs - b.createdAtMs || (a.triggerEventSeq ?? 0) - (b.triggerEventSeq ?? 0))
      .map((r) => r.result)

  it('keeps the newest version per plan: a late older version and a re-export change nothing', async () => {
    await plan('PLAN-7', 2, '12.08')
    await plan('PLAN-7', 1, '12.10') // delivered late
    await plan('PLAN-7', 3, '12.06')
    await plan('PLAN-7', 3, '12.06') // the ERP exports the same revision again (a new event)
    await plan('PLAN-8', 1, '12.05', { supplier: 'SUP-7' }) // the same material, for one supplier
    await until(async () => (await finished('P100/PLAN-7', 4)) && (await finished('P100/PLAN-8', 1)), 30_000)

    expect((await results('P100/PLAN-7')).map((r) => (r as { qms: string }).qms)).toEqual([
      'applied',
      'stale',
      'applied',
      'unchanged',
    ])
    const specs = hub.qms.state.specifications
    expect(specs.puts).toBe(3) // v2 and v3 of PLAN-7, v1 of PLAN-8: each once
    expect(specs.byId['PLAN-7']).toMatchObject({ version: 3, versions: [2, 3], material: 'M-100' })
    expect((specs.byId['PLAN-7']!.characteristics[0] as { upperLimit: string }).upperLimit).toBe('12.06')
    expect(specs.byId['PLAN-8']).toMatchObject({ version: 1, supplier: 'SUP-7' })
    expect((await results('P100/PLAN-8'))[0]).toMatchObject({ scope: 'P100/M-100/*/SUP-7', qms: 'applied' })

    // The MES holds the same revisions per scope: the late v1 was never published over v3.
    if (!MQTT_UP) return
    const journal = async (key: string) =>
      Promise.all(
        (await hub.store.engine.listRuns(ALL, { key, limit: 20 })).map(
          async (r) => (await hub.store.engine.loadRun(ALL, r.id))!.journal,
        ),
      )
    const published = (await journal('P100/PLAN-7')).filter((j) => j.some((e) => e.name === 'publish-to-mes'))
    expect(published).toHaveLength(3) // v2, v3, v3 again; not the stale v1
    const mes = await retained()
    expect(mes.get('P100/specifications/M-100/*/*')).toMatchObject({ id: 'PLAN-7', version: 3 })
    expect(mes.get('P100/specifications/M-100/*/SUP-7')).toMatchObject({
      id: 'PLAN-8',
      version: 1,
      supplier: 'SUP-7',
    })
  })
})
