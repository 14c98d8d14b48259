import { createServer as createHttps } from 'node:https'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { selfSignedCertificate } from '../../conformance/graph-emulator/tls-cert.ts'
import { loadExchangeIntegration } from '../sync/ews/integration.ts'
import { syncDb } from '../sync/tables.ts'
import { startEwsWorld, type EwsWorld } from '../sync/testing-ews.ts'
import { freePort } from '../testing/harness.ts'
import { WebClient, visible } from './test-client.ts'

/**
 * The Exchange set-up over HTTP against a started server and the EWS
 * emulator: Admin → Integrations' Exchange card (save, write-only password,
 * Autodiscover, "Test connection" with its six answers), the same through
 * /api/v1/integrations/exchange, and the user's Exchange card on the
 * Connections page in both modes, and /api/v1/connections/exchange.
 */
let w: EwsWorld
let tls: { url: string; close (): Promise<void> }
t.before(async () => {
  w = await startEwsWorld()
  w.s.k.sync.exchange.autodiscover = ['http://127.0.0.1:9/autodiscover/autodiscover.xml', w.em.autodiscoverUrl]
  w.em.addMailbox('svc-kalends@example.com', { password: 'Svc-Secret-1' })
  // an HTTPS server whose certificate nobody signed: what a test install of Exchange often has
  const cert = selfSignedCertificate('mail.example.com')
  const server = createHttps(cert, (_req, res) => res.writeHead(200).end())
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  tls = { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/EWS/Exchange.asmx`, close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()) }) }
})
t.teardown(async () => { await tls.close(); await w.close() })

async function signedIn (login: string, page = '/connections') {
  const c = new WebClient(w.s)
  await c.signIn(login)
  await c.get(page)
  return c
}

const orgId = () => w.s.orgId
const stored = () => loadExchangeIntegration(w.s.k.db, w.s.k.secrets, orgId())
const exchangeRows = (login: string) => syncDb(w.s.k.db).selectFrom('sync_connections').selectAll().where('user_id', '=', w.s.users[login]!.id).where('provider', '=', 'exchange').execute()
const resultOf = (text: string) => visible(/<p class="badge (?:good|bad)" role="status" id="exchange-result">([\s\S]*?)<\/p>/.exec(text)?.[1] ?? '').trim()

const form = (over: Record<string, string> = {}) => ({
  enabled: '1', ewsUrl: w.em.ewsUrl, version: 'Exchange2013_SP1', auth: 'basic', mode: 'user', serviceUsername: '', servicePassword: '',
  autodiscoverEmail: '', testMailbox: '', testUsername: '', testPassword: '', ...over
})

t.test('admin: the Exchange card replaces "coming", saves, keeps the password write-only and sealed, refuses bad input by field, for administrators only', async t => {
  const bob = await signedIn('bob')
  t.equal((await bob.get('/admin/integrations')).status, 403)
  t.equal((await bob.post('/admin/integrations/exchange', form({ ewsUrl: 'https://evil.example.com/EWS/Exchange.asmx' }))).status, 403, 'not for users')
  const admin = await signedIn('admin', '/admin/integrations')
  t.equal((await admin.post('/admin/integrations/exchange', form({ ewsUrl: 'https://forged.example.com/' }), { csrf: null })).status, 403, 'CSRF')
  t.equal((await stored())!.ewsUrl, w.em.ewsUrl, 'nothing saved by those')

  const page = await admin.get('/admin/integrations')
  t.equal(page.status, 200)
  t.match(page.text, /<section class="card" aria-labelledby="exchange-h" id="exchange"><h2 id="exchange-h">Microsoft Exchange Server \(on-premises, EWS\)<\/h2>/)
  t.match(page.text, `id="x-ewsUrl" name="ewsUrl" value="${w.em.ewsUrl}"`)
  for (const v of ['Exchange2010_SP2', 'Exchange2013', 'Exchange2013_SP1', 'Exchange2016']) t.match(page.text, `<option value="${v}"`)
  t.match(visible(page.text), /Basic \(over TLS\) NTLM \(Windows\) OAuth bearer token \(hybrid\)/)
  t.match(page.text, /<button type="submit" name="action" value="test" class="secondary">Test connection<\/button>/)

  let res = await admin.post('/admin/integrations/exchange', form({ ewsUrl: 'mail.example.com', servicePassword: 'typed-secret' }))
  t.equal(res.status, 400)
  t.match(visible(res.text), 'EWS address: must be the server\'s EWS address')
  t.match(res.text, /id="x-ewsUrl" name="ewsUrl" value="mail.example.com"[^>]*aria-invalid="true"/)
  t.notMatch(res.text, 'typed-secret', 'a typed password is not shown back')
  res = await admin.post('/admin/integrations/exchange', form({ mode: 'service' }))
  t.equal(res.status, 400)
  t.match(visible(res.text), 'Service account login: is required when one service account connects every mailbox')
  res = await admin.post('/admin/integrations/exchange', form({ version: 'Exchange2007' }))
  t.equal(res.status, 400, 'an unknown version')
  t.equal((await stored())!.ewsUrl, w.em.ewsUrl, 'nothing saved by refusals')

  res = await admin.post('/admin/integrations/exchange', form({ auth: 'ntlm', version: 'Exchange2016', mode: 'service', serviceUsername: 'svc-kalends@example.com', servicePassword: 'Svc-Secret-1' }))
  t.equal(res.status, 200)
  t.match(visible(res.text), 'The Exchange settings are saved.')
  t.match(visible(res.text), 'A password is stored.')
  t.notMatch(res.text, 'Svc-Secret-1')
  const row = await syncDb(w.s.k.db).selectFrom('integrations').selectAll().where('provider', '=', 'exchange').executeTakeFirstOrThrow()
  t.notMatch(JSON.stringify(row), 'Svc-Secret-1', 'sealed at rest')
  t.match(await stored(), { auth: 'ntlm', version: 'Exchange2016', mode: 'service', serviceAccount: { username: 'svc-kalends@example.com', password: 'Svc-Secret-1' } })
  res = await admin.post('/admin/integrations/exchange', form({ auth: 'ntlm', version: 'Exchange2016', mode: 'service', serviceUsername: 'svc-kalends@example.com' }))
  t.equal((await stored())!.serviceAccount?.password, 'Svc-Secret-1', 'an empty password field keeps the password')
  // saving service-account mode connected every user's mailbox without asking; none may be impersonated yet, so all are red
  const rollout = await w.s.k.sync.rollouts.start(orgId())
  t.match(rollout, { state: 'done', total: 4, on: 0, refused: 4 })
  t.match(await exchangeRows('alice'), [{ auth_kind: 'delegation', state: 'error', state_reason: /may not act for alice@example\.com/, disconnected_at: null }])
  t.match(visible((await admin.get('/admin/integrations')).text), /Every user’s mailbox was gone through on .*: 0 on, 4 refused/)
  await admin.post('/admin/integrations/exchange', form())
  t.match(await stored(), { auth: 'basic', mode: 'user' })
  t.match(await w.s.k.sync.rollouts.start(orgId()), { total: 0, stopped: 0 }, 'the save out of the mode stopped them already')
  t.match(await exchangeRows('alice'), [{ auth_kind: 'delegation', state_reason: 'stopped: the organisation no longer syncs mailboxes through an Exchange service account', disconnected_at: Date }])
  // the tests below start from no connection
  await syncDb(w.s.k.db).deleteFrom('sync_connections').execute()
})

t.test('admin: Test connection answers OK with the version, wrong password, unreachable, TLS, no right to impersonate, no mailbox; nothing is saved', async t => {
  const admin = await signedIn('admin', '/admin/integrations')
  const before = await stored()
  const test = async (over: Record<string, string>) => {
    const res = await admin.post('/admin/integrations/exchange', form({ action: 'test', ...over }))
    t.equal(res.status, 200)
    return resultOf(res.text)
  }
  t.equal(await test({ testUsername: 'alice@example.com', testPassword: w.exchangePassword('alice'), testMailbox: 'alice@example.com' }),
    '✓ The connection works: Exchange 15.2.1544.4 opened the calendar of alice@example.com.')
  t.equal(await test({ ewsUrl: '', testUsername: 'alice@example.com', testPassword: w.exchangePassword('alice'), testMailbox: 'alice@example.com' }),
    `✓ Autodiscover found ${w.em.ewsUrl}. The connection works: Exchange 15.2.1544.4 opened the calendar of alice@example.com.`, 'no EWS address: Autodiscover first')
  t.equal(await test({ testUsername: 'alice@example.com', testPassword: 'wrong' }),
    '✗ Exchange refused the login: the user name or password is wrong, or the account is locked.', 'wrong password')
  const closed = `http://127.0.0.1:${await freePort()}/EWS/Exchange.asmx`
  t.match(await test({ ewsUrl: closed, testPassword: 'x' }), new RegExp(`^✗ The Exchange server cannot be reached at ${closed.replace(/[.]/g, '\\.')}: .*ECONNREFUSED`), 'closed port')
  t.match(await test({ ewsUrl: tls.url, testPassword: 'x' }), /^✗ The Exchange server's TLS certificate is not trusted: .*SELF_SIGNED/, 'self-signed certificate')

  // NTLM from the page, with Basic switched off on the server
  w.em.requireAuth(['ntlm'])
  t.match(await test({ testUsername: 'alice@example.com', testPassword: w.exchangePassword('alice') }), /Basic|refused the login/, 'Basic is refused when the server demands NTLM')
  t.match(await test({ auth: 'ntlm', testUsername: 'EXAMPLE\\alice', testPassword: w.exchangePassword('alice') }), /^✓ The connection works: Exchange 15\.2\.1544\.4/, 'NTLM chosen in the form is what is tried')
  t.match(await test({ auth: 'ntlm', testUsername: 'EXAMPLE\\alice', testPassword: 'wrong' }), /^✗ Exchange refused the login/, 'a wrong NTLM password')
  w.em.requireAuth(['basic', 'ntlm', 'bearer'])

  const service = { mode: 'service', serviceUsername: 'svc-kalends@example.com', servicePassword: 'Svc-Secret-1' }
  t.equal(await test({ ...service, testMailbox: 'bob@example.com' }),
    '✗ The service account may not act for bob@example.com: an Exchange administrator has to grant it the ApplicationImpersonation role.', 'no impersonation right')
  t.equal(await test({ ...service, testMailbox: 'ghost@example.com' }), '✗ Exchange has no mailbox ghost@example.com.')
  w.em.grantImpersonation('svc-kalends@example.com', 'bob@example.com')
  t.match(await test({ ...service, testMailbox: 'bob@example.com' }), /^✓ .*opened the calendar of bob@example\.com/)
  t.match(await test({ ...service, servicePassword: 'wrong', testMailbox: 'bob@example.com' }), /^✗ Exchange refused the login/, 'the service account\'s wrong password')

  const missing = await admin.post('/admin/integrations/exchange', form({ action: 'test' }))
  t.equal(missing.status, 400, 'per-user mode needs a login to test with')
  t.match(visible(missing.text), 'Password to test with: give an Exchange login and password to test with')
  t.same(await stored(), before, 'testing saves nothing')
})

t.test('admin: Autodiscover fills the EWS address from an e-mail address, or says what each place answered', async t => {
  const admin = await signedIn('admin', '/admin/integrations')
  let res = await admin.post('/admin/integrations/exchange', form({ action: 'discover', ewsUrl: '', autodiscoverEmail: 'alice@example.com', testUsername: 'alice@example.com', testPassword: w.exchangePassword('alice') }))
  t.equal(res.status, 200)
  t.match(visible(res.text), `Autodiscover found ${w.em.ewsUrl} (answered by ${w.em.soapAutodiscoverUrl}). Save to keep it.`, 'SOAP Autodiscover first')
  t.match(res.text, `id="x-ewsUrl" name="ewsUrl" value="${w.em.ewsUrl}"`)
  t.notMatch(res.text, w.exchangePassword('alice'))
  res = await admin.post('/admin/integrations/exchange', form({ action: 'discover', autodiscoverEmail: 'ghost@example.com', testPassword: w.exchangePassword('alice'), testUsername: 'alice@example.com' }))
  t.equal(res.status, 409)
  t.match(visible(res.text), /Autodiscover found no EWS address for example\.com \(http:\/\/127\.0\.0\.1:9\/autodiscover\/autodiscover\.svc: the Exchange server cannot be reached .*autodiscover\.svc: InvalidUser .*autodiscover\.xml: 500 The e-mail address cannot be found\.\)/)
  res = await admin.post('/admin/integrations/exchange', form({ action: 'discover', autodiscoverEmail: 'alice@example.com' }))
  t.equal(res.status, 400, 'no login to ask with')
})

t.test('API: /integrations/exchange read, save, test, autodiscover for admins; problem+json for bad input', async t => {
  const admin = w.s.as('admin')
  const bob = w.s.as('bob')
  t.equal((await bob('/api/v1/integrations/exchange')).status, 403)
  t.equal((await bob('/api/v1/integrations/exchange', { method: 'PUT', json: { ewsUrl: 'https://x.example.com/' } })).status, 403)
  t.equal((await bob('/api/v1/integrations/exchange/test', { method: 'POST', json: {} })).status, 403)
  const put = await admin('/api/v1/integrations/exchange', { method: 'PUT', json: { auth: 'basic', mode: 'user', ewsUrl: w.em.ewsUrl, version: 'Exchange2013_SP1', servicePassword: 'Svc-Secret-1', serviceUsername: 'svc-kalends@example.com' } })
  t.equal(put.status, 200)
  t.same(put.body_, { configured: true, enabled: true, ewsUrl: w.em.ewsUrl, version: 'Exchange2013_SP1', auth: 'basic', mode: 'user', serviceUsername: 'svc-kalends@example.com', servicePasswordSet: true }, 'the password is never shown back')
  const bad = await admin('/api/v1/integrations/exchange', { method: 'PUT', json: { ewsUrl: 'ftp://x' } })
  t.equal(bad.status, 400)
  t.match(bad.headers.get('content-type'), 'application/problem+json')
  t.equal((bad.body_ as { field: string }).field, 'ewsUrl')
  t.equal((await admin('/api/v1/integrations/exchange', { method: 'PUT', json: { auth: 'kerberos' } })).status, 400, 'an unknown scheme')

  const test = async (json: Record<string, unknown>) => (await admin('/api/v1/integrations/exchange/test', { method: 'POST', json })).body_ as { result: string; serverVersion: string | null; message: string }
  t.match(await test({ mailbox: 'alice@example.com', username: 'alice@example.com', password: w.exchangePassword('alice') }), { result: 'ok', serverVersion: '15.2.1544.4' })
  t.match(await test({ password: 'wrong' }), { result: 'wrong-password', serverVersion: null }, 'the admin\'s own mailbox by default')
  t.match(await test({ ewsUrl: tls.url, password: 'x' }), { result: 'tls' })
  t.match(await test({ ewsUrl: `http://127.0.0.1:${await freePort()}/EWS/Exchange.asmx`, password: 'x' }), { result: 'unreachable' })
  t.match(await test({ mode: 'service', mailbox: 'carol@example.com' }), { result: 'impersonation', message: /ApplicationImpersonation/ })
  t.match(await test({ mode: 'service', mailbox: 'nobody@example.com' }), { result: 'no-mailbox' })
  t.equal((await admin('/api/v1/integrations/exchange/test', { method: 'POST', json: { mailbox: 'not an address', password: 'x' } })).status, 400)
  t.equal((await admin('/api/v1/integrations/exchange/test', { method: 'POST', json: { surprise: 1 } })).status, 400, 'unknown fields')
  t.match((await admin('/api/v1/integrations/exchange')).body_, { mode: 'user' }, 'the tests saved nothing')

  const found = await admin('/api/v1/integrations/exchange/autodiscover', { method: 'POST', json: { email: 'alice@example.com' } })
  t.equal(found.status, 200, 'signed in as the stored service account')
  t.same(found.body_, { ewsUrl: w.em.ewsUrl, from: w.em.soapAutodiscoverUrl, protocol: 'soap' })
  // no EWS URL set: "Test connection" finds the mailbox's with Autodiscover first
  const auto = await test({ ewsUrl: '', mailbox: 'alice@example.com', username: 'alice@example.com', password: w.exchangePassword('alice') })
  t.match(auto, { result: 'ok', ewsUrl: w.em.ewsUrl, discovered: true })
  t.match(await test({ ewsUrl: '', mailbox: 'ghost@example.com', username: 'alice@example.com', password: w.exchangePassword('alice') }), { result: 'failed', message: /Autodiscover found no EWS address/, discovered: false })
  const notFound = await admin('/api/v1/integrations/exchange/autodiscover', { method: 'POST', json: { email: 'ghost@example.com' } })
  t.equal(notFound.status, 409)
  t.match(notFound.body_, { rule: 'exchange-autodiscover' })
})

t.test('user, per-user mode: a wrong password is refused and nothing saved; the right one connects; the card is the Google card with Exchange\'s words', async t => {
  await w.em.addFolder(w.email('alice'), 'calendar', 'Clients')
  const alice = await signedIn('alice')
  let page = await alice.get('/connections')
  t.match(page.text, /<form method="post" action="\/connections\/exchange" class="stack">/)
  t.match(page.text, 'name="account" value="alice@example.com"')
  t.notMatch(visible(page.text), 'Exchange is not set up')

  let res = await alice.post('/connections/exchange', { exchange: 'new', account: 'alice@example.com', username: '', password: 'wrong' })
  t.equal(res.status, 403)
  t.match(visible(res.text), /Exchange refused: .*password is wrong/)
  t.notMatch(res.text, 'value="wrong"', 'the password is not shown back')
  t.match(res.text, /<details open>/, 'the form stays open')
  t.same(await exchangeRows('alice'), [], 'nothing saved')

  res = await alice.post('/connections/exchange', { exchange: 'new', account: 'alice@example.com', username: 'alice@example.com', password: w.exchangePassword('alice') })
  t.equal(res.status, 303)
  const [conn] = await exchangeRows('alice')
  t.ok(conn)
  t.equal(conn!.auth_kind, 'password')
  t.notMatch(JSON.stringify(conn), w.exchangePassword('alice'), 'the password is sealed')
  t.equal(res.location, `/connections?done=exchange-connected#connection-${conn!.id}`)
  page = await alice.get(res.location!)
  const text = visible(page.text)
  t.match(text, 'The Exchange mailbox is connected.')
  t.match(text, 'Exchange: alice@example.com')
  t.match(text, 'Connected through your Exchange login')
  t.match(text, /Exchange calendar Calendar Clients Exchange task folder Tasks Type of appointments that arrive from Exchange/)
  t.notMatch(text, 'Google calendar', 'no Google words on an Exchange card')
  t.match(page.text, /<option value="primary" selected>Calendar<\/option><option value="[A-Za-z0-9_-]+=*">Clients<\/option>/, 'the mailbox\'s calendars to choose from')
  t.match(page.text, /<option value="@default" selected>Tasks<\/option>/)
  for (const action of ['sync', 'since', 'options', 'disconnect']) t.match(page.text, `action="/connections/${conn!.id}/${action}"`)

  res = await alice.post(`/connections/${conn!.id}/sync`, {})
  t.equal(res.status, 303, 'sync now')
  const run = await w.run('alice')
  t.equal(run.state, 'ok', run.reason ?? '')
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', '<t:Subject>From Outlook</t:Subject><t:Start>2026-12-02T12:00:00Z</t:Start><t:End>2026-12-02T13:00:00Z</t:End>')
  await w.run('alice')
  page = await alice.get('/connections')
  t.match(visible(page.text), /from Exchange created appointment #\d+/, 'the log in Exchange\'s words')

  // password changed in Exchange: red, then the password again on the card resumes the same connection
  w.em.store.mailboxes.get('alice@example.com')!.password = 'Changed-2'
  await w.run('alice').catch(() => undefined)
  page = await alice.get('/connections')
  t.match(visible(page.text), 'Exchange no longer accepts the stored password.')
  t.match(page.text, new RegExp(`<input type="hidden" name="exchange" value="r${conn!.id}">`), 'a password field on the card')
  res = await alice.post('/connections/exchange', { exchange: `r${conn!.id}`, account: 'alice@example.com', username: 'alice@example.com', password: 'Changed-2' })
  t.equal(res.location, `/connections?done=exchange-reconnected#connection-${conn!.id}`)
  t.equal((await exchangeRows('alice')).length, 1, 'the same connection')

  res = await alice.post(`/connections/${conn!.id}/disconnect`, {})
  t.equal(res.status, 303)
  const [gone] = await exchangeRows('alice')
  t.ok(gone?.disconnected_at, 'disconnected')
  t.equal(gone?.credentials_sealed, null, 'the stored password is gone')
  w.em.store.mailboxes.get('alice@example.com')!.password = w.exchangePassword('alice')
})

t.test('user, e-mail-only set-up: with no EWS address set, the user gives an address and a password and Autodiscover (SOAP) finds the server', async t => {
  const admin = w.s.as('admin')
  t.equal((await admin('/api/v1/integrations/exchange', { method: 'PUT', json: { ewsUrl: '', mode: 'user' } })).status, 200, 'an empty EWS address is allowed')
  t.match((await admin('/api/v1/integrations/exchange')).body_, { ewsUrl: '' })
  const bob = await signedIn('bob')
  const res = await bob.post('/connections/exchange', { exchange: 'new', account: 'bob@example.com', username: '', password: w.exchangePassword('bob') })
  t.equal(res.status, 303)
  t.equal((await w.run('bob')).state, 'ok', 'the run reaches the server Autodiscover found')
  t.ok(w.em.calls().includes('GetUserSettings'), 'by SOAP Autodiscover')
  const refused = await w.s.as('carol')('/api/v1/connections/exchange', { method: 'POST', json: { account: 'nobody@example.com', password: 'x' } })
  t.equal(refused.status, 409, 'an address Autodiscover does not know')
  t.match(refused.body_, { rule: 'exchange-autodiscover', field: 'account' })
  await syncDb(w.s.k.db).deleteFrom('sync_connections').execute()
  await admin('/api/v1/integrations/exchange', { method: 'PUT', json: { ewsUrl: w.em.ewsUrl } })
})

t.test('user, service-account mode: connected without asking and with nothing to type; a refused impersonation is red on the card until the admin fixes it; the API too', async t => {
  await syncDb(w.s.k.db).deleteFrom('integrations').where('provider', '=', 'exchange').execute()
  const carol = await signedIn('carol')
  t.match(visible((await carol.get('/connections')).text), 'Exchange is not set up for this organisation.')
  const admin = w.s.as('admin')
  await admin('/api/v1/integrations/exchange', { method: 'PUT', json: { ewsUrl: w.em.ewsUrl, auth: 'basic', mode: 'service', serviceUsername: 'svc-kalends@example.com', servicePassword: 'Svc-Secret-1' } })
  await w.s.k.sync.rollouts.start(orgId())
  let page = await carol.get('/connections')
  t.match(visible(page.text), 'Your organisation syncs your Exchange mailbox through its service account')
  t.match(visible(page.text), /Exchange: carol@example\.com .*the service account may not act for carol@example\.com/s, 'no impersonation right for carol yet: red with the reason')
  t.match(visible(page.text), 'Kalends can no longer open this mailbox through the organisation\'s service account.')
  t.notMatch(page.text, 'name="password"', 'nothing to type')

  let res = await carol.post('/connections/exchange', { account: 'carol@example.com' })
  t.equal(res.status, 403, 'trying again before the right is granted')
  t.match(visible(res.text), /ApplicationImpersonation/)
  w.em.grantImpersonation('svc-kalends@example.com', 'carol@example.com')
  res = await carol.post('/connections/exchange', { account: 'carol@example.com' })
  t.equal(res.status, 303)
  t.equal((await exchangeRows('carol')).length, 1, 'the same connection')
  page = await carol.get(res.location!)
  t.match(visible(page.text), 'Connected through the organisation\'s service account')
  t.equal((await w.run('carol')).state, 'ok')

  // the API: bob's connection was made for him; connecting resumes it once the right is there
  const bob = w.s.as('bob')
  w.em.grantImpersonation('svc-kalends@example.com', 'bob@example.com')
  const made = await bob('/api/v1/connections/exchange', { method: 'POST', json: {} })
  t.equal(made.status, 200)
  t.match(made.body_, { provider: 'exchange', account: 'bob@example.com', authKind: 'delegation', reconnected: true })
  t.equal((await bob('/api/v1/connections/exchange', { method: 'POST', json: { account: 'bob@example.com', password: 'wrong' } })).status, 403, 'a wrong own password is refused')
  const mine = (await bob('/api/v1/connections')).body_ as { id: number; provider: string }[]
  t.same(mine.map(c => c.provider), ['exchange'])
  t.equal((await bob(`/api/v1/connections/${mine[0]!.id}`, { method: 'PATCH', json: { tasks: false } })).status, 200, 'options as for Google')
})
