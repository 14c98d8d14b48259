import t from 'tap'
import { startServer, PASSWORD, type TestServer } from '../testing/harness.ts'

/**
 * Signing in over HTTP: Basic with the account password, app passwords and
 * Bearer API tokens, failed-attempt limits per account and per address, and
 * disabled users.
 */

const basic = (login: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${login}:${secret}`).toString('base64')}` })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

async function me (s: TestServer, headers: Record<string, string>) {
  return s.as(null)('/api/v1/me', { headers })
}

t.test('failed sign-ins are limited per account, then per address', async t => {
  const s = await startServer({ users: ['alice', 'bob'], env: { KALENDS_LOGIN_FAILURES_PER_ACCOUNT: '3', KALENDS_LOGIN_FAILURES_PER_ADDRESS: '5' } })
  t.teardown(() => s.close())

  const ok = await me(s, basic('alice', PASSWORD))
  t.equal(ok.status, 200, 'alice signs in')

  for (let i = 1; i <= 3; i++) {
    const res = await me(s, basic('alice', `wrong-${i}`))
    t.equal(res.status, 401, `wrong password ${i}: 401`)
    t.equal(res.headers.get('www-authenticate'), 'Basic realm="Kalends", charset="UTF-8"', `wrong password ${i}: asks for Basic credentials`)
    t.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    t.match(res.body_, { status: 401, detail: 'wrong user name or password' })
    t.notOk(res.headers.get('retry-after'))
  }

  const limited = await me(s, basic('alice', PASSWORD))
  t.equal(limited.status, 429, 'after 3 failures even the right password is refused')
  t.equal(limited.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  const retry = Number(limited.headers.get('retry-after'))
  t.ok(Number.isInteger(retry) && retry > 0 && retry <= 900, `Retry-After is whole seconds within the window (${limited.headers.get('retry-after')})`)
  t.match(limited.body_, { status: 429, title: 'Too many requests', rule: 'login-rate-limited', detail: /for this account/ })
  t.equal((await me(s, basic('ALICE', PASSWORD))).status, 429, 'the login is limited in any letter case')

  // the address has 3 failures now; bob is not limited yet
  t.equal((await me(s, basic('bob', PASSWORD))).status, 200, 'bob still signs in')
  t.equal((await me(s, basic('bob', 'wrong-a'))).status, 401)
  t.equal((await me(s, basic('nobody-here', 'wrong-b'))).status, 401, 'an unknown user is refused like a wrong password')
  // 5 failures from this address: now everyone here waits
  const bobLimited = await me(s, basic('bob', PASSWORD))
  t.equal(bobLimited.status, 429, 'after 5 failures from the address, bob is refused too')
  t.ok(Number(bobLimited.headers.get('retry-after')) > 0, 'with Retry-After')
  t.match(bobLimited.body_, { status: 429, detail: /from your address/ })

  // API tokens are not passwords to guess: the limit is on password sign-ins
  t.equal((await me(s, bearer('kal_not-a-real-token'))).status, 401)
})

t.test('a successful sign-in clears the account count, so a typo now and then never locks anyone out', async t => {
  const s = await startServer({ users: ['carol'], env: { KALENDS_LOGIN_FAILURES_PER_ACCOUNT: '3', KALENDS_LOGIN_FAILURES_PER_ADDRESS: '1000' } })
  t.teardown(() => s.close())
  t.equal((await me(s, basic('carol', 'typo-1'))).status, 401)
  t.equal((await me(s, basic('carol', 'typo-2'))).status, 401)
  t.equal((await me(s, basic('carol', PASSWORD))).status, 200, 'two typos, then the right password works')
  t.equal((await me(s, basic('carol', 'typo-3'))).status, 401, 'the count started again: a third typo is not the limit')
  t.equal((await me(s, basic('carol', 'typo-4'))).status, 401)

  // The right password again: the server remembers it this time (no argon2),
  // and that sign-in should clear the count just the same.
  t.equal((await me(s, basic('carol', PASSWORD))).status, 200)
  t.equal((await me(s, basic('carol', 'typo-5'))).status, 401, 'a typo after that is a plain 401')
  t.equal((await me(s, basic('carol', PASSWORD))).status, 200, 'and carol is not locked out')
})

t.test('disabled users, app passwords and API tokens', async t => {
  const s = await startServer({ users: ['alice', 'bob', 'carol'] })
  t.teardown(() => s.close())
  const admin = s.as('admin')
  const alice = s.as('alice')
  // an app password reaches CalDAV and feeds only; /api/v1 refuses it (api/v1/credentials.test.ts)
  const dav = (headers: Record<string, string>, path = '/dav/') => fetch(`${s.url}${path}`, { method: 'PROPFIND', headers: { ...headers, depth: '0' } })

  t.test('a disabled user cannot sign in, even with credentials the server remembers', async t => {
    t.equal((await me(s, basic('carol', PASSWORD))).status, 200)
    const patched = await admin(`/api/v1/users/${s.users.carol!.id}`, { method: 'PATCH', json: { disabled: true } })
    t.equal(patched.status, 200)
    t.match(patched.body_, { login: 'carol', disabled: true })
    const res = await me(s, basic('carol', PASSWORD))
    t.equal(res.status, 401)
    t.ok(res.headers.get('www-authenticate'))
    t.equal((await admin(`/api/v1/users/${s.users.carol!.id}`, { method: 'PATCH', json: { disabled: false } })).status, 200)
    t.equal((await me(s, basic('carol', PASSWORD))).status, 200, 'enabled again, carol signs in')
  })

  t.test('app passwords', async t => {
    const created = await alice('/api/v1/app-passwords', { method: 'POST', json: { name: 'Thunderbird' } })
    t.equal(created.status, 201)
    const { id, name, password } = created.body_ as { id: number; name: string; password: string }
    t.equal(name, 'Thunderbird')
    t.equal(password.length, 39, 'shown once, 39 characters')
    t.match(password, /^[a-hj-km-np-z2-9]{4}(-[a-hj-km-np-z2-9]{4}){7}$/, 'eight groups of four, no look-alike letters')

    const listed = await alice('/api/v1/app-passwords')
    t.equal(listed.status, 200)
    t.match(listed.body_, [{ id, name: 'Thunderbird', lastUsedAt: null, revokedAt: null }])
    t.notMatch(JSON.stringify(listed.body_), password.slice(5), 'the list never shows the password')
    t.notMatch(JSON.stringify(listed.body_), /argon2|hash|secret/i)

    t.equal((await dav(basic('alice', password))).status, 207, 'the app password signs in with Basic')
    t.equal((await dav(basic('ALICE', password))).status, 207, 'the login in any letter case')
    t.equal((await dav(basic('bob', password))).status, 401, "it is not bob's password")
    t.equal((await dav(basic('alice', password.replaceAll('-', '')))).status, 401, 'only in its grouped form')

    const after = await alice('/api/v1/app-passwords')
    const row = (after.body_ as { lastUsedAt: string | null; lastUsedFrom: string | null }[])[0]!
    t.ok(row.lastUsedAt !== null && !Number.isNaN(Date.parse(row.lastUsedAt)), 'the list shows when it was last used')
    t.equal(row.lastUsedFrom, '127.0.0.1', 'and from where')

    t.equal((await s.as('bob')(`/api/v1/app-passwords/${id}`, { method: 'DELETE' })).status, 404, 'bob cannot revoke it')
    t.equal((await dav(basic('alice', password))).status, 207, 'still works (and is now remembered by the server)')
    t.equal((await alice(`/api/v1/app-passwords/${id}`, { method: 'DELETE' })).status, 204, 'alice revokes it')
    const revoked = await dav(basic('alice', password))
    t.equal(revoked.status, 401, 'refused at once after revoking, though it was remembered')
    t.ok(revoked.headers.get('www-authenticate'))
    t.equal((await alice(`/api/v1/app-passwords/${id}`, { method: 'DELETE' })).status, 404, 'revoking twice: 404')
    t.match((await alice('/api/v1/app-passwords')).body_, [{ id, revokedAt: String }])
    t.equal((await me(s, basic('alice', PASSWORD))).status, 200, 'the account password is untouched')

    t.equal((await alice('/api/v1/app-passwords', { method: 'POST', json: { name: '' } })).status, 400, 'a name is required')
  })

  t.test('API tokens', async t => {
    const created = await alice('/api/v1/tokens', { method: 'POST', json: { name: 'CRM sync' } })
    t.equal(created.status, 201)
    const { id, token } = created.body_ as { id: number; token: string }
    t.match(token, /^kal_[A-Za-z0-9_-]{43}$/)

    const used = await me(s, bearer(token))
    t.equal(used.status, 200, 'Bearer works')
    t.match(used.body_, { login: 'alice' })
    t.equal((await me(s, { authorization: `bearer ${token}` })).status, 200, 'the scheme in any letter case')
    t.equal((await me(s, basic('alice', token))).status, 401, 'a token is not a password')

    const listed = await alice('/api/v1/tokens')
    t.match(listed.body_, [{ id, name: 'CRM sync', lastUsedAt: String, revokedAt: null }])
    t.notMatch(JSON.stringify(listed.body_), token.slice(4))

    t.equal((await s.as('bob')(`/api/v1/tokens/${id}`, { method: 'DELETE' })).status, 404, 'bob cannot revoke it')
    t.equal((await alice(`/api/v1/tokens/${id}`, { method: 'DELETE' })).status, 204)
    const revoked = await me(s, bearer(token))
    t.equal(revoked.status, 401, 'revoked: 401')
    t.match(revoked.body_, { status: 401, detail: /unknown or revoked/ })
    t.equal((await me(s, bearer(`${token}x`))).status, 401, 'an unknown token: 401')
  })

  t.test('a disabled user\'s app passwords and tokens stop working too', async t => {
    const bob = s.as('bob')
    const ap = (await bob('/api/v1/app-passwords', { method: 'POST', json: { name: 'Phone' } })).body_ as { password: string }
    const tok = (await bob('/api/v1/tokens', { method: 'POST', json: { name: 'Script' } })).body_ as { token: string }
    t.equal((await dav(basic('bob', ap.password))).status, 207)
    t.equal((await me(s, bearer(tok.token))).status, 200)
    t.equal((await admin(`/api/v1/users/${s.users.bob!.id}`, { method: 'PATCH', json: { disabled: true } })).status, 200)
    t.equal((await dav(basic('bob', ap.password))).status, 401, 'app password refused')
    t.equal((await me(s, bearer(tok.token))).status, 401, 'API token refused')
  })

  t.test('a remembered app password is re-checked on every request: changes made elsewhere count at once', async t => {
    // what another server process (or the CLI) would do: change the rows directly, not through this process
    const db = s.k.db
    const { id, password } = (await alice('/api/v1/app-passwords', { method: 'POST', json: { name: 'Tablet' } })).body_ as { id: number; password: string }
    t.equal((await dav(basic('alice', password))).status, 207, 'signs in (and is remembered)')
    t.equal((await dav(basic('alice', password))).status, 207, 'again, from memory')
    await db.updateTable('app_passwords').set({ revoked_at: new Date() }).where('id', '=', id).execute()
    t.equal((await dav(basic('alice', password))).status, 401, 'revoked by another process: refused at the very next request')
    await db.updateTable('app_passwords').set({ revoked_at: null }).where('id', '=', id).execute()
    t.equal((await dav(basic('alice', password))).status, 207, 'restored: accepted again')
    await db.updateTable('users').set({ name: 'Alice Fresh' }).where('id', '=', s.users.alice!.id).execute()
    t.match(await (await dav(basic('alice', password), '/dav/principals/alice/')).text(), /Alice Fresh/, 'the user comes fresh with each request, not from memory')
    await db.updateTable('users').set({ name: 'Alice' }).where('id', '=', s.users.alice!.id).execute()
  })

  t.test('last use of an app password is written at most once a minute per process', async t => {
    const db = s.k.db
    const { id, password } = (await alice('/api/v1/app-passwords', { method: 'POST', json: { name: 'Watch' } })).body_ as { id: number; password: string }
    t.equal((await dav(basic('alice', password))).status, 207)
    const first = await db.selectFrom('app_passwords').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow()
    t.ok(first.last_used_at !== null, 'the first use is written')
    await db.updateTable('app_passwords').set({ last_used_at: null }).where('id', '=', id).execute()
    t.equal((await dav(basic('alice', password))).status, 207)
    const second = await db.selectFrom('app_passwords').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow()
    t.equal(second.last_used_at, null, 'a use within the minute writes nothing (this process touched it already)')
  })

  t.test('a password change ends the old password at once', async t => {
    t.equal((await me(s, basic('alice', PASSWORD))).status, 200)
    t.equal((await alice(`/api/v1/users/${s.users.alice!.id}`, { method: 'PATCH', json: { password: 'brand-new-password', currentPassword: PASSWORD } })).status, 200, 'alice changes her own password')
    t.equal((await me(s, basic('alice', PASSWORD))).status, 401, 'the old one is refused, though it was remembered')
    t.equal((await me(s, basic('alice', 'brand-new-password'))).status, 200)
  })

  t.test('malformed credentials are refused with 401, never 500', async t => {
    for (const authorization of ['Basic', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, `Basic ${Buffer.from(':only-password').toString('base64')}`, 'Bearer', 'Bearer ', 'Digest username="alice"', 'Basic ' + 'A'.repeat(6000)]) {
      const res = await me(s, { authorization })
      t.equal(res.status, 401, JSON.stringify(authorization.slice(0, 40)))
    }
  })
})
