/**
 * The MES specification publisher as a qualink.yaml connector (issue 8 item 5c, MES side): kind
 * mes/mqtt with its broker, topic prefix, client id, QoS and retain, named by a plant as
 * `mesPublisher`. Invalid settings are refused at their path; a Qualink built from the file
 * publishes a plan's current revision to the real broker (Mosquitto), retained, for the plant that
 * has a publisher only.
 */
import mqtt from 'mqtt'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type QmsSim, startQms } from '../../simulators/index.ts'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { serviceUp, uniqueName } from '../services.ts'
import { postEvent } from '../workflows/helpers.ts'
import { baseDoc, type Doc, problemsOf, TempDir } from './fixture.ts'

const BROKER = 'mqtt://127.0.0.1:1883'
const MQTT_UP = await serviceUp('mosquitto')
const ENV = { ERPNEXT_KEY: 'k', ERPNEXT_SECRET: 's', ERP_SECRET: 'e' }

/** baseDoc with a mes/mqtt connector for P100 (P200 has none) */
function withPublisher(config: Record<string, unknown>, allow: string[] = [BROKER]): Doc {
  const d = baseDoc()
  const connectors = d.connectors as Record<string, unknown>
  connectors['mes-p100'] = { kind: 'mes/mqtt', config }
  const egress = d.egress as { allowlist: Record<string, string[]> }
  egress.allowlist['mes-p100'] = allow
  const plants = d.plants as Record<string, Record<string, unknown>>
  plants.P100!.mesPublisher = 'mes-p100'
  d.workflows = { 'inspection-plan-distribution': { enabled: true } }
  return d
}
const valid = { url: BROKER, topicPrefix: 'plant-a/mes', clientId: 'qualink-p100-specs' }

describe('mes/mqtt in qualink.yaml', () => {
  let tmp: TempDir
  beforeEach(() => {
    tmp = new TempDir()
  })
  afterEach(() => tmp.remove())

  it('refuses bad broker settings and a wrong plant reference, each at its path', () => {
    const paths = (config: Record<string, unknown>) =>
      problemsOf(tmp, withPublisher(config)).map((p) => p.path)
    expect(paths({ ...valid, qos: 3 })).toContain('/connectors/mes-p100/config/qos')
    expect(paths({ ...valid, retain: 'yes' })).toContain('/connectors/mes-p100/config/retain')
    expect(paths({ ...valid, topicPrefix: 'plant/#' })).toContain('/connectors/mes-p100/config/topicPrefix')
    expect(paths({ ...valid, url: 'http://127.0.0.1:1883' })).toContain('/connectors/mes-p100/config/url')
    expect(paths({ ...valid, clientId: 'has space' })).toContain('/connectors/mes-p100/config/clientId')
    expect(paths({ topicPrefix: 'x', clientId: 'c' })).toContain('/connectors/mes-p100/config/url')

    const wrongRole = withPublisher(valid)
    ;(wrongRole.plants as Record<string, Record<string, unknown>>).P100!.mesPublisher = 'qms-cloud'
    expect(problemsOf(tmp, wrongRole)).toContainEqual({
      path: '/plants/P100/mesPublisher',
      message: "connector 'qms-cloud' is qms/rest, not a mes connector",
    })
    const unknown = withPublisher(valid)
    ;(unknown.plants as Record<string, Record<string, unknown>>).P100!.mesPublisher = 'nope'
    expect(problemsOf(tmp, unknown)).toContainEqual({
      path: '/plants/P100/mesPublisher',
      message: "references unknown connector 'nope'",
    })
  })

  it('refuses a broker that is not on the connector allowlist, and a timeout not under the lease', () => {
    const build = (d: Doc) => {
      try {
        buildRuntime(loadConfig(tmp.write('qualink.yaml', d), {}), ENV)
      } catch (e) {
        if (isQualinkError(e)) return e.errors.map((p) => `${p.path} ${p.message}`)
        throw e
      }
      throw new Error('built, expected QLK_CONFIG_INVALID')
    }
    expect(build(withPublisher(valid, ['mqtt://broker.example:1883'])).join('\n')).toMatch(
      /\/connectors\/mes-p100\/config\/url mqtt:\/\/127\.0\.0\.1:1883 is not on the egress allowlist/,
    )
    expect(
      build({ ...withPublisher({ ...valid, timeoutMs: 30_000 }), server: { leaseMs: 10_000 } }).join('\n'),
    ).toMatch(/\/connectors\/mes-p100\/config\/egress\/timeoutMs .*shorter than the engine lease/)
  })

  it('builds a mes port that serves only the plants with a publisher', () => {
    const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', withPublisher(valid)), {}), ENV)
    expect(rt.ports.mes?.plants).toEqual(['P100'])
    expect(rt.ports.mes?.serves('P100')).toBe(true)
    expect(rt.ports.mes?.serves('P200')).toBe(false)
    const without = buildRuntime(loadConfig(tmp.write('qualink.yaml', baseDoc()), {}), ENV)
    expect(without.ports.mes).toBeUndefined()
  })
})

describe.skipIf(!MQTT_UP)('a Qualink started from qualink.yaml publishes plans to the MES broker', () => {
  const prefix = uniqueName('qlk-yaml-specs')
  let tmp: TempDir
  let qms: QmsSim
  let db: TestDatabase
  let store: Store
  let q: Qualink
  beforeAll(async () => {
    tmp = new TempDir()
    qms = await startQms({ port: 0 })
    const d = withPublisher({ url: BROKER, topicPrefix: prefix, clientId: uniqueName('qlk-pub'), qos: 2 })
    ;(d.connectors as Record<string, { config: Record<string, unknown> }>)['qms-cloud']!.config.baseUrl =
      qms.url
    ;(d.egress as { allowlist: Record<string, string[]> }).allowlist['qms-cloud'] = [qms.url]
    const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', d), {}), ENV)
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
    q = await startQualink({
      ...rt.options,
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: `${db.dir}/anchors.jsonl`,
    })
  })
  afterAll(async () => {
    // Retained messages outlive the test: an empty retained payload deletes the scope's message.
    const c = await mqtt.connectAsync(BROKER, { clientId: uniqueName('qlk-clean'), clean: true })
    await c.publishAsync(`${prefix}/P100/specifications/M-100/*/*`, '', { qos: 1, retain: true })
    await c.endAsync()
    await q?.close()
    await store?.close()
    await db?.cleanup()
    await qms?.close()
    tmp?.remove()
  })

  const plan = (plant: string, id: string, version: number) =>
    postEvent(
      q,
      'md.inspection_plan.upserted.v1',
      id,
      {
        version,
        inspectionPlan: {
          id,
          plant,
          material: 'M-100',
          version,
          characteristics: [
            {
              id: 'DIA',
              name: 'Diameter',
              quantitative: true,
              target: '12.00',
              lowerLimit: '11.92',
              upperLimit: '12.08',
              unit: 'MM',
              sampleRule: { kind: 'aql', aql: '1.0', inspectionLevel: 'II' },
              required: true,
            },
          ],
          audit: { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'erp', approvalStatus: 'not_required' },
        },
      },
      plant,
    )
  const completed = async (key: string) => {
    const runs = await store.engine.listRuns(ALL, { key, limit: 5 })
    return runs.length === 1 && runs[0]!.status === 'completed' ? runs[0]!.result : undefined
  }

  it('publishes the current revision retained for P100, and P200 (no publisher) only to the QMS', async () => {
    await plan('P100', 'PLAN-1', 4)
    await plan('P200', 'PLAN-2', 1)
    let p100: unknown
    let p200: unknown
    await until(async () => {
      p100 = await completed('P100/PLAN-1')
      p200 = await completed('P200/PLAN-2')
      return p100 !== undefined && p200 !== undefined
    }, 30_000)
    const topic = `${prefix}/P100/specifications/M-100/*/*`
    expect(p100).toMatchObject({ qms: 'applied', version: 4, mesTopic: topic })
    expect(p200).toMatchObject({ qms: 'applied', version: 1 })
    expect(p200).not.toHaveProperty('mesTopic')

    // A MES line subscribing now gets the retained message, at the QoS it asked for (≤ the publish's 2).
    const c = await mqtt.connectAsync(BROKER, { clientId: uniqueName('qlk-mes'), clean: true })
    const got: Array<{ topic: string; retain: boolean; qos: number; body: { id: string; version: number } }> =
      []
    c.on('message', (t, payload, packet) => {
      if (payload.length > 0)
        got.push({ topic: t, retain: packet.retain, qos: packet.qos, body: JSON.parse(payload.toString()) })
    })
    await c.subscribeAsync(`${prefix}/#`, { qos: 2 })
    await until(() => got.length >= 1, 10_000)
    await c.endAsync()
    expect(got).toHaveLength(1)
    expect(got[0]).toMatchObject({ topic, retain: true, qos: 2, body: { id: 'PLAN-1', version: 4 } })
    expect(got[0]!.body).not.toHaveProperty('audit')
  })
})
