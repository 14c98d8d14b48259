import t from 'tap'
import type { Test } from 'tap'
import { sql } from 'kysely'
import { shareCalendar, updateCalendar } from '../domain/calendars.ts'
import { deleteObject, putObject } from '../domain/calendar-objects.ts'
import { startServer } from '../testing/harness.ts'
import { DAV_NS, davClient, members, propText, propfindBody, vevent, type DavRequest } from './test-client.ts'

// A calendar's whole answers (calendar-query, calendar-multiget, PROPFIND)
// are kept by the calendar as the viewer sees it and its version read with
// the sign-in check (answer-cache.ts), its objects' responses by their ETag
// (response-cache.ts), a GET's object is read with the sign-in check, and
// each user's calendar list is kept under the access version. Whatever is
// kept, every answer is the one the calendar gives now, to this viewer:
// changes written straight through the domain layer or the database (as
// another process would) show at the next request, and a reader of a shared
// calendar never gets what was made for its owner, or the other way round.
const s = await startServer({ users: ['alice', 'bob', 'carol'] })
t.teardown(() => s.close())
const db = s.k.db
const alice = davClient(s, 'alice')
const bob = davClient(s, 'bob')
const carol = davClient(s, 'carol')
const OWN = '/dav/calendars/alice/calendar/'
const SHARED = (login: string) => `/dav/calendars/${login}/shared~alice~calendar/`
const calendarOf = (login: string) => login === 'alice' ? OWN : SHARED(login)
const CAL_DATA = '{urn:ietf:params:xml:ns:caldav}calendar-data'
const QUERY = `<?xml version="1.0" encoding="utf-8"?><c:calendar-query ${DAV_NS}><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20260601T000000Z" end="20260701T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
const multiget = (cal: string, names: string[]) => `<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget ${DAV_NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>${names.map(n => `<d:href>${cal}${n}</d:href>`).join('')}</c:calendar-multiget>`
const LISTING = propfindBody('d:getetag', 'c:calendar-data')

const calendarId = async () => (await db.selectFrom('calendars').select('id').where('owner_id', '=', s.users.alice!.id).where('slug', '=', 'calendar').executeTakeFirstOrThrow()).id
const secret = vevent('secret', ['CLASS:PRIVATE', 'DESCRIPTION:salary talk', 'LOCATION:HR room'], { summary: 'Confidential review', start: '20260612T090000Z', end: '20260612T100000Z' })
const open = vevent('open', [], { summary: 'Team lunch', start: '20260612T120000Z', end: '20260612T130000Z' })

/** What each read of the calendar shows a client: calendar-data by object name, for every kind of read. */
async function reads (client: DavRequest, login: string): Promise<Record<string, Map<string, string>>> {
  const cal = calendarOf(login)
  const byName = (text: string, xml: Parameters<typeof members>[0]) => {
    const out = new Map<string, string>()
    for (const m of members(xml)) if (m.href.endsWith('.ics')) out.set(m.href.split('/').pop()!, propText(m, CAL_DATA) ?? text)
    return out
  }
  const q = await client('REPORT', cal, { headers: { depth: '1' }, body: QUERY })
  const mg = await client('REPORT', cal, { headers: { depth: '1' }, body: multiget(cal, ['secret.ics', 'open.ics', 'later.ics']) })
  const pf = await client('PROPFIND', cal, { headers: { depth: '1' }, body: LISTING })
  const get = new Map<string, string>()
  for (const name of ['secret.ics', 'open.ics', 'later.ics']) {
    const r = await client('GET', `${cal}${name}`)
    if (r.status === 200) get.set(name, r.text)
  }
  for (const r of [q, mg, pf]) if (r.status !== 207) throw new Error(`${login}: ${r.status} ${r.text.slice(0, 200)}`)
  return { query: byName(q.text, q.xml), multiget: new Map([...byName(mg.text, mg.xml)].filter(([name]) => members(mg.xml).find(m => m.href.endsWith(name))?.status !== 404)), propfind: byName(pf.text, pf.xml), get }
}

function seesAll (t: Test, seen: Record<string, Map<string, string>>, who: string) {
  for (const [how, items] of Object.entries(seen)) {
    t.match(items.get('secret.ics'), /salary talk/, `${who}, ${how}: the private item in full`)
    t.match(items.get('open.ics'), /Team lunch/, `${who}, ${how}: the public item`)
  }
}

function seesBusy (t: Test, seen: Record<string, Map<string, string>>, who: string) {
  for (const [how, items] of Object.entries(seen)) {
    const shown = items.get('secret.ics')
    t.match(shown, /SUMMARY:Private\r?\n/, `${who}, ${how}: the private item as busy time`)
    for (const hidden of ['salary', 'HR room', 'Confidential']) t.notOk(shown?.includes(hidden), `${who}, ${how}: hides ${hidden}`)
    t.match(items.get('open.ics'), /Team lunch/, `${who}, ${how}: the public item in full`)
  }
}

t.before(async () => {
  t.equal((await alice('PUT', `${OWN}secret.ics`, { body: secret })).status, 201)
  t.equal((await alice('PUT', `${OWN}open.ics`, { body: open })).status, 201)
  const id = await calendarId()
  await shareCalendar(db, { user: s.users.alice!, origin: 'api' }, id, s.users.bob!.id, 'read')
  await shareCalendar(db, { user: s.users.alice!, origin: 'api' }, id, s.users.carol!.id, 'write')
})

t.test('a read-only sharee never gets an answer made for the owner or a writer, nor they one made for the sharee', async t => {
  // the same requests in turn, each user twice, so every answer could come from what another's request left
  for (let round = 0; round < 2; round++) {
    seesAll(t, await reads(alice, 'alice'), `alice (${round})`)
    seesBusy(t, await reads(bob, 'bob'), `bob (${round})`)
    seesAll(t, await reads(carol, 'carol'), `carol (${round})`)
    seesBusy(t, await reads(bob, 'bob'), `bob again (${round})`)
  }
})

t.test('a share changed in the database shows at the very next request, both ways', async t => {
  seesBusy(t, await reads(bob, 'bob'), 'bob, read-only')
  await sql`UPDATE calendar_shares SET access = 'write' WHERE user_id = ${s.users.bob!.id}`.execute(db)
  seesAll(t, await reads(bob, 'bob'), 'bob, made a writer')
  await sql`UPDATE calendar_shares SET access = 'read' WHERE user_id = ${s.users.bob!.id}`.execute(db)
  seesBusy(t, await reads(bob, 'bob'), 'bob, read-only again')
  await sql`DELETE FROM calendar_shares WHERE user_id = ${s.users.bob!.id}`.execute(db)
  t.equal((await bob('REPORT', SHARED('bob'), { headers: { depth: '1' }, body: QUERY })).status, 404, 'share removed: the query is refused at once')
  t.equal((await bob('GET', `${SHARED('bob')}open.ics`)).status, 404, 'and the GET')
  await shareCalendar(db, { user: s.users.alice!, origin: 'api' }, await calendarId(), s.users.bob!.id, 'read')
  seesBusy(t, await reads(bob, 'bob'), 'bob, shared again')
})

t.test('what the domain layer writes, from any process, is in the next answer of every kind', async t => {
  const actor = { user: s.users.alice!, origin: 'api' as const }
  const id = await calendarId()
  for (let i = 0; i < 2; i++) await reads(alice, 'alice')
  await putObject(db, actor, id, 'later.ics', vevent('later', [], { summary: 'Added elsewhere', start: '20260614T090000Z', end: '20260614T100000Z' }))
  for (const [login, client] of [['alice', alice], ['carol', carol], ['bob', bob]] as const) {
    for (const [how, items] of Object.entries(await reads(client, login))) t.match(items.get('later.ics'), /Added elsewhere/, `${login}, ${how}: a new object`)
  }
  await putObject(db, actor, id, 'later.ics', vevent('later', [], { summary: 'Edited elsewhere', start: '20260614T090000Z', end: '20260614T100000Z' }))
  for (const [how, items] of Object.entries(await reads(alice, 'alice'))) t.match(items.get('later.ics'), /Edited elsewhere/, `${how}: an edit`)
  await putObject(db, actor, id, 'open.ics', vevent('open', ['CLASS:PRIVATE'], { summary: 'Team lunch', start: '20260612T120000Z', end: '20260612T130000Z' }))
  for (const [how, items] of Object.entries(await reads(bob, 'bob'))) t.match(items.get('open.ics'), /SUMMARY:Private\r?\n/, `bob, ${how}: made private, so busy time now`)
  await deleteObject(db, actor, id, 'later.ics')
  for (const [how, items] of Object.entries(await reads(alice, 'alice'))) t.notOk(items.has('later.ics'), `${how}: a deleted object is gone`)
})

t.test('a sync from the same token, polled again and again, brings a change made elsewhere at once', async t => {
  const sync = (token: string) => `<?xml version="1.0" encoding="utf-8"?><d:sync-collection ${DAV_NS}><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
  const poll = async (token: string) => {
    const r = await alice('REPORT', OWN, { headers: { depth: '1' }, body: sync(token) })
    t.equal(r.status, 207)
    return { token: /sync-token>([^<]+)</.exec(r.text)![1]!, names: members(r.xml).map(m => m.href.split('/').pop()) }
  }
  const { token } = await poll('')
  for (let i = 0; i < 3; i++) t.same(await poll(token), { token, names: [] }, `nothing new (${i + 1})`)
  await putObject(db, { user: s.users.alice!, origin: 'api' }, await calendarId(), 'polled.ics', vevent('polled'))
  const next = await poll(token)
  t.same(next.names, ['polled.ics'], 'the new object at the next poll')
  t.not(next.token, token, 'with a new token')
  t.same(await poll(next.token), { token: next.token, names: [] })
})

t.test('a calendar\'s properties changed elsewhere show in the next PROPFIND', async t => {
  const names = async () => {
    const r = await alice('PROPFIND', OWN, { headers: { depth: '1' }, body: propfindBody('d:displayname', 'd:getetag') })
    return propText(members(r.xml).find(m => m.href === OWN), '{DAV:}displayname')
  }
  const before = await names()
  t.equal(await names(), before)
  await updateCalendar(db, { user: s.users.alice!, origin: 'api' }, await calendarId(), { name: 'Renamed elsewhere' })
  t.equal(await names(), 'Renamed elsewhere')
})

t.test('a disabled user is refused at the next request, however warm the answers', async t => {
  for (let i = 0; i < 3; i++) t.equal((await carol('REPORT', SHARED('carol'), { headers: { depth: '1' }, body: QUERY })).status, 207)
  await sql`UPDATE users SET disabled = true WHERE id = ${s.users.carol!.id}`.execute(db)
  t.equal((await carol('REPORT', SHARED('carol'), { headers: { depth: '1' }, body: QUERY })).status, 401)
  t.equal((await carol('GET', `${SHARED('carol')}open.ics`)).status, 401)
  await sql`UPDATE users SET disabled = false WHERE id = ${s.users.carol!.id}`.execute(db)
  t.equal((await carol('REPORT', SHARED('carol'), { headers: { depth: '1' }, body: QUERY })).status, 207)
})

t.test('a body that differs only by a comment is another answer (bench-caldav --cold relies on it)', async t => {
  const id = await calendarId()
  await putObject(db, { user: s.users.alice!, origin: 'api' }, id, 'commented.ics', vevent('commented'))
  const body = (comment: string) => propfindBody('d:getetag').replace('?>', `?><!-- ${comment} -->`)
  const etag = async (comment: string) => {
    const r = await alice('PROPFIND', OWN, { headers: { depth: '1' }, body: body(comment) })
    t.equal(r.status, 207)
    return propText(members(r.xml).find(m => m.href.endsWith('/commented.ics')), '{DAV:}getetag')
  }
  // asked twice: the first answer right after a write is not always kept
  await etag('cold 1')
  const before = await etag('cold 1')
  // an ETag changed behind the journal's back: the calendar's version stays, so only a new answer shows it
  await sql`UPDATE calendar_objects SET etag = '"behind-the-back"' WHERE calendar_id = ${id} AND name = 'commented.ics'`.execute(db)
  t.equal(await etag('cold 1'), before, 'the same body again is the kept answer')
  t.equal(await etag('cold 2'), '"behind-the-back"', 'another comment is read afresh')
  await deleteObject(db, { user: s.users.alice!, origin: 'api' }, id, 'commented.ics')
})
