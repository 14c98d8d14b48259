import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { syncConnection } from '../sync/engine.ts'
import { loadGoogleIntegration } from '../sync/google/integration.ts'
import { syncDb } from '../sync/tables.ts'
import { CLIENT_ID, CLIENT_SECRET, startSyncWorld, type SyncWorld } from '../sync/testing.ts'
import { signedInClient, WebClient, visible } from './test-client.ts'

/**
 * The Connections pages and Admin → Integrations over HTTP, against a
 * started server and the Google emulator: the consent round trip as a
 * browser makes it (start → Google's consent page → callback), OAuth state
 * bound to the session, options validated, other people's ids, CSRF, the
 * red state after a revoke and the reconnect, disconnect, and the admin's
 * write-only secrets.
 */
let w: SyncWorld
t.before(async () => { w = await startSyncWorld() })
t.teardown(() => w.close())

const unescape = (s: string) => s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&').replace(/&quot;/g, '"')

/** Google's consent page as a browser sees it: the hidden request and the "Allow as" (or Deny) button, posted to the emulator. */
async function decide (consentUrl: string, decision: { allow: string } | 'deny'): Promise<URL> {
  const page = await fetch(consentUrl)
  const body = await page.text()
  const request = unescape(/name="request" value="([^"]*)"/.exec(body)![1]!)
  const fields: Record<string, string> = decision === 'deny' ? { request, decision: 'deny' } : { request, email: decision.allow, decision: 'allow' }
  const res = await fetch(new URL('/o/oauth2/v2/auth/decision', consentUrl), { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' })
  return new URL(res.headers.get('location')!)
}

/** Connect Google through the pages; returns the callback's answer. */
async function connect (c: WebClient, login: string, start = '/connections/google/start') {
  const begin = await c.get(start)
  const back = await decide(begin.location!, { allow: w.email(login) })
  return c.get(back.pathname + back.search)
}

const connectionsOf = (login: string) => syncDb(w.s.k.db).selectFrom('sync_connections').selectAll().where('user_id', '=', w.s.users[login]!.id).execute()

const signedIn = (login: string) => signedInClient(w.s, login)

t.test('start sends the browser to Google\'s consent screen with a state', async t => {
  const c = await signedIn('alice')
  const page = await c.get('/connections')
  t.equal(page.status, 200)
  t.match(page.text, /<a class="button" href="\/connections\/google\/start">Connect Google<\/a>/, 'a link, not a form (the CSP allows forms to this site only)')
  t.match(visible(page.text), 'No connections yet.')
  t.match(page.text, /<a href="\/connections" aria-current="page">Connections<\/a>/, 'in the navigation')
  const start = await c.get('/connections/google/start')
  t.equal(start.status, 302)
  const to = new URL(start.location!)
  t.equal(to.origin + to.pathname, `${w.g.url}/o/oauth2/v2/auth`, 'to the emulator\'s consent screen')
  t.equal(to.searchParams.get('client_id'), CLIENT_ID)
  t.equal(to.searchParams.get('redirect_uri'), `${w.s.url}/connections/google/callback`)
  t.equal(to.searchParams.get('login_hint'), 'alice@example.com')
  t.match(to.searchParams.get('state'), /^[A-Za-z0-9_-]{32}$/, 'a random state')
  t.equal(to.searchParams.get('access_type'), 'offline')
  const signedOut = await fetch(`${w.s.url}/connections/google/start`, { redirect: 'manual' })
  t.equal(signedOut.status, 303, 'signed out: to the sign-in page')
})

t.test('a callback with a state another user started is refused and creates nothing', async t => {
  const alice = await signedIn('alice')
  const bob = await signedIn('bob')
  const bobStart = await bob.get('/connections/google/start')
  const back = await decide(bobStart.location!, { allow: w.email('bob') })
  const res = await alice.get(back.pathname + back.search)
  t.equal(res.status, 403)
  t.match(visible(res.text), 'this Google sign-in was not started here')
  t.same(await connectionsOf('alice'), [])
  t.same(await connectionsOf('bob'), [])
  const forged = await alice.get('/connections/google/callback?code=x&state=made-up')
  t.equal(forged.status, 403, 'a made-up state')
  const denied = await alice.get('/connections/google/start')
  const deniedBack = await decide(denied.location!, 'deny')
  const refused = await alice.get(deniedBack.pathname + deniedBack.search)
  t.equal(refused.status, 403)
  t.match(visible(refused.text), 'Google access was not granted')
  t.same(await connectionsOf('alice'), [], 'nothing after a denial either')
})

t.test('connect, sync, options, sync since, revoke, reconnect, disconnect', async t => {
  const c = await signedIn('alice')
  const done = await connect(c, 'alice')
  t.equal(done.status, 303)
  const [conn] = await connectionsOf('alice')
  t.ok(conn, 'the connection is made')
  t.equal(conn!.account, 'alice@example.com')
  t.equal(done.location, `/connections?done=connected#connection-${conn!.id}`)
  let page = await c.get('/connections?done=connected')
  t.match(visible(page.text), 'The Google account is connected.')
  t.match(visible(page.text), 'Google: alice@example.com')
  t.match(visible(page.text), 'Waiting for the next sync')

  await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Out to Google', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })
  t.equal((await syncConnection(w.s.k.sync.engine, conn!.id)).state, 'ok')
  page = await c.get('/connections')
  const text = visible(page.text)
  t.match(page.text, /<p class="badge good" role="status">/, 'a green badge, said in words')
  t.match(text, /Connected — synced \d+ \w+ \d{4}/)
  t.match(text, /Items out 1/)
  t.match(text, 'connected to alice@example.com', 'the log shows the connect')
  t.match(text, /to Google created appointment #\d+/, 'and the item that went out')

  // the choices come from Google: another calendar and task list
  const work = w.g.addCalendar('alice@example.com', 'Work')
  const list = w.g.addTaskList('alice@example.com', 'Errands')
  page = await c.get('/connections')
  t.match(page.text, new RegExp(`<option value="${work.id}">Work</option>`), 'the calendars of the account')
  t.match(page.text, new RegExp(`<option value="${list.id}">Errands</option>`), 'its task lists')
  const meeting = (await w.s.as('admin')('/api/v1/types', { method: 'POST', json: { name: 'Meeting', appliesTo: 'appointment' } })).body_ as { id: number }
  const call = (await w.s.as('admin')('/api/v1/types', { method: 'POST', json: { name: 'Call back', appliesTo: 'task' } })).body_ as { id: number }
  page = await c.get('/connections')
  t.match(page.text, new RegExp(`<option value="${meeting.id}">Meeting</option>`), 'appointment types to choose from')

  const good = {
    appointments: '1', tasks: '1', calendarId: work.id, taskListId: list.id, appointmentTypeId: String(meeting.id), taskTypeId: String(call.id),
    window: 'days', startDate: '', daysBefore: '30', daysAfter: '90', 'desc-case': '1', 'desc-link': '1', pollMinutes: '10'
  }
  const before = (await connectionsOf('alice'))[0]!.options
  for (const [fields, reason, field] of [
    [{ ...good, window: 'date', startDate: '2026-02-30' }, /Start date: /, 'startDate'],
    [{ ...good, window: 'date', startDate: '' }, 'Start date: choose the date the first sync starts from', 'startDate'],
    [{ ...good, appointments: '', tasks: '' }, 'What to sync: choose appointments, tasks or both', 'appointments'],
    [{ ...good, daysBefore: '-3' }, 'Days before today: must be a whole number of days', 'daysBefore'],
    [{ ...good, pollMinutes: '0' }, 'Check for changes every (minutes): must be from 1 to 1440 minutes', 'pollMinutes'],
    [{ ...good, calendarId: 'a/b' }, 'Google calendar: must be an id chosen from the list', 'calendarId']
  ] as const) {
    const res = await c.post(`/connections/${conn!.id}/options`, fields)
    t.equal(res.status, 400, `refused: ${field}`)
    t.match(res.text, /<p class="error" role="alert" id="form-error">/)
    t.match(visible(res.text), reason)
    t.match(res.text, new RegExp(`id="c${conn!.id}-${field}" name="${field}"[^>]*aria-invalid="true"`), 'the field is marked')
  }
  const typed = await c.post(`/connections/${conn!.id}/options`, { ...good, window: 'date', startDate: '2026-02-30' })
  t.match(typed.text, 'value="2026-02-30"', 'what the user typed comes back')
  t.same((await connectionsOf('alice'))[0]!.options, before, 'a refused form changes nothing')

  const saved = await c.post(`/connections/${conn!.id}/options`, good)
  t.equal(saved.status, 303)
  t.equal(saved.location, `/connections?done=saved#connection-${conn!.id}`)
  t.match((await connectionsOf('alice'))[0]!.options, {
    appointments: true, tasks: true, calendarId: work.id, taskListId: list.id, appointmentTypeId: meeting.id, taskTypeId: call.id,
    startDate: null, daysBefore: 30, daysAfter: 90, descriptionFields: ['case', 'link'], pollMinutes: 10
  })
  page = await c.get('/connections?done=saved')
  t.match(visible(page.text), 'The options are saved.')
  t.match(page.text, new RegExp(`<option value="${work.id}" selected>Work</option>`), 'the choice is shown')
  t.match(page.text, /name="window" value="days" checked/)
  t.match(page.text, /id="c\d+-desc-link" name="desc-link" value="1" checked/)
  const onlyAppointments = await c.post(`/connections/${conn!.id}/options`, { ...good, calendarId: 'primary', tasks: '', window: 'date', startDate: '2026-01-15' })
  t.equal(onlyAppointments.status, 303)
  t.match((await connectionsOf('alice'))[0]!.options, { appointments: true, tasks: false, calendarId: 'primary', taskListId: list.id, startDate: '2026-01-15', daysBefore: null, daysAfter: null })

  const badSince = await c.post(`/connections/${conn!.id}/since`, { since: '2026-13-01' })
  t.equal(badSince.status, 400)
  t.match(visible(badSince.text), 'Sync again since: ')
  t.match(badSince.text, 'value="2026-13-01"')
  const since = await c.post(`/connections/${conn!.id}/since`, { since: '2026-11-01' })
  t.equal(since.status, 303)
  t.match(visible((await c.get('/connections?done=since')).text), 'Alice asked to match everything since 2026-11-01')
  t.equal((await connectionsOf('alice'))[0]!.state, 'pending')

  const queued = await c.post(`/connections/${conn!.id}/sync`, {})
  t.equal(queued.status, 303, 'sync now queues a run')
  t.equal(queued.location, `/connections?done=queued#connection-${conn!.id}`)

  // Google stops accepting the token: red, with the reason and a way back
  w.g.revoke('alice@example.com')
  t.equal((await syncConnection(w.s.k.sync.engine, conn!.id)).state, 'error')
  page = await c.get('/connections')
  t.match(page.text, /<p class="badge bad" role="status">/)
  t.match(visible(page.text), /Not syncing: Google access was revoked or has expired/)
  t.match(page.text, new RegExp(`href="/connections/google/start\\?reconnect=${conn!.id}" aria-label="Reconnect alice@example.com">Reconnect</a>`))
  t.match(visible(page.text), 'The lists of calendars could not be read', 'the stored choices stay, with the reason')
  t.match(page.text, new RegExp(`<option value="${list.id}" selected>${list.id}</option>`))
  const refusedRun = await c.post(`/connections/${conn!.id}/sync`, {})
  t.equal(refusedRun.status, 409, 'sync now waits for the reconnect')
  t.match(visible(refusedRun.text), 'Reconnect it first')
  const again = await connect(c, 'alice', `/connections/google/start?reconnect=${conn!.id}`)
  t.equal(again.location, `/connections?done=reconnected#connection-${conn!.id}`, 'the same connection, reconnected')
  t.equal((await connectionsOf('alice')).length, 1)
  const resumed = await syncConnection(w.s.k.sync.engine, conn!.id)
  t.equal(resumed.state, 'ok', resumed.reason ?? 'it syncs again')
  t.match((await c.get('/connections')).text, /<p class="badge good" role="status">/)

  const gone = await c.post(`/connections/${conn!.id}/disconnect`, {})
  t.equal(gone.status, 303)
  t.equal(gone.location, '/connections?done=disconnected')
  t.same((await connectionsOf('alice')).filter(c => c.disconnected_at === null), [], 'the connection is removed (kept out of sight for a reconnect to the same account)')
  page = await c.get('/connections?done=disconnected')
  t.match(visible(page.text), 'The connection is removed. Nothing was deleted.')
  t.match(visible(page.text), 'No connections yet.')
  t.equal((await w.events('alice')).filter(e => e.summary === 'Out to Google').length, 1, 'nothing was deleted in Google')
})

t.test("another user's connection id answers 404 and changes nothing; every form needs the token", async t => {
  const alice = await signedIn('alice')
  await connect(alice, 'alice')
  const conn = (await connectionsOf('alice'))[0]!
  const logLines = async () => (await syncDb(w.s.k.db).selectFrom('sync_log').select('id').where('connection_id', '=', conn.id).execute()).length
  const lines = await logLines()
  const bob = await signedIn('bob')
  const posts: [string, Record<string, string>][] = [
    [`/connections/${conn.id}/sync`, {}],
    [`/connections/${conn.id}/since`, { since: '2026-01-01' }],
    [`/connections/${conn.id}/options`, { appointments: '1', window: 'all', pollMinutes: '1' }],
    [`/connections/${conn.id}/disconnect`, {}]
  ]
  for (const [path, fields] of [...posts, ['/connections/999999/sync', {}], ['/connections/abc/sync', {}]] as const) {
    const res = await bob.post(path, fields)
    t.equal(res.status, 404, `POST ${path}`)
    t.notMatch(res.text, 'alice@example.com')
  }
  const reconnect = await bob.get(`/connections/google/start?reconnect=${conn.id}`)
  t.equal(reconnect.status, 404, 'reconnecting someone else\'s connection')
  t.notMatch(visible((await bob.get('/connections')).text), 'alice@example.com', 'bob\'s page does not list it')
  const after = (await connectionsOf('alice'))[0]!
  t.same([after.options, after.state, after.cursors], [conn.options, conn.state, conn.cursors], 'nothing changed')
  t.equal(await logLines(), lines, 'nothing logged')

  for (const [path, fields] of [...posts, ['/connections/google/workspace', {}]] as const) {
    t.equal((await alice.post(path, fields, { csrf: null })).status, 403, `POST ${path} without a token`)
    t.equal((await alice.post(path, fields, { csrf: 'x'.repeat(43) })).status, 403, `POST ${path} with a wrong token`)
    t.equal((await alice.post(path, fields, { csrf: bob.csrf })).status, 403, `POST ${path} with another session's token`)
  }
  const still = (await connectionsOf('alice'))[0]
  t.ok(still, 'not disconnected')
  t.same([still!.options, still!.state], [conn.options, conn.state], 'nothing changed')
  await alice.post(`/connections/${conn.id}/disconnect`, {})
})

t.test('admin integrations: write-only secrets, validation, the organisation\'s connections, administrators only', async t => {
  const alice = await signedIn('alice')
  await connect(alice, 'alice')
  const bob = await signedIn('bob')
  t.equal((await bob.get('/admin/integrations')).status, 403, 'not for users')
  t.equal((await bob.post('/admin/integrations/google', { clientId: 'stolen', enabled: '1' })).status, 403)
  const admin = await signedIn('admin')
  t.equal((await admin.post('/admin/integrations/google', { clientId: 'forged', enabled: '1' }, { csrf: null })).status, 403, 'CSRF')
  const orgId = w.s.users.admin!.org_id
  t.equal((await loadGoogleIntegration(w.s.k.db, w.s.k.secrets, orgId, w.s.k.config.google))!.clientId, CLIENT_ID, 'nothing saved by those')

  let page = await admin.get('/admin/integrations')
  t.equal(page.status, 200)
  t.match(page.text, `value="${CLIENT_ID}"`, 'the client id from the environment')
  t.notMatch(page.text, CLIENT_SECRET, 'never the secret')
  t.match(page.text, /<input type="password" id="g-clientSecret" name="clientSecret" value=""/)
  t.match(visible(page.text), 'A secret is stored.')
  t.match(page.text, `value="${w.s.url}/connections/google/callback"`, 'the redirect URI to register')
  t.match(visible(page.text), /Alice alice Google: alice@example\.com Waiting for the next sync/, 'the organisation\'s connections with their owner and state')
  t.equal((visible(page.text).match(/coming: not available yet/g) ?? []).length, 0, 'Exchange and Microsoft 365 have their cards')

  const base = { enabled: '1', clientId: CLIENT_ID, clientSecret: '', applicationName: 'Kalends at Test Org', pushAddress: '', delegationDomain: '', serviceAccountJson: '' }
  let res = await admin.post('/admin/integrations/google', base)
  t.equal(res.status, 200)
  t.match(visible(res.text), 'The Google settings are saved.')
  let stored = (await loadGoogleIntegration(w.s.k.db, w.s.k.secrets, orgId, w.s.k.config.google))!
  t.equal(stored.clientSecret, CLIENT_SECRET, 'an empty secret field keeps the secret in force')
  t.equal((await loadGoogleIntegration(w.s.k.db, w.s.k.secrets, orgId))!.clientSecret, '', 'the environment\'s default is not copied into the organisation')
  t.equal(stored.applicationName, 'Kalends at Test Org')
  const row = await syncDb(w.s.k.db).selectFrom('integrations').selectAll().executeTakeFirstOrThrow()
  t.notMatch(JSON.stringify(row), CLIENT_SECRET, 'sealed at rest')

  res = await admin.post('/admin/integrations/google', { ...base, pushAddress: 'ftp://nope', clientSecret: 'typed-secret' })
  t.equal(res.status, 400)
  t.match(visible(res.text), 'Push notification address: must be the public https:// address of this server')
  t.match(res.text, /id="g-pushAddress" name="pushAddress" value="ftp:\/\/nope"[^>]*aria-invalid="true"/)
  t.notMatch(res.text, 'typed-secret', 'a typed secret is not shown back either')
  res = await admin.post('/admin/integrations/google', { ...base, serviceAccountJson: '{"not": "a key"}' })
  t.equal(res.status, 400)
  t.match(visible(res.text), 'Service account key (JSON): needs client_email and private_key')

  // a Workspace service account: the key is stored sealed, only its address is shown, users may connect without consent
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const key = { type: 'service_account', client_email: 'kalends-sync@project.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
  w.g.registerServiceAccount({ clientEmail: key.client_email, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, domain: 'example.com' })
  res = await admin.post('/admin/integrations/google', { ...base, pushAddress: 'https://calendar.example.com', delegationDomain: 'Example.com', serviceAccountJson: JSON.stringify(key) })
  t.equal(res.status, 200)
  t.match(visible(res.text), 'A key of kalends-sync@project.iam.gserviceaccount.com is stored.')
  t.notMatch(res.text, key.private_key.split('\n')[1]!, 'the key is never shown back')
  stored = (await loadGoogleIntegration(w.s.k.db, w.s.k.secrets, orgId, w.s.k.config.google))!
  t.same([stored.pushAddress, stored.delegationDomain, stored.serviceAccount?.clientEmail], ['https://calendar.example.com', 'example.com', key.client_email])
  res = await admin.post('/admin/integrations/google', { ...base, pushAddress: 'https://calendar.example.com', delegationDomain: 'example.com', clientSecret: 'rotated-secret' })
  stored = (await loadGoogleIntegration(w.s.k.db, w.s.k.secrets, orgId, w.s.k.config.google))!
  t.equal(stored.clientSecret, 'rotated-secret', 'a new secret replaces the old')
  t.equal(stored.serviceAccount?.clientEmail, key.client_email, 'an empty key field keeps the key')
  await admin.post('/admin/integrations/google', { ...base, pushAddress: 'https://calendar.example.com', delegationDomain: 'example.com', clientSecret: CLIENT_SECRET })

  const carol = await signedIn('carol')
  page = await carol.get('/connections')
  t.match(page.text, /<form method="post" action="\/connections\/google\/workspace" class="inline">.*<button type="submit"[^>]*>Connect with Google Workspace<\/button>/s)
  res = await carol.post('/connections/google/workspace', {})
  t.equal(res.status, 303, visible(res.text))
  const [viaWorkspace] = await connectionsOf('carol')
  t.equal(viaWorkspace?.auth_kind, 'delegation', 'connected through the Workspace')
  t.match(visible((await carol.get('/connections')).text), 'Connected through the Google Workspace')
  // Google refuses or fails the Workspace connect: the page says why (502), not a server error
  w.g.fault({ match: { pathIncludes: '/calendars/primary' }, kind: '503', times: 5 })
  res = await carol.post('/connections/google/workspace', {})
  w.g.clearFaults()
  t.equal(res.status, 502, 'Google failing')
  t.match(visible(res.text), /Google could not be reached: Google answered 503/)
  await w.s.k.db.updateTable('users').set({ email: 'nobody@example.com' }).where('id', '=', w.s.users.bob!.id).execute()
  res = await bob.post('/connections/google/workspace', {})
  await w.s.k.db.updateTable('users').set({ email: w.email('bob') }).where('id', '=', w.s.users.bob!.id).execute()
  t.equal(res.status, 502, 'an address Google does not know')
  t.match(visible(res.text), /Google could not be reached: Google refused the service account for nobody@example.com/)
  t.same(await connectionsOf('bob'), [], 'nothing is connected')

  // switched off: users are told who switches it on, and cannot start
  res = await admin.post('/admin/integrations/google', { ...base, enabled: '' })
  t.equal(res.status, 200)
  t.notMatch(res.text, /id="g-enabled" name="enabled" value="1" checked/)
  page = await alice.get('/connections')
  t.match(visible(page.text), 'Google is not enabled for this organisation. An administrator enables it under Admin → Integrations.')
  t.notMatch(page.text, 'Connect Google')
  const start = await alice.get('/connections/google/start')
  t.equal(start.status, 409)
  t.match(visible(start.text), 'an admin enables it under Admin → Integrations')
  await admin.post('/admin/integrations/google', base)
  t.equal((await alice.get('/connections/google/start')).status, 302, 'on again')
})
