import argon2 from 'argon2'
import t from 'tap'
import { sql } from 'kysely'
import type { Test } from 'tap'
import { readConfig } from '../config.ts'
import { startServer, PASSWORD, type TestServer } from '../testing/harness.ts'
import { SignIn } from './sign-in.ts'

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

const davAs = (s: TestServer, login: string, secret: string) =>
  fetch(`${s.url}/dav/principals/${login}/`, { method: 'PROPFIND', headers: { ...basic(login, secret), depth: '0' } })
const sleep = (seconds: number) => new Promise(resolve => setTimeout(resolve, seconds * 1000))
type Answer = Awaited<ReturnType<typeof me>>
const retryAfter = (res: Response) => Number(res.headers.get('retry-after'))

/**
 * Tries again and again, waiting as told, for at most `tries` attempts, until
 * the answer is not 429; every 429 must name a wait of 1 to `bound` seconds.
 */
async function eventually (t: Test, attempt: () => Promise<Response>, bound: number, tries = 8): Promise<number> {
  for (let i = 1; i <= tries; i++) {
    const res = await attempt()
    if (res.status !== 429) return res.status
    const retry = retryAfter(res)
    if (!(Number.isInteger(retry) && retry >= 1 && retry <= bound)) {
      t.fail(`Retry-After ${res.headers.get('retry-after')} is not within 1..${bound} s`)
      return res.status
    }
    await sleep(retry)
  }
  return 429
}

/**
 * Wrong guesses (the i-th from `guess(i)`), waiting out short waits, until
 * one is told to wait at least `long` seconds: the waits double with each
 * failure, so what comes right after is sure to fall inside that wait.
 * Returns that last answer.
 */
async function guessUntilLongWait (t: Test, guess: (i: number) => Promise<Answer>, long = 4): Promise<Answer> {
  for (let i = 0; i < 20; i++) {
    const res = await guess(i)
    if (res.status === 401) continue
    t.equal(res.status, 429, 'a guess is refused (401) or told to wait (429)')
    if (retryAfter(res) >= long) return res
    await sleep(retryAfter(res))
  }
  throw new Error('the waits never grew')
}

t.test('nobody can lock an owner out: after 50 wrong guesses her app password works at once, her password after a bounded wait', async t => {
  const s = await startServer({ users: ['alice', 'bob'], env: { KALENDS_LOGIN_FAILURES_PER_ACCOUNT: '5', KALENDS_LOGIN_FAILURES_PER_ADDRESS: '20', KALENDS_LOGIN_MAX_DELAY: '2' } })
  t.teardown(() => s.close())
  const { password: appPassword } = (await s.as('alice')('/api/v1/app-passwords', { method: 'POST', json: { name: 'Phone' } })).body_ as { password: string }

  // the attacker sits where alice sits (one address behind a proxy): the worst case
  const answers = new Map<number, number>()
  const waits = new Set<string | null>()
  for (let i = 0; i < 50; i++) {
    const res = await me(s, basic('alice', `guess-${i}`))
    answers.set(res.status, (answers.get(res.status) ?? 0) + 1)
    if (res.status === 429) waits.add(res.headers.get('retry-after'))
  }
  t.same([...answers.keys()].filter(code => code !== 401 && code !== 429), [], 'each guess is refused: 401, or 429 while it must wait')
  t.ok((answers.get(401) ?? 0) >= 5, 'the first guesses are checked and refused')
  t.same([...waits].filter(w => !['1', '2'].includes(w ?? '')), [], 'a wait is never longer than KALENDS_LOGIN_MAX_DELAY')

  t.equal((await davAs(s, 'alice', appPassword)).status, 207, "alice's phone goes on syncing at once with its app password")
  t.equal(await eventually(t, () => me(s, basic('alice', PASSWORD)), 2), 200, "alice's password works after a wait of seconds, not a lockout")
  t.equal((await davAs(s, 'alice', appPassword)).status, 207, 'and the phone still does')
})

t.test('past the free failures each guess waits longer, and the right password waits with them', async t => {
  const s = await startServer({ users: ['alice', 'bob'], env: { KALENDS_LOGIN_FAILURES_PER_ACCOUNT: '3', KALENDS_LOGIN_FAILURES_PER_ADDRESS: '1000' } })
  t.teardown(() => s.close())
  t.equal((await me(s, basic('alice', PASSWORD))).status, 200, 'alice signs in')

  for (let i = 1; i <= 3; i++) {
    const res = await me(s, basic('alice', `wrong-${i}`))
    t.equal(res.status, 401, `wrong password ${i}: 401`)
    t.equal(res.headers.get('www-authenticate'), 'Basic realm="Kalends", charset="UTF-8"', `wrong password ${i}: asks for Basic credentials`)
    t.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    t.match(res.body_, { status: 401, detail: 'wrong user name or password' })
    t.notOk(res.headers.get('retry-after'))
  }
  const told = await guessUntilLongWait(t, i => me(s, basic('alice', `more-${i}`)))
  const retry = retryAfter(told)
  t.ok(Number.isInteger(retry) && retry >= 4 && retry <= 60, `Retry-After is whole seconds, grown past the first second and within KALENDS_LOGIN_MAX_DELAY (${retry})`)

  const waiting = await me(s, basic('alice', PASSWORD))
  t.equal(waiting.status, 429, 'the right password waits like any guess: answering it would tell a guesser')
  t.equal(waiting.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  t.match(waiting.body_, { status: 429, title: 'Too many requests', rule: 'login-rate-limited', detail: /for this account from your address/ })
  t.equal((await me(s, basic('ALICE', PASSWORD))).status, 429, 'the login waits in any letter case')
  t.equal((await me(s, basic('bob', PASSWORD))).status, 200, 'bob at the same address is not slowed')
  // API tokens are not passwords to guess: the limit is on password sign-ins
  t.equal((await me(s, bearer('kal_not-a-real-token'))).status, 401)
})

t.test('guesses from one address do not slow the owner at another; one address guessing many accounts waits', async t => {
  const s = await startServer({ users: ['alice', 'bob'], env: { KALENDS_TRUST_PROXY: 'true', KALENDS_LOGIN_FAILURES_PER_ACCOUNT: '3', KALENDS_LOGIN_FAILURES_PER_ADDRESS: '8' } })
  t.teardown(() => s.close())
  const from = (address: string, headers: Record<string, string>) => ({ ...headers, 'x-forwarded-for': address })
  const attacker = '203.0.113.9'
  const last = await guessUntilLongWait(t, i => me(s, from(attacker, basic('alice', `guess-${i}`))))
  t.match(last.body_, { status: 429, rule: 'login-rate-limited', detail: /for this account from your address/ })
  t.equal((await me(s, from(attacker, basic('alice', PASSWORD)))).status, 429, 'alice from there waits too')
  t.equal((await me(s, from('198.51.100.7', basic('alice', PASSWORD)))).status, 200, 'alice, elsewhere, signs in at once')

  // the guesser turns to other accounts, a new one each time: the address as a whole waits
  const spraying = await guessUntilLongWait(t, i => me(s, from(attacker, basic(`user-${i}`, 'wrong'))))
  t.match(spraying.body_, { detail: /too many failed sign-ins from your address/ })
  t.equal((await me(s, from(attacker, basic('bob', PASSWORD)))).status, 429, 'every password from that address waits')
  t.equal((await me(s, from('198.51.100.8', basic('bob', PASSWORD)))).status, 200, 'bob elsewhere is not slowed')

  // an IPv6 client holds a /64: a new address in it is not a fresh count
  await guessUntilLongWait(t, i => me(s, from(`2001:db8:1:2::${i + 1}`, basic('bob', 'wrong'))))
  t.equal((await me(s, from('2001:db8:1:2:ffff::1', basic('bob', PASSWORD)))).status, 429, 'bob from the same /64 waits')
  t.equal((await me(s, from('2001:db8:1:3::1', basic('bob', PASSWORD)))).status, 200, 'from the next /64 he does not')
})

t.test('KALENDS_TRUST_PROXY: only the proxies it names may say who the client is', async t => {
  t.throws(() => readConfig({ KALENDS_TRUST_PROXY: 'yes' }), /KALENDS_TRUST_PROXY: must be true, false or the proxies' addresses/)
  t.throws(() => readConfig({ KALENDS_TRUST_PROXY: '10.0.0.1,proxy.example' }), /KALENDS_TRUST_PROXY/)
  t.equal(readConfig({ KALENDS_TRUST_PROXY: ' 127.0.0.1, 10.0.0.0/8 ' }).trustProxy, '127.0.0.1,10.0.0.0/8')
  // where the server saw a client: an app password's "last used from"
  for (const [trust, seen] of [['127.0.0.1', '203.0.113.5'], ['10.0.0.1', '127.0.0.1']] as const) {
    const s = await startServer({ users: ['alice'], env: { KALENDS_TRUST_PROXY: trust } })
    t.teardown(() => s.close())
    const { password } = (await s.as('alice')('/api/v1/app-passwords', { method: 'POST', json: { name: 'Phone' } })).body_ as { password: string }
    const res = await fetch(`${s.url}/dav/principals/alice/`, { method: 'PROPFIND', headers: { ...basic('alice', password), depth: '0', 'x-forwarded-for': '203.0.113.5' } })
    t.equal(res.status, 207)
    const [row] = (await s.as('alice')('/api/v1/app-passwords')).body_ as { lastUsedFrom: string }[]
    t.equal(row!.lastUsedFrom, seen, `trusting ${trust}: the client is ${seen}`)
  }
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

t.test('a remembered sign-in that expired is verified once with argon2id and remembered again, not verified at every request after', async t => {
  const s = await startServer({ users: ['alice'] })
  t.teardown(() => s.close())
  // argon2's exports are one shared object: counting its verify counts every check of a secret
  const realVerify = argon2.verify
  let verified = 0
  argon2.verify = async (...args: Parameters<typeof argon2.verify>) => { verified++; return realVerify(...args) }
  t.teardown(() => { argon2.verify = realVerify })
  const created = await s.as('alice')('/api/v1/app-passwords', { method: 'POST', json: { name: 'Phone' } })
  const secret = (created.body_ as { password: string }).password
  const signIn = new SignIn(s.k.db, readConfig({}).loginFailureLimit)
  const caller = { ip: '127.0.0.1', log: { info () {}, warn () {} } }
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  let skew = 0
  Date.now = () => realNow() + skew

  for (const [secretOf, what] of [[secret, 'app password'], [PASSWORD, 'account password']] as const) {
    verified = 0
    const first = await signIn.verify('alice', secretOf, caller, userId => ({ shape: 'test:login', args: [userId], build: (id: number) => sql<string>`(SELECT login FROM users WHERE id = ${id})` }))
    t.ok(first, `${what}: signed in`)
    t.type(signIn.accessVersion(first!.user), 'number', `${what}: a sign-in checked with argon2id knows the access version, so what was decided under it is used again`)
    t.equal(first!.along, 'alice', `${what}: the caller's read comes back with a sign-in checked with argon2id too, so its first request can use what was kept`)
    t.ok(await signIn.verify('alice', secretOf, caller))
    t.equal(verified, 1, `${what}: the second request is answered from memory`)
    const remembered = what === 'app password' ? SignIn.APP_CACHE_MS : SignIn.CACHE_MS
    if (what === 'app password') {
      // a device that keeps polling within the window is remembered past it
      for (let i = 0; i < 3; i++) {
        skew += remembered - 1000
        t.ok(await signIn.verify('alice', secretOf, caller))
      }
      t.equal(verified, 1, `${what}: remembered while it keeps being used`)
    }
    skew += remembered + 1000
    t.ok(await signIn.verify('alice', secretOf, caller), `${what}: signed in after the pair expired`)
    t.equal(verified, 2, `${what}: verified again once it expired`)
    for (let i = 0; i < 3; i++) t.ok(await signIn.verify('alice', secretOf, caller))
    t.equal(verified, 2, `${what}: and remembered again, so the next requests cost no argon2id`)
  }
})
