import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { crossSiteRefusal } from '../../src/security/csrf.ts'
import { type Dashboard, startDashboard } from '../ui/fixture.ts'

describe('dashboard actions refuse cross-site posts (CSRF)', () => {
  let d: Dashboard
  beforeAll(async () => {
    d = await startDashboard()
  })
  afterAll(async () => d?.close())

  const host = () => new URL(d.url).host
  const post = (url: string, headers: Record<string, string>, body = 'reason=duplicate%20order') =>
    d.q.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: host(), ...headers },
      payload: body,
    })

  it('refuses a forged cross-site form post, over real HTTP too, and changes nothing', async () => {
    const dl = d.dead.get('C-300')!
    const forged: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
    ]
    for (const headers of forged) {
      for (const action of ['replay', 'discard']) {
        const r = await post(`/ui/exceptions/${dl.id}/${action}`, headers)
        expect(r.statusCode, JSON.stringify(headers)).toBe(403)
        expect(r.headers['content-type']).toMatch(/text\/html/)
        expect(r.body).toMatch(/Action refused: the request came from another/)
      }
    }
    // The same refusal over a real socket, as a browser on another site would send it.
    const real = await fetch(`${d.url}/ui/exceptions/${dl.id}/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'view=row',
    })
    expect(real.status).toBe(403)
    await real.arrayBuffer()
    const still = (await d.openDeadLetters()).find((x) => x.id === dl.id)
    expect(still?.status).toBe('open')
  })

  it('lets the dashboard’s own same-origin post through', async () => {
    const dl = d.dead.get('B-200')!
    const r = await post(`/ui/exceptions/${dl.id}/discard`, { 'sec-fetch-site': 'same-origin' })
    expect(r.statusCode).toBe(200)
    expect((await d.openDeadLetters()).some((x) => x.id === dl.id)).toBe(false)
    const byOrigin = await post('/ui/exceptions/bulk/preview', { origin: `http://${host()}` }, '')
    expect(byOrigin.statusCode).toBe(200)
  })
})

describe('crossSiteRefusal', () => {
  it('trusts Sec-Fetch-Site first, then an Origin equal to the host, and non-browser clients', () => {
    const h = { host: 'qualink.plant:8080' }
    expect(
      crossSiteRefusal({ ...h, 'sec-fetch-site': 'same-origin', origin: 'null' }, 'http'),
    ).toBeUndefined()
    expect(crossSiteRefusal({ ...h, 'sec-fetch-site': 'none' }, 'http')).toMatch(/Sec-Fetch-Site: none/)
    expect(crossSiteRefusal({ ...h, origin: 'http://qualink.plant:8080' }, 'http')).toBeUndefined()
    expect(crossSiteRefusal({ ...h, origin: 'http://qualink.plant:8080' }, 'https')).toMatch(/another origin/)
    expect(crossSiteRefusal(h, 'http')).toBeUndefined()
  })
})
