import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashApiKey } from '../../src/server/auth.ts'
import { createOperation } from '../../src/store/operations.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, bearerCall, type DemoHub, demoEvent, startDemoHub, until } from './harness.ts'

const KEYS = {
  operator: 'k-ops-operator-all-7c1e9a',
  p100: 'k-ops-operator-p100-3b8d2f',
  p200viewer: 'k-ops-viewer-p200-9e4a1c',
  viewer: 'k-ops-viewer-all-5f0b7d',
  admin: 'k-ops-admin-all-2d6c8e',
} as const
const FORM = { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' }

/**
 * Bulk replay as a long operation (issue 9 item 3): the request is validated, signed off and
 * answered at once with a stored operation; the replay goes on in the background, and any caller
 * who may see the operation polls it (GET /v1/operations/:id, the dashboard's fragment).
 */
describe.each(DIALECTS)('long operations: bulk replay progress on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startDemoHub(dialect, {
      apiKeys: [
        { id: 'operator', sha256: hashApiKey(KEYS.operator), roles: ['operator'], plants: ['*'] },
        { id: 'p100', sha256: hashApiKey(KEYS.p100), roles: ['operator'], plants: ['P100'] },
        { id: 'p200-viewer', sha256: hashApiKey(KEYS.p200viewer), roles: ['viewer'], plants: ['P200'] },
        { id: 'viewer', sha256: hashApiKey(KEYS.viewer), roles: ['viewer'], plants: ['*'] },
        { id: 'admin', sha256: hashApiKey(KEYS.admin), roles: ['admin'], plants: ['*'] },
      ],
    })
  })
  afterEach(async () => {
    await hub?.close()
    hub = undefined
  })

  const call = (key: string, method: 'GET' | 'POST', url: string, body?: object) =>
    bearerCall(hub!.q, key, method, url, body)
  const open = () => hub!.store.engine.listDeadLetters(ALL, { status: 'open', limit: 100 })

  /** failing demo orders, one open dead letter each */
  async function deadLetters(orders: ReadonlyArray<readonly [string, string]>) {
    for (const [order, plant] of orders) {
      const r = await call(
        KEYS.operator,
        'POST',
        '/v1/events',
        demoEvent('order_received', { order, lines: 1, failOnLine: 1 }, { plant }),
      )
      expect(r.statusCode).toBe(202)
    }
    await until(async () => (await open()).length === orders.length)
  }

  /** Polls the operation until it is finished, keeping every `done` seen on the way. */
  async function follow(key: string, id: string) {
    const seen: number[] = []
    let last: Record<string, unknown> = {}
    await until(async () => {
      const r = await call(key, 'GET', `/v1/operations/${id}`)
      expect(r.statusCode).toBe(200)
      last = r.json()
      seen.push(Number(last.done))
      return last.status !== 'running'
    })
    return { last, seen }
  }

  it('answers 202 at once with the operation, which moves from 0 to the total and counts a refused replay', async () => {
    await deadLetters([
      ['O-1', 'P100'],
      ['O-2', 'P100'],
      ['O-3', 'P100'],
      ['O-4', 'P200'],
    ])
    // O-1's run is taken off the key (as a skip policy would) and O-2's run moved onto it: O-1 can
    // no longer be replayed, because its key has an active run; the engine refuses that one.
    const byKey = new Map((await open()).map((d) => [d.key, d]))
    const o1 = byKey.get('O-1')!
    const o2 = byKey.get('O-2')!
    await hub!.store.sql.run(`UPDATE workflow_runs SET status = 'dead' WHERE id = ?`, [o1.runId])
    await hub!.store.sql.run('UPDATE workflow_runs SET run_key = ? WHERE id = ?', ['O-1', o2.runId])

    const r = await call(KEYS.operator, 'POST', '/v1/dead-letters/replay', {})
    expect(r.statusCode).toBe(202)
    const { operation } = r.json()
    expect(r.headers.location).toBe(`/v1/operations/${operation.id}`)
    expect(operation).toMatchObject({ kind: 'bulk-replay', status: 'running', total: 4, done: 0, failed: 0 })
    expect(operation.plants).toBeNull()

    const { last, seen } = await follow(KEYS.viewer, operation.id)
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
    expect(last).toMatchObject({ status: 'completed', total: 4, done: 4, failed: 1, actor: 'api:operator' })
    expect(last.result).toMatchObject({ requested: 4, replayed: 3, refused: 1, gone: 0 })
    const [refusal] = (last.result as { refusals: Array<{ id: number; code: string; detail: string }> })
      .refusals
    expect(refusal).toMatchObject({ id: o1.id, key: 'O-1', code: 'QLK_VALIDATION' })
    expect(refusal!.detail).toMatch(/another run of key 'O-1' is active/)
    const audit = await hub!.store.listAudit(ALL, { action: 'dead_letter.replayed', limit: 10 })
    expect(audit.map((a) => a.subject).sort()).toEqual(['O-2', 'O-3', 'O-4'])
  })

  it('keeps the waiting answer for callers that rely on it (?wait=true, qualink dlq replay)', async () => {
    await deadLetters([
      ['O-1', 'P100'],
      ['O-2', 'P100'],
    ])
    const r = await call(KEYS.operator, 'POST', '/v1/dead-letters/replay?wait=true', {})
    expect(r.statusCode).toBe(202)
    const body = r.json()
    expect(body.replayed.map((d: { key: string }) => d.key).sort()).toEqual(['O-1', 'O-2'])
    expect(body.refused).toEqual([])
    expect(body.operation).toMatchObject({ status: 'completed', done: 2, total: 2 })
  })

  it('scopes an operation to the plants of whoever started it; roles and CSRF as for any replay', async () => {
    await deadLetters([
      ['O-1', 'P100'],
      ['O-2', 'P200'],
    ])
    const before = new Map((await open()).map((d) => [d.key, d.id]))
    const statusOf = async (id: number) =>
      (await hub!.store.engine.listDeadLetters(ALL, { limit: 100 })).find((d) => d.id === id)?.status
    expect((await call(KEYS.viewer, 'POST', '/v1/dead-letters/replay', {})).json()).toMatchObject({
      status: 403,
      code: 'QLK_FORBIDDEN',
    })
    const r = await call(KEYS.p100, 'POST', '/v1/dead-letters/replay', {})
    expect(r.statusCode).toBe(202)
    const { operation } = r.json()
    expect(operation.plants).toEqual(['P100'])
    expect(operation.total).toBe(1)
    const { last } = await follow(KEYS.p100, operation.id)
    expect(last).toMatchObject({ status: 'completed', done: 1 })
    // another plant's caller learns nothing, not even that it exists; an all-plants one sees it
    const other = await call(KEYS.p200viewer, 'GET', `/v1/operations/${operation.id}`)
    expect(other.json()).toMatchObject({ status: 404, code: 'QLK_NOT_FOUND' })
    expect((await call(KEYS.viewer, 'GET', `/v1/operations/${operation.id}`)).statusCode).toBe(200)
    expect((await call(KEYS.p200viewer, 'GET', `/ui/partials/operations/${operation.id}`)).statusCode).toBe(
      404,
    )
    // (a replayed run that fails again opens a new dead letter: the originals say what was touched)
    expect([await statusOf(before.get('O-1')!), await statusOf(before.get('O-2')!)]).toEqual([
      'replayed',
      'open',
    ])

    // the dashboard's bulk replay refuses a post from another site before anything runs
    const crossSite = await hub!.q.app.inject({
      method: 'POST',
      url: '/ui/exceptions/bulk/replay',
      headers: { ...FORM, authorization: `Bearer ${KEYS.operator}`, 'sec-fetch-site': 'cross-site' },
      payload: `id=${before.get('O-2')}`,
    })
    expect(crossSite.statusCode).toBe(403)
    expect(crossSite.body).toContain('came from another site')
    expect(await statusOf(before.get('O-2')!)).toBe('open')
  })

  it('reads a running operation whose process stopped reporting as interrupted', async () => {
    const op = await createOperation(hub!.store, {
      kind: 'bulk-replay',
      scope: ALL,
      actor: 'api:operator',
      total: 10,
      status: 'running',
      owner: '4242',
    })
    // while it still reads as running, the Exceptions page shows its bar to whoever may see it
    const poll = `hx-get="/ui/partials/operations/${op.id}"`
    expect((await call(KEYS.viewer, 'GET', '/ui/exceptions')).body).toContain(poll)
    expect((await call(KEYS.p200viewer, 'GET', '/ui/exceptions')).body).not.toContain(op.id)
    await hub!.store.sql.run(
      'UPDATE operations SET done = 3, updated_at_ms = updated_at_ms - 60000 WHERE id = ?',
      [op.id],
    )
    const r = (await call(KEYS.viewer, 'GET', `/v1/operations/${op.id}`)).json()
    expect(r).toMatchObject({ status: 'interrupted', done: 3, total: 10 })
    expect(r.message).toMatch(/the process running it \(4242\) stopped reporting 60 s ago/)
    const fragment = await call(KEYS.viewer, 'GET', `/ui/partials/operations/${op.id}`)
    expect(fragment.body).toContain('data-status="interrupted"')
    expect(fragment.body).not.toContain('hx-trigger="every 1s"')
    expect((await call(KEYS.viewer, 'GET', '/ui/exceptions')).body).not.toContain(poll)
  })

  it('leaves no operation running after a clean shutdown: it finishes, or says where it stopped', async () => {
    await deadLetters(Array.from({ length: 8 }, (_, i) => [`O-${i}`, 'P100'] as const))
    const r = await call(KEYS.operator, 'POST', '/v1/dead-letters/replay', {})
    expect(r.statusCode).toBe(202)
    const { operation } = r.json()
    await hub!.q.close()
    const [row] = await hub!.store.sql.all(
      'SELECT status, done, total, message FROM operations WHERE id = ?',
      [operation.id],
    )
    const done = Number(row!.done)
    if (row!.status === 'completed') expect(done).toBe(8)
    else {
      expect(row!.status).toBe('failed')
      expect(done).toBeLessThan(8)
      expect(row!.message).toBe(
        `the server shut down after ${done} of 8; the rest stay open: preview and replay them again`,
      )
    }
    const replayed = await hub!.store.engine.listDeadLetters(ALL, { status: 'replayed', limit: 100 })
    expect(replayed).toHaveLength(done)
  })

  it('refuses "Reconcile now" where reconciliation is not configured', async () => {
    const r = await call(KEYS.admin, 'POST', '/v1/drift/reconcile')
    expect(r.json()).toMatchObject({ status: 409, code: 'QLK_RECONCILIATION_OFF' })
    expect((await call(KEYS.operator, 'POST', '/v1/drift/reconcile')).json()).toMatchObject({
      status: 403,
      code: 'QLK_FORBIDDEN',
    })
    const page = await call(KEYS.admin, 'GET', '/ui/drift')
    expect(page.body).toContain('Reconciliation is not configured on this deployment')
    expect(page.body).not.toContain('Reconcile now</button>')
  })
})
