import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { DAV_NS, davClient, members, syncTokenOf, vevent, vtodo, type DavRequest } from './test-client.ts'

// Writes to one href never remove or change another href's item (issue 17);
// COPY and MOVE of objects and calendars (RFC 4918 §9.8, §9.9; RFC 4791 §5.3.2.1).
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const bob = davClient(s, 'bob')
const api = s.as('alice')
const HOME = '/dav/calendars/alice/'
const CAL = `${HOME}calendar/`
const SECOND = `${HOME}second/`
const TASKS = `${HOME}tasks/`

type Item = { id: number; uid: string; calendarId: number; title: string; participantIds?: number[] }
const JUNE = 'from=2026-06-01T00:00:00Z&to=2026-07-01T00:00:00Z'
const appointments = async (uid: string) => ((await api(`/api/v1/appointments?${JUNE}`)).body_ as { items: Item[] }).items.filter(a => a.uid === uid)
const tasks = async (uid: string) => ((await api('/api/v1/tasks')).body_ as { items: Item[] }).items.filter(a => a.uid === uid)
const calendarIdOf = async (slug: string) => ((await api('/api/v1/calendars')).body_ as { id: number; slug: string; kind: string }[]).find(c => c.slug === slug && c.kind !== 'company')?.id

const syncBody = (token: string) => `<d:sync-collection ${DAV_NS}><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
async function syncToken (client: DavRequest, cal: string): Promise<string> {
  return syncTokenOf((await client('REPORT', cal, { body: syncBody('') })).xml)!
}
/** What sync-collection reports since the token: href → 200 (added or changed) or 404 (removed). */
async function changesSince (client: DavRequest, cal: string, token: string): Promise<Record<string, number>> {
  const res = await client('REPORT', cal, { body: syncBody(token) })
  return Object.fromEntries(members(res.xml).map(m => [m.href, m.status ?? 200]))
}
const dest = (path: string) => `${s.url}${path}`

t.before(async () => {
  t.equal((await alice('MKCALENDAR', SECOND)).status, 201)
})

t.test('a PUT of the same UID into a second calendar leaves the first alone (RFC 4791 §5.3.2.1: UIDs are per calendar)', async t => {
  t.equal((await alice('PUT', `${CAL}a.ics`, { body: vevent('same-uid', [], { summary: 'Original' }) })).status, 201)
  const copy = await alice('PUT', `${SECOND}b.ics`, { body: vevent('same-uid', [], { summary: 'Copy' }), headers: { 'if-none-match': '*' } })
  t.equal(copy.status, 201)
  const a = await alice('GET', `${CAL}a.ics`)
  t.equal(a.status, 200, 'the original is still there')
  t.match(a.text, /SUMMARY:Original/, 'and unchanged')
  t.match((await alice('GET', `${SECOND}b.ics`)).text, /SUMMARY:Copy/)
  const items = await appointments('same-uid')
  t.equal(items.length, 2, 'two CRM appointments')
  t.same(new Set(items.map(i => i.calendarId)), new Set([await calendarIdOf('calendar'), await calendarIdOf('second')]), 'one in each calendar')
  // Thunderbird's move: PUT there, then DELETE here
  t.equal((await alice('DELETE', `${CAL}a.ics`)).status, 204)
  t.equal((await alice('GET', `${SECOND}b.ics`)).status, 200, 'the copy stays')
  const left = await appointments('same-uid')
  t.equal(left.length, 1, 'one appointment in the end')
  t.equal(left[0]?.calendarId, await calendarIdOf('second'))

  // the same for tasks, into a second task list
  t.equal((await alice('MKCALENDAR', `${HOME}more-tasks/`, { body: `<c:mkcalendar ${DAV_NS}><d:set><d:prop><c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>` })).status, 201)
  t.equal((await alice('PUT', `${TASKS}t.ics`, { body: vtodo('same-task', ['SUMMARY:Call']) })).status, 201)
  t.equal((await alice('PUT', `${HOME}more-tasks/t.ics`, { body: vtodo('same-task', ['SUMMARY:Call too']) })).status, 201)
  t.equal((await alice('GET', `${TASKS}t.ics`)).status, 200, 'the first task stays')
  t.equal((await tasks('same-task')).length, 2)
})

t.test('COPY of an object: a new CRM item at the destination, Overwrite and no-uid-conflict honoured', async t => {
  t.equal((await alice('PUT', `${CAL}c.ics`, { body: vevent('copied', ['X-KEEP:1'], { summary: 'To copy' }) })).status, 201)
  const src = await alice('GET', `${CAL}c.ics`)
  const secondToken = await syncToken(alice, SECOND)
  const res = await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${SECOND}c.ics`) } })
  t.equal(res.status, 201, 'created')
  t.equal((await alice('GET', `${SECOND}c.ics`)).text, src.text, 'the same body')
  t.equal((await alice('GET', `${CAL}c.ics`)).text, src.text, 'the source stays')
  const items = await appointments('copied')
  t.equal(items.length, 2, 'two CRM items')
  t.not(items[0]!.id, items[1]!.id)
  t.same(await changesSince(alice, SECOND, secondToken), { [`${SECOND}c.ics`]: 200 }, 'sync-collection of the destination reports it')

  const refused = await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${SECOND}c.ics`), overwrite: 'F' } })
  t.equal(refused.status, 412, 'Overwrite: F and the destination exists')
  t.equal((await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${SECOND}c.ics`), overwrite: 'T' } })).status, 204, 'overwritten')
  t.equal((await appointments('copied')).length, 2, 'still two')

  const sameCal = await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${CAL}c2.ics`) } })
  t.equal(sameCal.status, 403, 'a second object with that UID in one calendar')
  t.match(sameCal.text, /<c:no-uid-conflict><d:href>\/dav\/calendars\/alice\/calendar\/c.ics<\/d:href><\/c:no-uid-conflict>/)
  const otherName = await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${SECOND}elsewhere.ics`) } })
  t.equal(otherName.status, 403)
  t.match(otherName.text, /no-uid-conflict/, 'the destination calendar holds that UID already')

  // Overwrite onto an object with another UID: that one is replaced (RFC 4918 §9.8.4)
  t.equal((await alice('PUT', `${SECOND}victim.ics`, { body: vevent('victim') })).status, 201)
  t.equal((await alice('COPY', `${SECOND}c.ics`, { headers: { destination: dest(`${SECOND}victim.ics`) } })).status, 403, 'not while c.ics holds the UID there')
  t.equal((await alice('DELETE', `${SECOND}c.ics`)).status, 204)
  t.equal((await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${SECOND}victim.ics`) } })).status, 204)
  t.match((await alice('GET', `${SECOND}victim.ics`)).text, /UID:copied/)
  t.equal((await appointments('victim')).length, 0, 'the overwritten item is gone')

  t.equal((await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${SECOND}x.ics`), 'if-match': '"stale"' } })).status, 412, 'If-Match on the source')
  t.equal((await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${SECOND}x.ics`), 'if-none-match': '*' } })).status, 412, 'If-None-Match: * and the source exists (RFC 9110 §13.1.2)')
  t.equal((await alice('COPY', `${CAL}missing.ics`, { headers: { destination: dest(`${SECOND}x.ics`) } })).status, 404)
  t.equal((await alice('COPY', `${CAL}c.ics`)).status, 400, 'no Destination')
  t.equal((await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${SECOND}x.ics`), overwrite: 'maybe' } })).status, 400)
  t.equal((await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${HOME}nowhere/x.ics`) } })).status, 409, 'no such calendar (RFC 4918 §9.8.5)')
  const cross = await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest('/dav/calendars/bob/calendar/c.ics') } })
  t.equal(cross.status, 403, 'not into another user\'s home')
  t.match(cross.text, /need-privileges/)
  t.equal((await alice('COPY', `${CAL}c.ics`, { headers: { destination: 'http://calendar.example.org/dav/calendars/alice/second/x.ics' } })).status, 502, 'another server (RFC 4918 §9.8.5)')
  const wrongKind = await alice('COPY', `${CAL}c.ics`, { headers: { destination: dest(`${TASKS}c.ics`) } })
  t.equal(wrongKind.status, 403)
  t.match(wrongKind.text, /supported-calendar-component/)
  const collection = await alice('COPY', SECOND, { headers: { destination: dest(`${HOME}third/`) } })
  t.equal(collection.status, 403, 'a whole calendar is not copied')
  t.match(collection.text, /<d:error/)
  t.equal((await alice('GET', `${HOME}third/`)).status, 404)
})

t.test('COPY out of a read-only share takes only what the reader sees', async t => {
  const share = await s.as('bob')(`/api/v1/calendars/${await calendarIdOfUser('bob', 'calendar')}/shares/${s.users.alice!.id}`, { method: 'PUT', json: { access: 'read' } })
  t.equal(share.status, 204)
  t.equal((await bob('PUT', '/dav/calendars/bob/calendar/secret.ics', { body: vevent('secret', ['CLASS:PRIVATE', 'DESCRIPTION:salary talk'], { summary: 'Confidential' }) })).status, 201)
  const res = await alice('COPY', `${HOME}shared~bob~calendar/secret.ics`, { headers: { destination: dest(`${SECOND}secret.ics`) } })
  t.equal(res.status, 201)
  const copy = await alice('GET', `${SECOND}secret.ics`)
  t.notMatch(copy.text, /salary|Confidential/, 'the hidden text stays hidden')
  t.match(copy.text, /SUMMARY:Private/)
})

async function calendarIdOfUser (login: string, slug: string): Promise<number> {
  return ((await s.as(login)('/api/v1/calendars')).body_ as { id: number; slug: string; kind: string }[]).find(c => c.slug === slug && c.kind !== 'company')!.id
}

t.test('MOVE renames an object inside its calendar: the same CRM item, participants\' copies and all', async t => {
  const made = await api('/api/v1/appointments', { method: 'POST', json: { title: 'Steering', start: '2026-06-20T08:00:00Z', end: '2026-06-20T09:00:00Z', participantIds: [s.users.bob!.id] } })
  t.equal(made.status, 201)
  const { id, uid } = made.body_ as { id: number; uid: string }
  const mine = members((await alice('REPORT', CAL, { body: `<c:calendar-query ${DAV_NS}><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">${uid}</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>` })).xml)[0]!.href
  const body = (await alice('GET', mine)).text
  const bobsBefore = (await bob('REPORT', '/dav/calendars/bob/calendar/', { body: syncBody('') })).text
  const token = await syncToken(alice, CAL)
  const res = await alice('MOVE', mine, { headers: { destination: dest(`${CAL}renamed.ics`) } })
  t.equal(res.status, 201)
  t.equal((await alice('GET', mine)).status, 404, 'the old name is gone')
  t.equal((await alice('GET', `${CAL}renamed.ics`)).text, body, 'the new one has the body')
  const after = (await api(`/api/v1/appointments/${id}`)).body_ as Item
  t.equal(after.id, id, 'the same CRM appointment')
  t.same(after.participantIds, [s.users.bob!.id], 'bob still takes part')
  t.equal((await bob('REPORT', '/dav/calendars/bob/calendar/', { body: syncBody('') })).text.replace(/<d:sync-token>[^<]*/, ''), bobsBefore.replace(/<d:sync-token>[^<]*/, ''), 'bob\'s copy is untouched')
  t.same(await changesSince(alice, CAL, token), { [mine]: 404, [`${CAL}renamed.ics`]: 200 }, 'sync-collection: removed at the old name, added at the new')

  // Overwrite
  t.equal((await alice('PUT', `${CAL}other.ics`, { body: vevent('other-item') })).status, 201)
  t.equal((await alice('MOVE', `${CAL}renamed.ics`, { headers: { destination: dest(`${CAL}other.ics`), overwrite: 'F' } })).status, 412)
  t.equal((await alice('GET', `${CAL}renamed.ics`)).status, 200, 'nothing moved')
  t.equal((await alice('MOVE', `${CAL}renamed.ics`, { headers: { destination: dest(`${CAL}other.ics`) } })).status, 204, 'Overwrite: T replaces it')
  t.match((await alice('GET', `${CAL}other.ics`)).text, new RegExp(`UID:${uid}`))
  t.equal((await appointments('other-item')).length, 0, 'the replaced item is deleted')
  t.equal(((await api(`/api/v1/appointments/${id}`)).body_ as Item).id, id)
  t.equal((await alice('MOVE', `${CAL}other.ics`, { headers: { destination: dest(`${CAL}other.ics`) } })).status, 403, 'onto itself (RFC 4918 §9.9.4)')

  // bob renames his copy: only his href changes
  const bobs = members((await bob('REPORT', '/dav/calendars/bob/calendar/', { body: `<c:calendar-query ${DAV_NS}><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">${uid}</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>` })).xml)[0]!.href
  t.equal((await bob('MOVE', bobs, { headers: { destination: dest('/dav/calendars/bob/calendar/mine.ics') } })).status, 201)
  t.equal((await alice('GET', `${CAL}other.ics`)).status, 200, 'alice\'s copy keeps its name')
  t.same(((await api(`/api/v1/appointments/${id}`)).body_ as Item).participantIds, [s.users.bob!.id])
  t.equal((await bob('MKCALENDAR', '/dav/calendars/bob/work/')).status, 201)
  const away = await bob('MOVE', '/dav/calendars/bob/calendar/mine.ics', { headers: { destination: dest('/dav/calendars/bob/work/mine.ics') } })
  t.equal(away.status, 403, 'a participant\'s copy stays in the calendar it is in')
  t.equal((await bob('GET', '/dav/calendars/bob/calendar/mine.ics')).status, 200)
  t.equal((await bob('GET', '/dav/calendars/bob/work/mine.ics')).status, 404)
})

t.test('MOVE into another own calendar keeps the CRM item; both calendars\' sync reports it', async t => {
  t.equal((await alice('PUT', `${CAL}mv.ics`, { body: vevent('moving', ['X-KEEP:1']) })).status, 201)
  const before = (await appointments('moving'))[0]!
  const fromToken = await syncToken(alice, CAL)
  const toToken = await syncToken(alice, SECOND)
  const res = await alice('MOVE', `${CAL}mv.ics`, { headers: { destination: dest(`${SECOND}moved.ics`) } })
  t.equal(res.status, 201)
  t.equal((await alice('GET', `${CAL}mv.ics`)).status, 404)
  t.match((await alice('GET', `${SECOND}moved.ics`)).text, /X-KEEP:1/)
  const after = await appointments('moving')
  t.same(after.map(a => [a.id, a.calendarId]), [[before.id, await calendarIdOf('second')]], 'the same appointment, now homed in the second calendar')
  t.same(await changesSince(alice, CAL, fromToken), { [`${CAL}mv.ics`]: 404 })
  t.same(await changesSince(alice, SECOND, toToken), { [`${SECOND}moved.ics`]: 200 })
  t.equal((await alice('MOVE', `${SECOND}moved.ics`, { headers: { destination: dest('/dav/calendars/bob/calendar/moved.ics') } })).status, 403, 'not into another user\'s calendar')
  t.equal((await alice('MOVE', `${SECOND}moved.ics`, { headers: { destination: 'https://other.example.net/dav/calendars/alice/calendar/moved.ics' } })).status, 502)
  t.equal((await alice('GET', `${SECOND}moved.ics`)).status, 200, 'still there')
})

t.test('MOVE of a whole calendar renames it and keeps everything in it', async t => {
  t.equal((await alice('MKCALENDAR', `${HOME}projects/`)).status, 201)
  t.equal((await alice('PUT', `${HOME}projects/p.ics`, { body: vevent('in-projects') })).status, 201)
  const calId = await calendarIdOf('projects')
  const item = (await appointments('in-projects'))[0]!
  const res = await alice('MOVE', `${HOME}projects/`, { headers: { destination: dest(`${HOME}clients/`) } })
  t.equal(res.status, 201)
  t.equal((await alice('PROPFIND', `${HOME}projects/`, { headers: { depth: '0' } })).status, 404, 'the old href is gone')
  t.equal((await alice('GET', `${HOME}clients/p.ics`)).status, 200, 'its objects moved with it')
  t.equal(await calendarIdOf('clients'), calId, 'the same calendar')
  t.same((await appointments('in-projects')).map(a => [a.id, a.calendarId]), [[item.id, calId]], 'and the same item in it')
  t.equal((await alice('MOVE', `${HOME}clients/`, { headers: { destination: dest(SECOND), overwrite: 'F' } })).status, 412, 'Overwrite: F onto a calendar that exists')
  t.equal((await alice('MOVE', `${HOME}clients/`, { headers: { destination: dest(`${HOME}bad~name/`) } })).status, 403, 'not a name of an own calendar')
  t.equal((await alice('MOVE', `${HOME}clients/`, { headers: { destination: dest('/dav/calendars/bob/clients/') } })).status, 403, 'not into another user\'s home')
  t.equal((await alice('MOVE', `${HOME}clients/`, { headers: { destination: dest(`${HOME}clients/p.ics`) } })).status, 403, 'a calendar moves to a calendar name, not into a calendar')
  t.equal((await alice('GET', `${HOME}clients/p.ics`)).status, 200, 'nothing changed')
})

t.test('OPTIONS lists COPY and MOVE', async t => {
  const allow = (await alice('OPTIONS', `${CAL}`)).headers.get('allow') ?? ''
  for (const m of ['COPY', 'MOVE', 'PUT', 'DELETE']) t.match(allow, new RegExp(`\\b${m}\\b`))
})

t.test('a meeting copied into another calendar and deleted from the first (Thunderbird\'s move) stays in its participants\' calendars', async t => {
  for (const login of ['alice', 'bob']) t.equal((await s.as('admin')(`/api/v1/users/${s.users[login]!.id}`, { method: 'PATCH', json: { email: `${login}@example.com` } })).status, 200)
  const body = vevent('meeting-moved', ['ORGANIZER:mailto:alice@example.com', 'ATTENDEE:mailto:bob@example.com'], { summary: 'Review' })
  t.equal((await alice('PUT', `${CAL}meet.ics`, { body })).status, 201)
  t.equal((await alice('PUT', `${SECOND}meet.ics`, { body })).status, 201)
  const kept = (await alice('GET', `${SECOND}meet.ics`)).headers.get('etag')
  t.equal((await alice('DELETE', `${CAL}meet.ics`)).status, 204)
  const [item] = await appointments('meeting-moved')
  t.same(item?.participantIds, [s.users.bob!.id], 'bob takes part in the one left')
  const bobs = members((await bob('REPORT', '/dav/calendars/bob/calendar/', { body: `<c:calendar-query ${DAV_NS}><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">meeting-moved</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>` })).xml)
  t.equal(bobs.length, 1, 'and has it in his calendar')
  t.equal((await alice('GET', `${SECOND}meet.ics`)).headers.get('etag'), kept, 'alice\'s remaining object is untouched')
})
