import t from 'tap'
import type { Page } from 'playwright-core'
import { startServer, PASSWORD, type TestServer } from '../testing/harness.ts'
import { chromiumMissing, launchBrowser, type Browser } from './browser-testing.ts'

/**
 * The calendar grid in a real browser: an appointment in its hour cell,
 * tasks on their due day and over their planned span, a drag that the
 * domain accepts (the store follows) and one it refuses (the reason is
 * shown, the card goes back, the store is unchanged).
 */
const missing = chromiumMissing()
if (missing !== null) {
  t.fail(missing)
} else {
  let s: TestServer
  let browser: Browser
  let page: Page
  t.before(async () => {
    s = await startServer({ users: ['alice', 'bob'] })
    browser = await launchBrowser()
    page = browser.page
  })
  t.teardown(async () => {
    await browser?.close()
    await s?.close()
  })

  async function signIn (login: string) {
    await page.goto(`${s.url}/sign-in`)
    await page.getByLabel('User name').fill(login)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(login === 'admin' ? /\/admin\/setup$/ : /\/week$/) // an administrator lands on the first steps while they are open
  }

  /** The card of an item in the grid, and the box of an hour slot on a day. */
  const card = (kind: string, id: number, part: string) => page.locator(`#grid [data-kind="${kind}"][data-item-id="${id}"][data-part="${part}"]`)
  async function cellBox (date: string, time: string) {
    const row = await page.locator(`#grid [data-time="${time}"]`).first().boundingBox()
    const col = await page.locator(`#grid [role="cell"][data-date="${date}"]`).last().boundingBox()
    if (row === null || col === null) throw new Error(`no cell ${date} ${time}`)
    return { x: col.x, width: col.width, y: row.y, height: row.height }
  }
  async function drag (from: { x: number; y: number }, to: { x: number; y: number }) {
    // the whole day fits in a tall window: no scrolling while the mouse is down
    await page.mouse.move(from.x, from.y)
    await page.mouse.down()
    await page.mouse.move(from.x + 2, from.y + 2, { steps: 2 })
    await page.mouse.move(to.x, to.y, { steps: 12 })
    await page.mouse.up()
  }

  t.test('an appointment sits in its hour cell; a drag moves it in the store', async t => {
    const made = await s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Hearing', start: '2026-05-05T10:00:00+02:00', end: '2026-05-05T11:00:00+02:00', location: 'Court 3', participantIds: [s.users.bob!.id] } })
    const id = (made.body_ as { id: number }).id
    await signIn('alice')
    await page.setViewportSize({ width: 1280, height: 2000 })
    await page.goto(`${s.url}/week?date=2026-05-05`)
    const hearing = card('appointment', id, 'appointment')
    await hearing.waitFor()
    t.equal(await page.locator('.fallback').first().isHidden(), true, 'the list under the grid is hidden once the grid runs')
    const box = (await hearing.boundingBox())!
    const cell = await cellBox('2026-05-05', '10:00:00')
    t.ok(Math.abs(box.y - cell.y) < 4, `the card starts at the 10:00 line (${box.y} vs ${cell.y})`)
    t.ok(box.x >= cell.x - 1 && box.x + box.width <= cell.x + cell.width + 1, 'the card is in Tuesday\'s column')
    t.match(await hearing.textContent(), /10:00.*Hearing.*Location: Court 3.*With: Bob/s, 'the card shows time, title, location and participants')
    await browser.shoot('grid-week')
    await page.setViewportSize({ width: 1280, height: 2000 })

    const to = await cellBox('2026-05-05', '13:00:00')
    await drag({ x: box.x + box.width / 2, y: box.y + 8 }, { x: to.x + to.width / 2, y: to.y + 8 })
    await page.locator('#grid-status', { hasText: 'Moved: Hearing' }).waitFor()
    const stored = await s.as('alice')(`/api/v1/appointments/${id}`)
    t.equal((stored.body_ as { start: string }).start.slice(0, 16), '2026-05-05T11:00', 'the store has it at 13:00 Warsaw (11:00 UTC)')
  })

  t.test('a drag that breaks a business rule is refused with the reason and the card goes back', async t => {
    await s.k.db.updateTable('users').set({ can_change_planned_dates: false }).where('id', '=', s.users.bob!.id).execute()
    const made = await s.as('alice')('/api/v1/tasks', {
      method: 'POST',
      json: { title: 'Draft the appeal', assigneeId: s.users.bob!.id, plannedStart: '2026-05-06T09:00:00+02:00', plannedEnd: '2026-05-06T10:00:00+02:00', due: '2026-05-07T17:00:00+02:00' }
    })
    t.equal(made.status, 201, (made.body_ as { detail?: string }).detail ?? '')
    const id = (made.body_ as { id: number }).id
    await page.getByRole('button', { name: 'Sign out' }).click()
    await signIn('bob')
    await page.goto(`${s.url}/week?date=2026-05-06`)
    await page.setViewportSize({ width: 1280, height: 2000 })
    const planned = card('task', id, 'planned')
    await planned.waitFor()
    t.equal(await card('task', id, 'due').count(), 1, 'the task is also on its due day')
    const before = (await planned.boundingBox())!
    const cell = await cellBox('2026-05-06', '09:00:00')
    t.ok(Math.abs(before.y - cell.y) < 4, 'the planned span starts at 09:00')
    const to = await cellBox('2026-05-06', '14:00:00')
    await drag({ x: before.x + before.width / 2, y: before.y + 8 }, { x: to.x + to.width / 2, y: to.y + 8 })
    const status = page.locator('#grid-status')
    await status.filter({ hasText: 'Not moved' }).waitFor()
    t.match(await status.textContent(), /Not moved: .*Bob may not change planned dates/, 'the rule\'s reason is shown')
    // the message above the grid moves the whole grid down: the card is compared with its cell
    const after = (await planned.boundingBox())!
    const cellNow = await cellBox('2026-05-06', '09:00:00')
    t.ok(Math.abs(after.y - cellNow.y) < 4 && after.x >= cellNow.x - 1 && after.x + after.width <= cellNow.x + cellNow.width + 1, 'the card is back where it was: 09:00 on Wednesday')
    t.ok(Math.abs(after.height - before.height) < 2, 'as long as it was')
    await browser.shoot('grid-refused')
    const stored = await s.as('alice')(`/api/v1/tasks/${id}`)
    t.equal((stored.body_ as { plannedStart: string }).plannedStart.slice(0, 16), '2026-05-06T07:00', 'the store is unchanged')
  })

  t.test('day and month views show appointments and tasks', async t => {
    await page.goto(`${s.url}/month?date=2026-05-01`)
    await page.locator('#grid [data-kind]').first().waitFor()
    t.match(await page.locator('#grid').textContent(), /Hearing/)
    t.match(await page.locator('#grid').textContent(), /Due: Draft the appeal/)
    await browser.shoot('grid-month')
    await page.goto(`${s.url}/day?date=2026-05-06`)
    await page.locator('#grid [data-kind]').first().waitFor()
    t.match(await page.locator('#grid').textContent(), /Planned: Draft the appeal/)
    await browser.shoot('grid-day')
  })

  t.test('one occurrence of a series opened from the grid and moved on its own', async t => {
    const made = await s.as('bob')('/api/v1/appointments', { method: 'POST', json: { title: 'Team meeting', start: '2026-05-04T15:00:00+02:00', end: '2026-05-04T16:00:00+02:00', timezone: 'Europe/Warsaw', rrule: 'FREQ=DAILY;COUNT=5' } })
    const id = (made.body_ as { id: number }).id
    await page.goto(`${s.url}/week?date=2026-05-04`)
    const cards = page.locator(`#grid [data-kind="appointment"][data-item-id="${id}"]`)
    await cards.first().waitFor()
    t.equal(await cards.count(), 5, 'every occurrence is on the grid')
    await cards.nth(2).click()
    await page.waitForURL(/\/appointments\/\d+\/occurrence\?at=2026-05-06T13%3A00%3A00\.000Z$/)
    t.equal(await page.getByLabel('Date', { exact: true }).inputValue(), '2026-05-06')
    await browser.shoot('occurrence')
    await page.getByLabel('Start time').fill('17:00')
    await page.getByLabel('End time').fill('18:00')
    await page.getByLabel('this occurrence').check()
    await page.getByRole('button', { name: 'Save' }).click()
    await page.waitForURL(/\/week\?date=2026-05-06&done=saved/)
    const moved = page.locator(`#grid [data-kind="appointment"][data-item-id="${id}"]`, { hasText: '17:00' })
    await moved.waitFor()
    t.equal(await page.locator(`#grid [data-kind="appointment"][data-item-id="${id}"]`).count(), 5, 'still five, one of them at 17:00')
    const ical = (await s.k.db.selectFrom('calendar_objects').select('ical').where('item_kind', '=', 'appointment').where('item_id', '=', id).executeTakeFirstOrThrow()).ical
    t.match(ical, /RECURRENCE-ID;TZID=Europe\/Warsaw:20260506T150000/, 'stored as an override of that occurrence')
  })

  t.test('types and calendars pages, for an administrator', async t => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await signIn('admin')
    await page.goto(`${s.url}/admin/types`)
    await page.getByLabel('Name', { exact: true }).fill('Hearing')
    await page.getByLabel('Colour', { exact: true }).fill('#7a2e0e')
    await page.getByRole('button', { name: 'Add a type' }).click()
    t.match(await page.getByRole('status').first().textContent(), 'The type “Hearing” is added.')
    t.equal(await page.getByLabel('Colour of Hearing').inputValue(), '#7a2e0e', 'a colour input with the colour')
    await browser.shoot('admin-types')
    await page.goto(`${s.url}/calendars`)
    const form = page.getByRole('region', { name: 'New calendar' })
    await form.getByLabel('Name', { exact: true }).fill('Court dates')
    await form.getByLabel('Colour').fill('#1a4d7a')
    await form.getByRole('button', { name: 'Create calendar' }).click()
    t.match(await page.getByRole('status').first().textContent(), 'The calendar “Court dates” is created.')
    const card = page.getByRole('region', { name: 'Court dates' })
    t.match(await card.getByLabel(/CalDAV address of this calendar/).inputValue(), new RegExp(`/dav/calendars/admin/court-dates/$`), 'its own CalDAV address')
    t.equal(await card.getByLabel('Colour').inputValue(), '#1a4d7a')
    await browser.shoot('calendars-manage')
    await page.goto(`${s.url}/tasks`)
    await browser.shoot('tasks-columns')
  })

  t.test('a Polish reader\'s grid: Polish weekday names and buttons, the week from Monday', async t => {
    await s.k.db.updateTable('users').set({ language: 'pl' }).where('id', '=', s.users.bob!.id).execute()
    await page.context().clearCookies()
    await signIn('bob')
    await page.goto(`${s.url}/week?date=2026-05-06`)
    await page.locator('#grid .fc-col-header-cell, #grid [role="columnheader"]').first().waitFor()
    const heads = await page.locator('#grid .fc-col-header-cell, #grid [role="columnheader"]').allTextContents()
    const days = heads.map(h => h.trim()).filter(h => h !== '')
    t.match(days[0], /pon\. 4$/, 'the week starts on Monday, named in Polish')
    t.match(days.at(-1), /niedz\. 10$/, 'and ends on Sunday')
    t.ok(await page.getByRole('button', { name: 'Dziś' }).isVisible(), 'FullCalendar\'s own buttons in Polish')
  })

  t.test('every page shot has no serious or critical accessibility violation (axe-core)', async t => {
    t.same(browser.violations, [], JSON.stringify(browser.violations, null, 1))
  })
}
