import path from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { ALL, until } from '../engine/harness.ts'
import {
  massReleaseHubOptions,
  massReleasePeople,
  massReleaseScenario,
  PW,
} from '../fixtures/mass-release.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'
import { launchChromium, present, requireChromium, screenshotDir } from './chromium.ts'

/** The mass release page in a real browser: two approvers, each in their own session, release two lots. */
requireChromium('mass release')

const people = await massReleasePeople()

describe.runIf(present)('mass release from the dashboard in Chromium', () => {
  const hub = usePlantHub('sqlite', () => massReleaseHubOptions(people))

  async function logIn(page: Page, url: string, user: keyof typeof PW): Promise<void> {
    await page.goto(url)
    await page.locator('input[name=user]').fill(user)
    await page.locator('input[name=password]').fill(PW[user])
    await page.getByRole('button', { name: 'Log in' }).click()
    await expect.poll(() => page.locator('h1').textContent()).toBe('Mass release')
    await page.waitForFunction('"htmx" in window')
  }

  it('the requester and a second approver sign, and the lot-release runs finish on the page', async () => {
    const s = massReleaseScenario(hub)
    await s.seed()
    const shots = screenshotDir('mass-release-')
    const chromium = await launchChromium()
    const { page, problems } = chromium
    try {
      // Alice: the candidates of her plant are proposed; she adds a rejected lot by hand and previews.
      await logIn(page, `${hub.q.url}/ui/mass-release`, 'alice')
      const ticked = page.locator('table.candidates input[name=lot]:checked')
      expect(
        (await ticked.evaluateAll((xs) => xs.map((x) => (x as unknown as { value: string }).value))).sort(),
      ).toEqual(['L1', 'L2'])
      await page.locator('textarea[name=lots]').fill('L3')
      await page.getByRole('button', { name: 'Preview' }).click()
      const result = page.locator('#mr-result')
      await expect.poll(() => result.textContent()).toContain('Dry run: 2 lots would be released, 1 refused')
      expect(await result.locator('table.refused').textContent()).toContain('QLK_RELEASE_WITHOUT_ACCEPTANCE')
      await page.screenshot({ path: path.join(shots, '01-preview.png'), fullPage: true })
      // Her signature: the signer is she, prefilled; password and meaning are hers to give.
      expect(await result.locator('input[name=signer]').inputValue()).toBe('alice')
      await result.locator('input[name=password]').fill(PW.alice)
      await result.locator('input[name=meaning]').check()
      await result.getByRole('button', { name: 'Sign request' }).click()
      await expect.poll(() => result.textContent()).toContain('awaiting a second, different approver')
      const handover = await result.getByRole('link', { name: 'this selection' }).getAttribute('href')
      await page.screenshot({ path: path.join(shots, '02-awaiting-second.png'), fullPage: true })
      expect(await hub.store.engine.listRuns(ALL, { workflow: 'lot-release', limit: 10 })).toEqual([])
      await page.getByRole('button', { name: 'Log out' }).click()

      // Bob opens the handed-over selection in his own session, sees Alice's signature, and releases.
      await logIn(page, `${hub.q.url}${handover}`, 'bob')
      await page.getByRole('button', { name: 'Preview' }).click()
      await expect.poll(() => result.textContent()).toContain('Alice Approver')
      expect(await result.locator('input[name=signer]').inputValue()).toBe('')
      await result.locator('input[name=signer]').fill('bob')
      await result.locator('input[name=password]').fill(PW.bob)
      await result.locator('input[name=meaning]').check()
      await result.getByRole('button', { name: 'Sign and release' }).click()
      await expect.poll(() => result.textContent()).toContain('Released 2 lots.')
      // the progress table refreshes itself until both runs have finished
      await expect
        .poll(() => result.locator('.run-progress').getAttribute('data-done'), { timeout: 30_000 })
        .toBe('true')
      expect(await result.locator('.run-progress .badge.ok').count()).toBe(2)
      await page.screenshot({ path: path.join(shots, '03-released.png'), fullPage: true })
      console.log(`mass release screenshots: ${shots}`)

      await until(async () => {
        const runs = await hub.store.engine.listRuns(ALL, { workflow: 'lot-release', limit: 10 })
        return runs.length === 2 && runs.every((r) => r.status === 'completed')
      })
      for (const b of ['L1', 'L2']) expect(s.stock(b)).toMatchObject({ unrestricted: 100_000, blocked: 0 })
      expect(s.stock('L3')).toMatchObject({ blocked: 100_000 })
      const [audit] = await hub.store.listAudit(ALL, { action: 'lot.mass_release.executed', limit: 10 })
      expect(audit).toMatchObject({ actor: 'ui:bob' })
      expect(problems).toEqual([])
    } finally {
      await chromium.close()
    }
  }, 120_000)
})
