import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'

/**
 * Debian's Chromium driven by playwright-core (which never downloads a browser). .ci/run installs
 * the `chromium` package; without it the browser suites fail under CI=true and are skipped,
 * loudly, elsewhere.
 */
export const CHROMIUM = '/usr/bin/chromium'
export const present = existsSync(CHROMIUM)
const inCi = process.env.CI === 'true'

/** Call once per browser test file: the loud skip, or the failing test under CI. */
export function requireChromium(suite: string): void {
  if (!present && !inCi)
    console.warn(
      `\n*** NOTICE: ${CHROMIUM} is missing: the ${suite} browser suite is SKIPPED (apt-get install -y chromium) ***\n`,
    )
  describe.runIf(!present && inCi)(`${suite} browser suite under CI`, () => {
    it('has Chromium installed', () => {
      expect.fail(`CI=true but ${CHROMIUM} is missing; .ci/run must install the chromium package`)
    })
  })
}

/** A folder for this run's screenshots under test-output/screenshots, named in the test output. */
export function screenshotDir(prefix = ''): string {
  const dir = path.resolve(
    'test-output',
    'screenshots',
    `${prefix}${new Date().toISOString().replace(/[:.]/g, '-')}`,
  )
  mkdirSync(dir, { recursive: true })
  return dir
}

/**
 * Headless Chromium with a fresh profile (launchPersistentContext is how playwright takes one),
 * its first page, and every console error or uncaught page error collected in `problems`.
 */
export async function launchChromium(): Promise<{
  browser: BrowserContext
  page: Page
  problems: string[]
  close(): Promise<void>
}> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'qualink-chromium-'))
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  const page = browser.pages()[0] ?? (await browser.newPage())
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${page.url()}: console error: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`${page.url()}: page error: ${e.message}`))
  return {
    browser,
    page,
    problems,
    async close() {
      await browser.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
