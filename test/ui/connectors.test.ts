import pino from 'pino'
import { beforeEach, expect, it } from 'vitest'
import { ConnectorMetrics } from '../../src/observability/connector-metrics.ts'
import { startQualink } from '../../src/server/qualink.ts'
import { type SimulatorPorts, usePlantHub } from '../workflows/plant-hub.ts'

/**
 * The Connectors page over real connectors: an ERP whose simulator answers 503 (the breaker
 * opens: down), a QMS that answers (ok), and a configured connector never called (idle).
 */
let metrics: ConnectorMetrics
let ports: Required<SimulatorPorts>

beforeEach(async () => {
  metrics = new ConnectorMetrics()
  metrics.declare('sap-p100', 'erp/sap-s4')
  metrics.declare('qms-cloud', 'qms/rest')
  metrics.declare('chat', 'notify/webhook')
})
const hub = usePlantHub('sqlite', () => ({
  erp: { materials: { 'RAW-100': { baseUnit: 'KG' } } },
  qms: {},
  names: { erp: 'sap-p100', qms: 'qms-cloud' },
  connectorMetrics: metrics,
  egress: { timeoutMs: 2000, breaker: { failureThreshold: 1, openMs: 60_000, halfOpenProbes: 1 } },
}))
beforeEach(async () => {
  ports = { erp: hub.ports.erp!, qms: hub.ports.qms! }
})

const rowOf = (body: string, name: string) => {
  const m = new RegExp(`<tr data-connector="${name}">[\\s\\S]*?</tr>`).exec(body)
  expect(m, name).not.toBeNull()
  return m![0]
}

it('shows per connector its health, circuit, calls, rate limiting and last error', async () => {
  hub.erp.faults.set({ errorRate: 1, errorStatus: 503 })
  await expect(
    ports.erp.readLotStock({ plant: 'P100', material: 'RAW-100', lot: 'B1' }),
  ).rejects.toMatchObject({
    code: 'QLK_REMOTE_UNAVAILABLE',
  })
  // the breaker is open now: the next call is refused without reaching the ERP
  const before = hub.erp.faults.counts.error
  await expect(
    ports.erp.readLotStock({ plant: 'P100', material: 'RAW-100', lot: 'B1' }),
  ).rejects.toMatchObject({
    code: 'QLK_CIRCUIT_OPEN',
  })
  expect(hub.erp.faults.counts.error).toBe(before)
  // the QMS answers (an unknown lot is a 404 the connector expects and turns into its own error)
  await expect(ports.qms.getUsageDecision('no-such-lot')).rejects.toMatchObject({
    code: 'QLK_REMOTE_REJECTED',
  })

  const r = await hub.q.app.inject({ method: 'GET', url: '/ui/connectors' })
  expect(r.statusCode).toBe(200)
  expect(r.headers['content-security-policy']).toContain("script-src 'self'")
  expect(r.body).toContain('<a href="/ui/connectors" class="active">Connectors</a>')
  expect(r.body).toMatch(
    /<strong>1<\/strong> down \(circuit open\), <strong>0<\/strong> degraded, of 3 connectors/,
  )

  const sap = rowOf(r.body, 'sap-p100')
  expect(sap).toContain('<span class="badge bad">down</span>')
  expect(sap).toContain(`<code>${new URL(hub.erp.url).origin}</code>`)
  expect(sap).toContain('<span class="badge bad">open</span>')
  expect(sap).toContain('1 (1 failed)')
  expect(sap).toMatch(/<code class="code">QLK_REMOTE_UNAVAILABLE<\/code> 503 on GET/)

  const qmsRow = rowOf(r.body, 'qms-cloud')
  expect(qmsRow).toContain('<span class="badge ok">ok</span>')
  expect(qmsRow).toContain('<span class="badge ok">closed</span>')
  expect(qmsRow).toContain('no waits')

  const chat = rowOf(r.body, 'chat')
  expect(chat).toContain('<span class="badge muted">idle</span>')
  expect(chat).toContain('no call yet')
})

it('says so when the process has no connectors', async () => {
  const bare = await startQualink({
    store: hub.store,
    port: 0,
    logger: pino({ level: 'silent' }),
    anchorFile: `${hub.db.dir}/anchors-2.jsonl`,
    runEngine: false,
  })
  try {
    const r = await bare.app.inject({ method: 'GET', url: '/ui/connectors' })
    expect(r.statusCode).toBe(200)
    expect(r.body).toContain('No connectors configured.')
  } finally {
    await bare.close()
  }
})
