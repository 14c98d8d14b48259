import t from 'tap'
import { createHash } from 'node:crypto'
import { request } from 'node:http'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import ICAL from 'ical.js'
import { startServer, type TestServer } from '../testing/harness.ts'
import { runAdminCommand } from '../ops/admin-commands.ts'
import { lineProblems, parseWithIcalJs, parseWithPython, type Parsed } from './test-parsers.ts'

// iCal feeds over HTTP, as Outlook, Google Calendar and Apple Calendar fetch them.

process.env.KALENDS_FEED_ACCESS_FLUSH_MS = '20'
// this suite polls far more than a subscriber would; the limits have their own test below
process.env.KALENDS_FEED_RATE_PER_TOKEN = '10000'
const s = await startServer({ users: ['alice', 'bob', 'carol'] })
delete process.env.KALENDS_FEED_RATE_PER_TOKEN
t.teardown(() => s.close())
const [alice, bob, carol] = [s.as('alice'), s.as('bob'), s.as('carol')]

type Created = { id: number; url: string; webcal: string; secret: string }
const json = async <T> (res: Promise<{ status: number; body_: unknown }>, status = 200): Promise<T> => {
  const r = await res
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body_)}`)
  return r.body_ as T
}
/** GET (or HEAD) of a feed URL, as a subscribing client would, with the raw bytes. */
async function fetchFeed (url: string, headers: Record<string, string> = {}, method = 'GET') {
  // node:http rather than fetch, which would undo the content coding
  return new Promise<{ status: number; headers: Headers; raw: Buffer; text: string }>((resolve, reject) => {
    const req = request(url, { method, headers: { 'user-agent': 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)', ...headers } }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        const raw = Buffer.concat(chunks)
        const h = new Headers()
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v)
        resolve({ status: res.statusCode!, headers: h, raw, text: raw.toString('utf8') })
      })
    })
    req.on('error', reject)
    req.end()
  })
}
const both = (text: string): [string, Parsed][] => [['ical.js', parseWithIcalJs(text)], ['python icalendar', parseWithPython(text)]]

const sales = await json<{ id: number }>(alice('/api/v1/calendars', { method: 'POST', json: { name: 'Sales', color: '#00AA00', timezone: 'Europe/Warsaw' } }), 201)
const weekly = await json<{ id: number; uid: string }>(alice('/api/v1/appointments', {
  method: 'POST',
  json: {
    calendarId: sales.id, title: 'Weekly sales review', description: 'Pipeline numbers', location: 'Room 4',
    start: '2026-03-16T09:00:00+01:00', end: '2026-03-16T10:00:00+01:00', timezone: 'Europe/Warsaw',
    rrule: 'FREQ=WEEKLY;COUNT=4', exdates: ['2026-03-23T09:00:00+01:00']
  }
}), 201)
const ny = await json<{ id: number }>(alice('/api/v1/appointments', {
  method: 'POST',
  json: { calendarId: sales.id, title: 'Call with New York', start: '2026-03-05T09:00:00-05:00', end: '2026-03-05T09:30:00-05:00', timezone: 'America/New_York', rrule: 'FREQ=WEEKLY;COUNT=2' }
}), 201)
await json(alice('/api/v1/appointments', { method: 'POST', json: { calendarId: sales.id, title: 'Company holiday', allDay: true, start: '2026-04-01', end: '2026-04-02' } }), 201)
await json(alice('/api/v1/appointments', { method: 'POST', json: { calendarId: sales.id, title: 'Old kick-off', start: '2025-01-10T09:00:00Z', end: '2025-01-10T10:00:00Z' } }), 201)

// An event as a CalDAV client writes it: a series with one overridden instance, an alarm and client X- properties.
const clientUid = 'client-series-1@example.com'
const clientBody = (title: string) => [
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Apple Inc.//iPhone OS 18.0//EN',
  'BEGIN:VEVENT', `UID:${clientUid}`, 'DTSTAMP:20260301T100000Z', 'DTSTART;TZID=Europe/Warsaw:20260317T150000', 'DTEND;TZID=Europe/Warsaw:20260317T160000',
  'RRULE:FREQ=WEEKLY;COUNT=3', `SUMMARY:${title}`, 'X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC',
  'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Reminder', 'TRIGGER:-PT10M', 'END:VALARM', 'END:VEVENT',
  'BEGIN:VEVENT', `UID:${clientUid}`, 'DTSTAMP:20260301T100000Z', 'RECURRENCE-ID;TZID=Europe/Warsaw:20260331T150000',
  'DTSTART;TZID=Europe/Warsaw:20260331T170000', 'DTEND;TZID=Europe/Warsaw:20260331T180000', `SUMMARY:${title} (moved)`, 'END:VEVENT',
  'END:VCALENDAR', ''
].join('\r\n')

/** The client's write: a CalDAV PUT, as an iPhone sends it. */
async function clientWrite (title: string): Promise<void> {
  const res = await fetch(`${s.url}/dav/calendars/alice/sales/${clientUid}.ics`, {
    method: 'PUT',
    headers: { authorization: `Basic ${Buffer.from(`alice:${s.password}`).toString('base64')}`, 'content-type': 'text/calendar; charset=utf-8' },
    body: clientBody(title)
  })
  if (res.status >= 300) throw new Error(`CalDAV PUT: ${res.status} ${await res.text()}`)
}
await clientWrite('Client series')

const feed = await json<Created>(alice('/api/v1/feeds', { method: 'POST', json: { calendarId: sales.id } }), 201)

t.test('a feed link: https:// and webcal://, 256 random bits', async t => {
  t.match(feed.url, new RegExp(`^${s.k.config.publicUrl}/feeds/[A-Za-z0-9_-]{43}\\.ics$`))
  t.equal(feed.webcal, feed.url.replace(/^https?:/, 'webcal:'))
  t.equal(feed.secret.length, 43, '32 bytes in base64url')
  const listed = await json<{ id: number; secretHint: string }[]>(alice('/api/v1/feeds'))
  t.ok(listed.some(f => f.id === feed.id), 'listed')
  t.notOk(JSON.stringify(listed).includes(feed.secret), 'the secret is shown once, never listed')
  const stored = await s.k.db.withTables<{ feeds: { token_sha256: string } }>().selectFrom('feeds').select('token_sha256').execute()
  t.notOk(stored.some(r => r.token_sha256.includes(feed.secret)), 'stored hashed')
})

const local = (url: string) => url.replace(s.k.config.publicUrl, s.url)

t.test('GET: text/calendar, validators, valid RFC 5545 read alike by ical.js and python icalendar', async t => {
  const res = await fetchFeed(local(feed.url))
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/calendar; charset=utf-8')
  t.match(res.headers.get('etag'), /^"[A-Za-z0-9_-]+"$/, 'a strong ETag')
  t.ok(res.headers.get('last-modified'))
  t.equal(Number(res.headers.get('content-length')), res.raw.length)
  t.same(lineProblems(res.text), [], 'CRLF and 75-octet folding')
  for (const [who, p] of both(res.text)) {
    t.same(p.errors, [], `${who}: no errors`)
    t.equal(p.calendar['X-WR-CALNAME'], 'Sales', `${who}: X-WR-CALNAME`)
    t.equal(p.calendar['X-WR-TIMEZONE'], 'Europe/Warsaw', `${who}: X-WR-TIMEZONE`)
    t.ok(p.calendar['REFRESH-INTERVAL'] !== undefined && p.calendar['X-PUBLISHED-TTL'] === 'PT1H', `${who}: REFRESH-INTERVAL and X-PUBLISHED-TTL`)
    for (const tz of ['Europe/Warsaw', 'America/New_York']) t.ok(p.timezones.includes(tz), `${who}: VTIMEZONE ${tz}`)
    t.ok(p.items.every(i => i.props.includes('DTSTAMP') && i.props.includes('UID')), `${who}: DTSTAMP and UID everywhere`)
    t.notOk(p.items.some(i => i.type === 'VTODO'), `${who}: no tasks unless asked`)
    const review = p.items.find(i => i.summary === 'Weekly sales review')!
    t.same(review.dtstart, { utc: '2026-03-16T08:00:00Z', tzid: 'Europe/Warsaw' }, `${who}: 09:00 CET`)
    t.match(review.rrule, /FREQ=WEEKLY/)
    t.same(review.exdates.map(e => e !== null && 'utc' in e ? e.utc : e), ['2026-03-23T08:00:00Z'], `${who}: EXDATE`)
    const call = p.items.find(i => i.summary === 'Call with New York')!
    t.same(call.dtstart, { utc: '2026-03-05T14:00:00Z', tzid: 'America/New_York' }, `${who}: 09:00 EST`)
    const holiday = p.items.find(i => i.summary === 'Company holiday')!
    t.same([holiday.dtstart, holiday.dtend], [{ date: '20260401' }, { date: '20260402' }], `${who}: all-day as DATE`)
    const series = p.items.filter(i => i.uid === clientUid)
    t.equal(series.length, 2, `${who}: the client's series and its overridden instance`)
    const moved = series.find(i => i.recurrenceId !== null)!
    t.same(moved.recurrenceId, { utc: '2026-03-31T13:00:00Z', tzid: 'Europe/Warsaw' }, `${who}: RECURRENCE-ID 15:00 CEST, after the change`)
    t.same(moved.dtstart, { utc: '2026-03-31T15:00:00Z', tzid: 'Europe/Warsaw' }, `${who}: moved to 17:00 CEST`)
    const master = series.find(i => i.recurrenceId === null)!
    t.ok(master.props.includes('X-APPLE-TRAVEL-ADVISORY-BEHAVIOR') && master.subcomponents.includes('VALARM'), `${who}: the client's own properties and alarm survive`)
  }
})

t.test('instances across the DST changes, expanded by ical.js', async t => {
  const text = (await fetchFeed(local(feed.url))).text
  const root = new ICAL.Component(ICAL.parse(text))
  for (const vtz of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(new ICAL.Timezone(vtz))
  const starts = (title: string) => {
    const comps = root.getAllSubcomponents('vevent').filter(c => String(c.getFirstPropertyValue('summary')).startsWith(title))
    const master = new ICAL.Event(comps.find(c => !c.hasProperty('recurrence-id'))!, { exceptions: comps.filter(c => c.hasProperty('recurrence-id')) })
    const it = master.iterator()
    const out: string[] = []
    for (let next = it.next(); next != null && out.length < 10; next = it.next()) {
      const d = master.getOccurrenceDetails(next)
      out.push(`${d.startDate.toJSDate().toISOString()}${d.item.summary !== master.summary ? ' moved' : ''}`)
    }
    return out
  }
  t.same(starts('Weekly sales review'), ['2026-03-16T08:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z'], 'Warsaw: 09:00 CET, then 09:00 CEST; the EXDATE is gone')
  t.same(starts('Call with New York'), ['2026-03-05T14:00:00.000Z', '2026-03-12T13:00:00.000Z'], 'New York: 09:00 EST, then 09:00 EDT')
  t.same(starts('Client series'), ['2026-03-17T14:00:00.000Z', '2026-03-24T14:00:00.000Z', '2026-03-31T15:00:00.000Z moved'], 'the overridden instance replaces the third')
})

t.test('conditional requests, HEAD and content codings', async t => {
  const first = await fetchFeed(local(feed.url))
  const etag = first.headers.get('etag')!
  const lastModified = first.headers.get('last-modified')!
  const again = await fetchFeed(local(feed.url), { 'if-none-match': etag })
  t.equal(again.status, 304, 'If-None-Match: 304')
  t.equal(again.raw.length, 0)
  t.equal(again.headers.get('etag'), etag)
  t.equal((await fetchFeed(local(feed.url), { 'if-modified-since': lastModified })).status, 304, 'If-Modified-Since: 304')
  t.equal((await fetchFeed(local(feed.url), { 'if-modified-since': new Date(Date.parse(lastModified) - 1000).toUTCString() })).status, 200, 'modified since an earlier time: 200')
  t.equal((await fetchFeed(local(feed.url), { 'if-none-match': '"other"', 'if-modified-since': lastModified })).status, 200, 'If-None-Match wins over If-Modified-Since')
  const head = await fetchFeed(local(feed.url), {}, 'HEAD')
  t.equal(head.status, 200)
  t.equal(head.raw.length, 0, 'HEAD has no body')
  t.equal(head.headers.get('content-length'), String(first.raw.length), 'but the length of the GET')
  t.equal(head.headers.get('etag'), etag)
  for (const [coding, decode] of [['br', brotliDecompressSync], ['gzip', gunzipSync]] as const) {
    const res = await fetchFeed(local(feed.url), { 'accept-encoding': `${coding}, identity;q=0.5` })
    t.equal(res.headers.get('content-encoding'), coding, coding)
    t.ok(res.raw.length < first.raw.length / 2, `${coding}: smaller`)
    t.same(decode(res.raw), first.raw, `${coding}: the same bytes`)
    t.not(res.headers.get('etag'), etag, `${coding}: its own ETag`)
    t.match(res.headers.get('vary'), /accept-encoding/i)
    t.equal((await fetchFeed(local(feed.url), { 'accept-encoding': coding, 'if-none-match': res.headers.get('etag')! })).status, 304, `${coding}: 304 on its ETag`)
  }
})

t.test('a change through the API or a client shows in the next fetch with a new ETag', async t => {
  const before = await fetchFeed(local(feed.url))
  const etag = before.headers.get('etag')!
  t.equal((await fetchFeed(local(feed.url), { 'if-none-match': etag })).status, 304, 'unchanged: 304')
  await json(alice(`/api/v1/appointments/${ny.id}`, { method: 'PATCH', json: { title: 'Call with New York office' } }))
  const after = await fetchFeed(local(feed.url), { 'if-none-match': etag })
  t.equal(after.status, 200, 'changed: 200 despite the old ETag')
  t.not(after.headers.get('etag'), etag, 'a new ETag')
  t.match(after.text, /SUMMARY:Call with New York office/)
  t.equal((await fetchFeed(local(feed.url), { 'if-none-match': after.headers.get('etag')! })).status, 304, 'and 304 again on the new one')

  await clientWrite('Client series renamed')
  const third = await fetchFeed(local(feed.url), { 'if-none-match': after.headers.get('etag')! })
  t.equal(third.status, 200, 'a CalDAV PUT: 200')
  t.not(third.headers.get('etag'), after.headers.get('etag'), 'a new ETag')
  t.match(third.text, /SUMMARY:Client series renamed\r\n/)
  t.match(third.text, /X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC/, 'its properties kept')
  await json(alice(`/api/v1/appointments/${weekly.id}`, { method: 'DELETE' }), 204)
  const gone = await fetchFeed(local(feed.url))
  t.notOk(gone.text.includes('Weekly sales review'), 'a deleted event leaves the feed')
})

t.test('repeated polls cost no rendering and almost no queries', async t => {
  const cache = s.app.feedCache!
  const first = await fetchFeed(local(feed.url))
  const etag = first.headers.get('etag')!
  const before = { renders: cache.renders, heads: cache.headQueries, resolutions: cache.resolutions }
  for (let i = 0; i < 25; i++) {
    t.equal((await fetchFeed(local(feed.url), { 'if-none-match': etag })).status, 304)
    t.equal((await fetchFeed(local(feed.url))).raw.length, first.raw.length)
  }
  t.equal(cache.renders, before.renders, '50 polls: not rendered again')
  t.equal(cache.resolutions, before.resolutions, 'nor re-resolved: the journal head did not move')
  t.ok(cache.headQueries - before.heads <= 5, `the journal head read ${cache.headQueries - before.heads} times for 50 polls`)
  await json(alice(`/api/v1/appointments/${ny.id}`, { method: 'PATCH', json: { location: 'Zoom' } }))
  await fetchFeed(local(feed.url))
  t.equal(cache.renders, before.renders + 1, 'a change: rendered once more')
  await json(alice('/api/v1/calendars', { method: 'POST', json: { name: 'Unrelated' } }), 201)
  const unrelated = await fetchFeed(local(feed.url))
  t.equal(cache.renders, before.renders + 1, 'a change elsewhere: re-resolved but not rendered again')
  t.equal(unrelated.status, 200)
})

t.test('options: ?tasks=1, ?from=&to=, ?busy=1', async t => {
  await json(alice('/api/v1/tasks', { method: 'POST', json: { title: 'Send the offer', calendarId: undefined, due: '2026-04-05T15:00:00Z' } }), 201)
  // tasks live in task lists: a feed of the task list shows them only with ?tasks=1
  const lists = await json<{ id: number; kind: string }[]>(alice('/api/v1/calendars'))
  const taskList = lists.find(c => c.kind === 'tasks')!
  const todoFeed = await json<Created>(alice('/api/v1/feeds', { method: 'POST', json: { calendarId: taskList.id } }), 201)
  t.notOk((await fetchFeed(local(todoFeed.url))).text.includes('BEGIN:VTODO'), 'no VTODO by default')
  const withTasks = await fetchFeed(`${local(todoFeed.url)}?tasks=1`)
  for (const [who, p] of both(withTasks.text)) t.ok(p.items.some(i => i.type === 'VTODO' && i.summary === 'Send the offer'), `${who}: VTODO with ?tasks=1`)

  const windowed = await fetchFeed(`${local(feed.url)}?from=2026-01-01&to=2026-12-31`)
  t.notOk(windowed.text.includes('Old kick-off'), 'an event before the window is left out')
  t.match(windowed.text, /Company holiday/, 'one inside stays')
  t.match((await fetchFeed(local(feed.url))).text, /Old kick-off/, 'no window: everything')
  t.match((await fetchFeed(`${local(feed.url)}?from=2026-04-01T00:00:00Z`)).text, /Company holiday/, 'an open-ended window')
  t.equal((await fetchFeed(`${local(feed.url)}?from=yesterday`)).status, 400, 'a bad date: 400')

  const busy = await fetchFeed(`${local(feed.url)}?busy=1`)
  t.notOk(busy.text.includes('Company holiday'), '?busy=1: titles gone')
  t.match(busy.text, /SUMMARY:Busy/)
})

const FORBIDDEN = ['DESCRIPTION', 'LOCATION', 'ATTENDEE', 'ORGANIZER', 'URL', 'CLASS', 'CATEGORIES', 'COMMENT', 'CONTACT', 'ATTACH', 'RESOURCES', 'GEO']

t.test('a busy-only feed leaks no detail', async t => {
  await json(alice('/api/v1/appointments', { method: 'POST', json: { calendarId: sales.id, title: 'Secret merger talks', description: 'Acme takeover', location: 'Hotel Bristol', start: '2026-04-08T12:00:00Z', end: '2026-04-08T13:00:00Z', participantIds: [s.users.bob!.id] } }), 201)
  const busyFeed = await json<Created & { busyOnly: boolean }>(alice('/api/v1/feeds', { method: 'POST', json: { calendarId: sales.id, busyOnly: true } }), 201)
  t.equal(busyFeed.busyOnly, true)
  const res = await fetchFeed(local(busyFeed.url))
  t.equal(res.status, 200)
  for (const [who, p] of both(res.text)) {
    t.ok(p.items.length >= 5, `${who}: every event is there`)
    t.match(p.calendar['X-WR-CALNAME'], /\(busy\)$/)
    for (const item of p.items) {
      t.equal(item.summary, 'Busy', `${who}: title "Busy"`)
      for (const prop of FORBIDDEN) t.notOk(item.props.includes(prop), `${who}: no ${prop}`)
      t.notOk(item.props.some(prop => prop.startsWith('X-')), `${who}: no X- properties`)
      t.same(item.subcomponents, [], `${who}: no VALARM`)
    }
    t.ok(p.items.some(i => i.dtstart !== null && 'utc' in i.dtstart && i.dtstart.utc === '2026-04-08T12:00:00Z'), `${who}: the times are there`)
  }
  for (const word of ['Secret merger', 'Acme', 'Bristol', 'Company holiday', 'Reminder', clientUid, 'X-KALENDS', 'X-APPLE-TRAVEL', 'mailto:']) t.notOk(res.text.includes(word), `"${word}" appears nowhere`)
  t.equal((await fetchFeed(`${local(busyFeed.url)}?busy=0`)).text, res.text, 'a busy-only link cannot be turned into a full one')
})

t.test('a busy-only feed carries nothing a client wrote: zones, TZIDs, parameters, values', async t => {
  // a client's own zone (a name no IANA table knows) and an Outlook zone, each with its own VTIMEZONE,
  // and every place a client can write text into: all planted, none may reach the busy feed
  const uid = 'PLANT-UID-1@example.com'
  const zone = 'PLANT-TZID Leak Zone'
  const body = [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Plant//EN',
    'BEGIN:VTIMEZONE', `TZID:${zone}`, 'X-PLANT-VTZ:PLANT-VTZ-X', 'COMMENT:PLANT-VTZ-COMMENT', 'TZURL:https://plant.example/tz',
    'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0300', 'TZOFFSETTO:+0300', 'TZNAME:PLANT-TZNAME', 'COMMENT:PLANT-STD-COMMENT', 'X-PLANT-STD:PLANT-STD-X', 'END:STANDARD',
    'END:VTIMEZONE',
    'BEGIN:VTIMEZONE', 'TZID:W. Europe Standard Time', 'X-PLANT-OUTLOOK:PLANT-OUTLOOK-X',
    'BEGIN:STANDARD', 'DTSTART:16010101T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'TZNAME:PLANT-OUTLOOK-TZNAME', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:16010101T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3', 'END:DAYLIGHT',
    'END:VTIMEZONE',
    'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP;X-PLANT=PLANT-DTSTAMP-PARAM:20260301T100000Z',
    `DTSTART;X-LEAK-PARAM=PLANT-DTSTART-PARAM;TZID=${zone}:20260420T100000`, `DTEND;TZID=${zone};X-LEAK-PARAM="PLANT-DTEND-PARAM":20260420T110000`,
    'RRULE:FREQ=WEEKLY;COUNT=3', `EXDATE;TZID=${zone};X-PLANT=PLANT-EXDATE-PARAM:20260427T100000`,
    'STATUS;X-PLANT=PLANT-STATUS-PARAM:CONFIRMED', 'TRANSP;X-PLANT=PLANT-TRANSP-PARAM:OPAQUE', 'SEQUENCE;X-PLANT=PLANT-SEQ-PARAM:2',
    'SUMMARY:PLANT-SUMMARY', 'LOCATION;ALTREP="https://plant.example/loc":PLANT-LOCATION', 'DESCRIPTION:PLANT-DESCRIPTION', 'COMMENT:PLANT-COMMENT',
    'ATTENDEE;CN=PLANT-ATTENDEE-CN:mailto:plant-attendee@example.com', 'ORGANIZER;CN=PLANT-ORGANIZER-CN:mailto:plant-organizer@example.com',
    'CATEGORIES:PLANT-CATEGORY', 'X-PLANT-PROP;X-P=PLANT-XPROP-PARAM:PLANT-XPROP', 'URL:https://plant.example/url',
    'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:PLANT-ALARM', 'TRIGGER:-PT10M', 'X-PLANT-ALARM:PLANT-ALARM-X', 'END:VALARM',
    'END:VEVENT',
    'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260301T100000Z', `RECURRENCE-ID;TZID=${zone};X-PLANT=PLANT-RID-PARAM:20260504T100000`,
    'DTSTART;TZID=W. Europe Standard Time;X-PLANT=PLANT-OUTLOOK-PARAM:20260504T150000', 'DURATION:PT1H', 'SUMMARY:PLANT-MOVED', 'END:VEVENT',
    'END:VCALENDAR', ''
  ].join('\r\n')
  const put = await fetch(`${s.url}/dav/calendars/alice/sales/plant-1.ics`, {
    method: 'PUT',
    headers: { authorization: `Basic ${Buffer.from(`alice:${s.password}`).toString('base64')}`, 'content-type': 'text/calendar; charset=utf-8' },
    body
  })
  t.equal(put.status, 201, 'the client writes it')
  const busyFeed = await json<Created>(alice('/api/v1/feeds', { method: 'POST', json: { calendarId: sales.id, busyOnly: true } }), 201)
  const res = await fetchFeed(local(busyFeed.url))
  t.equal(res.status, 200)
  t.same(lineProblems(res.text), [])

  const unfolded = res.text.replace(/\r\n[ \t]/g, '')
  t.same(unfolded.match(/PLANT[\w-]*|plant[\w.@-]*/gi) ?? [], [], 'no planted string, in any letter case, reaches the busy feed')
  t.notOk(unfolded.includes('Leak Zone'), 'nor the client\'s TZID')
  t.notOk(unfolded.includes('W. Europe Standard Time'), 'nor an Outlook zone name: it is named by its IANA zone')
  t.notOk(/^[A-Z-]+;(?:[^:]*;)?X-/m.test(unfolded), 'no X- parameter on any line')
  const sha = createHash('sha256').update(uid).digest('hex')
  t.notOk(unfolded.includes(sha.slice(0, 32)), 'the busy UID is not the SHA-256 of the original (anyone could test a guessed UID against it)')

  for (const [who, p] of both(res.text)) {
    t.same(p.errors, [], `${who}: no errors`)
    const series = p.items.filter(i => i.dtstart !== null && 'utc' in i.dtstart && i.dtstart.utc.startsWith('2026-04-20'))
    t.equal(series.length, 1, `${who}: the series is there`)
    const master = series[0]!
    t.same(master.dtstart, { utc: '2026-04-20T07:00:00Z', tzid: null }, `${who}: 10:00 in the client's +03:00 zone, in UTC`)
    t.same(master.dtend, { utc: '2026-04-20T08:00:00Z', tzid: null }, `${who}: its end too`)
    t.same(master.exdates.map(e => e !== null && 'utc' in e ? e.utc : e), ['2026-04-27T07:00:00Z'], `${who}: EXDATE in UTC`)
    t.match(master.rrule, /FREQ=WEEKLY;COUNT=3/, `${who}: the recurrence stays`)
    t.same(master.props, ['DTEND', 'DTSTAMP', 'DTSTART', 'EXDATE', 'RRULE', 'SEQUENCE', 'STATUS', 'SUMMARY', 'TRANSP', 'UID'], `${who}: times, recurrence and status, nothing else`)
    const moved = p.items.find(i => i.uid === master.uid && i.recurrenceId !== null)!
    t.same(moved.recurrenceId, { utc: '2026-05-04T07:00:00Z', tzid: null }, `${who}: the override names its instance in UTC`)
    t.same(moved.dtstart, { utc: '2026-05-04T13:00:00Z', tzid: 'Europe/Berlin' }, `${who}: the Outlook zone becomes its IANA zone, 15:00 CEST`)
    t.ok(p.timezones.includes('Europe/Berlin'), `${who}: with the IANA VTIMEZONE`)
  }
})

t.test('allow export: off for calendars others share, unless their owner allows it', async t => {
  const bobs = await json<{ id: number }>(bob('/api/v1/calendars', { method: 'POST', json: { name: 'Bob\'s clients' } }), 201)
  await bob(`/api/v1/calendars/${bobs.id}/shares/${s.users.alice!.id}`, { method: 'PUT', json: { access: 'read' } })
  await json(bob('/api/v1/appointments', { method: 'POST', json: { calendarId: bobs.id, title: 'Bob and the client', start: '2026-04-09T10:00:00Z', end: '2026-04-09T11:00:00Z' } }), 201)
  await json(bob('/api/v1/appointments', { method: 'POST', json: { calendarId: bobs.id, title: 'Dentist', location: 'Clinic', private: true, start: '2026-04-09T14:00:00Z', end: '2026-04-09T15:00:00Z' } }), 201)

  const settings = await json<{ calendarId: number; exportable: boolean; allowExport: boolean; ownerAllowsExport: boolean }[]>(alice('/api/v1/feeds/calendars'))
  t.match(settings.find(c => c.calendarId === sales.id), { exportable: true, allowExport: true }, 'her own calendar: on')
  t.match(settings.find(c => c.calendarId === bobs.id), { exportable: false, allowExport: false, ownerAllowsExport: false }, 'Bob\'s, shared with her: off')
  const refused = await alice('/api/v1/feeds', { method: 'POST', json: { calendarId: bobs.id } })
  t.equal(refused.status, 403)
  t.equal((refused.body_ as { rule: string }).rule, 'export-not-allowed')
  t.equal((await alice(`/api/v1/feeds/calendars/${bobs.id}`, { method: 'PATCH', json: { allowExport: true } })).status, 403, 'she cannot switch it on herself')
  t.equal((await alice(`/api/v1/feeds/calendars/${bobs.id}`, { method: 'PATCH', json: { shareesMayExport: true } })).status, 403, 'nor decide for Bob')
  t.equal((await carol('/api/v1/feeds', { method: 'POST', json: { calendarId: bobs.id } })).status, 404, 'not shared with Carol: not found')

  await json(bob(`/api/v1/feeds/calendars/${bobs.id}`, { method: 'PATCH', json: { shareesMayExport: true } }))
  const hers = await json<Created>(alice('/api/v1/feeds', { method: 'POST', json: { calendarId: bobs.id } }), 201)
  const seen = await fetchFeed(local(hers.url))
  t.equal(seen.status, 200, 'once Bob allows it')
  t.match(seen.text, /Bob and the client/)
  t.notOk(seen.text.includes('Dentist') || seen.text.includes('Clinic'), 'Bob\'s private event: busy-only to Alice')
  for (const [who, p] of both(seen.text)) {
    const priv = p.items.find(i => i.dtstart !== null && 'utc' in i.dtstart && i.dtstart.utc === '2026-04-09T14:00:00Z')!
    t.equal(priv.summary, 'Busy', `${who}: private event shows as Busy`)
    for (const prop of FORBIDDEN) t.notOk(priv.props.includes(prop), `${who}: private event has no ${prop}`)
  }
  const bobsOwn = await json<Created>(bob('/api/v1/feeds', { method: 'POST', json: { calendarId: bobs.id } }), 201)
  t.match((await fetchFeed(local(bobsOwn.url))).text, /SUMMARY:Dentist/, 'the owner sees his private event in full')

  await json(alice(`/api/v1/feeds/calendars/${bobs.id}`, { method: 'PATCH', json: { allowExport: false } }))
  t.equal((await fetchFeed(local(hers.url))).status, 404, 'she switches export off: her link stops')
  await json(alice(`/api/v1/feeds/calendars/${bobs.id}`, { method: 'PATCH', json: { allowExport: null } }))
  t.equal((await fetchFeed(local(hers.url))).status, 200, 'back to the default (Bob allows): it works again')
  await json(bob(`/api/v1/feeds/calendars/${bobs.id}`, { method: 'PATCH', json: { shareesMayExport: false } }))
  t.equal((await fetchFeed(local(hers.url))).status, 404, 'Bob withdraws his permission: her link stops at once')
  await json(bob(`/api/v1/feeds/calendars/${bobs.id}`, { method: 'PATCH', json: { shareesMayExport: true } }))
  await bob(`/api/v1/calendars/${bobs.id}/shares/${s.users.alice!.id}`, { method: 'DELETE' })
  t.equal((await fetchFeed(local(hers.url))).status, 404, 'unshared: her link stops')
  await bob(`/api/v1/calendars/${bobs.id}/shares/${s.users.alice!.id}`, { method: 'PUT', json: { access: 'read' } })
})

t.test('one feed of all favourite calendars, each event marked with its calendar', async t => {
  const cals = await json<{ id: number; name: string }[]>(alice('/api/v1/calendars'))
  const bobs = cals.find(c => c.name === 'Bob\'s clients')!
  for (const id of [sales.id, bobs.id]) await json(alice(`/api/v1/feeds/calendars/${id}`, { method: 'PATCH', json: { favourite: true } }))
  const fav = await json<Created & { scope: string }>(alice('/api/v1/feeds', { method: 'POST', json: { favourites: true } }), 201)
  t.equal(fav.scope, 'favourites')
  const res = await fetchFeed(local(fav.url))
  t.equal(res.status, 200)
  for (const [who, p] of both(res.text)) {
    t.equal(p.calendar['X-WR-CALNAME'], 'Alice: favourites', `${who}: X-WR-CALNAME`)
    const holiday = p.items.find(i => i.summary?.endsWith('Company holiday'))!
    t.equal(holiday.summary, '[Sales] Company holiday', `${who}: title prefixed with the calendar`)
    t.ok(holiday.categories.includes('Sales'), `${who}: the calendar as a CATEGORIES value`)
    const bobsEvent = p.items.find(i => i.summary?.endsWith('Bob and the client'))!
    t.equal(bobsEvent.summary, '[Bob\'s clients] Bob and the client', `${who}: from Bob's calendar`)
    t.ok(p.items.some(i => i.summary === '[Bob\'s clients] Busy'), `${who}: Bob's private event: busy, still marked`)
  }
  const etag = res.headers.get('etag')!
  await json(alice(`/api/v1/feeds/calendars/${bobs.id}`, { method: 'PATCH', json: { favourite: false } }))
  const fewer = await fetchFeed(local(fav.url), { 'if-none-match': etag })
  t.equal(fewer.status, 200, 'a calendar leaves the favourites: new content')
  t.notOk(fewer.text.includes('Bob and the client'))
  t.match((await fetchFeed(`${local(fav.url)}?prefix=0`)).text, /SUMMARY:Company holiday\r\n/, '?prefix=0: titles as they are')
})

t.test('rotation and revocation: the old link stops at once, with no hint', async t => {
  const unknown = await fetchFeed(`${s.url}/feeds/${'A'.repeat(43)}.ics`)
  t.equal(unknown.status, 404)
  const rotated = await json<Created>(alice(`/api/v1/feeds/${feed.id}/rotate`, { method: 'POST' }))
  t.not(rotated.secret, feed.secret)
  const old = await fetchFeed(local(feed.url))
  t.equal(old.status, 404, 'the old link: 404')
  t.same([old.text, old.headers.get('content-type')], [unknown.text, unknown.headers.get('content-type')], 'exactly like a link that never existed')
  t.equal((await fetchFeed(local(rotated.url))).status, 200, 'the new link works')
  t.equal((await alice(`/api/v1/feeds/${feed.id}`, { method: 'DELETE' })).status, 204)
  const revoked = await fetchFeed(local(rotated.url))
  t.equal(revoked.status, 404, 'revoked: 404')
  t.equal(revoked.text, unknown.text)
  t.equal((await alice(`/api/v1/feeds/${feed.id}/rotate`, { method: 'POST' })).status, 404, 'a revoked feed cannot be rotated back to life')
  t.equal((await bob(`/api/v1/feeds/${feed.id}`, { method: 'DELETE' })).status, 404, 'nobody else\'s feed to revoke')
  t.equal((await fetchFeed(`${s.url}/feeds/not-a-secret.ics`)).text, unknown.text, 'a malformed link too')
})

t.test('a disabled user\'s links stop', async t => {
  const link = await json<Created>(carol('/api/v1/feeds', { method: 'POST', json: { favourites: true } }), 201)
  t.equal((await fetchFeed(local(link.url))).status, 200)
  await json(s.as('admin')(`/api/v1/users/${s.users.carol!.id}`, { method: 'PATCH', json: { disabled: true } }))
  t.equal((await fetchFeed(local(link.url))).status, 404)
  await json(s.as('admin')(`/api/v1/users/${s.users.carol!.id}`, { method: 'PATCH', json: { disabled: false } }))
  t.equal((await fetchFeed(local(link.url))).status, 200, 'and work again when the user is back')
})

t.test('the owner sees who polls', async t => {
  const f = await json<Created>(alice('/api/v1/feeds', { method: 'POST', json: { calendarId: sales.id, name: 'for Outlook' } }), 201)
  await fetchFeed(local(f.url), { 'user-agent': 'Google-Calendar-Importer' })
  await fetchFeed(local(f.url), { 'user-agent': 'Google-Calendar-Importer' })
  await fetchFeed(local(f.url), { 'user-agent': 'iOS/18.0 (22A3354) dataaccessd/1.0' })
  let view: { lastFetchedAt: string | null; lastUserAgent: string | null; fetchCount: number; clients: { userAgent: string; fetches: number }[] } | undefined
  for (let i = 0; i < 50; i++) {
    view = await json(alice(`/api/v1/feeds/${f.id}`))
    if (view!.fetchCount >= 3) break
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  t.ok(view!.lastFetchedAt, 'last fetched')
  t.equal(view!.lastUserAgent, 'iOS/18.0 (22A3354) dataaccessd/1.0', 'by which user agent')
  t.equal(view!.fetchCount, 3)
  t.same(view!.clients.map(c => [c.userAgent, c.fetches]).sort(), [['Google-Calendar-Importer', 2], ['iOS/18.0 (22A3354) dataaccessd/1.0', 1]], 'every client that polls')
})

t.test('the CLI lists, creates, rotates and revokes feeds', async t => {
  // writes that do not come through this server's HTTP routes show within KALENDS_FEED_HEAD_TTL_MS (500 ms)
  const settle = () => new Promise(resolve => setTimeout(resolve, 600))
  const made = await runAdminCommand(s.k, { cmd: 'feed-create', login: 'carol', favourites: true, busyOnly: true }) as { id: number; url: string; webcal: string }
  t.match(made.webcal, /^webcal:\/\//)
  t.equal((await fetchFeed(local(made.url))).status, 200)
  const listed = await runAdminCommand(s.k, { cmd: 'feed-list', login: 'carol' }) as { id: number }[]
  t.ok(listed.some(f => f.id === made.id))
  const rotated = await runAdminCommand(s.k, { cmd: 'feed-rotate', id: made.id }) as { url: string }
  await settle()
  t.equal((await fetchFeed(local(made.url))).status, 404)
  t.equal((await fetchFeed(local(rotated.url))).status, 200)
  await runAdminCommand(s.k, { cmd: 'feed-revoke', id: made.id })
  await settle()
  t.equal((await fetchFeed(local(rotated.url))).status, 404)
  const cals = await runAdminCommand(s.k, { cmd: 'feed-calendars', login: 'carol' }) as { calendarId: number; favourite: boolean }[]
  const set = await runAdminCommand(s.k, { cmd: 'feed-calendar', login: 'carol', calendarId: cals[0]!.calendarId, favourite: true }) as { favourite: boolean }
  t.equal(set.favourite, true)
})

t.test('feed writes are journaled', async t => {
  const changes = await json<{ entity: string; op: string; origin: string }[]>(s.as('admin')('/api/v1/changes?since=0&limit=1000'))
  for (const op of ['create', 'update', 'delete']) t.ok(changes.some(c => c.entity === 'feed' && c.op === op), `feed ${op}`)
  t.ok(changes.some(c => c.entity === 'calendar_pref'), 'favourite and export switches')
  t.ok(changes.some(c => c.entity === 'feed' && c.origin === 'cli'), 'with their origin')
})

t.test('rate limits per secret and per address: 429 with Retry-After', async t => {
  process.env.KALENDS_FEED_RATE_PER_TOKEN = '3'
  process.env.KALENDS_FEED_RATE_PER_ADDRESS = '5'
  let limited: TestServer
  try { limited = await startServer({ users: ['dave'] }) } finally {
    delete process.env.KALENDS_FEED_RATE_PER_TOKEN
    delete process.env.KALENDS_FEED_RATE_PER_ADDRESS
  }
  t.teardown(() => limited.close())
  const dave = limited.as('dave')
  const cal = (await json<{ id: number; kind: string }[]>(dave('/api/v1/calendars'))).find(c => c.kind === 'personal')!
  const links = [await json<Created>(dave('/api/v1/feeds', { method: 'POST', json: { calendarId: cal.id } }), 201), await json<Created>(dave('/api/v1/feeds', { method: 'POST', json: { calendarId: cal.id } }), 201)]
  const at = (c: Created) => c.url.replace(limited.k.config.publicUrl, limited.url)
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await fetchFeed(at(links[0]!))).status)
  t.same(statuses, [200, 200, 200, 429], 'per secret: the fourth within the minute is refused')
  const refused = await fetchFeed(at(links[0]!))
  t.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After')
  t.equal((await fetchFeed(at(links[1]!))).status, 429, 'per address: the sixth request from 127.0.0.1 is refused, whatever the secret')
})
