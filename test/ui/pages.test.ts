import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../../src/ui/security-headers.ts'
import { ALL, type Dashboard, EVIL_KEY, SECRET, startDashboard, until } from './fixture.ts'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const HTMX = { ...FORM, 'hx-request': 'true' }
const ESCAPED_EVIL = '&lt;script&gt;alert(&quot;qlk&quot;)&lt;/script&gt;'

describe('dashboard pages and actions (fastify inject)', () => {
  let d: Dashboard
  beforeAll(async () => {
    d = await startDashboard()
  })
  afterAll(async () => {
    await d?.close()
  })

  const get = (url: string, headers: Record<string, string> = {}) =>
    d.q.app.inject({ method: 'GET', url, headers })
  const post = (url: string, payload: string, headers: Record<string, string> = HTMX) =>
    d.q.app.inject({ method: 'POST', url, payload, headers })

  it('sends the security headers on every dashboard response, and not a relaxed policy', async () => {
    const a = d.dead.get('A-100')!
    for (const url of [
      '/',
      '/ui/exceptions',
      `/ui/exceptions/${a.id}`,
      '/ui/runs',
      '/ui/style.css',
      '/ui/htmx.min.js',
      '/ui/exceptions/999999',
    ]) {
      const r = await get(url)
      expect(r.headers['content-security-policy'], url).toBe(CONTENT_SECURITY_POLICY)
      expect(r.headers['x-content-type-options'], url).toBe('nosniff')
      expect(r.headers['referrer-policy'], url).toBe('no-referrer')
      expect(r.headers['x-frame-options'], url).toBe('DENY')
    }
    const refused = await post(`/ui/exceptions/${a.id}/discard`, 'reason=')
    expect(refused.headers['x-frame-options']).toBe('DENY')
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/)
    expect(CONTENT_SECURITY_POLICY).toMatch(/script-src 'self'.*style-src 'self'/)
    // The API keeps its own headers: the dashboard's policy is encapsulated.
    expect((await get('/v1/runs')).headers['content-security-policy']).toBeUndefined()
  })

  it('pages carry no inline script or style, and nav links to every page', async () => {
    const body = (await get('/')).body
    expect(body).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=/)
    for (const href of ['/ui/exceptions', '/ui/runs', '/ui/events', '/ui/audit', '/ui/mass-release'])
      expect(body).toContain(`href="${href}"`)
  })

  it('mass release: without the lot-release workflow the page says signing is refused', async () => {
    const r = await get('/ui/mass-release')
    expect(r.statusCode).toBe(200)
    expect(r.body).toContain('workflow is not enabled here')
    expect(r.body).not.toMatch(/<script>|<style|\sstyle=/)
  })

  it('overview shows the engine cards beside the existing ones', async () => {
    const body = (await get('/ui/partials/overview')).body
    expect(body).toMatch(/<div class="value bad">4<\/div><div class="label">open dead letters/)
    expect(body).toMatch(/>1<\/div><div class="label">runs waiting/)
    expect(body).toContain('keys blocked by a failed run')
    expect(body).toContain('events in the log')
    // The quality backlog speaks the plant's language; this fixture runs only kernel-demo orders.
    expect(body).toMatch(/>0<\/div><div class="label">orders on quality hold/)
    expect(body).toContain('lots awaiting a usage decision')
  })

  it('exceptions: grouped counts, a table with the hostile key escaped, filters', async () => {
    const r = await get('/ui/exceptions')
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toContain('text/html')
    expect(r.body).toContain('<strong>4</strong> open dead letters')
    expect(r.body).toMatch(/QLK_DEMO_REJECTED<\/a><span class="count">4</)
    expect(r.body).toContain(ESCAPED_EVIL)
    expect(r.body).not.toContain(EVIL_KEY)
    for (const key of ['A-100', 'B-200', 'C-300']) expect(r.body).toContain(key)
    const none = await get('/ui/exceptions?plant=P999')
    expect(none.body).toContain('No open dead letters match')
    const partial = await get('/ui/partials/exceptions?errorCode=QLK_DEMO_REJECTED')
    expect(partial.body).toMatch(/^<table class="dead-letters">/)
    expect(partial.body).not.toContain('<html')
  })

  it('dead-letter detail: envelope and journal with secrets redacted; unknown ids are an HTML 404', async () => {
    const a = d.dead.get('A-100')!
    const r = await get(`/ui/exceptions/${a.id}`)
    expect(r.body).toContain('&quot;authtoken&quot;: &quot;[redacted]&quot;')
    expect(r.body).not.toContain(SECRET)
    expect(r.body).toContain('post-line')
    expect(r.body).toContain('line 2 rejected by the ledger')
    const evil = await get(`/ui/exceptions/${d.dead.get(EVIL_KEY)!.id}`)
    expect(evil.body).not.toContain(EVIL_KEY)
    const missing = await get('/ui/exceptions/999999')
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['content-type']).toContain('text/html')
    expect(missing.body).toContain('dead letter 999999 not found')
  })

  it('discard: refused without a reason as a readable message aimed at the row, done with one', async () => {
    const c = d.dead.get('C-300')!
    const refused = await post(`/ui/exceptions/${c.id}/discard`, 'view=row&reason=%20%20')
    expect(refused.statusCode).toBe(422)
    expect(refused.headers['hx-retarget']).toBe(`#dl-${c.id}-msg`)
    expect(refused.body).toBe(
      '<p class="error">Not discarded. A reason is required (at least 3 characters, at most 500).</p>',
    )
    const plain = await post(`/ui/exceptions/${c.id}/discard`, 'reason=', FORM)
    expect(plain.statusCode).toBe(422)
    expect(plain.body).toContain('<!doctype html>')
    expect((await d.openDeadLetters()).map((x) => x.id)).toContain(c.id)

    const done = await post(
      `/ui/exceptions/${c.id}/discard`,
      'view=row&reason=duplicate+%3Cb%3Eorder%3C%2Fb%3E',
    )
    expect(done.statusCode).toBe(200)
    expect(done.body).toMatch(new RegExp(`^<tr id="dl-${c.id}" class="resolved">`))
    expect(done.body).toContain('duplicate &lt;b&gt;order&lt;/b&gt;')
    const [row] = (await d.store.engine.listDeadLetters(ALL, { status: 'discarded', limit: 10 })).filter(
      (x) => x.id === c.id,
    )
    expect(row).toMatchObject({ reason: 'duplicate <b>order</b>', resolvedBy: 'ui:anonymous' })
    const again = await post(`/ui/exceptions/${c.id}/discard`, 'reason=again')
    expect(again.statusCode).toBe(409)
    expect(again.body).toContain('no longer open')
  })

  it('replay: the row becomes resolved; a second replay is refused in words', async () => {
    const b = d.dead.get('B-200')!
    const r = await post(`/ui/exceptions/${b.id}/replay`, 'view=detail', {
      ...HTMX,
      'x-qualink-actor': 'alice',
    })
    expect(r.statusCode).toBe(200)
    expect(r.body).toMatch(/^<section id="dl-actions"/)
    expect(r.body).toContain('Replayed by ui:alice')
    const again = await post(`/ui/exceptions/${b.id}/replay`, 'view=row')
    expect(again.statusCode).toBe(409)
    expect(again.headers['hx-retarget']).toBe(`#dl-${b.id}-msg`)
    expect(again.body).toMatch(
      /^<p class="error">Dead letter \d+ is no longer open: it was replayed by ui:alice/,
    )
    await until(async () => (await d.openDeadLetters()).some((x) => x.key === 'B-200'))
  })

  it('bulk replay: a dry run lists exactly what would run; confirming replays those ids', async () => {
    const preview = await post('/ui/exceptions/bulk/preview', 'errorCode=QLK_DEMO_REJECTED&workflow=')
    const open = await d.openDeadLetters()
    expect(preview.body).toContain(
      `Dry run:</strong> ${open.length} dead letters match error QLK_DEMO_REJECTED`,
    )
    const ids = [...preview.body.matchAll(/name="id" value="(\d+)"/g)].map((m) => Number(m[1]))
    expect(ids.sort()).toEqual(open.map((x) => x.id).sort())
    expect(preview.body).toContain(ESCAPED_EVIL)
    expect((await d.openDeadLetters()).length).toBe(open.length)

    const empty = await post('/ui/exceptions/bulk/preview', 'errorCode=QLK_NOPE')
    expect(empty.body).toContain('Nothing would run')
    expect((await post('/ui/exceptions/bulk/replay', '')).statusCode).toBe(422)

    // Answered at once with the stored operation at 0; the fragment polls itself until done.
    const started = await post('/ui/exceptions/bulk/replay', [...ids, 999999].map((i) => `id=${i}`).join('&'))
    expect(started.statusCode).toBe(202)
    expect(started.body).toContain(`<progress max="${ids.length + 1}" value="0"`)
    const poll = /hx-get="(\/ui\/partials\/operations\/[0-9a-f-]+)" hx-trigger="every 1s"/.exec(started.body)
    expect(poll).not.toBeNull()
    let done = await get(poll![1]!)
    await until(async () => {
      done = await get(poll![1]!)
      return done.body.includes('data-status="completed"')
    })
    expect(done.headers['hx-trigger']).toBe('qlk-dead-letters-changed')
    expect(done.body).not.toContain('every 1s')
    expect(done.body).toContain(`<progress max="${ids.length + 1}" value="${ids.length + 1}"`)
    expect(done.body).toContain(`Replayed ${ids.length} of ${ids.length + 1}.`)
    expect(done.body).toContain('1 already resolved by someone else')
  })

  it('workflows: filter by status, run detail with journal and waits, cancel needs a reason', async () => {
    const waiting = await get('/ui/runs?status=waiting')
    expect(waiting.body).toContain('W-900')
    expect(waiting.body).not.toContain('A-100')
    const all = await get('/ui/runs?status=bogus')
    expect(all.body).toContain(ESCAPED_EVIL)
    expect(all.body).not.toContain(EVIL_KEY)
    expect((await get('/ui/runs?key=A-100')).body).not.toContain('W-900')

    const id = encodeURIComponent(d.waiting.id)
    const detail = await get(`/ui/runs/${id}`)
    expect(detail.body).toContain('qualink.demo.approval_given')
    expect(detail.body).toMatch(/<td><strong>post-line<\/strong><\/td>/)
    expect(detail.body).toContain('Cancel run')
    expect((await get('/ui/runs/nope')).statusCode).toBe(404)

    const refused = await post(`/ui/runs/${id}/cancel`, 'reason=no')
    expect(refused.statusCode).toBe(422)
    expect(refused.headers['hx-retarget']).toBe('#run-cancel-msg')
    expect(refused.body).toContain('Not cancelled. A reason is required')
    const done = await post(`/ui/runs/${id}/cancel`, 'reason=order+withdrawn')
    expect(done.statusCode).toBe(200)
    expect(done.body).toContain('Cancellation requested by ui:anonymous')
    await until(async () => (await d.store.engine.loadRun(ALL, d.waiting.id))?.run.status === 'cancelled')
    expect((await post(`/ui/runs/${id}/cancel`, 'reason=again')).statusCode).toBe(409)
  })

  it('audit page states the chain verdict up front', async () => {
    const r = await get('/ui/audit')
    expect(r.body).toMatch(/<div class="banner ok" role="status"><strong>Chain intact\.<\/strong>/)
  })
})
