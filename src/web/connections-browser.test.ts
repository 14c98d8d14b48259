import t from 'tap'
import type { Page } from 'playwright-core'
import { PASSWORD } from '../testing/harness.ts'
import { startSyncWorld, type SyncWorld } from '../sync/testing.ts'
import { chromiumMissing, launchBrowser, type Browser } from './browser-testing.ts'

/**
 * Connections in a real browser, against a server with a sync worker and
 * the Google emulator: alice clicks "Connect Google", allows access on the
 * emulator's consent page, comes back to Connections, syncs and sees the
 * badge turn green; Google then revokes the token, and the next sync shows
 * it red with the reason and a Reconnect link. Screenshots (desktop and
 * phone) under artifacts/screenshots/, like browser.test.ts.
 */
const WAIT_MS = 30_000

const missing = chromiumMissing()
if (missing !== null) {
  t.fail(missing)
} else {
  let w: SyncWorld
  let browser: Browser
  let page: Page
  t.before(async () => {
    w = await startSyncWorld({ users: ['alice', 'bob'], env: { KALENDS_SYNC_WORKERS: '1' } })
    w.g.consent({ autoApprove: false }) // the consent page is shown and clicked, as a person would
    browser = await launchBrowser()
    page = browser.page
  })
  t.teardown(async () => {
    await browser?.close()
    await w?.close()
  })

  const shoot = (name: string) => browser.shoot(name)

  /**
   * Reloads the page until its badge has the class, or the time is up; returns the badge text.
   * The calendar pages' badge says "syncing" while a run is still queued (a "Sync now" pressed
   * during the reconnect's own run queues one more), so they are waited for like Connections.
   */
  async function badgeBecomes (kind: 'good' | 'bad', path = '/connections', badges = 'section.connection .badge:not(.sync-live)'): Promise<string> {
    const until = Date.now() + WAIT_MS
    for (;;) {
      const badge = page.locator(`${badges}.${kind}`)
      if (await badge.count() > 0 || Date.now() > until) return (await badge.count()) > 0 ? (await badge.textContent() ?? '') : `no ${kind} badge: ${await page.locator(badges).textContent()}`
      await new Promise(resolve => setTimeout(resolve, 250))
      await page.goto(w.s.url + path)
    }
  }

  async function signIn (login: string) {
    await page.goto(`${w.s.url}/sign-in`)
    await page.getByLabel('User name').fill(login)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    // an administrator's sign-in opens the first steps while they are open (setup.ts)
    await page.waitForURL(/\/(week|admin\/setup)$/)
  }

  t.test('connect Google on the consent page, sync green, revoked red with a Reconnect link', async t => {
    await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Synced from Kalends', start: '2026-12-03T09:00:00Z', end: '2026-12-03T10:00:00Z' } })
    await signIn('alice')
    await page.getByRole('link', { name: 'Connections' }).click()
    await page.waitForURL(/\/connections$/)
    t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Connections')
    t.equal(await page.getByText('No connections yet.').count(), 1)
    await shoot('connections-empty')

    // by keyboard: the link to Google's consent screen
    await page.getByRole('link', { name: 'Connect Google' }).focus()
    await page.keyboard.press('Enter')
    await page.waitForURL(url => url.origin === w.g.url && url.pathname === '/o/oauth2/v2/auth')
    t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Choose an account', 'Google\'s consent page, not an automatic approval')
    await page.getByRole('button', { name: 'Allow as alice@example.com' }).click()
    await page.waitForURL(url => url.origin === w.s.url && url.pathname === '/connections')
    t.equal(await page.locator('p.notice').textContent(), 'The Google account is connected. The first sync starts within a minute.')
    t.match(await page.getByRole('heading', { level: 2, name: 'Google: alice@example.com' }).count(), 1)

    await page.evaluate('window.samePage = true')
    await page.getByRole('button', { name: 'Sync now: alice@example.com' }).click()
    // the run shows in place: no reload, the page polls the run's progress
    const live = page.locator('.sync-live.good')
    await live.waitFor({ timeout: WAIT_MS })
    t.match(await live.textContent(), /^Synced .*: \d+ read, \d+ written in all\.$/, 'the finished run, in place')
    t.equal(await page.evaluate('window.samePage'), true, 'without a reload')
    const green = await badgeBecomes('good')
    t.match(green, /^✓ Connected — synced \d+ \w+ \d{4}/, 'green, in words')
    t.equal(await page.locator('section.connection .badge.good').getAttribute('role'), 'status')
    t.equal((await w.events('alice')).filter(e => e.summary === 'Synced from Kalends').length, 1, 'the appointment reached Google')
    t.match(await page.locator('dl.facts').textContent(), /Items out\s*1/)
    t.ok(await page.getByRole('cell', { name: /connected to alice@example\.com/ }).count() > 0, 'the log shows the connect')
    await shoot('connections-green')

    // Google revokes the token: the next sync turns red, with the reason and a way back
    w.g.revoke('alice@example.com')
    await page.getByRole('button', { name: 'Sync now: alice@example.com' }).click()
    await page.locator('.sync-live.bad').waitFor({ timeout: WAIT_MS })
    const red = await badgeBecomes('bad')
    t.match(red, /^✗ Not syncing: Google (access was revoked or has expired|refused the access token)/, 'red, with the reason')
    t.match(red, /reconnect the account/)
    const reconnect = page.getByRole('link', { name: 'Reconnect alice@example.com' })
    t.equal(await reconnect.count(), 1, 'a Reconnect link')
    t.match(await reconnect.getAttribute('href'), /^\/connections\/google\/start\?reconnect=\d+$/)
    await shoot('connections-red')
    // where people work: the week and the task list say it too, with the way to fix it
    for (const path of ['/week', '/tasks']) {
      await page.goto(w.s.url + path)
      const badge = page.locator('.sync-badge.bad')
      t.match(await badge.textContent(), /Sync with Google \(alice@example\.com\) stopped: Google/, `${path}: red with the reason`)
      t.match(await badge.getByRole('link', { name: 'Reconnect' }).getAttribute('href'), /^\/connections#connection-\d+$/)
    }
    await shoot('week-sync-red')
    await page.goto(`${w.s.url}/connections`)

    // and back: reconnect, allow again, green again
    await reconnect.click()
    await page.getByRole('button', { name: 'Allow as alice@example.com' }).click()
    await page.waitForURL(url => url.origin === w.s.url && url.pathname === '/connections')
    t.equal(await page.locator('p.notice').textContent(), 'The Google account is connected again. Sync resumes where it stopped.')
    await page.getByRole('button', { name: 'Sync now: alice@example.com' }).click()
    t.match(await badgeBecomes('good'), /^✓ Connected — synced/, 'green after the reconnect')
    await page.goto(`${w.s.url}/month`)
    t.match(await badgeBecomes('good', '/month', '.sync-badge'), /In sync \(1 connections\) — last synced/, 'the month view says so')
    await page.goto(`${w.s.url}/connections`)
  })

  t.test('options by keyboard and label, and the admin\'s integrations page', async t => {
    await page.getByLabel('Tasks', { exact: true }).uncheck()
    await page.getByLabel('days around today').check()
    await page.getByLabel('Days before today').fill('30')
    await page.getByLabel('Days after today').fill('90')
    await page.getByLabel('link to Kalends').check()
    await page.getByRole('button', { name: 'Save options' }).click()
    await page.waitForURL(/\/connections\?done=saved/)
    t.equal(await page.locator('p.notice').textContent(), 'The options are saved.')
    t.equal(await page.getByLabel('Days before today').inputValue(), '30')
    t.notOk(await page.getByLabel('Tasks', { exact: true }).isChecked())
    await page.getByLabel('Sync again since').fill('2026-11-01')
    await page.getByRole('button', { name: 'Sync since date' }).click()
    await page.waitForURL(/\/connections\?done=since/)
    await shoot('connections-options')

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(/\/sign-in\?out=1$/)
    await signIn('admin')
    await page.getByRole('link', { name: 'Admin' }).click()
    await page.getByRole('link', { name: 'Integrations' }).click()
    await page.waitForURL(/\/admin\/integrations$/)
    // the Google card among the Exchange and Microsoft 365 ones, which have fields of the same names
    const google = page.locator('section[aria-labelledby="google-h"]')
    t.equal(await google.getByLabel('OAuth client secret').inputValue(), '', 'the secret is never shown')
    await google.getByLabel('Application name (shown to users by Google)').fill('Kalends at Test Org')
    await google.getByLabel('Push notification address').fill('https://calendar.example.com')
    await google.getByRole('button', { name: 'Save' }).click()
    t.equal(await page.locator('p.notice').textContent(), 'The Google settings are saved.')
    t.equal(await page.getByRole('row', { name: /alice@example\.com/ }).count(), 1, 'the organisation\'s connections, with their owner')
    await shoot('admin-integrations-google')
  })

  t.test('every page shot has no serious or critical accessibility violation (axe-core)', async t => {
    t.same(browser.violations, [], JSON.stringify(browser.violations, null, 1))
  })
}
