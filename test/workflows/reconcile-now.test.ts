import { describe, expect, it } from 'vitest'
import { hashApiKey } from '../../src/server/auth.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, bearerCall, until } from '../engine/harness.ts'
import { receiveGoods } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const KEYS = {
  admin: 'k-reconcile-admin-8a1f4c',
  operator: 'k-reconcile-operator-2e7b9d',
  viewer: 'k-reconcile-viewer-6c3a0e',
  auditor: 'k-reconcile-auditor-1d9e5b',
} as const
const HTMX = { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' }

/**
 * "Reconcile now" (issue 9 item 3): any process takes the request, the one holding the
 * reconciliation lease runs the pass soon after and reports its progress per page of lots.
 */
describe.each(DIALECTS)('reconcile now, with progress, on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' } }, webhook: true },
    qms: { webhook: true },
    workflows: [supplierReceiptInspection()],
    // the schedule never comes round in a test: every pass here is asked for
    reconcile: { intervalMs: 3_600_000, policy: () => 'alert' },
    apiKeys: [
      { id: 'admin', sha256: hashApiKey(KEYS.admin), roles: ['admin'], plants: ['*'] },
      { id: 'operator', sha256: hashApiKey(KEYS.operator), roles: ['operator'], plants: ['*'] },
      { id: 'viewer', sha256: hashApiKey(KEYS.viewer), roles: ['viewer'], plants: ['*'] },
      { id: 'auditor', sha256: hashApiKey(KEYS.auditor), roles: ['auditor'], plants: ['*'] },
    ],
  }))
  const call = (key: string, method: 'GET' | 'POST', url: string) => bearerCall(hub.q, key, method, url)

  /** `n` receipts inspected and decided: `n` completed receipt-inspection runs to reconcile */
  async function inspectedLots(n: number) {
    for (let i = 0; i < n; i++) {
      await receiveGoods(hub.erp, `B${i + 1}`, '100')
      await until(() => hub.qms.state.inspectionLots.length === i + 1)
      hub.qms.makeUsageDecision(String(hub.qms.state.inspectionLots[i]!.id), {
        decision: 'ACCEPT',
        code: 'A1',
        dispositions: [{ disposition: 'USE_AS_IS', quantity: '100' }],
      })
    }
    await until(
      async () => (await hub.store.engine.listRuns(ALL, { status: 'completed', limit: 10 })).length === n,
    )
  }

  it('reports progress after each page of lots, up to the completed runs counted at the start', async () => {
    await inspectedLots(3)
    const seen: string[] = []
    await hub.q.reconciler!.runOnce({
      pageSize: 1,
      onProgress: async (p) => {
        seen.push(`${p.done}/${p.total}`)
      },
    })
    // page size 1 holds a lot's runs back until the next page: a page of lots is judged at a time
    expect(seen[0]).toBe('0/3')
    expect(seen.at(-1)).toBe('3/3')
    const done = seen.map((s) => Number(s.split('/')[0]))
    expect(done).toEqual([...done].sort((a, b) => a - b))
  })

  it('runs a requested pass on the lease holder; admins only; the dashboard shows the bar', async () => {
    await inspectedLots(2)
    expect((await call(KEYS.operator, 'POST', '/v1/drift/reconcile')).json()).toMatchObject({
      status: 403,
      code: 'QLK_FORBIDDEN',
    })
    const asked = await call(KEYS.admin, 'POST', '/v1/drift/reconcile')
    expect(asked.statusCode).toBe(202)
    const op = asked.json()
    expect(asked.headers.location).toBe(`/v1/operations/${op.id}`)
    expect(op).toMatchObject({ kind: 'reconciliation', status: 'pending', done: 0, total: null })
    // asked again before it finished: the same pass, not a second one
    const again = await call(KEYS.admin, 'POST', '/v1/drift/reconcile')
    if (again.statusCode === 200) expect(again.json().id).toBe(op.id)
    else expect(again.json().status).toBe('completed')

    let last: Record<string, unknown> = {}
    await until(async () => {
      last = (await call(KEYS.viewer, 'GET', `/v1/operations/${op.id}`)).json()
      return last.status === 'completed'
    })
    expect(last).toMatchObject({ done: 2, total: 2, failed: 0, actor: 'api:admin' })
    expect(last.result).toEqual({ runsReconciled: 2, openDrift: 0 })
    const audit = await hub.store.listAudit(ALL, { action: 'reconciliation.requested', limit: 5 })
    expect(audit.map((a) => a.subject)).toContain(op.id)

    // the drift page: the button for admins, the last pass's bar for everyone
    const adminPage = await call(KEYS.admin, 'GET', '/ui/drift')
    expect(adminPage.body).toContain('Reconcile now</button>')
    expect(adminPage.body).toContain('<progress max="2" value="2"')
    const viewerPage = await call(KEYS.viewer, 'GET', '/ui/drift')
    expect(viewerPage.body).not.toContain('Reconcile now</button>')
    expect(viewerPage.body).toContain('needs the admin role')

    const ui = (key: string, headers: Record<string, string> = {}) =>
      hub.q.app.inject({
        method: 'POST',
        url: '/ui/drift/reconcile',
        headers: { ...HTMX, authorization: `Bearer ${key}`, ...headers },
        payload: '',
      })
    expect((await ui(KEYS.viewer)).statusCode).toBe(403)
    const crossSite = await ui(KEYS.admin, { 'sec-fetch-site': 'cross-site' })
    expect(crossSite.statusCode).toBe(403)
    expect(crossSite.body).toContain('came from another site')
    const clicked = await ui(KEYS.admin, { 'sec-fetch-site': 'same-origin' })
    expect(clicked.statusCode).toBe(202)
    const poll = /hx-get="(\/ui\/partials\/operations\/[0-9a-f-]+)" hx-trigger="every 1s"/.exec(clicked.body)
    expect(poll).not.toBeNull()
    let fragment = ''
    await until(async () => {
      fragment = (await call(KEYS.viewer, 'GET', poll![1]!)).body
      return fragment.includes('data-status="completed"')
    })
    expect(fragment).toContain('<progress max="2" value="2"')
    expect(fragment).toContain('2 completed receipt inspections reconciled; 0 lot(s) with open drift')
  })

  it('offers the lot exports as downloads, the evidence bundle to auditors only', async () => {
    await inspectedLots(1)
    // on PostgreSQL the genealogy projection reads below the visibility watermark: wait for the lot
    await until(async () => (await call(KEYS.viewer, 'GET', '/v1/lots/B1')).statusCode === 200)
    const page = await call(KEYS.viewer, 'GET', '/ui/lots/B1')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('href="/ui/lots/B1/recall.csv" download')
    expect(page.body).toContain('href="/ui/lots/B1/isa95.xml" download')
    expect(page.body).not.toContain('href="/ui/lots/B1/evidence"')
    expect(page.body).toContain('Evidence bundle: needs the auditor role')
    const csv = await call(KEYS.viewer, 'GET', '/ui/lots/B1/recall.csv')
    expect(csv.statusCode).toBe(200)
    expect(csv.headers['content-disposition']).toBe('attachment; filename="recall-B1.csv"')
    expect(csv.body.split('\n')[0]).toBe(
      'record,lot,plant,material,depth,bucket_or_delivery,customer,quantity,uom',
    )
    const xml = await call(KEYS.viewer, 'GET', '/ui/lots/B1/isa95.xml')
    expect(xml.headers['content-type']).toMatch(/^application\/xml/)
    expect(xml.body).toContain('MaterialLot')
    expect((await call(KEYS.viewer, 'GET', '/ui/lots/B1/evidence')).statusCode).toBe(403)
    expect((await call(KEYS.auditor, 'GET', '/ui/lots/B1')).body).toContain(
      'href="/ui/lots/B1/evidence" download',
    )
    // a bundle carries sealed audit entries (with their chain proof): wait for the sealer
    await until(async () => (await hub.store.countUnsealedAudit()) === 0)
    const evidence = await call(KEYS.auditor, 'GET', '/ui/lots/B1/evidence')
    expect(evidence.headers['content-disposition']).toBe('attachment; filename="evidence-B1.json"')
    const api = (await call(KEYS.auditor, 'GET', '/v1/lots/B1/evidence')).json()
    expect(evidence.json().lot).toBe(api.lot)
    expect(evidence.json().audit.length).toBeGreaterThan(0)
    expect((await call(KEYS.viewer, 'GET', '/ui/lots/NOPE/recall.csv')).statusCode).toBe(404)
  })
})
