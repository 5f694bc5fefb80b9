import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import type { DeadLetter } from '../../src/store/engine-types.ts'
import { qualinkArgs } from '../bundle.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, append, demoEvent, until } from '../engine/harness.ts'
import { usageDecisionWorkflow } from '../fixtures/usage-decision-workflow.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'

const recordDecision = usageDecisionWorkflow('dl-connector-check')

/**
 * Exceptions grouped by connector: a dead letter records the connector instance (and the called
 * origin) whose call failed the run, on both dialects; GET /v1/dead-letters?connector= and the
 * dashboard's Exceptions page (group counts, filter) read it.
 */
describe.each(DIALECTS)('dead letters name the failing connector on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' } } },
    egress: { timeoutMs: 2000 },
    workflows: [recordDecision],
  }))
  const start = (order: string, lot: string) =>
    append(hub.store, demoEvent('order_received', { order, lines: 1, lot }, { plant: 'P100' }))
  const api = async (url: string) => {
    const r = await hub.q.app.inject({ method: 'GET', url })
    expect(r.statusCode, url).toBe(200)
    return r
  }

  it('an ERP outage and a workflow rule: connector and target recorded, grouped and filtered', async () => {
    hub.erp.faults.set({ errorRate: 1, errorStatus: 503 })
    await start('O-1', '010000000001')
    await start('O-2', '010000000002')
    await start('O-3', 'RULE')
    await until(async () => (await hub.store.engine.listDeadLetters(ALL, { limit: 10 })).length === 3)
    const origin = new URL(hub.erp.url).origin
    const byKey = new Map(
      (await hub.store.engine.listDeadLetters(ALL, { limit: 10 })).map((d) => [d.key, d] as const),
    )
    expect(byKey.get('O-1')).toMatchObject({
      connector: 'erp',
      target: origin,
      errorCode: 'QLK_REMOTE_UNAVAILABLE',
    })
    expect(byKey.get('O-2')).toMatchObject({ connector: 'erp', target: origin })
    expect(byKey.get('O-3')).toMatchObject({ connector: null, target: null, errorCode: 'QLK_VALIDATION' })

    const erpOnly = (await api('/v1/dead-letters?connector=erp')).json() as { deadLetters: DeadLetter[] }
    expect(erpOnly.deadLetters.map((d) => d.key).sort()).toEqual(['O-1', 'O-2'])
    const none = (await api('/v1/dead-letters?connector=qms')).json() as { deadLetters: DeadLetter[] }
    expect(none.deadLetters).toEqual([])

    if (dialect === 'sqlite') {
      // qualink dlq list --connector: the same filter, with a connector column
      const { stdout } = await promisify(execFile)(
        process.execPath,
        qualinkArgs('dlq', 'list', '--connector', 'erp', '--url', hub.q.url),
        { timeout: 60_000 },
      )
      const lines = stdout.trim().split('\n')
      expect(lines[0]).toMatch(/errorCode\s+connector\s+attempts/)
      expect(lines.filter((l) => /\bO-[12]\b.*\berp\b/.test(l))).toHaveLength(2)
      expect(stdout).not.toContain('O-3')
    }

    const page = (await api('/ui/exceptions')).body
    const panel = page.slice(page.indexOf('<h3>By connector</h3>'))
    expect(panel).toMatch(/\?connector=erp">erp<\/a><span class="count">2<\/span>/)
    expect(panel).toMatch(/\?connector=%28none%29">\(none\)<\/a><span class="count">1<\/span>/)
    expect(page).toContain(`<code>erp</code><div class="error-text">${origin}</div>`)

    const filtered = (await api('/ui/exceptions?connector=erp')).body
    expect(filtered).toContain('<strong>2</strong> match the filter')
    expect(filtered).toContain('<code>O-1</code>')
    expect(filtered).not.toContain('<code>O-3</code>')
    // a bulk replay preview narrowed to the connector lists exactly its dead letters
    const preview = await hub.q.app.inject({
      method: 'POST',
      url: '/ui/exceptions/bulk/preview',
      payload: 'errorCode=&workflow=&connector=erp',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' },
    })
    expect(preview.statusCode).toBe(200)
    expect(preview.body).toContain('Dry run:</strong> 2 dead letters match connector erp')
    const previewed = [...preview.body.matchAll(/name="id" value="(\d+)"/g)].map((m) => Number(m[1]))
    expect(previewed.sort()).toEqual([byKey.get('O-1')!.id, byKey.get('O-2')!.id].sort())

    const rule = (await api('/ui/exceptions?connector=%28none%29')).body
    expect(rule).toContain('<strong>1</strong> match the filter')
    expect(rule).toContain('<code>O-3</code>')
    expect(rule).not.toContain('<code>O-1</code>')
  })
})
