import t from 'tap'
import type { Page } from 'playwright-core'
import { startServer, PASSWORD, type TestServer } from '../testing/harness.ts'
import { chromiumMissing, launchBrowser, type Browser } from './browser-testing.ts'

/**
 * The pages in a real browser: Debian's chromium driven by playwright-core
 * against a started server. Sign in; make an app password and use it for a
 * CalDAV PROPFIND; copy a feed link and fetch it; create an appointment in
 * the week view and find it over CalDAV. Every page is saved as a
 * screenshot, desktop and phone sized, under artifacts/screenshots/.
 */
const missing = chromiumMissing()
if (missing !== null) {
  t.fail(missing)
} else {
  let s: TestServer
  let browser: Browser
  let page: Page
  t.before(async () => {
    process.env.KALENDS_FEED_ACCESS_FLUSH_MS = '0' // who polls a feed shows at once
    s = await startServer({ users: ['alice', 'bob'] })
    s.k.config.publicUrl = s.url // the address a user would type: the port is known only now
    browser = await launchBrowser()
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url })
    page = browser.page
  })
  t.teardown(async () => {
    await browser?.close()
    await s?.close()
  })

  const shoot = (name: string) => browser.shoot(name)

  const basic = (login: string, secret: string) => `Basic ${Buffer.from(`${login}:${secret}`).toString('base64')}`

  t.test('sign in', async t => {
    await page.goto(`${s.url}/`)
    t.match(page.url(), /\/sign-in\?next=/, 'the address the first start prints leads to the sign-in page')
    await shoot('sign-in')
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content', 'the first Tab reaches the skip link')
    await page.getByLabel('User name').fill('alice')
    await page.getByLabel('Password').fill('wrong password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    t.equal(await page.getByRole('alert').textContent(), 'Wrong user name or password.')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByLabel('Password').press('Enter')
    await page.waitForURL(/\/week$/)
    t.match(await page.getByRole('heading', { level: 1 }).textContent(), /^Week of /)
    t.match(await page.locator('header').textContent(), 'Signed in as Alice')
  })

  t.test('create an app password and use it for a CalDAV PROPFIND', async t => {
    await page.getByRole('link', { name: 'My devices' }).click()
    await page.waitForURL(/\/devices$/)
    t.equal(await page.getByLabel('Server address').inputValue(), `${s.url}/`, 'the address to type')
    await shoot('devices')
    await page.getByLabel('Device name').fill('Test iPhone')
    await page.getByRole('button', { name: 'Create app password' }).click()
    const password = await page.locator('#app-password').inputValue()
    t.match(password, /^[a-z2-9]{4}(-[a-z2-9]{4}){7}$/, 'shown once, in groups of four')
    await shoot('devices-app-password')
    const res = await fetch(`${s.url}/dav/principals/alice/`, {
      method: 'PROPFIND',
      headers: { authorization: basic('alice', password), depth: '0', 'content-type': 'application/xml' },
      body: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-home-set/></d:prop></d:propfind>'
    })
    t.equal(res.status, 207, 'the shown password signs a CalDAV client in')
    t.match(await res.text(), '/dav/calendars/alice/')
    await page.goto(`${s.url}/devices`) // not a reload: that would post the form again
    const row = page.getByRole('row', { name: /Test iPhone/ })
    t.notMatch(await row.textContent(), /never/, 'the list shows it was used')
    t.equal(await page.locator('#app-password').count(), 0, 'the password is not shown again')
  })

  t.test('copy a feed link and fetch it', async t => {
    await s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'In the feed', start: '2026-05-04T09:00:00+02:00', end: '2026-05-04T10:00:00+02:00' } })
    await page.getByRole('link', { name: 'My calendars' }).click()
    await page.waitForURL(/\/calendars$/)
    await shoot('calendars')
    const card = page.locator('section.card', { has: page.getByRole('heading', { name: 'Calendar', exact: true }) })
    await card.getByRole('button', { name: 'New feed link' }).click()
    const link = await page.locator('#feed-url').inputValue()
    t.match(link, new RegExp(`^${s.url}/feeds/[A-Za-z0-9_-]{43}\\.ics$`))
    t.equal(await page.locator('#feed-webcal').inputValue(), link.replace(/^http:/, 'webcal:'))
    await page.locator('button[data-copy="feed-url"]').click()
    await page.locator('#feed-url-status', { hasText: 'Copied' }).waitFor()
    t.equal(await page.evaluate('navigator.clipboard.readText()'), link, 'the copy button puts the link on the clipboard')
    await shoot('calendars-feed-link')
    const feed = await fetch(link)
    t.equal(feed.status, 200)
    t.match(feed.headers.get('content-type'), /^text\/calendar/)
    const body = await feed.text()
    t.match(body, 'BEGIN:VCALENDAR')
    t.match(body, 'SUMMARY:In the feed')
    await fetch(link, { headers: { 'user-agent': 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0)' } })
    for (let i = 0; i < 50 && await page.getByText(/Microsoft Outlook 16\.0\) · polls: 1 ·/).count() === 0; i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      await page.goto(`${s.url}/calendars`)
    }
    t.equal(await page.getByText(/Microsoft Outlook 16\.0\) · polls: 1 ·/).count(), 1, 'the page shows who polls the link')
    await shoot('calendars-pollers')
  })

  t.test('create an appointment in the week view and find it over CalDAV', async t => {
    await page.getByRole('link', { name: 'Week', exact: true }).click()
    await page.waitForURL(/\/week$/)
    await page.getByRole('link', { name: 'New appointment', exact: true }).click()
    await page.waitForURL(/\/appointments\/new/)
    const date = await page.getByLabel('Date', { exact: true }).inputValue()
    await page.getByLabel('Title').fill('Browser meeting')
    await page.getByLabel('Start time').fill('10:00')
    await page.getByLabel('End time').fill('11:30')
    await page.getByLabel('Location').fill('Room 4')
    await shoot('appointment-new')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.waitForURL(/\/week\?date=.*done=saved/)
    t.equal(await page.getByRole('status').first().textContent(), 'The appointment is saved.')
    t.match(await page.locator('.week').textContent(), /10:00–11:30\s*Browser meeting/, 'the list under the grid has it')
    t.match(await page.locator('#grid [data-kind="appointment"]', { hasText: 'Browser meeting' }).textContent(), /10:00\s*–\s*11:30\s*Browser meeting.*Location: Room 4/, 'the grid has it')
    await shoot('week')
    const report = await fetch(`${s.url}/dav/calendars/alice/calendar/`, {
      method: 'REPORT',
      headers: { authorization: basic('alice', PASSWORD), depth: '1', 'content-type': 'application/xml' },
      body: `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>
        <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match>Browser meeting</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
    })
    t.equal(report.status, 207)
    const xml = await report.text()
    t.match(xml, 'SUMMARY:Browser meeting')
    t.match(xml, 'LOCATION:Room 4')
    t.match(xml, new RegExp(`DTSTART;TZID=Europe/Warsaw:${date.replaceAll('-', '')}T100000`), 'at 10:00 in the user\'s zone')
    // open it again from the week view and move it
    await page.getByRole('link', { name: /Browser meeting/ }).click()
    await page.waitForURL(/\/appointments\/\d+\/edit$/)
    await shoot('appointment-edit')
  })

  t.test('the other pages, for the screenshots', async t => {
    await s.as('alice')('/api/v1/tasks', { method: 'POST', json: { title: 'Call the client back', due: '2026-05-05T15:00:00+02:00' } })
    await s.as('alice')('/api/v1/cases', { method: 'POST', json: { title: 'Kowalski v. Nowak', kind: 'matter' } })
    for (const [path, name, heading] of [
      ['/month', 'month', /^\w+ \d{4}$/], ['/tasks', 'tasks', 'Tasks'], ['/tasks/new', 'task-new', 'New task'], ['/without-case', 'without-case', 'Without case']
    ] as const) {
      await page.goto(s.url + path)
      t.match(await page.getByRole('heading', { level: 1 }).textContent(), heading, path)
      await shoot(name)
    }
    await page.goto(`${s.url}/without-case`)
    await page.getByLabel('Case for “Call the client back”').selectOption({ label: 'Kowalski v. Nowak' })
    await page.locator('form[action$="/case"]', { has: page.getByLabel('Case for “Call the client back”') }).getByRole('button', { name: 'Assign' }).click()
    t.match(await page.getByRole('status').first().textContent(), '“Call the client back” now belongs to Kowalski v. Nowak.')
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(/\/sign-in\?out=1$/)
    await page.getByLabel('User name').fill('admin')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/\/admin\/setup$/) // an administrator's sign-in opens the first steps while they are open
    for (const [path, name] of [['/admin/setup', 'admin-setup'], ['/admin/users', 'admin-users'], ['/admin/organisation', 'admin-organisation'], ['/admin/integrations', 'admin-integrations']] as const) {
      await page.goto(s.url + path)
      await shoot(name)
    }
    t.equal(await page.getByText('coming: not available yet').count(), 0, 'Google, Exchange and Microsoft 365 are all set up there')
  })

  t.test('every page shot has no serious or critical accessibility violation (axe-core)', async t => {
    t.same(browser.violations, [], JSON.stringify(browser.violations, null, 1))
  })
}
