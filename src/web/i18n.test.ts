import t from 'tap'
import { startServer, PASSWORD, type TestServer } from '../testing/harness.ts'
import { LANGS } from './locale.ts'
import { TABLES } from './messages.ts'
import { WebClient, visible } from './test-client.ts'

/**
 * The pages in the reader's language and time zone, over HTTP: the language
 * chosen from the profile, the organisation's default and Accept-Language;
 * no page shows a raw text key; the profile page; times in each user's zone;
 * HTML error pages for browsers and problem+json for the API; the
 * administrator's first steps and the devices page's warnings.
 */
let s: TestServer
t.before(async () => { s = await startServer({ users: ['alice', 'bob', 'carol', 'dora'] }) })
t.teardown(() => s.close())

const html = (lang: string) => ({ 'accept-language': lang, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' })

t.test('the language: the browser\'s, then the organisation\'s default, then the user\'s own', async t => {
  const anon = new WebClient(s, html('pl-PL,pl;q=0.9,en;q=0.5'))
  const signIn = await anon.get('/sign-in')
  t.match(signIn.text, /<html lang="pl">/)
  t.match(visible(signIn.text), 'Logowanie')
  t.match(signIn.text, /<label for="login">Nazwa użytkownika<\/label>/)
  t.match(visible((await new WebClient(s, html('nl-BE, en;q=0.8')).get('/sign-in')).text), 'Aanmelden', 'a regional tag finds its language')
  t.match(visible((await new WebClient(s, html('de-DE, fr;q=0.9')).get('/sign-in')).text), 'Sign in', 'none of ours: English')

  const carol = new WebClient(s, html('ru'))
  await carol.signIn('carol')
  const wrong = await new WebClient(s, html('ru')).signIn('carol', 'nope nope nope')
  t.match(visible(wrong.text), 'Неверное имя пользователя или пароль.')
  t.match(visible((await carol.get('/tasks')).text), 'Задачи', 'no language of her own, no organisation default: the browser\'s')

  const admin = new WebClient(s, html('en'))
  await admin.signIn('admin')
  await admin.get('/admin/organisation')
  const org = await admin.post('/admin/organisation', { name: 'Test Org', timezone: 'Europe/Warsaw', defaultLanguage: 'ro' })
  t.match(visible(org.text), 'Setările organizației au fost salvate.', 'the organisation\'s default applies at once, to the administrator too')
  t.match(visible((await carol.get('/tasks')).text), 'Sarcini', 'the organisation\'s default wins over the browser')

  await carol.get('/profile')
  const saved = await carol.post('/profile', { language: 'nl', timezone: 'Europe/Amsterdam' })
  t.equal(saved.status, 200)
  t.match(visible(saved.text), 'Uw profiel is opgeslagen.', 'the user\'s own language wins, from the answer to the save on')
  t.match(visible(saved.text), 'Tijden in Europe/Amsterdam')
  t.match(visible((await carol.get('/without-case')).text), 'Zonder zaak')
  const bad = await carol.post('/profile', { language: 'de', timezone: 'Europe/Amsterdam' })
  t.equal(bad.status, 400)
  t.match(visible(bad.text), 'Taal: deze waarde wordt niet geaccepteerd', 'a refused value is named in the user\'s language')
  t.equal((await s.k.db.selectFrom('users').select('language').where('login', '=', 'carol').executeTakeFirstOrThrow()).language, 'nl', 'nothing changed')
  await admin.post('/admin/organisation', { name: 'Test Org', timezone: 'Europe/Warsaw', defaultLanguage: '' })
})

t.test('no page shows a raw text key, in any language', async t => {
  const keys = Object.keys(TABLES.en).filter(k => /^[a-z]+\.[A-Za-z_.-]+$/.test(k))
  const admin = new WebClient(s, html('en'))
  await admin.signIn('admin')
  const aliceId = (await s.k.db.selectFrom('users').select('id').where('login', '=', 'alice').executeTakeFirstOrThrow()).id
  const pages = ['/week', '/month', '/tasks', '/tasks/new', '/appointments/new', '/without-case', '/calendars', '/devices', '/connections',
    '/profile', '/admin/users', `/admin/users/${aliceId}`, '/admin/organisation', '/admin/integrations', '/admin/setup', '/no-such-page', '/week?date=2026-02-30']
  for (const lang of LANGS) {
    await admin.get('/profile')
    await admin.post('/profile', { language: lang, timezone: 'Europe/Warsaw' })
    for (const path of pages) {
      const page = await admin.get(path)
      t.match(page.text, new RegExp(`<html lang="${lang}">`), `${lang} ${path}: in ${lang}`)
      // scripts, and the data- attributes that hand the grid's script its templates, are filled in the browser
      const text = page.text.replace(/<script[\s\S]*?<\/script>/g, '').replace(/ data-[a-z-]+="[^"]*"/g, '')
      const raw = keys.filter(k => text.includes(k))
      t.same(raw, [], `${lang} ${path}: no raw key`)
      t.notMatch(text, /\{[a-z]+\}/i, `${lang} ${path}: no unfilled placeholder`)
    }
  }
  await admin.post('/profile', { language: '', timezone: 'Europe/Warsaw' })
})

t.test('an appointment at 09:00 in Warsaw is at 10:00 for a colleague in Bucharest: week, task list and feed', async t => {
  const alice = new WebClient(s, html('pl'))
  await alice.signIn('alice')
  const bob = new WebClient(s, html('ro'))
  await bob.signIn('bob')
  await bob.get('/profile')
  t.equal((await bob.post('/profile', { language: '', timezone: 'Europe/Bucharest' })).status, 200)
  const bobId = (await s.k.db.selectFrom('users').select('id').where('login', '=', 'bob').executeTakeFirstOrThrow()).id

  await alice.get('/appointments/new?date=2026-12-08')
  const made = await alice.post('/appointments', { title: 'Rozprawa Kowalski', date: '2026-12-08', start: '09:00', end: '10:30', endDate: '2026-12-08', status: 'confirmed', [`participant-${bobId}`]: '1' })
  t.equal(made.status, 303)
  const hers = visible((await alice.get('/week?date=2026-12-08')).text)
  t.match(hers, /09:00–10:30 Rozprawa Kowalski/, 'at 09:00 for her')
  t.match(hers, 'Godziny w strefie Europe/Warsaw', 'and the page says which zone')
  const his = visible((await bob.get('/week?date=2026-12-08')).text)
  t.match(his, /10:00–11:30 Rozprawa Kowalski/, 'at 10:00 for him')
  t.match(his, 'Ore în fusul Europe/Bucharest')
  t.match(his, /marți, 8 decembrie/, 'weekday names in his language')

  await alice.get('/tasks/new')
  t.equal((await alice.post('/tasks', { title: 'Pismo procesowe', status: 'open', due: '2026-12-08T09:00', assigneeId: String(bobId) })).status, 303)
  t.match(visible((await alice.get('/tasks')).text), /Pismo procesowe .*8 gru 2026, 09:00/, 'due at 09:00 in her task list')
  t.match(visible((await bob.get('/tasks')).text), /Pismo procesowe .*8 dec\. 2026, 10:00/, 'due at 10:00 in his')

  // the feed carries the instant; read in each zone it is 09:00 and 10:00
  const cal = await s.k.db.selectFrom('calendars').innerJoin('users', 'users.id', 'calendars.owner_id').select('calendars.id').where('users.login', '=', 'alice').where('calendars.kind', '=', 'personal').executeTakeFirstOrThrow()
  await alice.get('/calendars')
  const feedPage = await alice.post('/calendars/feeds', { calendarId: String(cal.id) })
  const url = /id="feed-url" value="([^"]+)"/.exec(feedPage.text)![1]!.replace(/^https?:\/\/[^/]+/, s.url)
  const ics = await (await fetch(url)).text()
  const event = ics.split('BEGIN:VEVENT').find(e => e.includes('Rozprawa Kowalski'))!
  const start = /DTSTART(;TZID=([^:;]+))?:(\d{8}T\d{6}Z?)/.exec(event)!
  const at = start[3]!.endsWith('Z')
    ? new Date(start[3]!.replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, '$1-$2-$3T$4:$5:$6Z'))
    : (await import('../domain/ical-mapping.ts')).wallToUtc(start[3]!.replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})/, '$1-$2-$3T$4:$5:$6'), start[2]!)
  const inZone = (zone: string) => new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit' }).format(at)
  t.equal(inZone('Europe/Warsaw'), '09:00', 'the feed\'s start is 09:00 in Warsaw')
  t.equal(inZone('Europe/Bucharest'), '10:00', 'and 10:00 in Bucharest')
})

t.test('profile: the own password, with the current one', async t => {
  const dora = new WebClient(s, html('nl'))
  await dora.signIn('dora')
  const other = new WebClient(s)
  await other.signIn('dora')
  await dora.get('/profile')
  const wrong = await dora.post('/profile/password', { currentPassword: 'not it at all', password: 'a new password 1' })
  t.equal(wrong.status, 403)
  t.match(visible(wrong.text), 'Huidig wachtwoord: Uw huidige wachtwoord ontbreekt of is onjuist.', 'the rule\'s reason in her language')
  t.match(wrong.text, /id="currentPassword" name="currentPassword"[^>]*aria-invalid="true"/)
  const short = await dora.post('/profile/password', { currentPassword: PASSWORD, password: 'short' })
  t.equal(short.status, 400)
  const ok = await dora.post('/profile/password', { currentPassword: PASSWORD, password: 'a new password 1' })
  t.equal(ok.status, 200)
  t.match(visible(ok.text), 'Uw wachtwoord is gewijzigd')
  t.equal((await other.get('/week')).status, 303, 'her other session ended')
  t.equal((await dora.get('/week')).status, 200, 'this one goes on')
  t.equal((await new WebClient(s).signIn('dora', 'a new password 1')).status, 303, 'the new password signs in')
})

t.test('the browser\'s time zone is offered until the user chooses one', async t => {
  await s.k.db.updateTable('users').set({ timezone_confirmed: false }).where('login', '=', 'carol').execute()
  const carol = new WebClient(s, html('en'))
  await carol.signIn('carol')
  const week = await carol.get('/week')
  t.match(week.text, /data-zone-offer="[^"]+" hidden/, 'the offer is there, hidden until the script compares zones')
  t.match(week.text, /<input type="hidden" name="timezone" value="" data-browser-zone-input>/)
  const chose = await carol.post('/profile/timezone', { timezone: 'Europe/Bucharest' })
  t.equal(chose.status, 303)
  const after = await carol.get('/week')
  t.notMatch(after.text, /data-zone-offer/, 'no more offers')
  t.match(visible(after.text), 'Europe/Bucharest')
  const bad = await carol.post('/profile/timezone', { timezone: 'Mars/Olympus' })
  t.equal(bad.status, 400)
})

t.test('administrators edit users: name, e-mail, role, zone, language, planned dates, disabled', async t => {
  const admin = new WebClient(s, html('pl'))
  await admin.signIn('admin')
  const bob = await s.k.db.selectFrom('users').selectAll().where('login', '=', 'bob').executeTakeFirstOrThrow()
  const form = await admin.get(`/admin/users/${bob.id}`)
  t.match(visible(form.text), 'Edycja: bob')
  t.match(form.text, /<label for="timezone">Strefa czasowa<\/label>/)
  const bobSession = new WebClient(s)
  await bobSession.signIn('bob')
  const saved = await admin.post(`/admin/users/${bob.id}`, { name: 'Bob Nowak', email: 'bob@example.com', role: 'admin', timezone: 'Europe/Amsterdam', language: 'nl', disabled: '1' })
  t.equal(saved.status, 200)
  t.match(visible(saved.text), 'Zaktualizowano bob.')
  const after = await s.k.db.selectFrom('users').selectAll().where('id', '=', bob.id).executeTakeFirstOrThrow()
  t.same([after.name, after.email, after.role, after.timezone, after.language, after.can_change_planned_dates, after.disabled], ['Bob Nowak', 'bob@example.com', 'admin', 'Europe/Amsterdam', 'nl', false, true])
  t.equal((await bobSession.get('/week')).status, 303, 'disabling ends their sessions')
  const bad = await admin.post(`/admin/users/${bob.id}`, { name: 'Bob', email: 'not an address', timezone: 'Europe/Amsterdam' })
  t.equal(bad.status, 400)
  t.match(visible(bad.text), 'E-mail: ta wartość nie jest akceptowana')
  t.match(bad.text, /id="email" name="email" value="not an address" aria-invalid="true"/)
  await admin.post(`/admin/users/${bob.id}`, { name: 'Bob', email: '', role: 'user', timezone: 'Europe/Bucharest', language: '', canChangePlannedDates: '1' })
  const alice = new WebClient(s)
  await alice.signIn('alice')
  t.equal((await alice.get(`/admin/users/${bob.id}`)).status, 403, 'users may not')
})

t.test('errors: an HTML page in the browser\'s language, JSON for the API and DAV', async t => {
  const anon = await fetch(`${s.url}/nie-ma`, { headers: html('pl') })
  t.equal(anon.status, 404)
  t.match(anon.headers.get('content-type'), /^text\/html/)
  const body = visible(await anon.text())
  t.match(body, 'Pod adresem /nie-ma nie ma strony.')
  t.match(body, 'Logowanie', 'a way back: to the sign-in page')
  const alice = new WebClient(s, html('ru'))
  await alice.signIn('alice')
  const missing = await alice.get('/no/such/page')
  t.equal(missing.status, 404)
  t.match(visible(missing.text), 'По адресу /no/such/page страницы нет.')
  t.match(missing.text, /<a href="\/week">Вернуться к неделе<\/a>/)
  const badDate = await alice.get('/week?date=2026-13-45')
  t.equal(badDate.status, 400)
  t.match(badDate.res.headers.get('content-type'), /^text\/html/)
  t.match(visible(badDate.text), 'Дата «2026-13-45» в адресе не является датой')
  t.equal((await alice.get('/month?date=yesterday')).status, 400)
  t.equal((await alice.get('/appointments/new?date=2026-02-30')).status, 400)
  t.equal((await alice.get('/week?date=2026-02-27')).status, 200)

  const api = await fetch(`${s.url}/api/v1/nothing`, { headers: html('pl') })
  t.equal(api.status, 404)
  t.match(api.headers.get('content-type'), /^application\/problem\+json/, 'the API answers JSON even to a browser')
  t.equal((await api.json() as { title: string }).title, 'Nie znaleziono', 'its title in the asked language')
  const dav = await fetch(`${s.url}/.well-known/nothing`, { headers: html('pl') })
  t.match(dav.headers.get('content-type'), /json/)
  const plain = await fetch(`${s.url}/nothing`, { headers: { accept: 'application/json' } })
  t.match(plain.headers.get('content-type'), /^application\/problem\+json/, 'not a browser: JSON')
})

t.test('the API keeps its English codes and words the rule in the caller\'s language', async t => {
  const bob = await s.k.db.selectFrom('users').select('id').where('login', '=', 'bob').executeTakeFirstOrThrow()
  const made = await s.as('alice')('/api/v1/tasks', { method: 'POST', json: { title: 'Planned', assigneeId: bob.id } })
  t.equal(made.status, 201)
  const id = (made.body_ as { id: number }).id
  await s.k.db.updateTable('users').set({ can_change_planned_dates: false }).where('id', '=', bob.id).execute()
  const denied = await s.as('bob')(`/api/v1/tasks/${id}`, { method: 'PATCH', json: { plannedStart: '2026-12-09T08:00:00Z' }, headers: { 'accept-language': 'ru' } })
  await s.k.db.updateTable('users').set({ can_change_planned_dates: true }).where('id', '=', bob.id).execute()
  t.equal(denied.status, 422)
  const p = denied.body_ as { type: string; rule: string; title: string; detail: string }
  t.equal(p.type, 'urn:kalends:problem:planned-dates-locked')
  t.equal(p.rule, 'planned-dates-locked')
  t.equal(p.title, 'Нарушено бизнес-правило')
  t.equal(p.detail, 'Вам нельзя менять плановые сроки; администратор может это разрешить.')
  const english = await s.as('bob')(`/api/v1/tasks/${id}`, { method: 'GET' })
  t.equal(english.status, 200)

  const set = await s.as('admin')(`/api/v1/users/${bob.id}`, { method: 'PATCH', json: { language: 'pl' } })
  t.equal(set.status, 200)
  t.equal((set.body_ as { language: string }).language, 'pl', 'a user\'s language through the API too')
  const refused = await s.as('admin')(`/api/v1/users/${bob.id}`, { method: 'PATCH', json: { language: 'de' } })
  t.equal(refused.status, 400)
  t.equal((refused.body_ as { field: string }).field, 'language')
  t.equal(((await s.as('admin')(`/api/v1/users/${bob.id}`, { method: 'PATCH', json: { language: null } })).body_ as { language: null }).language, null)
})

t.test('first steps: an administrator\'s sign-in shows them, each ticks itself off, hidden on request', async t => {
  const admin = new WebClient(s, html('pl'))
  await admin.get('/sign-in')
  const res = await admin.post('/sign-in', { login: 'admin', password: PASSWORD, next: '/week' })
  t.equal(res.location, '/admin/setup', 'the sign-in lands on the first steps')
  const alice = new WebClient(s)
  await alice.get('/sign-in')
  t.equal((await alice.post('/sign-in', { login: 'alice', password: PASSWORD, next: '/week' })).location, '/week', 'not for users')

  const steps = async () => {
    const page = await admin.get('/admin/setup')
    return Object.fromEntries([...page.text.matchAll(/<li class="card (done|todo)" id="step-([a-z-]+)">/g)].map(m => [m[2], m[1]]))
  }
  const page = visible((await admin.get('/admin/setup')).text)
  t.match(page, `${s.k.config.publicUrl} to adres tego komputera: telefony i inne komputery nie mogą się z nim połączyć.`, 'a loopback public address is named as such')
  const before = await steps()
  t.equal(before['public-url'], 'todo')
  t.equal(before.users, 'done', 'there are colleagues')
  t.equal(before.integrations, 'todo')
  const hadDevice = before.device
  const made = await s.as('carol')('/api/v1/app-passwords', { method: 'POST', json: { name: 'phone' } })
  t.equal(made.status, 201)
  t.equal((await steps()).device, 'done', hadDevice === 'done' ? 'still done' : 'an app password ticks the device step')

  const dismissed = await admin.post('/admin/setup/dismiss', {})
  t.match(visible(dismissed.text), 'Pierwsze kroki są ukryte')
  await admin.get('/sign-in')
  t.equal((await admin.post('/sign-in', { login: 'admin', password: PASSWORD, next: '/week' })).location, '/week', 'hidden: the sign-in goes to the week')
  t.equal((await admin.get('/admin/setup')).status, 200, 'and the steps stay under Admin')
})

t.test('devices: a loopback address is flagged, and the iPhone steps say SSL off over http and on over https', async t => {
  const alice = new WebClient(s, html('ro'))
  await alice.signIn('alice')
  const local = await alice.get('/devices')
  t.match(local.text, /id="loopback-warning"/)
  t.match(visible(local.text), 'Această adresă este 127.0.0.1, calculatorul serverului însuși')
  t.match(visible(local.text), `dezactivați Utilizează SSL și setați portul ${new URL(s.k.config.publicUrl).port || 80}`)
  const profile = await alice.get('/devices/kalends.mobileconfig')
  t.match(profile.text, /<string>Calendarele Kalends ale lui alice<\/string>/, 'the Apple profile speaks her language')
  t.match(profile.text, /<key>CalDAVUseSSL<\/key><false\/>/)

  const h = await startServer({ users: ['erin'], env: { KALENDS_PUBLIC_URL: 'https://calendar.example.com' } })
  t.teardown(() => h.close())
  const erin = new WebClient(h, html('en'))
  await erin.signIn('erin')
  const remote = await erin.get('/devices')
  t.notMatch(remote.text, /id="loopback-warning"/, 'a public https address: no warning')
  t.match(visible(remote.text), 'This server speaks https: leave Use SSL on (port 443).')
  const admin = new WebClient(h, html('en'))
  await admin.signIn('admin')
  t.match((await admin.get('/admin/setup')).text, /<li class="card done" id="step-public-url">/, 'the public address step is done')
})
