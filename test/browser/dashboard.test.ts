import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../src/signatures/password.ts'
import { type DemoHub, startDemoHub } from '../engine/harness.ts'
import { ALL, type Dashboard, EVIL_KEY, SECRET, startDashboard, until } from '../ui/fixture.ts'
import { launchChromium, present, requireChromium } from './chromium.ts'

/** The dashboard in a real browser (Chromium, see ./chromium.ts) against the kernel fixture. */
requireChromium('dashboard')

describe.runIf(present)('dashboard in Chromium', () => {
  let d: Dashboard
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined
  let page: Page
  const shots = path.resolve('test-output', 'screenshots', new Date().toISOString().replace(/[:.]/g, '-'))
  let problems: string[] = []
  let dialogs = 0

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    d = await startDashboard()
    chromium = await launchChromium()
    page = chromium.page
    problems = chromium.problems
    page.on('dialog', async (dlg) => {
      dialogs++
      await dlg.dismiss()
    })
  }, 60_000)

  afterAll(async () => {
    await chromium?.close()
    await d?.close()
    console.log(`dashboard screenshots: ${shots}`)
  })

  async function visit(pathname: string, shot: string, heading: RegExp): Promise<void> {
    const before = problems.length
    const res = await page.goto(d.url + pathname, { waitUntil: 'load' })
    expect(res?.status(), pathname).toBe(200)
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'")
    await page.waitForFunction('"htmx" in window')
    await expect.poll(() => page.locator('h1').textContent()).toMatch(heading)
    await page.screenshot({ path: path.join(shots, `${shot}.png`), fullPage: true })
    expect(problems.slice(before)).toEqual([])
  }

  it('loads every page without console errors, and escapes and redacts what it shows', async () => {
    const a = d.dead.get('A-100')!
    await visit('/', '01-overview', /Overview/)
    expect(
      await page.locator('.card', { hasText: 'open dead letters' }).locator('.value').textContent(),
    ).toBe('4')
    await visit('/ui/exceptions', '02-exceptions', /Exceptions/)
    expect(await page.locator('table.dead-letters').textContent()).toContain(EVIL_KEY)
    await visit(`/ui/exceptions/${a.id}`, '03-dead-letter', /Dead letter/)
    const detail = await page.locator('main').textContent()
    expect(detail).toContain('"authtoken": "[redacted]"')
    expect(detail).not.toContain(SECRET)
    await visit('/ui/runs', '04-workflows', /Workflows/)
    await visit(`/ui/runs/${encodeURIComponent(a.runId)}`, '05-run', /Workflow run/)
    expect(await page.locator('table.journal').textContent()).toContain('post-line')
    await visit('/ui/events', '06-events', /Events/)
    await visit('/ui/audit', '07-audit', /Audit/)
    expect(await page.locator('.banner').textContent()).toContain('Chain intact')
    await visit('/ui/lots', '08-lots', /Lots/)
    await visit('/ui/drift', '09-drift', /Drift/)
    await visit('/ui/connectors', '10-connectors', /Connectors/)
    expect(await page.locator('nav a.active').textContent()).toBe('Connectors')
    await visit('/ui/suppliers', '15-suppliers', /Suppliers/)
    await visit('/ui/api', '16-api', /API/)
    expect(await page.locator('section.api-op').count()).toBeGreaterThan(0)
    expect(dialogs).toBe(0)
  })

  it('draws the overview charts and the KPI sparklines under the CSP', async () => {
    await visit('/', '13-overview-charts', /Overview/)
    const aging = page.locator('svg[data-chart^="hold-aging-"]')
    expect(await aging.count()).toBe(2)
    expect((await aging.first().boundingBox())?.width).toBeGreaterThan(0)
    expect(await page.locator('svg[data-chart^="latency-"]').count()).toBe(3)
    await visit('/ui/kpis', '14-kpis', /Outcome KPIs/)
    // the four seeded dead letters, opened today, on the incidents row and its sparkline
    const incidents = page.locator('tr[data-kpi="dead-letters"]')
    expect(await incidents.locator('td.num').textContent()).toBe(String(d.dead.size))
    const spark = incidents.locator('svg.spark')
    expect((await spark.boundingBox())?.height).toBeGreaterThan(0)
    expect(await spark.locator('polyline').count()).toBe(1)
    expect(await page.locator('nav a.active').textContent()).toBe('KPIs')
  })

  it('replays a dead letter from the Exceptions page', async () => {
    const a = d.dead.get('A-100')!
    await page.goto(`${d.url}/ui/exceptions`)
    const row = page.locator(`#dl-${a.id}`)
    await row.getByRole('button', { name: 'Replay' }).click()
    await expect.poll(() => row.textContent()).toContain('Replayed by ui:anonymous')
    const after = await d.store.engine.listDeadLetters(ALL, { status: 'replayed', limit: 100 })
    expect(after.map((x) => x.id)).toContain(a.id)
    // The demo still rejects line 2: the replayed run resumes there and dead-letters again.
    await until(async () => (await d.openDeadLetters()).length === 4)
    expect(d.ledger.docs.filter((x) => x.key === 'A-100')).toHaveLength(1)
    await page.screenshot({ path: path.join(shots, '08-exceptions-replayed.png'), fullPage: true })
  })

  it('refuses a discard without a reason, in the page', async () => {
    const b = d.dead.get('B-200')!
    await page.goto(`${d.url}/ui/exceptions`)
    const row = page.locator(`#dl-${b.id}`)
    let posted = 0
    page.on('request', (r) => {
      if (r.url().endsWith(`/ui/exceptions/${b.id}/discard`)) posted++
    })
    await row.getByRole('button', { name: 'Discard' }).click()
    const reason = row.locator('input[name=reason]')
    expect(
      await reason.evaluate(
        (el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing,
      ),
    ).toBe(true)
    expect(posted).toBe(0)
    // Blank past the browser's check: the server refuses and says why, next to the button.
    await reason.fill('   ')
    await row.getByRole('button', { name: 'Discard' }).click()
    await expect.poll(() => row.locator('.msg').textContent()).toContain('A reason is required')
    expect(posted).toBe(1)
    // The refusal is a real 422; Chromium logs every 4xx fetch. That one entry is expected.
    const logged = problems.findIndex((p) => p.includes('status of 422'))
    expect(logged).toBeGreaterThanOrEqual(0)
    problems.splice(logged, 1)
    expect(await row.locator('table').count()).toBe(0)
    const open = await d.openDeadLetters()
    expect(open.map((x) => x.id)).toContain(b.id)
    await page.screenshot({ path: path.join(shots, '09-discard-refused.png'), fullPage: true })
  })

  it('bulk-replays after a dry-run preview', async () => {
    await page.goto(`${d.url}/ui/exceptions`)
    const bulk = page.locator('section.bulk')
    await bulk.locator('select[name=errorCode]').selectOption('QLK_DEMO_REJECTED')
    await bulk.getByRole('button', { name: 'Preview' }).click()
    await expect.poll(() => bulk.locator('#bulk-result').textContent()).toContain('Dry run: 4 dead letters')
    expect(await d.openDeadLetters()).toHaveLength(4)
    await page.screenshot({ path: path.join(shots, '10-bulk-preview.png'), fullPage: true })
    await bulk.getByRole('button', { name: 'Replay 4' }).click()
    // Answered at once with a progress bar, which polls itself (every 1 s) until the outcome.
    const bar = bulk.locator('#bulk-result .operation progress')
    await bar.waitFor()
    expect(await bar.getAttribute('max')).toBe('4')
    await page.screenshot({ path: path.join(shots, '11a-bulk-progress.png'), fullPage: true })
    await bulk.locator('#bulk-result .operation[data-status="completed"]').waitFor({ timeout: 30_000 })
    expect(await bar.getAttribute('value')).toBe('4')
    expect(await bulk.locator('#bulk-result .op-counts').textContent()).toContain('4 of 4 done')
    expect(await bulk.locator('#bulk-result').textContent()).toContain('Replayed 4 of 4.')
    const replayed = await d.store.engine.listDeadLetters(ALL, { status: 'replayed', limit: 100 })
    expect(replayed.filter((x) => x.resolvedBy === 'ui:anonymous')).toHaveLength(5)
    await page.screenshot({ path: path.join(shots, '11-bulk-replayed.png'), fullPage: true })
  })

  it('cancels a waiting run with a reason', async () => {
    await page.goto(`${d.url}/ui/runs/${encodeURIComponent(d.waiting.id)}`)
    await page.locator('#run-cancel input[name=reason]').fill('order withdrawn by customer')
    await page.getByRole('button', { name: 'Cancel run' }).click()
    await expect.poll(() => page.locator('#run-cancel').textContent()).toContain('Cancellation requested')
    await until(async () => (await d.store.engine.loadRun(ALL, d.waiting.id))?.run.status === 'cancelled')
    await page.screenshot({ path: path.join(shots, '12-run-cancelled.png'), fullPage: true })
    expect(problems).toEqual([])
  })
})

describe.runIf(present)('dashboard login in Chromium', () => {
  let hub: DemoHub
  let browser: BrowserContext
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined
  const shots = path.resolve(
    'test-output',
    'screenshots',
    `login-${new Date().toISOString().replace(/[:.]/g, '-')}`,
  )
  const PASSWORD = 'browser-login-pass-3e9'

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    hub = await startDemoHub('sqlite', {
      users: [
        {
          id: 'olga',
          name: 'Olga Operator',
          // N = 2^14: the cheapest hash accepted, to keep the test quick; production uses 2^17
          passwordHash: await hashPassword(PASSWORD, { N: 2 ** 14, r: 8, p: 1 }),
          roles: ['operator'],
          plants: ['P100'],
        },
      ],
    })
    chromium = await launchChromium()
    browser = chromium.browser
  }, 60_000)

  afterAll(async () => {
    await chromium?.close()
    await hub?.close()
  })

  it('logs in through the form, visits a page as that user, and logs out', async () => {
    const page = browser.pages()[0] ?? (await browser.newPage())
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`))
    await page.goto(`${hub.q.url}/ui/lots`)
    expect(new URL(page.url()).pathname).toBe('/ui/login')
    await page.locator('input[name=user]').fill('olga')
    await page.locator('input[name=password]').fill('wrong-password-1')
    await page.getByRole('button', { name: 'Log in' }).click()
    await expect.poll(() => page.locator('p.error').textContent()).toContain('Login failed')
    await page.screenshot({ path: path.join(shots, '01-login-refused.png'), fullPage: true })
    // The refusal is a real 401; Chromium logs the failed load. That one entry is expected.
    const logged = problems.findIndex((p) => p.includes('401'))
    if (logged >= 0) problems.splice(logged, 1)
    await page.locator('input[name=user]').fill('olga')
    await page.locator('input[name=password]').fill(PASSWORD)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL(/\/ui\/lots$/)
    await expect.poll(() => page.locator('h1').textContent()).toBe('Lots')
    expect(await page.locator('header .signed-in').textContent()).toContain('Olga Operator')
    const cookies = await browser.cookies() // all: the URL filter would apply Path=/ui against /
    expect(cookies.find((c) => c.name === 'qualink_session')).toMatchObject({
      path: '/ui',
      httpOnly: true,
      sameSite: 'Strict',
    })
    await page.locator('nav a', { hasText: 'Exceptions' }).click()
    await expect.poll(() => page.locator('h1').textContent()).toBe('Exceptions')
    await page.screenshot({ path: path.join(shots, '02-exceptions-signed-in.png'), fullPage: true })
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.waitForURL(/\/ui\/login$/)
    await page.goto(`${hub.q.url}/ui/runs`)
    expect(new URL(page.url()).pathname).toBe('/ui/login')
    expect(problems).toEqual([])
  })
})
