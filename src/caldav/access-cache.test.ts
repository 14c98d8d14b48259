import t from 'tap'
import { sql } from 'kysely'
import { createAppPassword } from '../auth/app-passwords.ts'
import { shareCalendar } from '../domain/calendars.ts'
import { startServer } from '../testing/harness.ts'
import { DAV_NS, davClient, members, vevent } from './test-client.ts'

// Sign-ins and each user's visible calendars are kept in memory between
// requests (SignIn.accessVersion, domainBackend): a change written straight
// to the database, as another process would, is still refused at the very
// next request. And the sync-collection page is a setting.
const s = await startServer({ users: ['alice', 'bob'], env: { KALENDS_SYNC_PAGE_SIZE: '2' } })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const CAL = '/dav/calendars/alice/calendar/'
const db = s.k.db
const calendarId = async () => (await db.selectFrom('calendars').select('id').where('owner_id', '=', s.users.alice!.id).where('slug', '=', 'calendar').executeTakeFirstOrThrow()).id

t.before(async () => {
  for (const uid of ['k1', 'k2', 'k3', 'k4', 'k5']) t.equal((await alice('PUT', `${CAL}${uid}.ics`, { body: vevent(uid) })).status, 201)
})

t.test('a removed share is refused at the next request, though the sharee\'s calendars were kept', async t => {
  await shareCalendar(db, { user: s.users.alice!, origin: 'api' }, await calendarId(), s.users.bob!.id, 'read')
  const bob = davClient(s, 'bob')
  const home = members((await bob('PROPFIND', '/dav/calendars/bob/', { headers: { depth: '1' }, body: `<d:propfind ${DAV_NS}><d:prop><d:resourcetype/></d:prop></d:propfind>` })).xml)
  const shared = home.find(m => m.href.includes('~alice~'))!.href
  for (let i = 0; i < 3; i++) t.equal((await bob('GET', `${shared}k1.ics`)).status, 200, `read through the share (${i + 1})`)
  await sql`DELETE FROM calendar_shares WHERE user_id = ${s.users.bob!.id}`.execute(db)
  t.equal((await bob('GET', `${shared}k1.ics`)).status, 404, 'gone at the very next request')
})

t.test('a revoked app password and a disabled user are refused at the next request', async t => {
  const { password } = await createAppPassword(db, { user: s.users.bob!, origin: 'web' }, 'phone')
  const phone = davClient(s, 'bob', password)
  for (let i = 0; i < 3; i++) t.equal((await phone('PROPFIND', '/dav/calendars/bob/', { headers: { depth: '0' } })).status, 207, `signed in (${i + 1})`)
  await sql`UPDATE app_passwords SET revoked_at = now() WHERE user_id = ${s.users.bob!.id}`.execute(db)
  t.equal((await phone('PROPFIND', '/dav/calendars/bob/', { headers: { depth: '0' } })).status, 401, 'revoked: refused at once')
  for (let i = 0; i < 3; i++) t.equal((await alice('GET', `${CAL}k1.ics`)).status, 200, `alice signed in (${i + 1})`)
  await sql`UPDATE users SET disabled = true WHERE id = ${s.users.alice!.id}`.execute(db)
  t.equal((await alice('GET', `${CAL}k1.ics`)).status, 401, 'disabled: refused at once')
  await sql`UPDATE users SET disabled = false WHERE id = ${s.users.alice!.id}`.execute(db)
  t.equal((await alice('GET', `${CAL}k1.ics`)).status, 200, 'enabled again')
})

const sync = (token: string) => `<?xml version="1.0" encoding="utf-8"?><d:sync-collection ${DAV_NS}><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
const tokenOf = (text: string) => /sync-token>([^<]+)</.exec(text)![1]!

t.test('with KALENDS_SYNC_PAGE_SIZE=2, clients that follow the 507 and clients that do not both end with every object', async t => {
  const seen = new Set<string>()
  let token = ''
  let pages = 0
  for (;;) {
    const r = await alice('REPORT', CAL, { headers: { depth: '1' }, body: sync(token) })
    t.equal(r.status, 207)
    const ms = members(r.xml)
    for (const m of ms) if (m.href.endsWith('.ics')) seen.add(m.href)
    t.ok(ms.filter(m => m.href.endsWith('.ics')).length <= 2, 'at most a page of members')
    token = tokenOf(r.text)
    pages++
    if (!ms.some(m => m.status === 507)) break
  }
  t.equal(seen.size, 5, 'following the 507: every object')
  t.equal(pages, 3)
  // one that reads the first answer only, and syncs again later from its token
  const first = await alice('REPORT', CAL, { headers: { depth: '1' }, body: sync('') })
  const got = new Set(members(first.xml).filter(m => m.href.endsWith('.ics')).map(m => m.href))
  t.equal(got.size, 2)
  t.equal((await alice('PUT', `${CAL}k6.ics`, { body: vevent('k6') })).status, 201)
  let later = tokenOf(first.text)
  for (let i = 0; i < 5; i++) {
    const r = await alice('REPORT', CAL, { headers: { depth: '1' }, body: sync(later) })
    for (const m of members(r.xml)) if (m.href.endsWith('.ics')) got.add(m.href)
    later = tokenOf(r.text)
  }
  t.equal(got.size, 6, 'its later syncs bring the rest, and the new one')
})
