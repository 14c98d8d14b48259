import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { DAV_NS, davClient, members, propText, propfindBody, syncTokenOf, vevent, vtodo } from './test-client.ts'

// Objects: the exact body round-trips, business rules refuse with a reason and
// change nothing, CRM-side edits show up, participants' copies, shares.
const s = await startServer({ users: ['alice', 'bob', 'carol'] })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const bob = davClient(s, 'bob')
const api = s.as('alice')
const CAL = '/dav/calendars/alice/calendar/'
const TASKS = '/dav/calendars/alice/tasks/'

const APPLE_EVENT = [
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Apple Inc.//iOS 18.0//EN', 'CALSCALE:GREGORIAN',
  'BEGIN:VTIMEZONE', 'TZID:Europe/Warsaw',
  'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0100', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'DTSTART:19810329T020000', 'TZNAME:CEST', 'TZOFFSETTO:+0200', 'END:DAYLIGHT',
  'BEGIN:STANDARD', 'TZOFFSETFROM:+0200', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'DTSTART:19961027T030000', 'TZNAME:CET', 'TZOFFSETTO:+0100', 'END:STANDARD',
  'END:VTIMEZONE',
  'BEGIN:VEVENT', 'UID:apple-1', 'DTSTAMP:20260301T120000Z', 'CREATED:20260301T120000Z',
  'DTSTART;TZID=Europe/Warsaw:20260615T100000', 'DTEND;TZID=Europe/Warsaw:20260615T110000',
  'SUMMARY:Client lunch', 'LOCATION:Hala Koszyki',
  'X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-ADDRESS="Koszykowa 63, Warszawa";X-APPLE-RADIUS=70;X-TITLE=Hala Koszyki:geo:52.2219,21.0094',
  'X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC', 'COLOR:crimson',
  'ATTACH;FMTTYPE=application/pdf;X-APPLE-FILENAME=offer.pdf:https://example.com/offer.pdf',
  'DESCRIPTION;X-UNKNOWN-PARAM=keep-me:Bring the contract',
  'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Reminder', 'TRIGGER:-PT15M', 'X-WR-ALARMUID:5B4F1F3A-1', 'UID:5B4F1F3A-1', 'END:VALARM',
  'END:VEVENT', 'END:VCALENDAR', ''
].join('\r\n')

t.test('unknown properties, VALARM and parameters round-trip byte for byte', async t => {
  const put = await alice('PUT', `${CAL}apple-1.ics`, { body: APPLE_EVENT, headers: { 'if-none-match': '*' } })
  t.equal(put.status, 201)
  const etag = put.headers.get('etag')
  t.ok(etag, 'the ETag is sent: the stored body is the one sent')
  const got = await alice('GET', `${CAL}apple-1.ics`)
  t.equal(got.status, 200)
  t.equal(got.text, APPLE_EVENT)
  t.equal(got.headers.get('etag'), etag)
  t.match(got.headers.get('content-type'), /^text\/calendar/)
  const head = await alice('HEAD', `${CAL}apple-1.ics`)
  t.equal(head.status, 200)
  t.equal(head.text, '')
  t.equal(head.headers.get('etag'), etag)
  t.equal((await alice('GET', `${CAL}apple-1.ics`, { headers: { 'if-none-match': etag! } })).status, 304)
  // the CRM sees the appointment
  const list = (await api('/api/v1/appointments?from=2026-06-01T00:00:00Z&to=2026-07-01T00:00:00Z')).body_ as { items: { uid: string; title: string; location: string; timezone: string }[] }
  const appt = list.items.find(a => a.uid === 'apple-1')
  t.equal(appt?.title, 'Client lunch')
  t.equal(appt?.location, 'Hala Koszyki')
})

t.test('CRM-side edits show up with a new ETag and keep the client\'s extra properties', async t => {
  const before = await alice('GET', `${CAL}apple-1.ics`)
  const list = (await api('/api/v1/appointments?from=2026-06-01T00:00:00Z&to=2026-07-01T00:00:00Z')).body_ as { items: { id: number; uid: string }[] }
  const id = list.items.find(a => a.uid === 'apple-1')!.id
  const patched = await api(`/api/v1/appointments/${id}`, { method: 'PATCH', json: { title: 'Client lunch (moved)' } })
  t.equal(patched.status, 200)
  const after = await alice('GET', `${CAL}apple-1.ics`)
  t.not(after.headers.get('etag'), before.headers.get('etag'), 'a new ETag')
  t.match(after.text, /SUMMARY:Client lunch \(moved\)/)
  for (const kept of ['X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC', 'COLOR:crimson', 'X-WR-ALARMUID:5B4F1F3A-1', 'TRIGGER:-PT15M', 'ATTACH;FMTTYPE=application/pdf;X-APPLE-FILENAME=offer.pdf:https://example.com/offer.pdf', 'DESCRIPTION;X-UNKNOWN-PARAM=keep-me:Bring the contract']) {
    t.ok(after.text.includes(kept), `kept ${kept}`)
  }
})

t.test('a PUT that breaks a business rule: 403 with the precondition and reason; nothing changes', async t => {
  const put = await alice('PUT', `${TASKS}task-1.ics`, { body: vtodo('task-1', ['SUMMARY:Draft the offer', 'STATUS:NEEDS-ACTION']) })
  t.equal(put.status, 201)
  const tasks = (await api('/api/v1/tasks')).body_ as { items: { id: number; uid: string }[] }
  const id = tasks.items.find(x => x.uid === 'task-1')!.id
  const done = await api(`/api/v1/tasks/${id}`, { method: 'PATCH', json: { status: 'done', actualStart: '2026-03-02T09:00:00Z', actualEnd: '2026-03-03T17:00:00Z' } })
  t.equal(done.status, 200)
  const current = await alice('GET', `${TASKS}task-1.ics`)
  t.match(current.text, /COMPLETED:20260303T170000Z/)
  const taskBefore = (await api(`/api/v1/tasks/${id}`)).body_
  const edited = current.text.replace('COMPLETED:20260303T170000Z', 'COMPLETED:20260305T170000Z')
  const res = await alice('PUT', `${TASKS}task-1.ics`, { body: edited, headers: { 'if-match': current.headers.get('etag')! } })
  t.equal(res.status, 403)
  t.match(res.headers.get('content-type'), /xml/)
  t.match(res.text, /<d:error/)
  t.match(res.text, /actual-end-locked/, 'the rule as the precondition element')
  t.match(res.text, /actual end of a done task cannot change/, 'a human-readable reason')
  const after = await alice('GET', `${TASKS}task-1.ics`)
  t.equal(after.text, current.text, 'the stored body is unchanged')
  t.equal(after.headers.get('etag'), current.headers.get('etag'), 'and so is its ETag')
  t.same((await api(`/api/v1/tasks/${id}`)).body_, taskBefore, 'and the task')
  // a change the rules allow, in the same object, still goes through
  const ok = await alice('PUT', `${TASKS}task-1.ics`, { body: current.text.replace('SUMMARY:Draft the offer', 'SUMMARY:Offer sent'), headers: { 'if-match': current.headers.get('etag')! } })
  t.equal(ok.status, 204, 'the untouched COMPLETED does not trip the rule')
  t.equal(((await api(`/api/v1/tasks/${id}`)).body_ as { title: string }).title, 'Offer sent')
})

t.test('VTODO status maps to the task status', async t => {
  await alice('PUT', `${TASKS}task-2.ics`, { body: vtodo('task-2', ['SUMMARY:Call back', 'DUE:20260620T120000Z']) })
  const got = await alice('GET', `${TASKS}task-2.ics`)
  const res = await alice('PUT', `${TASKS}task-2.ics`, { body: got.text.replace('SUMMARY:Call back', 'SUMMARY:Call back\r\nSTATUS:COMPLETED\r\nCOMPLETED:20260619T100000Z'), headers: { 'if-match': got.headers.get('etag')! } })
  t.equal(res.status, 204)
  const tasks = (await api('/api/v1/tasks')).body_ as { items: { uid: string; status: string; due: string }[] }
  const task = tasks.items.find(x => x.uid === 'task-2') as Record<string, unknown>
  t.equal(task.status, 'done')
  const wrongPlace = await alice('PUT', `${CAL}todo-in-events.ics`, { body: vtodo('todo-in-events', ['SUMMARY:x']) })
  t.equal(wrongPlace.status, 403)
  t.match(wrongPlace.text, /supported-calendar-component/)
})

t.test('UID unique per calendar; the UID of an object cannot change', async t => {
  const dup = await alice('PUT', `${CAL}other-name.ics`, { body: APPLE_EVENT })
  t.equal(dup.status, 403)
  t.match(dup.text, /<c:no-uid-conflict><d:href>\/dav\/calendars\/alice\/calendar\/apple-1.ics<\/d:href><\/c:no-uid-conflict>/, 'names the object holding the UID')
  const changed = await alice('PUT', `${CAL}apple-1.ics`, { body: APPLE_EVENT.replace('UID:apple-1', 'UID:apple-2') })
  t.equal(changed.status, 403)
  t.match(changed.text, /no-uid-conflict/)
})

t.test('participants: a copy in each participant\'s calendar with the same UID; edits and deletes follow PRODUCT.md', async t => {
  const bobCal = '/dav/calendars/bob/calendar/'
  const bobToken = syncTokenOf((await bob('REPORT', bobCal, { body: `<d:sync-collection ${DAV_NS}><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>` })).xml)!
  const made = await api('/api/v1/appointments', { method: 'POST', json: { title: 'Steering', start: '2026-06-20T10:00:00Z', end: '2026-06-20T11:00:00Z', participantIds: [s.users.bob!.id] } })
  t.equal(made.status, 201)
  const uid = (made.body_ as { uid: string }).uid
  const inc = await bob('REPORT', bobCal, { body: `<d:sync-collection ${DAV_NS}><d:sync-token>${bobToken}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>` })
  const copies = members(inc.xml)
  t.equal(copies.length, 1, 'the participant\'s calendar has a new sync token with the copy')
  const copy = copies[0]!
  t.match(propText(copy, '{urn:ietf:params:xml:ns:caldav}calendar-data'), new RegExp(`UID:${uid}`), 'same UID')
  // the participant edits their copy: every copy changes
  const body = propText(copy, '{urn:ietf:params:xml:ns:caldav}calendar-data')!
  const edit = await bob('PUT', copy.href, { body: body.replace(/SUMMARY:[^\r\n]*/, 'SUMMARY:Steering (agenda attached)'), headers: { 'if-match': propText(copy, '{DAV:}getetag')! } })
  t.equal(edit.status, 204)
  const aliceCopy = members((await alice('REPORT', CAL, { body: `<c:calendar-query ${DAV_NS}><d:prop><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">${uid}</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>` })).xml)
  t.equal(aliceCopy.length, 1)
  t.match(propText(aliceCopy[0], '{urn:ietf:params:xml:ns:caldav}calendar-data'), /SUMMARY:Steering \(agenda attached\)/, 'the owner\'s copy follows')
  // the participant deletes: only their copy goes
  t.equal((await bob('DELETE', copy.href)).status, 204)
  t.equal((await bob('GET', copy.href)).status, 404)
  t.equal((await alice('GET', aliceCopy[0]!.href)).status, 200, 'the owner keeps it')
  const id = (made.body_ as { id: number }).id
  t.same(((await api(`/api/v1/appointments/${id}`)).body_ as { participantIds: number[] }).participantIds, [], 'bob left the meeting')
  // the owner deletes: gone
  t.equal((await alice('DELETE', aliceCopy[0]!.href)).status, 204)
  t.equal((await api(`/api/v1/appointments/${id}`)).status, 404)
})

t.test('a participant\'s client cannot change ORGANIZER or ATTENDEE of the meeting: 403, nothing changes', async t => {
  const admin = s.as('admin')
  for (const login of ['alice', 'bob', 'carol']) await admin(`/api/v1/users/${s.users[login]!.id}`, { method: 'PATCH', json: { email: `${login}@example.com` } })
  const made = await api('/api/v1/appointments', { method: 'POST', json: { title: 'Pricing', start: '2026-06-22T10:00:00Z', end: '2026-06-22T11:00:00Z', participantIds: [s.users.bob!.id] } })
  const { id, uid } = made.body_ as { id: number; uid: string }
  const query = `<c:calendar-query ${DAV_NS}><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">${uid}</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
  const copy = members((await bob('REPORT', '/dav/calendars/bob/calendar/', { body: query })).xml)[0]!
  const body = propText(copy, '{urn:ietf:params:xml:ns:caldav}calendar-data')!
  const etag = propText(copy, '{DAV:}getetag')!
  const before = (await api(`/api/v1/appointments/${id}`)).body_
  for (const lines of [
    ['ORGANIZER:mailto:bob@example.com', 'ATTENDEE:mailto:bob@example.com', 'ATTENDEE:mailto:carol@example.com'],
    ['ATTENDEE:mailto:carol@example.com']
  ]) {
    const res = await bob('PUT', copy.href, { body: body.replace('END:VEVENT', `${lines.join('\r\n')}\r\nEND:VEVENT`), headers: { 'if-match': etag } })
    t.equal(res.status, 403, `${lines.join(' ')}: refused`)
    t.match(res.text, /organiser-only/, 'the rule as the precondition element')
    t.match(res.text, /only the owner/, 'a human-readable reason')
    t.same((await api(`/api/v1/appointments/${id}`)).body_, before, 'the appointment is unchanged')
    t.equal((await bob('GET', copy.href)).headers.get('etag'), etag, 'and so is bob\'s copy')
  }
  t.same(members((await davClient(s, 'carol')('REPORT', '/dav/calendars/carol/calendar/', { body: query })).xml), [], 'carol was not invited')
  const ok = await bob('PUT', copy.href, { body: body.replace('SUMMARY:Pricing', 'SUMMARY:Pricing (draft)'), headers: { 'if-match': etag } })
  t.equal(ok.status, 204, 'bob still edits the meeting')
  t.match((await api(`/api/v1/appointments/${id}`)).body_, { title: 'Pricing (draft)', ownerId: s.users.alice!.id, participantIds: [s.users.bob!.id] })
})

t.test('a read-only share refuses PUT and DELETE with need-privileges', async t => {
  const share = await api(`/api/v1/calendars/${(await calendarId('alice', 'calendar'))}/shares/${s.users.bob!.id}`, { method: 'PUT', json: { access: 'read' } })
  t.equal(share.status, 204)
  const home = members((await bob('PROPFIND', '/dav/calendars/bob/', { headers: { depth: '1' }, body: propfindBody('d:current-user-privilege-set', 'd:displayname') })).xml)
  const shared = home.find(m => m.href.startsWith('/dav/calendars/bob/shared~alice~'))!
  t.ok(shared, 'the shared calendar is in bob\'s home under a stable name')
  t.notMatch(JSON.stringify(shared.props.get('{DAV:}current-user-privilege-set')), /write/)
  const name = shared.href.split('/')[4]
  const obj = `/dav/calendars/bob/${name}/apple-1.ics`
  const got = await bob('GET', obj)
  t.equal(got.status, 200, 'readable')
  const put = await bob('PUT', obj, { body: got.text.replace('Client lunch', 'Hijacked') })
  t.equal(put.status, 403)
  t.match(put.text, /need-privileges/)
  const create = await bob('PUT', `/dav/calendars/bob/${name}/new.ics`, { body: vevent('bob-new') })
  t.equal(create.status, 403)
  const del = await bob('DELETE', obj)
  t.equal(del.status, 403)
  t.match(del.text, /need-privileges/)
  t.equal((await alice('GET', `${CAL}apple-1.ics`)).text, got.text, 'unchanged')
  t.equal((await bob('GET', '/dav/calendars/carol/calendar/apple-1.ics')).status, 404, 'another user\'s calendar: 404')
  t.equal((await davClient(s, 'carol')('GET', `/dav/calendars/carol/${name}/apple-1.ics`)).status, 404, 'not shared with carol')
})

async function calendarId (login: string, slug: string): Promise<number> {
  const cals = (await s.as(login)('/api/v1/calendars')).body_ as { id: number; slug: string; kind: string }[]
  return cals.find(c => c.slug === slug && c.kind !== 'company')!.id
}

t.test('a copy into another own calendar is a second item; the client\'s delete of the old one leaves one (Thunderbird\'s move)', async t => {
  t.equal((await alice('MKCALENDAR', '/dav/calendars/alice/work/')).status, 201)
  t.equal((await alice('PUT', `${CAL}move-me.ics`, { body: vevent('move-me', [], { summary: 'Moving' }) })).status, 201)
  const appointments = async () => ((await api('/api/v1/appointments?from=2026-06-01T00:00:00Z&to=2026-07-01T00:00:00Z')).body_ as { items: { id: number; uid: string; calendarId: number }[] }).items.filter(a => a.uid === 'move-me')
  const [original] = await appointments()
  const copy = await alice('PUT', '/dav/calendars/alice/work/move-me.ics', { body: vevent('move-me', ['X-MOVED:yes'], { summary: 'Moving' }), headers: { 'if-none-match': '*' } })
  t.equal(copy.status, 201, 'not a UID conflict: UIDs are unique per calendar (RFC 4791 §5.3.2.1)')
  t.equal((await alice('GET', `${CAL}move-me.ics`)).status, 200, 'the PUT left the other calendar\'s object alone')
  t.equal((await appointments()).length, 2, 'two CRM appointments until the client deletes the old one')
  t.equal((await alice('DELETE', `${CAL}move-me.ics`)).status, 204)
  t.match((await alice('GET', '/dav/calendars/alice/work/move-me.ics')).text, /X-MOVED:yes/)
  const left = await appointments()
  t.equal(left.length, 1, 'one in the end')
  t.not(left[0]!.id, original!.id, 'the one the client wrote in the new calendar')
  const other = await davClient(s, 'carol')('PUT', '/dav/calendars/carol/calendar/move-me.ics', { body: vevent('move-me') })
  t.equal(other.status, 201, 'a colleague may keep an item with the same UID in their own calendar')
  t.same((await appointments()).map(a => a.id), [left[0]!.id], 'and alice\'s item stays where it is')
  t.match((await alice('GET', '/dav/calendars/alice/work/move-me.ics')).text, /X-MOVED:yes/)
})

t.test('floating, all-day and custom-zone times reach the CRM as the right instants', async t => {
  const floating = vevent('floating-1', [], { start: '20260615T100000', end: '20260615T110000', summary: 'Floating' })
  t.equal((await alice('PUT', `${CAL}floating-1.ics`, { body: floating })).status, 201)
  const custom = [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//EN',
    'BEGIN:VTIMEZONE', 'TZID:Custom Office Time', 'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0300', 'TZOFFSETTO:+0300', 'END:STANDARD', 'END:VTIMEZONE',
    'BEGIN:VEVENT', 'UID:custom-1', 'DTSTAMP:20260101T000000Z', 'DTSTART;TZID=Custom Office Time:20260616T100000', 'DTEND;TZID=Custom Office Time:20260616T110000', 'SUMMARY:Custom zone', 'END:VEVENT',
    'END:VCALENDAR', ''].join('\r\n')
  t.equal((await alice('PUT', `${CAL}custom-1.ics`, { body: custom })).status, 201)
  const dst = vevent('dst-1', [], { start: '', end: '', summary: 'DST night' }).replace('DTSTART:', 'DTSTART;TZID=Europe/Warsaw:20261025T023000').replace('DTEND:', 'DTEND;TZID=Europe/Warsaw:20261025T033000')
  t.equal((await alice('PUT', `${CAL}dst-1.ics`, { body: dst })).status, 201)
  const list = (await api('/api/v1/appointments?from=2026-06-01T00:00:00Z&to=2026-11-01T00:00:00Z')).body_ as { items: Record<string, unknown>[] }
  const by = (uid: string) => list.items.find(a => a.uid === uid)!
  t.equal(new Date(by('floating-1').start as string).toISOString(), '2026-06-15T08:00:00.000Z', 'floating is read in the calendar\'s zone (Europe/Warsaw, UTC+2 in June)')
  t.equal(new Date(by('custom-1').start as string).toISOString(), '2026-06-16T07:00:00.000Z', 'a client-sent VTIMEZONE with a private name')
  t.equal(new Date(by('dst-1').start as string).toISOString(), '2026-10-25T00:30:00.000Z', 'a repeated hour at fall-back means its first occurrence (CEST)')
  t.equal((await alice('GET', `${CAL}custom-1.ics`)).text, custom, 'and the body stays as sent')
})

t.test('deleting one occurrence on the phone (an EXDATE) reaches the other participants\' copies', async t => {
  const made = await api('/api/v1/appointments', { method: 'POST', json: { title: 'Weekly sync', start: '2026-09-07T08:00:00Z', end: '2026-09-07T09:00:00Z', rrule: 'FREQ=WEEKLY;COUNT=5', participantIds: [s.users.bob!.id] } })
  t.equal(made.status, 201)
  const uid = (made.body_ as { uid: string }).uid
  const find = async (client: typeof alice, cal: string) => members((await client('REPORT', cal, { body: `<c:calendar-query ${DAV_NS}><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">${uid}</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>` })).xml)[0]!
  const mine = await find(alice, CAL)
  const body = propText(mine, '{urn:ietf:params:xml:ns:caldav}calendar-data')!
  const withExdate = body.replace('RRULE:FREQ=WEEKLY;COUNT=5\r\n', 'RRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE:20260914T080000Z\r\n')
  t.not(withExdate, body)
  t.equal((await alice('PUT', mine.href, { body: withExdate, headers: { 'if-match': propText(mine, '{DAV:}getetag')! } })).status, 204)
  const bobs = propText(await find(bob, '/dav/calendars/bob/calendar/'), '{urn:ietf:params:xml:ns:caldav}calendar-data')!
  t.match(bobs, /EXDATE[^\r\n]*:20260914T/, 'bob\'s copy lost that occurrence too')
  const week2 = await bob('REPORT', '/dav/calendars/bob/calendar/', { body: `<c:calendar-query ${DAV_NS}><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20260914T000000Z" end="20260915T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>` })
  t.equal(members(week2.xml).length, 0, 'and a query of that day finds nothing there')
})

t.test('moving one occurrence on a participant\'s phone moves it in every copy', async t => {
  const made = await api('/api/v1/appointments', { method: 'POST', json: { title: 'Planning', start: '2026-10-05T08:00:00Z', end: '2026-10-05T09:00:00Z', rrule: 'FREQ=WEEKLY;COUNT=4', participantIds: [s.users.bob!.id] } })
  t.equal(made.status, 201)
  const uid = (made.body_ as { uid: string }).uid
  const query = (uidOrRange: string) => `<c:calendar-query ${DAV_NS}><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">${uidOrRange}</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
  const bobsCopy = members((await bob('REPORT', '/dav/calendars/bob/calendar/', { body: query(`<c:prop-filter name="UID"><c:text-match collation="i;octet">${uid}</c:text-match></c:prop-filter>`) })).xml)[0]!
  const body = propText(bobsCopy, '{urn:ietf:params:xml:ns:caldav}calendar-data')!
  const moved = ['BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID:20261012T080000Z', 'DTSTART:20261012T130000Z', 'DTEND:20261012T140000Z', 'SUMMARY:Planning (afternoon)', 'END:VEVENT', ''].join('\r\n')
  const edited = body.replace('END:VCALENDAR', `${moved}END:VCALENDAR`)
  t.equal((await bob('PUT', bobsCopy.href, { body: edited, headers: { 'if-match': propText(bobsCopy, '{DAV:}getetag')! } })).status, 204)
  const afternoon = members((await alice('REPORT', CAL, { body: query('<c:time-range start="20261012T120000Z" end="20261012T150000Z"/>') })).xml)
  t.equal(afternoon.length, 1, 'alice\'s calendar has the occurrence at its new time')
  t.match(propText(afternoon[0]!, '{urn:ietf:params:xml:ns:caldav}calendar-data'), /RECURRENCE-ID:20261012T080000Z[\s\S]*SUMMARY:Planning \(afternoon\)/)
  const morning = members((await alice('REPORT', CAL, { body: query('<c:time-range start="20261012T070000Z" end="20261012T090000Z"/>') })).xml)
  t.equal(morning.length, 0, 'and no longer at the old one')
})

t.test('MOVE into another own calendar moves the CRM item (macOS Calendar)', async t => {
  t.equal((await alice('PUT', `${CAL}mv-1.ics`, { body: vevent('mv-1', ['X-KEEP:1'], { summary: 'To move' }) })).status, 201)
  const before = ((await api('/api/v1/appointments?from=2026-06-01T00:00:00Z&to=2026-07-01T00:00:00Z')).body_ as { items: { id: number; uid: string }[] }).items.find(a => a.uid === 'mv-1')!
  const res = await alice('MOVE', `${CAL}mv-1.ics`, { headers: { destination: `${s.url}/dav/calendars/alice/work/mv-1.ics`, overwrite: 'F' } })
  t.equal(res.status, 201)
  t.equal((await alice('GET', `${CAL}mv-1.ics`)).status, 404)
  t.match((await alice('GET', '/dav/calendars/alice/work/mv-1.ics')).text, /X-KEEP:1/)
  t.equal(((await api(`/api/v1/appointments/${before.id}`)).body_ as { id: number }).id, before.id)
  const bad = await alice('MOVE', '/dav/calendars/alice/work/mv-1.ics', { headers: { destination: '/dav/calendars/bob/calendar/mv-1.ics' } })
  t.ok(bad.status >= 400 && bad.status < 500, 'not into someone else\'s calendar')
})

t.test('a private appointment in a read-only share shows only as busy time', async t => {
  const secret = vevent('private-1', ['CLASS:PRIVATE', 'DESCRIPTION:salary talk with Carol', 'LOCATION:HR room', 'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT5M', 'DESCRIPTION:x', 'END:VALARM'], { summary: 'Confidential review', start: '20260622T090000Z', end: '20260622T100000Z' })
  t.equal((await alice('PUT', `${CAL}private-1.ics`, { body: secret })).status, 201)
  t.equal((await alice('GET', `${CAL}private-1.ics`)).text, secret, 'the owner sees it all')
  const shared = '/dav/calendars/bob/shared~alice~calendar/'
  const seen = await bob('GET', `${shared}private-1.ics`)
  t.equal(seen.status, 200)
  t.match(seen.text, /SUMMARY:Private\r\n/)
  t.match(seen.text, /DTSTART:20260622T090000Z/, 'the time is shown')
  for (const hidden of ['salary', 'HR room', 'Confidential review', 'VALARM']) t.notOk(seen.text.includes(hidden), `hides ${hidden}`)
  const probe = await bob('REPORT', shared, { headers: { depth: '1' }, body: `<c:calendar-query ${DAV_NS}><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="DESCRIPTION"><c:text-match>salary</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>` })
  t.equal(members(probe.xml).length, 0, 'a text filter cannot probe the hidden text')
  const multi = await bob('REPORT', shared, { body: `<c:calendar-multiget ${DAV_NS}><d:prop><c:calendar-data/></d:prop><d:href>${shared}private-1.ics</d:href></c:calendar-multiget>` })
  t.notMatch(propText(members(multi.xml)[0], '{urn:ietf:params:xml:ns:caldav}calendar-data'), /salary/)
  const listing = await bob('PROPFIND', shared, { headers: { depth: '1' }, body: propfindBody('d:getetag', 'c:calendar-data') })
  t.notMatch(listing.text, /salary/, 'nor in a PROPFIND listing with calendar-data')
  const sync = await bob('REPORT', shared, { body: `<d:sync-collection ${DAV_NS}><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><c:calendar-data/></d:prop></d:sync-collection>` })
  t.notMatch(sync.text, /salary/, 'nor in sync-collection')
})

t.test('a meeting with colleagues as attendees becomes one appointment with them as participants', async t => {
  const admin = s.as('admin')
  for (const [login, email] of [['alice', 'alice@example.com'], ['bob', 'Bob@Example.com'], ['carol', 'carol@example.com']] as const) {
    t.equal((await admin(`/api/v1/users/${s.users[login]!.id}`, { method: 'PATCH', json: { email } })).status, 200)
  }
  const invite = (attendees: string[]) => vevent('meeting-attendees', ['ORGANIZER;CN=Alice:mailto:alice@example.com', ...attendees.map(a => `ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${a}`), 'ATTENDEE:mailto:outsider@customer.example'], { summary: 'Kick-off with the customer', start: '20260701T090000Z', end: '20260701T100000Z' })
  const put = await alice('PUT', `${CAL}meeting-attendees.ics`, { body: invite(['bob@example.com']) })
  t.equal(put.status, 201)
  const byUid = async (client: typeof alice, cal: string) => members((await client('REPORT', cal, { body: `<c:calendar-query ${DAV_NS}><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">meeting-attendees</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>` })).xml)
  const carol = davClient(s, 'carol')
  const bobs = await byUid(bob, '/dav/calendars/bob/calendar/')
  t.equal(bobs.length, 1, 'bob (matched by e-mail, any case) has a copy in his calendar')
  t.notMatch(propText(bobs[0], '{urn:ietf:params:xml:ns:caldav}calendar-data'), /ATTENDEE/, 'his copy has no attendees: nobody gets invitation mail')
  t.equal((await byUid(carol, '/dav/calendars/carol/calendar/')).length, 0, 'carol is not invited')
  const mine = (await byUid(alice, CAL))[0]!
  const edit = await alice('PUT', mine.href, { body: invite(['carol@example.com']), headers: { 'if-match': propText(mine, '{DAV:}getetag')! } })
  t.equal(edit.status, 204)
  t.equal((await byUid(bob, '/dav/calendars/bob/calendar/')).length, 0, 'bob was taken off the attendees: his copy goes')
  t.equal((await byUid(carol, '/dav/calendars/carol/calendar/')).length, 1, 'carol was added: she gets one')
})
