import t from 'tap'
import { startServer, PASSWORD, type TestServer } from '../testing/harness.ts'
import { WebClient, visible } from './test-client.ts'

/**
 * The web pages over HTTP: sign-in and sign-out with a session cookie, CSRF
 * tokens, session fixation, other people's ids in URLs, and business-rule
 * refusals shown with their reason.
 */
let s: TestServer
t.before(async () => { s = await startServer({ users: ['alice', 'bob', 'carol'], env: { KALENDS_LOGIN_FAILURES_PER_ACCOUNT: '3' } }) })
t.teardown(() => s.close())

t.test('sign in and out', async t => {
  const c = new WebClient(s)
  const root = await c.get('/')
  t.equal(root.status, 303)
  t.equal(root.location, '/sign-in?next=%2F', 'the address the first start prints leads to the sign-in page')
  const week = await c.get('/week')
  t.equal(week.status, 303, 'not signed in: to the sign-in page')
  t.equal(week.location, '/sign-in?next=%2Fweek')
  const form = await c.get('/sign-in')
  t.equal(form.status, 200)
  t.match(form.res.headers.get('content-type'), /^text\/html/)
  t.match(form.text, /<label for="login">User name<\/label>/, 'labelled fields')
  t.match(form.res.headers.get('content-security-policy'), /default-src 'self'/)

  const wrong = await c.post('/sign-in', { login: 'alice', password: 'wrong password' })
  t.equal(wrong.status, 401)
  t.match(visible(wrong.text), 'Wrong user name or password.')
  t.notOk(c.cookies.has('kalends_session'), 'no session after a wrong password')

  const ok = await c.post('/sign-in', { login: 'alice', password: PASSWORD, next: '/calendars' })
  t.equal(ok.status, 303)
  t.equal(ok.location, '/calendars', 'back to the page asked for')
  const cookie = ok.res.headers.getSetCookie().find(x => x.startsWith('kalends_session='))!
  t.match(cookie, /; Path=\/; HttpOnly; SameSite=Lax$/, 'HttpOnly, SameSite=Lax, not Secure over http')
  t.match(cookie, /^kalends_session=[A-Za-z0-9_-]{43};/)
  const rows = await s.k.db.selectFrom('web_sessions' as never).selectAll().execute() as { id_sha256: string }[]
  t.notOk(rows.some(r => r.id_sha256 === c.cookies.get('kalends_session')), 'the database keeps a hash, not the id')
  const page = await c.get('/week')
  t.equal(page.status, 200)
  t.match(visible(page.text), 'Signed in as Alice')
  t.match(page.text, /<main id="main"/, 'a main landmark')
  t.match(page.text, /<nav aria-label="Main">/, 'a labelled navigation')

  const sid = c.cookies.get('kalends_session')!
  const out = await c.post('/sign-out', {})
  t.equal(out.status, 303)
  t.equal(out.location, '/sign-in?out=1')
  t.notOk(c.cookies.has('kalends_session'), 'the cookie is cleared')
  const again = await fetch(`${s.url}/week`, { headers: { cookie: `kalends_session=${sid}` }, redirect: 'manual' })
  t.equal(again.status, 303, 'the old session id no longer works: the session is destroyed')
})

t.test('the next page after sign-in stays on this site', async t => {
  const c = new WebClient(s)
  await c.get('/sign-in?next=//evil.example/x')
  t.equal((await c.post('/sign-in', { login: 'alice', password: PASSWORD, next: '//evil.example/x' })).location, '/week')
})

t.test('an app password does not sign in to the pages', async t => {
  const created = await s.as('carol')('/api/v1/app-passwords', { method: 'POST', json: { name: 'phone' } })
  const c = new WebClient(s)
  const res = await c.signIn('carol', (created.body_ as { password: string }).password)
  t.equal(res.status, 401)
  t.match(visible(res.text), 'App passwords are for calendar apps')
})

t.test('failed sign-ins are rate-limited like every other sign-in', async t => {
  const c = new WebClient(s)
  for (let i = 0; i < 3; i++) t.equal((await c.signIn('carol', `nope-${i}`)).status, 401)
  // past the free failures each one doubles the wait: guess on until it is long enough that the next try surely falls inside it
  for (let i = 3, wait = 0; wait < 4 && i < 20; i++) {
    const res = await c.signIn('carol', `nope-${i}`)
    wait = res.status === 429 ? Number(res.res.headers.get('retry-after')) : 0
    if (wait > 0 && wait < 4) await new Promise(resolve => setTimeout(resolve, wait * 1000))
  }
  const limited = await c.signIn('carol', PASSWORD)
  t.equal(limited.status, 429)
  t.ok(Number(limited.res.headers.get('retry-after')) > 0)
  t.match(visible(limited.text), /too many failed sign-ins for this account/)
})

t.test('Secure cookie with the __Host- prefix when the public URL is https', async t => {
  const h = await startServer({ users: ['dave'], env: { KALENDS_PUBLIC_URL: 'https://cal.example.com' } })
  t.teardown(() => h.close())
  const c = new WebClient(h)
  const res = await c.signIn('dave')
  t.equal(res.status, 303)
  t.match(res.res.headers.getSetCookie()[0], /^__Host-kalends_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure$/)
})

t.test('CSRF: every form needs the session token', async t => {
  const c = new WebClient(s)
  await c.signIn('alice')
  await c.get('/devices')
  const before = ((await s.as('alice')('/api/v1/app-passwords')).body_ as unknown[]).length
  const none = await c.post('/devices/app-passwords', { name: 'forged' }, { csrf: null })
  t.equal(none.status, 403, 'no token: refused')
  t.match(visible(none.text), 'did not come from this site')
  const wrong = await c.post('/devices/app-passwords', { name: 'forged' }, { csrf: 'x'.repeat(43) })
  t.equal(wrong.status, 403, 'a wrong token: refused')
  const other = new WebClient(s)
  await other.signIn('bob')
  const foreign = await c.post('/devices/app-passwords', { name: 'forged' }, { csrf: other.csrf })
  t.equal(foreign.status, 403, "another session's token: refused")
  t.equal(((await s.as('alice')('/api/v1/app-passwords')).body_ as unknown[]).length, before, 'nothing was created')
  const signOut = await c.post('/sign-out', {}, { csrf: null })
  t.equal(signOut.status, 403, 'sign-out too')
  const ok = await c.post('/devices/app-passwords', { name: 'real' })
  t.equal(ok.status, 200, 'with the token it works')
  t.match(visible(ok.text), /App password for “real”/)

  const fresh = new WebClient(s)
  await fresh.get('/sign-in')
  const noPre = await fetch(`${s.url}/sign-in`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: fresh.csrf, login: 'alice', password: PASSWORD }) })
  t.equal(noPre.status, 403, 'the sign-in form: token without its cookie (login CSRF) refused')
})

t.test('session fixation: an id set before sign-in is never the session after', async t => {
  const planted = 'A'.repeat(43)
  const c = new WebClient(s)
  c.cookies.set('kalends_session', planted)
  const res = await c.signIn('alice')
  t.equal(res.status, 303)
  const got = c.cookies.get('kalends_session')!
  t.not(got, planted, 'a new id is set at sign-in')
  t.equal((await fetch(`${s.url}/week`, { headers: { cookie: `kalends_session=${planted}` }, redirect: 'manual' })).status, 303, 'the planted id signs nobody in')

  // a live session of one user, then signing in as another: a new id again, the old one ends
  const old = got
  const res2 = await c.signIn('bob')
  t.equal(res2.status, 303)
  t.not(c.cookies.get('kalends_session'), old)
  t.equal((await fetch(`${s.url}/week`, { headers: { cookie: `kalends_session=${old}` }, redirect: 'manual' })).status, 303, 'the earlier session is gone')
  t.match(visible((await c.get('/week')).text), 'Signed in as Bob')
})

t.test("other people's ids in URLs answer 404", async t => {
  const alice = s.as('alice')
  const appt = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Alice only', start: '2026-03-02T09:00:00+01:00', end: '2026-03-02T10:00:00+01:00' } })).body_ as { id: number }
  const task = (await alice('/api/v1/tasks', { method: 'POST', json: { title: 'Alice task' } })).body_ as { id: number }
  const ap = (await alice('/api/v1/app-passwords', { method: 'POST', json: { name: 'alice phone' } })).body_ as { id: number }
  const cals = (await alice('/api/v1/calendars')).body_ as { id: number; kind: string }[]
  const own = cals.find(c => c.kind === 'personal')!
  const feed = (await alice('/api/v1/feeds', { method: 'POST', json: { calendarId: own.id } })).body_ as { id: number }

  const bob = new WebClient(s)
  await bob.signIn('bob')
  for (const path of [`/appointments/${appt.id}/edit`, `/tasks/${task.id}/edit`, '/appointments/999999/edit', '/tasks/abc/edit']) {
    const res = await bob.get(path)
    t.equal(res.status, 404, `GET ${path}`)
    t.notMatch(res.text, /Alice only|Alice task/)
  }
  for (const [path, fields] of [
    [`/appointments/${appt.id}`, { title: 'Bob was here', date: '2026-03-02', start: '09:00', end: '10:00' }],
    [`/appointments/${appt.id}/delete`, {}],
    [`/appointments/${appt.id}/case`, { caseId: '1' }],
    [`/tasks/${task.id}`, { title: 'Bob was here' }],
    [`/tasks/${task.id}/delete`, {}],
    [`/devices/app-passwords/${ap.id}/revoke`, {}],
    [`/calendars/feeds/${feed.id}/rotate`, {}],
    [`/calendars/feeds/${feed.id}/revoke`, {}],
    [`/calendars/${own.id}/prefs`, { favourite: '1' }]
  ] as [string, Record<string, string>][]) {
    t.equal((await bob.post(path, fields)).status, 404, `POST ${path}`)
  }
  t.match((await alice(`/api/v1/appointments/${appt.id}`)).body_, { title: 'Alice only' }, 'the appointment is untouched')
  t.match((await alice(`/api/v1/tasks/${task.id}`)).body_, { title: 'Alice task' })
  t.match((await alice('/api/v1/app-passwords')).body_, [{ id: ap.id, revokedAt: null }].slice(0, 0))
  t.equal(((await alice('/api/v1/app-passwords')).body_ as { id: number; revokedAt: string | null }[]).find(p => p.id === ap.id)!.revokedAt, null, 'the app password still works')
  t.equal((await alice(`/api/v1/feeds/${feed.id}`)).body_ !== null && ((await alice(`/api/v1/feeds/${feed.id}`)).body_ as { revokedAt: string | null }).revokedAt, null, 'the feed is not revoked')
  t.equal((await bob.get('/admin/users')).status, 403, 'admin pages: administrators only')
  t.equal((await bob.post('/admin/users', { login: 'mallory', password: 'long enough secret' })).status, 403)
})

t.test('business-rule refusals are shown with their reason', async t => {
  const alice = s.as('alice')
  const task = (await alice('/api/v1/tasks', { method: 'POST', json: { title: 'Started', status: 'in_progress', actualStart: '2026-03-02T08:00:00Z' } })).body_ as { id: number }
  const c = new WebClient(s)
  await c.signIn('alice')
  const edit = await c.get(`/tasks/${task.id}/edit`)
  t.equal(edit.status, 200)
  t.match(edit.text, /name="actualStart" value="2026-03-02T09:00"/, 'shown in the user\'s zone (Europe/Warsaw)')
  const form = Object.fromEntries([...edit.text.matchAll(/<input type="(?:text|datetime-local)" id="(\w+)" name="\w+" value="([^"]*)"/g)].map(m => [m[1]!, m[2]!]))
  const res = await c.post(`/tasks/${task.id}`, { ...form, status: 'in_progress', calendarId: '', assigneeId: String(s.users.alice!.id), caseId: '', actualStart: '2026-03-02T10:30' })
  t.equal(res.status, 422)
  t.match(visible(res.text), 'Actual start: the actual start of a task that is in progress cannot change')
  t.match(res.text, /role="alert"/)
  t.match(res.text, /id="actualStart" name="actualStart" aria-invalid="true" aria-describedby="form-error"/, 'the field at fault is marked for screen readers')
  t.match(res.text, /value="2026-03-02T10:30"/, 'the form keeps what the user typed')
  t.match((await alice(`/api/v1/tasks/${task.id}`)).body_, { actualStart: '2026-03-02T08:00:00.000Z' }, 'nothing changed')

  const ok = await c.post(`/tasks/${task.id}`, { ...form, title: 'Started, renamed', status: 'review', calendarId: '', assigneeId: String(s.users.alice!.id), caseId: '' })
  t.equal(ok.status, 303, 'other fields still change: the untouched locked one is not sent')
  t.match((await alice(`/api/v1/tasks/${task.id}`)).body_, { title: 'Started, renamed', status: 'review', actualStart: '2026-03-02T08:00:00.000Z' })

  await c.get('/appointments/new?date=2026-03-03')
  const bad = await c.post('/appointments', { title: 'Backwards', date: '2026-03-03', endDate: '2026-03-03', start: '11:00', end: '10:00', status: 'confirmed' })
  t.equal(bad.status, 400)
  t.match(visible(bad.text), 'End time: must not be before start')
  const locked = await s.as('admin')(`/api/v1/users/${s.users.bob!.id}`, { method: 'PATCH', json: { canChangePlannedDates: false } })
  t.equal(locked.status, 200)
  const bob = new WebClient(s)
  await bob.signIn('bob')
  await bob.get('/tasks/new')
  const planned = await bob.post('/tasks', { title: 'Planned', status: 'open', calendarId: '', assigneeId: String(s.users.bob!.id), caseId: '', plannedStart: '2026-03-04T09:00' })
  t.equal(planned.status, 422)
  t.match(visible(planned.text), 'Planned start: Bob may not set planned dates')
})

t.test('week and month views show each occurrence of a recurring appointment', async t => {
  const alice = s.as('alice')
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Weekly stand-up', start: '2026-04-06T09:30:00+02:00', end: '2026-04-06T09:45:00+02:00', rrule: 'FREQ=WEEKLY;COUNT=4', timezone: 'Europe/Warsaw' } })
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Off-site', allDay: true, start: '2026-04-08', end: '2026-04-10' } })
  const c = new WebClient(s)
  await c.signIn('alice')
  for (const [date, count] of [['2026-04-06', 1], ['2026-04-27', 1], ['2026-05-04', 0]] as const) {
    const week = await c.get(`/week?date=${date}`)
    t.equal(week.status, 200)
    t.equal(visible(week.text).split('09:30–09:45').length - 1, count, `week of ${date}: ${count} stand-up`)
  }
  const w = visible((await c.get('/week?date=2026-04-08')).text)
  t.equal(w.split('Off-site').length - 1, 2, 'a two-day all-day event shows on both days')
  const month = visible((await c.get('/month?date=2026-04-15')).text)
  t.match(month, 'April 2026')
  t.equal(month.split('Weekly stand-up').length - 1, 4, 'four occurrences in the month')
})

t.test('the Apple configuration profile', async t => {
  const c = new WebClient(s)
  await c.signIn('alice')
  const res = await c.get('/devices/kalends.mobileconfig')
  t.equal(res.status, 200)
  t.equal(res.res.headers.get('content-type'), 'application/x-apple-aspen-config')
  t.match(res.res.headers.get('content-disposition'), /attachment; filename="kalends.mobileconfig"/)
  t.match(res.text, '<string>com.apple.caldav.account</string>')
  t.match(res.text, '<key>CalDAVHostName</key><string>127.0.0.1</string>')
  t.match(res.text, /<key>CalDAVPrincipalURL<\/key><string>http:\/\/127\.0\.0\.1:\d+\/dav\/principals\/alice\/<\/string>/)
  t.match(res.text, '<key>CalDAVUsername</key><string>alice</string>')
  t.match(res.text, '<key>CalDAVUseSSL</key><false/>')
  t.notMatch(res.text, /CalDAVPassword/, 'no password in the file')
})

t.test('a disabled user is signed out of the pages', async t => {
  const c = new WebClient(s)
  await c.signIn('carol').catch(() => undefined)
  const dave = await s.as('admin')('/api/v1/users', { method: 'POST', json: { login: 'erin', name: 'Erin', password: PASSWORD } })
  t.equal(dave.status, 201)
  const e = new WebClient(s)
  t.equal((await e.signIn('erin')).status, 303)
  const admin = new WebClient(s)
  await admin.signIn('admin')
  await admin.get('/admin/users')
  const id = (dave.body_ as { id: number }).id
  t.equal((await admin.post(`/admin/users/${id}/disable`, {})).status, 200)
  t.equal((await e.get('/week')).status, 303, 'the session ended')
  t.equal((await e.signIn('erin')).status, 401, 'and signing in again is refused')
  const reset = await admin.post(`/admin/users/${id}/enable`, {})
  t.match(visible(reset.text), 'erin is updated.')
  const pw = await admin.post(`/admin/users/${id}/password`, { password: 'short' })
  t.equal(pw.status, 400)
  t.match(visible(pw.text), 'must be at least 8 characters')
})

t.test('feed links from the calendars page: shown once, rotated, revoked', async t => {
  const c = new WebClient(s)
  await c.signIn('bob')
  await c.get('/calendars')
  const calId = String(((await s.as('bob')('/api/v1/calendars')).body_ as { id: number; kind: string }[]).find(x => x.kind === 'personal')!.id)
  const made = await c.post('/calendars/feeds', { calendarId: calId, busyOnly: '1' })
  t.equal(made.status, 200)
  const link = /id="feed-url" value="([^"]+)"/.exec(made.text)![1]!
  t.match(visible(made.text), 'Your new link (busy only)')
  const path = new URL(link).pathname
  t.equal((await fetch(s.url + path)).status, 200, 'the link works')
  const again = await c.get('/calendars')
  t.notMatch(again.text, path.slice(7, 30), 'the secret is not shown again')
  const feedId = /action="\/calendars\/feeds\/(\d+)\/rotate"/.exec(again.text)![1]!
  const rotated = await c.post(`/calendars/feeds/${feedId}/rotate`, {})
  const next = new URL(/id="feed-url" value="([^"]+)"/.exec(rotated.text)![1]!).pathname
  t.not(next, path)
  t.equal((await fetch(s.url + path)).status, 404, 'the old link stops at once')
  t.equal((await fetch(s.url + next)).status, 200)
  const revoked = await c.post(`/calendars/feeds/${feedId}/revoke`, {})
  t.match(visible(revoked.text), 'The feed link no longer works.')
  t.equal((await fetch(s.url + next)).status, 404)

  const off = await c.post(`/calendars/${calId}/prefs`, { favourite: '1' })
  t.equal(off.status, 200, 'allow export switched off')
  const refused = await c.post('/calendars/feeds', { calendarId: calId })
  t.equal(refused.status, 403)
  t.match(visible(refused.text), 'export is switched off for this calendar')
})

t.test('a private appointment in a calendar shared read-only shows only as busy', async t => {
  const bobCal = ((await s.as('bob')('/api/v1/calendars')).body_ as { id: number; kind: string }[]).find(c => c.kind === 'personal')!
  t.equal((await s.as('bob')(`/api/v1/calendars/${bobCal.id}/shares/${s.users.alice!.id}`, { method: 'PUT', json: { access: 'read' } })).status, 204)
  const appt = (await s.as('bob')('/api/v1/appointments', { method: 'POST', json: { title: 'Doctor visit', private: true, start: '2026-06-02T08:00:00Z', end: '2026-06-02T09:00:00Z' } })).body_ as { id: number }
  const c = new WebClient(s)
  await c.signIn('alice')
  const week = await c.get('/week?date=2026-06-02')
  t.match(visible(week.text), '10:00–11:00 Private')
  t.notMatch(week.text, 'Doctor visit')
  t.notMatch(week.text, `/appointments/${appt.id}/edit`, 'no link to it')
})

t.test('organisation settings', async t => {
  const c = new WebClient(s)
  await c.signIn('admin')
  await c.get('/admin/organisation')
  const saved = await c.post('/admin/organisation', { name: 'Kowalski & Partners', timezone: 'America/New_York' })
  t.equal(saved.status, 200)
  t.match(visible(saved.text), 'The organisation settings are saved.')
  t.match(saved.text, /<option selected>America\/New_York<\/option>/)
  t.match((await c.get('/admin/users')).text, /<option selected>America\/New_York<\/option>/, 'the default zone of a new user')
  const bad = await c.post('/admin/organisation', { name: 'X', timezone: 'Mars/Olympus' })
  t.equal(bad.status, 400)
  t.match(visible(bad.text), 'is not an IANA time zone')
  const made = await c.post('/admin/users', { login: 'frank', name: 'Frank', password: 'long enough secret', role: 'user', timezone: 'America/New_York' })
  t.match(visible(made.text), 'The user frank is created.')
  const dup = await c.post('/admin/users', { login: 'frank', password: 'long enough secret', role: 'user', timezone: 'UTC' })
  t.equal(dup.status, 409)
  t.match(visible(dup.text), 'the login "frank" cannot be used; choose another')
})

t.test('sharing a calendar from the calendars page', async t => {
  const c = new WebClient(s)
  await c.signIn('alice')
  await c.get('/calendars')
  const cal = ((await s.as('alice')('/api/v1/calendars')).body_ as { id: number; kind: string }[]).find(x => x.kind === 'tasks')!
  const shared = await c.post(`/calendars/${cal.id}/share`, { userId: String(s.users.bob!.id), access: 'write' })
  t.equal(shared.status, 200)
  t.match(visible(shared.text), 'Shared with: Bob (read and write)')
  t.match((await s.as('alice')(`/api/v1/calendars/${cal.id}/shares`)).body_, [{ userId: s.users.bob!.id, access: 'write' }])
  const stopped = await c.post(`/calendars/${cal.id}/share`, { userId: String(s.users.bob!.id), access: '' })
  t.equal(stopped.status, 200)
  t.same((await s.as('alice')(`/api/v1/calendars/${cal.id}/shares`)).body_, [])
  const bob = new WebClient(s)
  await bob.signIn('bob')
  t.equal((await bob.post(`/calendars/${cal.id}/share`, { userId: String(s.users.bob!.id), access: 'write' })).status, 404, "bob cannot share alice's calendar with himself")
})

t.test('participants chosen on the appointment form get it in their calendars', async t => {
  const c = new WebClient(s)
  await c.signIn('alice')
  const form = await c.get('/appointments/new?date=2026-07-01')
  t.match(form.text, new RegExp(`name="participant-${s.users.bob!.id}"`), 'colleagues to tick')
  t.notMatch(form.text, new RegExp(`name="participant-${s.users.alice!.id}"`), 'not the owner')
  const made = await c.post('/appointments', { title: 'Planning with Bob', date: '2026-07-01', endDate: '2026-07-01', start: '13:00', end: '14:00', status: 'confirmed', [`participant-${s.users.bob!.id}`]: '1' })
  t.equal(made.status, 303)
  const bobSees = async () => ((await s.as('bob')('/api/v1/appointments?from=2026-07-01T00:00:00Z&to=2026-07-02T00:00:00Z')).body_ as { items: { id: number; title: string; participantIds: number[] }[] }).items
  const [appt] = await bobSees()
  t.match(appt, { title: 'Planning with Bob', participantIds: [s.users.bob!.id] })
  const edit = await c.get(`/appointments/${appt!.id}/edit`)
  t.match(edit.text, new RegExp(`name="participant-${s.users.bob!.id}" value="1" checked`))
  const fields = { title: 'Planning alone', date: '2026-07-01', endDate: '2026-07-01', start: '13:00', end: '14:00', status: 'confirmed', calendarId: /<option value="(\d+)" selected>/.exec(edit.text)![1]!, caseId: '', repeat: '', location: '', description: '' }
  t.equal((await c.post(`/appointments/${appt!.id}`, fields)).status, 303)
  t.same(await bobSees(), [], 'unticked: it leaves Bob\'s calendar')
})

t.test("a participant's edit leaves the appointment in the owner's calendar", async t => {
  const made = (await s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Review', start: '2026-08-03T10:00:00Z', end: '2026-08-03T11:00:00Z', participantIds: [s.users.bob!.id] } })).body_ as { id: number; calendarId: number }
  const bob = new WebClient(s)
  await bob.signIn('bob')
  const edit = await bob.get(`/appointments/${made.id}/edit`)
  t.equal(edit.status, 200)
  t.notMatch(edit.text, /name="calendarId"|name="participant-/, 'no calendar or participants to choose: the owner decides those')
  t.match(visible(edit.text), 'The owner decides who takes part and which calendar this is in.')
  const fields = Object.fromEntries([...edit.text.matchAll(/<input type="(?:text|date|time)" id="(\w+)" name="\w+" value="([^"]*)"/g)].map(m => [m[1]!, m[2]!]))
  const saved = await bob.post(`/appointments/${made.id}`, { ...fields, title: 'Review (moved to 12:00)', status: 'confirmed', caseId: '', repeat: '', description: '' })
  t.equal(saved.status, 303)
  t.match((await s.as('alice')(`/api/v1/appointments/${made.id}`)).body_, { title: 'Review (moved to 12:00)', calendarId: made.calendarId, participantIds: [s.users.bob!.id] })
  // a hand-made form cannot take the meeting over: what the page does not offer stays as it was
  const bobsCalendar = ((await s.as('bob')('/api/v1/calendars')).body_ as { id: number; ownerId: number; kind: string }[]).find(c => c.ownerId === s.users.bob!.id && c.kind === 'personal')!.id
  const forged = await bob.post(`/appointments/${made.id}`, { ...fields, title: 'Review (mine now)', calendarId: String(bobsCalendar), status: 'confirmed', caseId: '', repeat: '', description: '', [`participant-${s.users.carol!.id}`]: '1' })
  t.equal(forged.status, 303)
  t.match((await s.as('alice')(`/api/v1/appointments/${made.id}`)).body_, { title: 'Review (mine now)', ownerId: s.users.alice!.id, calendarId: made.calendarId, participantIds: [s.users.bob!.id] })
})
