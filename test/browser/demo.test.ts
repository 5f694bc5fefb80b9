/**
 * The dashboard of the real `npm start` demo in Chromium: `qualink demo` from the bundle npm start
 * builds (the run's, test/bundle.ts), as a child process on embedded SQLite in a fresh data directory, with
 * its simulators and plant-day traffic at a fast rhythm (as test/cli/demo.test.ts starts it). Once the traffic has produced decided lots, a
 * finished lot with genealogy, dead letters and a closed supplier CAPA, each page is opened and
 * its content checked against the demo's own API, and a dead letter is replayed from the Exceptions
 * page; screenshots go to the folder named in the output.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { qualinkArgs } from '../bundle.ts'
import { DEMO_POLL_MS } from '../cli/demo-process.ts'
import { until } from '../engine/harness.ts'
import { freePort } from '../services.ts'
import { launchChromium, present, requireChromium, screenshotDir } from './chromium.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

requireChromium('demo dashboard')

describe.runIf(present)('the npm start demo in Chromium', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'qualink-demo-browser-'))
  let child: ChildProcess | undefined
  let output = ''
  let base = ''
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined
  let page: Page
  let shots = ''
  let problems: string[] = []

  const api = async <T>(url: string): Promise<T> => {
    const r = await fetch(base + url)
    if (!r.ok) throw new Error(`${url}: ${r.status}`)
    return (await r.json()) as T
  }

  beforeAll(async () => {
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    child = spawn(process.execPath, qualinkArgs('demo', '--port', String(port), '--tick-ms', '250'), {
      cwd: ROOT,
      env: { ...process.env, QUALINK_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    for (const s of [child.stdout!, child.stderr!])
      s.on('data', (b) => {
        output += String(b)
      })
    shots = screenshotDir('demo-')
    chromium = await launchChromium()
    page = chromium.page
    problems = chromium.problems
  }, 60_000)

  afterAll(async () => {
    await chromium?.close()
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve))
      child.kill('SIGINT')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    rmSync(dataDir, { recursive: true, force: true })
    console.log(`demo dashboard screenshots: ${shots}`)
  }, 30_000)

  async function visit(pathname: string, shot: string, heading: RegExp): Promise<void> {
    const before = problems.length
    const res = await page.goto(base.replace('127.0.0.1', 'localhost') + pathname, { waitUntil: 'load' })
    expect(res?.status(), pathname).toBe(200)
    await expect.poll(() => page.locator('h1').textContent()).toMatch(heading)
    await page.screenshot({ path: path.join(shots, `${shot}.png`), fullPage: true })
    expect(problems.slice(before), pathname).toEqual([])
  }

  it('shows the demo traffic on the overview, lots, a lot with its genealogy picture, exceptions and KPIs', async () => {
    // The plant day's traffic: decided lots, finished lots made from raw lots, dead letters, and a
    // supplier CAPA opened, worked through 8D and closed in the QMS simulator.
    type Kpis = { plants: Array<{ plant: string; capaResponse: Array<{ count: number }> }> }
    const capas = async () =>
      (await api<Kpis>('/v1/kpis')).plants
        .find((p) => p.plant === 'P100')
        ?.capaResponse.reduce((n, d) => n + d.count, 0) ?? 0
    type Runs = { runs: unknown[] }
    await until(
      async () => {
        try {
          const decided = await api<Runs>(
            '/v1/runs?workflow=supplier-receipt-inspection&status=completed&limit=5',
          )
          const dead = await api<{ deadLetters: unknown[] }>('/v1/dead-letters?status=open&limit=5')
          return decided.runs.length > 0 && dead.deadLetters.length > 0 && (await capas()) > 0
        } catch {
          return false // not listening yet
        }
      },
      150_000,
      DEMO_POLL_MS,
    )
    expect(output).toContain('Qualink demo is running on embedded SQLite')

    await visit('/', '01-overview', /Overview/)
    expect(await page.locator('svg.chart').count()).toBeGreaterThan(0)

    await visit('/ui/lots', '02-lots', /Lots/)
    // a decided raw lot shows its QMS decision in the list, as its status in the API has it
    const decidedRow = page
      .locator('table.lots tr[data-lot^="RAW-"]', { has: page.locator('td.qms .badge') })
      .first()
    await expect.poll(() => decidedRow.count()).toBe(1)
    const rawLot = (await decidedRow.getAttribute('data-lot'))!
    const status = await api<{ qms: { code: string; valuation: string } }>(
      `/v1/lots/${encodeURIComponent(rawLot)}/status`,
    )
    expect(await decidedRow.locator('td.qms').textContent()).toContain(status.qms.code)
    expect(await decidedRow.locator('td.qms .badge').textContent()).toBe(status.qms.valuation)

    // a finished lot: its page draws the raw lot it was made from left of it
    const fgLot = (await page.locator('table.lots tr[data-lot^="FG-"]').first().getAttribute('data-lot'))!
    const trace = await api<{ nodes: Array<{ lot: string; depth: number }> }>(
      `/v1/lots/${encodeURIComponent(fgLot)}/trace?direction=backward`,
    )
    const sources = trace.nodes.filter((n) => n.depth === 1).map((n) => n.lot)
    expect(sources.length).toBeGreaterThan(0)
    await visit(`/ui/lots/${encodeURIComponent(fgLot)}`, '03-lot-genealogy', /Lot/)
    const picture = page.locator('svg.genealogy-graph')
    await expect.poll(() => picture.getAttribute('aria-label')).toContain(`Genealogy of ${fgLot}:`)
    expect(await picture.locator(`a[data-lot="${fgLot}"]`).getAttribute('data-depth')).toBe('0')
    for (const s of sources)
      expect(await picture.locator(`a[data-lot="${s}"]`).getAttribute('data-depth')).toBe('-1')
    const box = await picture.boundingBox()
    expect(box!.width).toBeGreaterThan(100) // drawn, not an empty element
    // the lot's exports are plain downloads (no authentication on the demo: every role)
    const exports = page.locator('section.exports')
    for (const file of ['evidence', 'recall.csv', 'isa95.xml'])
      expect(await exports.locator(`a[href="/ui/lots/${encodeURIComponent(fgLot)}/${file}"]`).count()).toBe(1)
    const csv = await fetch(`${base}/ui/lots/${encodeURIComponent(fgLot)}/recall.csv`)
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="recall-/)
    await csv.arrayBuffer()

    // the API first, the page after it: dead letters are only ever added while the demo runs (a
    // person resolves them), so the page may show more than the API did, never fewer
    const open = await api<{ deadLetters: Array<{ connector: string | null }> }>(
      '/v1/dead-letters?status=open&limit=1000',
    )
    await visit('/ui/exceptions', '04-exceptions', /Exceptions/)
    const byConnector = page.locator('section.group', { hasText: 'By connector' })
    const counts = (await byConnector.locator('.count').allTextContents()).map(Number)
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(open.deadLetters.length)

    await visit('/ui/kpis', '05-kpis', /KPI/)
    const capa = page.locator('tr[data-kpi="capa-response"]').first()
    expect(Number(await capa.locator('td.num').textContent())).toBeGreaterThanOrEqual(1)
    expect(await capa.locator('svg.spark').count()).toBe(1)

    // Reconcile now: the demo process holds the reconciliation lease and runs the pass it is
    // asked for; the bar polls until the pass is done
    await visit('/ui/drift', '06-drift', /Drift/)
    await page.getByRole('button', { name: 'Reconcile now' }).click()
    const done = page.locator('#reconcile-status .operation[data-status="completed"]')
    await done.waitFor({ timeout: 120_000 })
    const bar = done.locator('progress')
    expect(Number(await bar.getAttribute('value'))).toBeGreaterThan(0)
    expect(await bar.getAttribute('value')).toBe(await bar.getAttribute('max'))
    expect(await done.textContent()).toMatch(/completed receipt inspections reconciled/)
    await page.screenshot({ path: path.join(shots, '07-drift-reconciled.png'), fullPage: true })
    expect(problems).toEqual([])
  }, 240_000)

  it('opens every other page against the demo, and replays a dead letter from its Exceptions page', async () => {
    // a completed receipt inspection, picked from the Workflows page's filter, as the API has it
    await visit('/ui/runs?workflow=supplier-receipt-inspection&status=completed', '06-workflows', /Workflows/)
    const href = (await page.locator('main a[href^="/ui/runs/"]').first().getAttribute('href'))!
    const run = await api<{ status: string; journal: Array<{ name: string }> }>(
      `/v1/runs/${href.slice('/ui/runs/'.length)}`,
    )
    expect(run.status).toBe('completed')
    await visit(href, '07-run', /Workflow run/)
    const journal = await page.locator('main').textContent()
    for (const step of run.journal.map((j) => j.name)) expect(journal).toContain(step)
    expect(journal).toContain('create-inspection-lot')

    await visit('/ui/events', '08-events', /Events/)
    expect(await page.locator('main table tbody tr').count()).toBeGreaterThan(0)
    await visit('/ui/audit', '09-audit', /Audit/)
    expect(await page.locator('.banner').textContent()).toContain('Chain intact.')
    await visit('/ui/drift', '10-drift', /Drift/)
    await visit('/ui/connectors', '11-connectors', /Connectors/)
    // the demo's two egress connectors, each with its target and call count
    for (const c of ['erp-s4', 'qms'])
      expect(await page.locator(`tr[data-connector="${c}"]`).textContent()).toMatch(
        /http:\/\/127\.0\.0\.1:\d+/,
      )
    await visit('/ui/suppliers', '12-suppliers', /Suppliers/)
    await visit('/ui/api', '13-api', /API/)
    const doc = await api<{ paths: Record<string, Record<string, unknown>> }>('/openapi.json')
    const operations = Object.values(doc.paths).reduce((n, m) => n + Object.keys(m).length, 0)
    expect(await page.locator('section.api-op').count()).toBe(operations)

    // A dead letter of the demo: its page, then Replay on its row of the Exceptions page.
    await visit('/ui/exceptions', '14-exceptions-before-replay', /Exceptions/)
    const row = page.locator('tr[id^="dl-"]:not(.resolved)').first()
    const id = (await row.getAttribute('id'))!.slice('dl-'.length)
    await visit(`/ui/exceptions/${encodeURIComponent(id)}`, '15-dead-letter', /Dead letter/)
    await visit('/ui/exceptions', '16-exceptions', /Exceptions/)
    const again = page.locator(`tr[id="dl-${id}"]`)
    await again.getByRole('button', { name: 'Replay' }).click()
    await expect.poll(() => again.textContent()).toContain('Replayed by ui:anonymous')
    const replayed = await api<{ deadLetters: Array<{ id: number; resolvedBy: string | null }> }>(
      '/v1/dead-letters?status=replayed&limit=1000',
    )
    expect(replayed.deadLetters.find((x) => String(x.id) === id)?.resolvedBy).toBe('ui:anonymous')
    await page.screenshot({ path: path.join(shots, '17-exceptions-replayed.png'), fullPage: true })
    expect(problems).toEqual([])
  }, 120_000)
})
