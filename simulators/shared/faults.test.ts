import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Faults } from './faults.ts'
import { type HttpSim, Router, startHttpSim } from './http.ts'

let sim: HttpSim
let faults: Faults
let applied = 0

beforeEach(async () => {
  applied = 0
  faults = new Faults()
  const router = new Router().on('POST', /^\/things$/, () => {
    applied++
    return { status: 201, body: { n: applied } }
  })
  sim = await startHttpSim({ port: 0, router, faults, state: () => ({ applied }) })
})
afterEach(() => sim.close())

const post = (signal?: AbortSignal) => fetch(`${sim.url}/things`, { method: 'POST', body: '{}', signal })

describe('fault injection over HTTP', () => {
  it('answers 429 with Retry-After without applying the request', async () => {
    faults.set({ rateLimitRate: 1, retryAfterSeconds: 7, times: 1 })
    const res = await post()
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('7')
    expect(applied).toBe(0)
    expect((await post()).status).toBe(201)
  })

  it('answers the configured 5xx without applying the request', async () => {
    faults.set({ errorRate: 1, errorStatus: 502 })
    expect((await post()).status).toBe(502)
    expect(applied).toBe(0)
  })

  it('hangs: the client gets no answer and the request is not applied', async () => {
    faults.set({ hangRate: 1 })
    await expect(post(AbortSignal.timeout(150))).rejects.toThrow()
    expect(applied).toBe(0)
    expect(sim.stats.hanging).toBe(1)
  })

  it('commit-then-drop applies the change and destroys the socket', async () => {
    faults.set({ dropResponseRate: 1, times: 1 })
    await expect(post()).rejects.toThrow()
    expect(applied).toBe(1)
    expect(sim.stats.dropped).toBe(1)
    const ok = await post()
    expect(await ok.json()).toEqual({ n: 2 })
  })

  it('adds latency before handling', async () => {
    faults.set({ latencyMs: 60 })
    const t0 = performance.now()
    expect((await post()).status).toBe(201)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55)
  })

  it('restricts faults to matching method and path', async () => {
    faults.set({ errorRate: 1, match: { method: 'POST', path: '/other' } })
    expect((await post()).status).toBe(201)
  })

  it('is configurable through /__sim/faults and exposes /__sim/state', async () => {
    const put = await fetch(`${sim.url}/__sim/faults`, {
      method: 'PUT',
      body: JSON.stringify({ errorRate: 1, errorStatus: 500 }),
    })
    expect(put.status).toBe(200)
    expect((await post()).status).toBe(500)
    const bad = await fetch(`${sim.url}/__sim/faults`, {
      method: 'PUT',
      body: JSON.stringify({ errorRate: 2 }),
    })
    expect(bad.status).toBe(400)
    await fetch(`${sim.url}/__sim/faults`, { method: 'DELETE' })
    expect((await post()).status).toBe(201)
    expect(await (await fetch(`${sim.url}/__sim/state`)).json()).toEqual({ applied: 1 })
  })

  it('makes the same decisions for the same seed', () => {
    const decisions = (seed: number) => {
      const f = new Faults({ errorRate: 0.3, dropResponseRate: 0.3, duplicateRate: 0.5, seed })
      return Array.from({ length: 50 }, () => `${f.decideRequest('POST', '/x').kind}/${f.decideCallback()}`)
    }
    expect(decisions(7)).toEqual(decisions(7))
    expect(decisions(7)).not.toEqual(decisions(8))
  })
})
