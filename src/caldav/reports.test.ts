import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { DAV_NS, davClient, members, propText, vevent, vtodo } from './test-client.ts'
import { listing } from './resources.ts'

// calendar-query (recurrences, expand, limit-recurrence-set), free-busy, and
// malformed requests: proper DAV errors, never a 500.
const s = await startServer({ users: ['alice'], env: { KALENDS_MAX_BODY_BYTES: '65536' } })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const CAL = '/dav/calendars/alice/calendar/'
const TASKS = '/dav/calendars/alice/tasks/'
const DATA = '{urn:ietf:params:xml:ns:caldav}calendar-data'

const query = (range: string, opts: { comp?: string; data?: string } = {}) =>
  `<?xml version="1.0" encoding="utf-8"?><c:calendar-query ${DAV_NS}><d:prop><d:getetag/>${opts.data ?? '<c:calendar-data/>'}</d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="${opts.comp ?? 'VEVENT'}">${range}</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
const range = (start: string, end: string) => `<c:time-range start="${start}" end="${end}"/>`

const WEEKLY = vevent('weekly', ['RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE:20260112T090000Z'], { start: '20260105T090000Z', end: '20260105T100000Z', summary: 'Standup' }).replace(
  'END:VCALENDAR',
  ['BEGIN:VEVENT', 'UID:weekly', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID:20260119T090000Z', 'DTSTART:20260121T150000Z', 'DTEND:20260121T160000Z', 'SUMMARY:Standup (moved)', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n'))

t.before(async () => {
  t.equal((await alice('PUT', `${CAL}weekly.ics`, { body: WEEKLY })).status, 201)
  t.equal((await alice('PUT', `${CAL}once.ics`, { body: vevent('once', [], { start: '20260301T090000Z', end: '20260301T100000Z' }) })).status, 201)
  t.equal((await alice('PUT', `${CAL}free.ics`, { body: vevent('free', ['TRANSP:TRANSPARENT'], { start: '20260105T120000Z', end: '20260105T130000Z' }) })).status, 201)
  t.equal((await alice('PUT', `${CAL}allday.ics`, { body: vevent('allday', [], { start: '', end: '' }).replace('DTSTART:', 'DTSTART;VALUE=DATE:20260110').replace('DTEND:', 'DTEND;VALUE=DATE:20260111') })).status, 201)
  t.equal((await alice('PUT', `${TASKS}todo-due.ics`, { body: vtodo('todo-due', ['SUMMARY:Send offer', 'DUE:20260210T120000Z']) })).status, 201)
  t.equal((await alice('PUT', `${TASKS}todo-none.ics`, { body: vtodo('todo-none', ['SUMMARY:Someday']) })).status, 201)
})

t.test('time-range sees every instance of a recurring event, overrides and EXDATEs included', async t => {
  const hrefs = async (start: string, end: string) => members((await alice('REPORT', CAL, { headers: { depth: '1' }, body: query(range(start, end)) })).xml).map(m => m.href.split('/').pop()).sort()
  t.same(await hrefs('20260302T000000Z', '20260303T000000Z'), ['weekly.ics'], 'a Monday long after the start, no end to the rule')
  t.same(await hrefs('20260112T000000Z', '20260113T000000Z'), [], 'the EXDATE\'d Monday is empty')
  t.same(await hrefs('20260119T000000Z', '20260120T000000Z'), [], 'the overridden Monday moved away')
  t.same(await hrefs('20260121T000000Z', '20260122T000000Z'), ['weekly.ics'], 'to the Wednesday')
  t.same(await hrefs('20260301T000000Z', '20260301T235959Z'), ['once.ics'], 'a Sunday with only the single event')
  t.same(await hrefs('20260110T000000Z', '20260111T000000Z'), ['allday.ics'], 'all-day')
  t.same(await hrefs('20300107T000000Z', '20300108T000000Z'), ['weekly.ics'], 'years later: no year cap on endless rules')
})

t.test('expand returns the instances in the range as UTC components; limit-recurrence-set keeps the relevant overrides', async t => {
  const res = await alice('REPORT', CAL, { headers: { depth: '1' }, body: query(range('20260101T000000Z', '20260201T000000Z'), { data: '<c:calendar-data><c:expand start="20260101T000000Z" end="20260201T000000Z"/></c:calendar-data>' }) })
  t.equal(res.status, 207)
  const weekly = members(res.xml).find(m => m.href.endsWith('weekly.ics'))!
  const data = propText(weekly, DATA)!
  t.notMatch(data, /RRULE/, 'no RRULE in an expansion')
  t.equal((data.match(/BEGIN:VEVENT/g) ?? []).length, 3, 'Jan 5, 19→21 (moved), 26; Jan 12 excluded')
  t.match(data, /RECURRENCE-ID:20260126T090000Z/)
  const limited = await alice('REPORT', CAL, { headers: { depth: '1' }, body: query(range('20260125T000000Z', '20260201T000000Z'), { data: '<c:calendar-data><c:limit-recurrence-set start="20260125T000000Z" end="20260201T000000Z"/></c:calendar-data>' }) })
  const lw = propText(members(limited.xml).find(m => m.href.endsWith('weekly.ics')), DATA)!
  t.match(lw, /RRULE:FREQ=WEEKLY/)
  t.notMatch(lw, /RECURRENCE-ID/, 'the January 19 override is outside the range')
})

t.test('an expansion past the instance cap answers with a clear error', async t => {
  t.equal((await alice('PUT', `${CAL}forever.ics`, { body: vevent('forever', ['RRULE:FREQ=HOURLY'], { start: '20260101T000000Z', end: '20260101T003000Z' }) })).status, 201)
  const res = await alice('REPORT', CAL, { headers: { depth: '1' }, body: query(range('20260101T000000Z', '20300101T000000Z'), { data: '<c:calendar-data><c:expand start="20260101T000000Z" end="20300101T000000Z"/></c:calendar-data>' }) })
  t.equal(res.status, 403)
  t.match(res.text, /max-instances/)
  t.match(res.text, /instances/, 'with the reason')
  t.equal((await alice('DELETE', `${CAL}forever.ics`)).status, 204)
})

t.test('partial calendar-data: only the components and properties asked for', async t => {
  const data = '<c:calendar-data><c:comp name="VCALENDAR"><c:prop name="VERSION"/><c:comp name="VEVENT"><c:prop name="SUMMARY"/><c:prop name="UID"/><c:prop name="DTSTART" novalue="yes"/></c:comp></c:comp></c:calendar-data>'
  const res = await alice('REPORT', CAL, { headers: { depth: '1' }, body: query(range('20260301T000000Z', '20260302T000000Z'), { data }) })
  const once = propText(members(res.xml).find(m => m.href.endsWith('once.ics')), DATA)
  t.equal(once, ['BEGIN:VCALENDAR', 'VERSION:2.0', 'BEGIN:VEVENT', 'UID:once', 'DTSTART:', 'SUMMARY:Meeting', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n'))
})

t.test('VTODO queries follow RFC 4791 §9.9; comp-filter picks the component', async t => {
  const res = await alice('REPORT', TASKS, { headers: { depth: '1' }, body: query(range('20260201T000000Z', '20260301T000000Z'), { comp: 'VTODO' }) })
  const names = members(res.xml).map(m => m.href.split('/').pop()).sort()
  t.same(names, ['todo-due.ics', 'todo-none.ics'], 'a VTODO without dates matches any range')
  const events = await alice('REPORT', TASKS, { headers: { depth: '1' }, body: query('', { comp: 'VEVENT' }) })
  t.equal(members(events.xml).length, 0)
  const text = await alice('REPORT', TASKS, { headers: { depth: '1' }, body: query('<c:prop-filter name="SUMMARY"><c:text-match>offer</c:text-match></c:prop-filter>', { comp: 'VTODO' }) })
  t.same(members(text.xml).map(m => m.href.split('/').pop()), ['todo-due.ics'])
  const notDefined = await alice('REPORT', TASKS, { headers: { depth: '1' }, body: query('<c:prop-filter name="DUE"><c:is-not-defined/></c:prop-filter>', { comp: 'VTODO' }) })
  t.same(members(notDefined.xml).map(m => m.href.split('/').pop()), ['todo-none.ics'])
})

t.test('free-busy-query honours TRANSP and recurrences', async t => {
  const res = await alice('REPORT', CAL, { headers: { depth: '1' }, body: `<c:free-busy-query ${DAV_NS}><c:time-range start="20260105T000000Z" end="20260106T000000Z"/></c:free-busy-query>` })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /text\/calendar/)
  t.match(res.text, /BEGIN:VFREEBUSY/)
  t.match(res.text, /FREEBUSY;FBTYPE=BUSY:20260105T090000Z\/20260105T100000Z/)
  t.notMatch(res.text, /20260105T120000Z/, 'the transparent event is free time')
})

t.test('malformed requests get 400/403 with preconditions, never 500', async t => {
  const cases: [string, string, string, number, RegExp | null][] = [
    ['PROPFIND', CAL, '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag></d:prop></d:propfind>', 400, null],
    ['PROPFIND', CAL, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><d:propfind xmlns:d="DAV:"><d:prop>&a;</d:prop></d:propfind>', 400, null],
    ['REPORT', CAL, '<x:unknown-report xmlns:x="urn:x"/>', 403, /supported-report/],
    ['REPORT', CAL, `<c:calendar-query ${DAV_NS}><d:prop/><c:filter><c:comp-filter name="VEVENT"/></c:filter></c:calendar-query>`, 403, /valid-filter/],
    ['REPORT', CAL, `<c:calendar-query ${DAV_NS}><d:prop/><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="garbage"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`, 403, /valid-filter/],
    ['REPORT', CAL, `<c:calendar-query ${DAV_NS}><d:prop/><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match collation="i;klingon">x</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`, 403, /supported-collation/],
    ['PUT', `${CAL}bad.ics`, 'this is not iCalendar', 403, /valid-calendar-data/],
    ['PUT', `${CAL}bad.ics`, 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n', 403, /valid-calendar-object-resource/],
    ['PUT', `${CAL}bad.ics`, 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20261301T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n', 403, /valid-calendar-data/],
    ['PUT', `${CAL}nul.ics`, vevent('nul', ['SUMMARY:a\u0000b']), 403, /valid-calendar-data/],
    ['PROPPATCH', CAL, '<d:propertyupdate xmlns:d="DAV:"/>', 400, null],
    ['MKCALENDAR', '/dav/calendars/alice/x~y/', '', 403, /calendar-collection-location-ok/]
  ]
  for (const [method, path, body, status, pre] of cases) {
    const res = await alice(method, path, body === '' ? {} : { body, headers: { 'content-type': method === 'PUT' ? 'text/calendar' : 'application/xml' } })
    t.equal(res.status, status, `${method} ${body.slice(0, 60)}`)
    t.match(res.headers.get('content-type'), /xml/, 'a DAV error body')
    if (pre !== null) t.match(res.text, pre)
  }
  // a malformed URL never reaches the DAV routes: the router refuses it, still with 400
  t.equal((await alice('GET', '/dav/calendars/alice/calendar/%ZZ.ics')).status, 400)
  const big = vevent('big', [`DESCRIPTION:${'x'.repeat(70_000)}`])
  const tooBig = await alice('PUT', `${CAL}big.ics`, { body: big })
  t.equal(tooBig.status, 413)
  t.match(tooBig.text, /max-resource-size/, 'the body limit answers with a DAV error')
  const wrongType = await alice('PUT', `${CAL}json.ics`, { body: '{"a":1}', headers: { 'content-type': 'application/json' } })
  t.equal(wrongType.status, 415)
  t.match(wrongType.text, /supported-calendar-data/)
})

t.test('listings read their rows a page at a time and answer the same bytes as in one go', async t => {
  const PROPFIND = `<?xml version="1.0" encoding="utf-8"?><d:propfind ${DAV_NS}><d:prop><d:getetag/><d:getcontenttype/><d:resourcetype/><c:calendar-data/></d:prop></d:propfind>`
  const ask = async () => [
    await alice('PROPFIND', CAL, { headers: { depth: '1' }, body: PROPFIND }),
    await alice('PROPFIND', CAL, { headers: { depth: '1' }, body: PROPFIND.replace('<c:calendar-data/>', '') }),
    await alice('REPORT', CAL, { headers: { depth: '1' }, body: query(range('20260101T000000Z', '20260401T000000Z')) }),
    await alice('REPORT', CAL, { headers: { depth: '1' }, body: query('') }),
    await alice('REPORT', TASKS, { headers: { depth: '1' }, body: query('', { comp: 'VTODO' }) })
  ]
  const whole = await ask()
  t.ok(members(whole[0]!.xml).length >= 5, 'the calendar and its objects')
  t.ok(members(whole[2]!.xml).length >= 3, 'a query with several matches')
  const before = { ...listing }
  t.teardown(() => { Object.assign(listing, before) })
  for (const page of [1, 2, 3]) {
    listing.page = page
    listing.pageWithoutBodies = page
    const paged = await ask()
    t.same(paged.map(r => r.status), whole.map(r => r.status), `pages of ${page}: same statuses`)
    t.same(paged.map(r => r.text), whole.map(r => r.text), `pages of ${page}: same bytes`)
  }
})

t.test('a query after an edit tests the edited object again (remembered verdicts are per body)', async t => {
  const hrefs = async () => members((await alice('REPORT', CAL, { headers: { depth: '1' }, body: query(range('20260112T000000Z', '20260113T000000Z')) })).xml).map(m => m.href.split('/').pop()).sort()
  const series = (extra: string[]) => vevent('edited', ['RRULE:FREQ=WEEKLY;COUNT=3', ...extra], { start: '20260105T070000Z', end: '20260105T080000Z' })
  t.equal((await alice('PUT', `${CAL}edited.ics`, { body: series([]) })).status, 201)
  t.same(await hrefs(), ['edited.ics'], 'the second Monday matches')
  t.same(await hrefs(), ['edited.ics'], 'and again (remembered)')
  t.equal((await alice('PUT', `${CAL}edited.ics`, { body: series(['EXDATE:20260112T070000Z']) })).status, 204)
  t.same(await hrefs(), [], 'excluded by the edit: not answered from memory')
  t.equal((await alice('PUT', `${CAL}edited.ics`, { body: series([]) })).status, 204)
  t.same(await hrefs(), ['edited.ics'], 'back as it was')
  t.equal((await alice('DELETE', `${CAL}edited.ics`)).status, 204)
})

t.test('a repeated query answers every object as it is now (remembered responses are per version and window)', async t => {
  const ask = async (start: string, end: string, data = '<c:calendar-data/>') => {
    const res = await alice('REPORT', CAL, { headers: { depth: '1' }, body: query(range(start, end), { data: `<d:getlastmodified/>${data}` }) })
    t.equal(res.status, 207)
    return members(res.xml).find(m => m.href.endsWith('/versions.ics'))
  }
  const expand = (start: string, end: string) => `<c:calendar-data><c:expand start="${start}" end="${end}"/></c:calendar-data>`
  const body = (summary: string) => vevent('versions', ['RRULE:FREQ=DAILY;COUNT=4'], { start: '20260202T090000Z', end: '20260202T100000Z', summary })
  t.equal((await alice('PUT', `${CAL}versions.ics`, { body: body('First') })).status, 201)
  const first = await ask('20260202T000000Z', '20260203T000000Z')
  t.match(propText(first, DATA), /SUMMARY:First/)
  t.same(propText(await ask('20260202T000000Z', '20260203T000000Z'), DATA), propText(first, DATA), 'asked again: the same answer')
  t.equal((await alice('PUT', `${CAL}versions.ics`, { body: body('Second') })).status, 204)
  const second = await ask('20260202T000000Z', '20260203T000000Z')
  t.match(propText(second, DATA), /SUMMARY:Second/, 'the edit shows at once')
  t.not(propText(second, '{DAV:}getetag'), propText(first, '{DAV:}getetag'), 'with its new ETag')
  const day1 = propText(await ask('20260202T000000Z', '20260203T000000Z', expand('20260202T000000Z', '20260203T000000Z')), DATA)!
  const day3 = propText(await ask('20260204T000000Z', '20260205T000000Z', expand('20260204T000000Z', '20260205T000000Z')), DATA)!
  t.match(day1, /RECURRENCE-ID:20260202T090000Z/)
  t.match(day3, /RECURRENCE-ID:20260204T090000Z/, 'another window, another expansion')
  t.notMatch(day3, /RECURRENCE-ID:20260202T090000Z/)
  t.equal((await alice('DELETE', `${CAL}versions.ics`)).status, 204)
  t.equal(await ask('20260202T000000Z', '20260203T000000Z'), undefined, 'gone once deleted')
})
