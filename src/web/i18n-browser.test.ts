import t from 'tap'
import { PASSWORD } from '../testing/harness.ts'
import { browserSuite } from './browser-testing.ts'

/**
 * Languages and time zones in a real browser (Debian's chromium, Polish, its
 * clock in Bucharest): the zone the browser reports offered on the first
 * sign-in, the profile page in Polish and Romanian, and an appointment made
 * at 09:00 by a Warsaw user shown at 10:00 to a Bucharest colleague, at
 * desktop and phone widths. Screenshots under artifacts/screenshots/.
 */
const started = browserSuite({ users: ['alice', 'bob'], browser: { locale: 'pl-PL', timezoneId: 'Europe/Bucharest' } })
if (started !== null) {
  const suite = started
  const url = () => suite.s.url

  async function signIn (login: string) {
    await suite.page.goto(`${url()}/sign-in`)
    await suite.page.getByLabel('Nazwa użytkownika').fill(login)
    await suite.page.getByLabel('Hasło').fill(PASSWORD)
    await suite.page.getByRole('button', { name: 'Zaloguj' }).click()
    await suite.page.waitForURL(/\/week$/)
  }

  t.test('the first sign-in offers the browser\'s zone; she keeps hers', async t => {
    await suite.page.goto(`${url()}/sign-in`)
    t.equal(await suite.page.getAttribute('html', 'lang'), 'pl', 'the browser\'s language')
    await suite.browser.shoot('i18n-sign-in-pl')
    await signIn('alice')
    const offer = suite.page.getByRole('region', { name: 'W jakiej strefie czasowej jesteś?' })
    await offer.waitFor()
    t.equal(await offer.locator('strong').textContent(), 'Europe/Bucharest', 'the zone the browser reports')
    await suite.browser.shoot('i18n-zone-offer-pl')
    await offer.getByRole('button', { name: 'Zostaw Europe/Warsaw' }).click()
    await suite.page.waitForURL(/\/week$/)
    t.equal(await suite.page.getByRole('region', { name: 'W jakiej strefie czasowej jesteś?' }).count(), 0, 'asked once')
    t.equal(await suite.page.locator('#user-zone').textContent(), 'Godziny w strefie Europe/Warsaw')
  })

  t.test('she makes an appointment at 09:00 with Bob', async t => {
    await suite.page.goto(`${url()}/appointments/new?date=2026-12-08`)
    await suite.page.getByLabel('Tytuł').fill('Rozprawa Kowalski')
    await suite.page.getByLabel('Godzina rozpoczęcia').fill('09:00')
    await suite.page.getByLabel('Godzina zakończenia').fill('10:00')
    await suite.page.getByLabel('Bob').check()
    await suite.page.getByRole('button', { name: 'Zapisz' }).click()
    await suite.page.waitForURL(/\/week\?date=2026-12-08&done=saved$/)
    t.equal(await suite.page.getByRole('status').first().textContent(), 'Spotkanie zapisano.')
    t.match(await suite.page.locator('li.event', { hasText: 'Rozprawa Kowalski' }).textContent(), /^09:00–10:00/)
    t.match(await suite.page.locator('main').textContent(), /wtorek, 8 grudnia/, 'Polish weekday and month names')
  })

  t.test('the profile page: language, zone and password, desktop and phone', async t => {
    await suite.page.getByRole('link', { name: 'Mój profil' }).click()
    await suite.page.waitForURL(/\/profile$/)
    t.equal(await suite.page.getByLabel('Strefa czasowa', { exact: true }).inputValue(), 'Europe/Warsaw')
    await suite.browser.shoot('i18n-profile-pl')
    await suite.page.getByLabel('Język', { exact: true }).selectOption({ label: 'Română' })
    await suite.page.getByRole('region', { name: 'Język i strefa czasowa' }).getByRole('button', { name: 'Zapisz' }).click()
    t.equal(await suite.page.getByRole('status').first().textContent(), 'Profilul a fost salvat.', 'the answer is already in Romanian')
    t.equal(await suite.page.getAttribute('html', 'lang'), 'ro')
    await suite.page.getByLabel('Parola actuală').fill('not my password')
    await suite.page.getByLabel('Parola nouă (cel puțin 8 caractere)').fill('a new password 1')
    await suite.page.getByRole('button', { name: 'Schimbare parolă' }).click()
    t.equal(await suite.page.getByRole('alert').textContent(), 'Parola actuală: Parola actuală lipsește sau este greșită.')
    t.equal(await suite.page.getByLabel('Parola actuală').getAttribute('aria-invalid'), 'true')
    await suite.page.setViewportSize({ width: 390, height: 844 })
    t.ok(await suite.page.getByLabel('Limbă', { exact: true }).isVisible(), 'the form fits a phone')
    await suite.page.setViewportSize({ width: 1280, height: 900 })
    await suite.browser.shoot('i18n-profile-ro')
    await suite.page.getByRole('button', { name: 'Deconectare' }).click()
    await suite.page.waitForURL(/\/sign-in\?out=1$/)
  })

  t.test('Bob in Bucharest takes his browser\'s zone and sees the appointment at 10:00, desktop and phone', async t => {
    await signIn('bob')
    const offer = suite.page.getByRole('region', { name: 'W jakiej strefie czasowej jesteś?' })
    await offer.getByRole('button', { name: 'Użyj strefy urządzenia' }).click()
    await suite.page.waitForURL(/\/week$/)
    t.equal(await suite.page.locator('#user-zone').textContent(), 'Godziny w strefie Europe/Bucharest')
    await suite.page.goto(`${url()}/week?date=2026-12-08`)
    // the grid's card (the list under it is the page without scripts, hidden here)
    const event = suite.page.locator('#grid [data-kind="appointment"]', { hasText: 'Rozprawa Kowalski' })
    t.match(await event.textContent(), /^10:00\s*–\s*11:00/, 'at 10:00 for him')
    t.match(await suite.page.locator('li.event', { hasText: 'Rozprawa Kowalski' }).textContent(), /^10:00–11:00/, 'and in the list')
    await suite.page.setViewportSize({ width: 390, height: 844 })
    t.ok(await event.isVisible(), 'on a phone too')
    t.match(await event.textContent(), /^10:00\s*–\s*11:00/)
    t.ok(await suite.page.locator('#user-zone').isVisible(), 'and the zone is said on a phone')
    await suite.page.setViewportSize({ width: 1280, height: 900 })
    await suite.browser.shoot('i18n-week-bucharest')
  })
}
