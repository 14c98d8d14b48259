import t from 'tap'
import { verifyPassword } from '../../auth/passwords.ts'
import { runAdminCommand } from '../../ops/admin-commands.ts'
import { PASSWORD, startServer } from '../../testing/harness.ts'
import { davClient } from '../../caldav/test-client.ts'
import { WebClient } from '../../web/test-client.ts'

// Issue 14, finding 2: what each credential reaches, and what a new password ends.
const s = await startServer({ users: ['alice', 'bob', 'carol'] })
t.teardown(() => s.close())
const basic = (login: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${login}:${secret}`).toString('base64')}` })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const anon = s.as(null)
const self = (login: string) => `/api/v1/users/${s.users[login]!.id}`
const davOk = async (login: string, secret: string) => (await davClient(s, login, secret)('PROPFIND', `/dav/calendars/${login}/`, { headers: { depth: '0' } })).status

async function appPassword (login: string, name = 'Phone') {
  return ((await s.as(login)('/api/v1/app-passwords', { method: 'POST', json: { name } })).body_ as { password: string }).password
}
async function apiToken (login: string, name = 'Script') {
  return ((await s.as(login)('/api/v1/tokens', { method: 'POST', json: { name } })).body_ as { token: string }).token
}

t.test('a device\'s app password reaches CalDAV, never the API: it cannot change the password or mint a token', async t => {
  const phone = await appPassword('alice')
  t.equal(await davOk('alice', phone), 207, 'the phone syncs')
  const tries: [string, string, unknown][] = [
    ['GET', '/api/v1/me', undefined],
    ['PATCH', self('alice'), { password: 'taken-over-password' }],
    ['POST', '/api/v1/tokens', { name: 'stolen' }],
    ['POST', '/api/v1/app-passwords', { name: 'another' }],
    ['GET', '/api/v1/appointments', undefined]
  ]
  for (const [method, path, json] of tries) {
    const res = await anon(path, { method, headers: basic('alice', phone), ...(json === undefined ? {} : { json }) })
    t.equal(res.status, 403, `${method} ${path}: refused`)
    t.match(res.headers.get('content-type'), /application\/problem\+json/)
    t.match(res.body_, { rule: 'app-password-not-for-api', detail: /API token/ })
  }
  t.equal((await s.as('alice')('/api/v1/me')).status, 200, 'the password is unchanged')
  t.same((await s.as('alice')('/api/v1/tokens')).body_, [], 'no token was made')
  t.equal(((await s.as('alice')('/api/v1/app-passwords')).body_ as unknown[]).length, 1, 'nor another app password')
})

t.test('changing one\'s own password asks for the current one, whatever the credential', async t => {
  const token = await apiToken('bob')
  const missing = await s.as('bob')(self('bob'), { method: 'PATCH', json: { password: 'new-password-1' } })
  t.equal(missing.status, 403)
  t.match(missing.body_, { rule: 'current-password', field: 'currentPassword' })
  const viaToken = await anon(self('bob'), { method: 'PATCH', headers: bearer(token), json: { password: 'new-password-1' } })
  t.equal(viaToken.status, 403, 'a stolen API token alone cannot set a password')
  const wrong = await anon(self('bob'), { method: 'PATCH', headers: bearer(token), json: { password: 'new-password-1', currentPassword: 'not it at all' } })
  t.equal(wrong.status, 403)
  t.match(wrong.body_, { rule: 'current-password', detail: /wrong/ })
  t.equal((await s.as('bob')('/api/v1/me')).status, 200, 'the password is unchanged')
  const ok = await anon(self('bob'), { method: 'PATCH', headers: bearer(token), json: { password: 'new-password-1', currentPassword: PASSWORD } })
  t.equal(ok.status, 200)
  t.equal((await anon('/api/v1/me', { headers: basic('bob', 'new-password-1') })).status, 200)
  // an administrator resets someone else's password without knowing it
  t.equal((await s.as('admin')(self('bob'), { method: 'PATCH', json: { password: PASSWORD } })).status, 200)
  t.equal((await s.as('bob')('/api/v1/me')).status, 200)
})

t.test('a password changed through the API or the CLI signs the user out of every web session', async t => {
  const web = new WebClient(s)
  t.equal((await web.signIn('carol')).status, 303)
  t.equal((await web.get('/week')).status, 200)
  t.equal((await s.as('carol')(self('carol'), { method: 'PATCH', json: { password: 'carols-new-secret', currentPassword: PASSWORD } })).status, 200)
  t.equal((await web.get('/week')).status, 303, 'API change: the web session has ended')

  t.equal((await web.signIn('carol', 'carols-new-secret')).status, 303)
  t.equal((await web.get('/week')).status, 200)
  await runAdminCommand(s.k, { cmd: 'user-passwd', login: 'carol', password: PASSWORD })
  t.equal((await web.get('/week')).status, 303, 'CLI change: the web session has ended')
})

t.test('an administrator\'s reset may also revoke the user\'s app passwords and API tokens', async t => {
  const phone = await appPassword('carol')
  const token = await apiToken('carol')
  t.equal((await s.as('admin')(self('carol'), { method: 'PATCH', json: { password: PASSWORD } })).status, 200)
  t.equal(await davOk('carol', phone), 207, 'a plain reset leaves the devices alone')
  t.equal((await anon('/api/v1/me', { headers: bearer(token) })).status, 200)
  const reset = await s.as('admin')(self('carol'), { method: 'PATCH', json: { password: PASSWORD, revokeCredentials: true } })
  t.equal(reset.status, 200)
  t.equal(await davOk('carol', phone), 401, 'the app password is revoked')
  t.equal((await anon('/api/v1/me', { headers: bearer(token) })).status, 401, 'and the API token')
  t.equal((await s.as('admin')(self('carol'), { method: 'PATCH', json: { revokeCredentials: true } })).status, 400, 'only with a new password')
})

t.test('the web admin page: resetting one\'s own password asks for the current one; a reset can revoke devices', async t => {
  const admin = new WebClient(s)
  await admin.signIn('admin')
  const page = await admin.get('/admin/users')
  t.match(page.text, /name="currentPassword"/, 'a field for the current password on one\'s own row')
  const refused = await admin.post(`/admin/users/${s.users.admin!.id}/password`, { password: 'admins-new-secret' })
  t.equal(refused.status, 403)
  t.match(refused.text, /give your current password/)
  t.equal((await s.as('admin')('/api/v1/me')).status, 200, 'unchanged')
  const other = new WebClient(s)
  await other.signIn('admin')
  const own = await admin.post(`/admin/users/${s.users.admin!.id}/password`, { password: 'admins-new-secret', currentPassword: PASSWORD })
  t.equal(own.status, 200)
  t.equal((await admin.get('/admin/users')).status, 200, 'this session stays')
  t.equal((await other.get('/admin/users')).status, 303, 'the admin\'s other session ended')
  t.equal((await admin.post(`/admin/users/${s.users.admin!.id}/password`, { password: PASSWORD, currentPassword: 'admins-new-secret' })).status, 200)

  const phone = await appPassword('bob', 'Tablet')
  t.equal((await admin.post(`/admin/users/${s.users.bob!.id}/password`, { password: PASSWORD, revokeCredentials: '1' })).status, 200)
  t.equal(await davOk('bob', phone), 401, 'bob\'s app password is revoked')
})

t.test('wrong current passwords are counted and slowed like wrong sign-ins: a stolen token buys no fast guessing', async t => {
  const token = await apiToken('carol', 'Guesser')
  const statuses: number[] = []
  let retryAfter: string | null = null
  for (let i = 0; i < 15 && retryAfter === null; i++) {
    const res = await anon(self('carol'), { method: 'PATCH', headers: bearer(token), json: { password: 'guessers-password', currentPassword: `guess number ${i}` } })
    statuses.push(res.status)
    if (res.status === 429) retryAfter = res.headers.get('retry-after')
  }
  t.ok(statuses.slice(0, -1).every(st => st === 403), `wrong guesses refused: ${statuses.join(' ')}`)
  t.equal(statuses.at(-1), 429, 'then the guesser has to wait')
  t.ok(Number(retryAfter) >= 1, `and is told how long (Retry-After ${retryAfter})`)
  const meanwhile = await anon(self('carol'), { method: 'PATCH', headers: bearer(token), json: { password: 'guessers-password', currentPassword: PASSWORD } })
  t.equal(meanwhile.status, 429, 'even the right password waits its turn from this address')
  const stored = await s.k.db.selectFrom('users').select('password_hash').where('login', '=', 'carol').executeTakeFirstOrThrow()
  t.ok(await verifyPassword(stored.password_hash!, PASSWORD), 'nothing was changed')
})
