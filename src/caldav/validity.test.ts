import t, { type Test } from 'tap'
import { createUser } from '../domain/users.ts'
import { PASSWORD, startServer } from '../testing/harness.ts'
import { DAV_NS, davClient, members, propText, propfindBody, vevent } from './test-client.ts'

// What RFC 4791 and XML 1.0 say to refuse is refused with the precondition
// and a reason, and nothing is stored; what the server states about itself
// (calendar-timezone) is what the RFC asks for.
const s = await startServer({ users: ['alice'] })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const CAL = '/dav/calendars/alice/calendar/'
const NAME = '{DAV:}displayname'
const TZ = '{urn:ietf:params:xml:ns:caldav}calendar-timezone'

/** The text with its @@ replaced by raw bytes. */
const withBytes = (text: string, ...raw: number[]) => { const [a, b] = text.split('@@'); return Buffer.concat([Buffer.from(a!), Buffer.from(raw), Buffer.from(b!)]) }
const proppatch = (prop: string) => `<?xml version="1.0" encoding="utf-8"?><d:propertyupdate ${DAV_NS}><d:set><d:prop>${prop}</d:prop></d:set></d:propertyupdate>`
const propOf = async (path: string, name: string) => propText(members((await alice('PROPFIND', path, { headers: { depth: '0' }, body: propfindBody('d:displayname', 'c:calendar-timezone') })).xml)[0], name)
const query = (filter: string, extra = '') => `<?xml version="1.0" encoding="utf-8"?><c:calendar-query ${DAV_NS}><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR">${filter}</c:comp-filter></c:filter>${extra}</c:calendar-query>`
const VCAL_EVENT = vevent('not-a-zone')
const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;')

/** A DAV:error answer naming the precondition, with a reason for the user. */
function refused (t: Test, res: { status: number; text: string }, status: number, precondition?: RegExp) {
  t.equal(res.status, status, res.text)
  if (precondition !== undefined) t.match(res.text, precondition)
  t.match(res.text, /<k:reason>[^<]+<\/k:reason>/, 'with the reason')
}

t.before(async () => {
  t.equal((await alice('PUT', `${CAL}meeting.ics`, { body: vevent('meeting', [], { summary: 'Budget' }) })).status, 201)
})

t.test('invalid UTF-8 in XML is a fatal error (XML 1.0 §4.3.3), not U+FFFD; nothing is stored', async t => {
  const before = await propOf(CAL, NAME)
  const patch = await alice('PROPPATCH', CAL, { body: withBytes(proppatch('<d:displayname>@@</d:displayname>'), 0xff, 0xfe) })
  refused(t, patch, 400)
  t.match(patch.text, /UTF-8/)
  t.equal(await propOf(CAL, NAME), before, 'the display name is unchanged')

  const search = await alice('REPORT', CAL, { headers: { depth: '1' }, body: withBytes(query('<c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match>Bud@@</c:text-match></c:prop-filter></c:comp-filter>'), 0xc3, 0x28) })
  refused(t, search, 400)
  const find = await alice('PROPFIND', CAL, { headers: { depth: '0' }, body: withBytes(propfindBody('d:displayname').replace('<d:prop>', '<!-- caf@@ --><d:prop>'), 0xe9) })
  refused(t, find, 400)
})

t.test('XML in ISO-8859-1 is read as ISO-8859-1; an encoding the body and the header disagree on is refused', async t => {
  const body = Buffer.from(proppatch('<d:displayname>Café</d:displayname>').replace('encoding="utf-8"', 'encoding="ISO-8859-1"'), 'latin1')
  const ok = await alice('PROPPATCH', CAL, { body, headers: { 'content-type': 'application/xml' } })
  t.equal(ok.status, 207, ok.text)
  t.equal(await propOf(CAL, NAME), 'Café', 'é is U+00E9, not a replacement character')
  const conflict = await alice('PROPPATCH', CAL, { body: Buffer.from(body.toString('latin1').replace('Caf', 'Bar'), 'latin1'), headers: { 'content-type': 'application/xml; charset=utf-8' } })
  t.ok(conflict.status === 400 || conflict.status === 415, `refused (${conflict.status})`)
  t.equal(await propOf(CAL, NAME), 'Café', 'nothing changed')
  const other = await alice('PROPFIND', CAL, { headers: { depth: '0', 'content-type': 'application/xml' }, body: propfindBody('d:displayname').replace('encoding="utf-8"', 'encoding="Shift_JIS"') })
  refused(t, other, 415)
})

t.test('an iCalendar body that is not UTF-8 is not valid calendar data (RFC 5545 §3.1.4); nothing is stored', async t => {
  const body = withBytes(vevent('latin-1', [], { summary: 'Caf@@' }), 0xe9)
  for (const type of ['text/calendar; charset=utf-8', 'text/calendar']) {
    const put = await alice('PUT', `${CAL}latin-1.ics`, { body, headers: { 'content-type': type } })
    refused(t, put, 403, /valid-calendar-data/)
    t.match(put.text, /UTF-8/)
    t.equal((await alice('GET', `${CAL}latin-1.ics`)).status, 404, `${type}: not stored`)
  }
  const declared = await alice('PUT', `${CAL}latin-1.ics`, { body, headers: { 'content-type': 'text/calendar; charset=iso-8859-1' } })
  refused(t, declared, 415, /supported-calendar-data/)
  t.equal((await alice('GET', `${CAL}latin-1.ics`)).status, 404, 'not stored')
})

t.test('calendar-data in a media type or version the server does not store is refused (RFC 4791 §9.6, §7.8)', async t => {
  for (const attrs of ['content-type="text/vcalendar"', 'version="3.0"', 'content-type="application/calendar+json"']) {
    const body = query('<c:comp-filter name="VEVENT"/>').replace('<d:getetag/>', `<d:getetag/><c:calendar-data ${attrs}/>`)
    refused(t, await alice('REPORT', CAL, { headers: { depth: '1' }, body }), 403, /supported-calendar-data/)
    const multiget = `<c:calendar-multiget ${DAV_NS}><d:prop><c:calendar-data ${attrs}/></d:prop><d:href>${CAL}meeting.ics</d:href></c:calendar-multiget>`
    refused(t, await alice('REPORT', CAL, { body: multiget }), 403, /supported-calendar-data/)
  }
  const explicit = query('<c:comp-filter name="VEVENT"/>').replace('<d:getetag/>', '<d:getetag/><c:calendar-data content-type="text/calendar" version="2.0"/>')
  t.equal((await alice('REPORT', CAL, { headers: { depth: '1' }, body: explicit })).status, 207, 'text/calendar 2.0 spelled out is fine')
})

t.test('filters that cannot match by construction are refused with valid-filter (RFC 4791 §7.8, §9.7)', async t => {
  const cases: [string, string, number, string[]][] = [
    ['time-range on SUMMARY', '<c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:time-range start="20260101T000000Z" end="20270101T000000Z"/></c:prop-filter></c:comp-filter>', 403, []],
    ['VEVENT inside VEVENT', '<c:comp-filter name="VEVENT"><c:comp-filter name="VEVENT"/></c:comp-filter>', 403, []],
    ['VALARM directly in VCALENDAR', '<c:comp-filter name="VALARM"/>', 403, []],
    ['VCALENDAR inside VTODO', '<c:comp-filter name="VTODO"><c:comp-filter name="VCALENDAR"/></c:comp-filter>', 403, []],
    ['time-range on DTSTAMP', '<c:comp-filter name="VEVENT"><c:prop-filter name="DTSTAMP"><c:time-range start="20250101T000000Z" end="20270101T000000Z"/></c:prop-filter></c:comp-filter>', 207, ['meeting.ics']],
    ['time-range on an X- property', '<c:comp-filter name="VEVENT"><c:prop-filter name="X-WHEN"><c:time-range start="20250101T000000Z"/></c:prop-filter></c:comp-filter>', 207, []],
    ['VALARM in VEVENT', '<c:comp-filter name="VEVENT"><c:comp-filter name="VALARM"><c:is-not-defined/></c:comp-filter></c:comp-filter>', 207, ['meeting.ics']],
    ['an X- component anywhere', '<c:comp-filter name="VEVENT"><c:comp-filter name="X-THING"><c:is-not-defined/></c:comp-filter></c:comp-filter>', 207, ['meeting.ics']]
  ]
  for (const [what, filter, status, found] of cases) {
    const res = await alice('REPORT', CAL, { headers: { depth: '1' }, body: query(filter) })
    if (status === 207) {
      t.equal(res.status, 207, what)
      t.same(members(res.xml).map(m => m.href.split('/').pop()), found, what)
    } else refused(t, res, 403, /valid-filter/)
  }
  const top = await alice('REPORT', CAL, { headers: { depth: '1' }, body: query('').replace('name="VCALENDAR"', 'name="VEVENT"') })
  refused(t, top, 403, /valid-filter/)
})

t.test('a calendar-query timezone must be one VTIMEZONE (RFC 4791 §9.8)', async t => {
  const withTz = (tz: string) => query('<c:comp-filter name="VEVENT"/>', `<c:timezone>${esc(tz)}</c:timezone>`)
  refused(t, await alice('REPORT', CAL, { headers: { depth: '1' }, body: withTz(VCAL_EVENT) }), 403, /valid-calendar-data/)
  refused(t, await alice('REPORT', CAL, { headers: { depth: '1' }, body: withTz('Europe/Warsaw') }), 403, /valid-calendar-data/)
  const zone = propText(members((await alice('PROPFIND', CAL, { headers: { depth: '0' }, body: propfindBody('c:calendar-timezone') })).xml)[0], TZ)!
  t.equal((await alice('REPORT', CAL, { headers: { depth: '1' }, body: withTz(zone) })).status, 207, 'a VCALENDAR with one VTIMEZONE is fine')
})

t.test('calendar-timezone must be exactly one VTIMEZONE (RFC 4791 §5.2.2), in PROPPATCH and MKCALENDAR', async t => {
  const before = (await propOf(CAL, TZ))!
  const vtimezone = before.slice(before.indexOf('BEGIN:VTIMEZONE'), before.indexOf('END:VCALENDAR'))
  const event = VCAL_EVENT.slice(VCAL_EVENT.indexOf('BEGIN:VEVENT'), VCAL_EVENT.indexOf('END:VCALENDAR'))
  const wrap = (...parts: string[]) => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\n${parts.join('')}END:VCALENDAR\r\n`
  const bad = {
    'a VEVENT': wrap(event),
    'a VTIMEZONE and a VEVENT': wrap(vtimezone, event),
    'two VTIMEZONEs': wrap(vtimezone, vtimezone.replace(/Europe\/Warsaw/g, 'America/New_York')),
    'a VTIMEZONE without rules': wrap('BEGIN:VTIMEZONE\r\nTZID:Europe/Warsaw\r\nEND:VTIMEZONE\r\n')
  }
  for (const [what, value] of Object.entries(bad)) {
    const patch = await alice('PROPPATCH', CAL, { body: proppatch(`<c:calendar-timezone>${esc(value)}</c:calendar-timezone>`) })
    t.equal(patch.status, 207, what)
    t.equal(members(patch.xml)[0]!.propstatus.get(TZ), 403, what)
    t.match(patch.text, /valid-calendar-data/, what)
    t.equal(await propOf(CAL, TZ), before, `${what}: unchanged`)
  }
  const mk = await alice('MKCALENDAR', '/dav/calendars/alice/wrong-zone/', { body: `<c:mkcalendar ${DAV_NS}><d:set><d:prop><c:calendar-timezone>${esc(bad['a VTIMEZONE and a VEVENT'])}</c:calendar-timezone></d:prop></d:set></c:mkcalendar>` })
  refused(t, mk, 403, /valid-calendar-data/)
  t.equal((await alice('PROPFIND', '/dav/calendars/alice/wrong-zone/', { headers: { depth: '0' } })).status, 404, 'no calendar was made')
  const good = await alice('PROPPATCH', CAL, { body: proppatch(`<c:calendar-timezone>${esc(before.replace('TZID:Europe/Warsaw', 'TZID:America/New_York'))}</c:calendar-timezone>`) })
  t.equal(members(good.xml)[0]!.propstatus.get(TZ), 200, 'one VTIMEZONE is taken')
  t.match(await propOf(CAL, TZ), /TZID:America\/New_York/)
})

t.test('a propfind with none of prop, allprop or propname is a bad request (RFC 4918 §14.20)', async t => {
  const only = `<?xml version="1.0" encoding="utf-8"?><d:propfind ${DAV_NS}><d:foo/></d:propfind>`
  refused(t, await alice('PROPFIND', CAL, { headers: { depth: '0' }, body: only }), 400)
  const beside = `<?xml version="1.0" encoding="utf-8"?><d:propfind ${DAV_NS}><x:hint xmlns:x="urn:x"/><d:prop><d:displayname/><x:unknown xmlns:x="urn:x"/></d:prop></d:propfind>`
  const ok = await alice('PROPFIND', CAL, { headers: { depth: '0' }, body: beside })
  t.equal(ok.status, 207, 'an extra element beside prop is ignored')
  t.equal(members(ok.xml)[0]!.propstatus.get('{urn:x}unknown'), 404, 'an unknown property is a 404 in its propstat')
  const empty = await alice('PROPFIND', CAL, { headers: { depth: '0' }, body: `<d:propfind ${DAV_NS}/>` })
  t.equal(empty.status, 207, 'an empty propfind element is still allprop')
})

t.test('an invalid RECURRENCE-ID is not valid calendar data (RFC 5545 §3.8.4.4)', async t => {
  const series = (rid: string) => vevent('series', ['RRULE:FREQ=WEEKLY;COUNT=5'], { start: '20260105T090000Z', end: '20260105T100000Z' }).replace('END:VCALENDAR',
    ['BEGIN:VEVENT', 'UID:series', 'DTSTAMP:20260101T000000Z', rid, 'DTSTART:20260113T090000Z', 'DTEND:20260113T100000Z', 'SUMMARY:Moved', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n'))
  for (const rid of ['RECURRENCE-ID:20260112T090000Z,20260119T090000Z', 'RECURRENCE-ID:20260112T090000Z+1']) {
    const put = await alice('PUT', `${CAL}series.ics`, { body: series(rid) })
    refused(t, put, 403, /valid-calendar-data/)
    t.match(put.text, /RECURRENCE-ID/)
    t.equal((await alice('GET', `${CAL}series.ics`)).status, 404, `${rid}: not stored`)
  }
  t.equal((await alice('PUT', `${CAL}series.ics`, { body: series('RECURRENCE-ID:20260112T090000Z') })).status, 201, 'a proper override is stored')
})

t.test('every calendar\'s calendar-timezone is a VCALENDAR with exactly one VTIMEZONE, UTC included (RFC 4791 §5.2.2)', async t => {
  await createUser(s.k.db, null, s.orgId, { login: 'uma', name: 'Uma', password: PASSWORD, role: 'user', timezone: 'UTC' })
  const uma = davClient(s, 'uma')
  const res = await uma('PROPFIND', '/dav/calendars/uma/', { headers: { depth: '1' }, body: propfindBody('c:calendar-timezone') })
  const zones = members(res.xml).filter(m => m.props.has(TZ))
  t.ok(zones.length > 0, 'the default calendars state a zone')
  for (const m of zones) {
    const tz = propText(m, TZ)!
    t.equal((tz.match(/BEGIN:VTIMEZONE/g) ?? []).length, 1, `${m.href}: one VTIMEZONE`)
    t.match(tz, /TZID:UTC\r\n/)
    t.match(tz, /BEGIN:STANDARD\r\n[^]*TZOFFSETFROM:\+0000\r\n[^]*TZOFFSETTO:\+0000\r\n[^]*END:STANDARD/)
  }
})
