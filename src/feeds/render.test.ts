import t from 'tap'
import type { ResolvedFeed, FeedCalendar } from '../domain/feeds.ts'
import type { User } from '../db/schema.ts'
import type { Feed } from './tables.ts'
import { renderFeed, type FeedOptions, type ObjectRow } from './render.ts'
import { lineProblems, parseWithIcalJs, parseWithPython } from './test-parsers.ts'

// The renderer on hand-written stored bodies: what survives, what a busy-only
// or private rendering takes out, and that two parsers read the result.

const CRLF = (lines: string[]) => lines.join('\r\n') + '\r\n'
const wrap = (inner: string[], zones: string[] = []) => CRLF(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//EN', ...zones, ...inner, 'END:VCALENDAR'])

const weekly = wrap([
  'BEGIN:VEVENT', 'UID:weekly-1@test', 'DTSTAMP:20260301T000000Z', 'DTSTART;TZID=Europe/Warsaw:20260316T090000', 'DTEND;TZID=Europe/Warsaw:20260316T100000',
  'RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE;TZID=Europe/Warsaw:20260323T090000', 'SUMMARY:Weekly sales review', 'DESCRIPTION:Pipeline numbers',
  'LOCATION:Room 4', 'ORGANIZER;CN=Alice:mailto:alice@example.com', 'ATTENDEE;CN=Bob:mailto:bob@example.com', 'URL:https://crm.example.com/x',
  'X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC', 'CLASS:PUBLIC',
  'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Reminder', 'TRIGGER:-PT15M', 'END:VALARM', 'END:VEVENT',
  'BEGIN:VEVENT', 'UID:weekly-1@test', 'DTSTAMP:20260301T000000Z', 'RECURRENCE-ID;TZID=Europe/Warsaw:20260330T090000',
  'DTSTART;TZID=Europe/Warsaw:20260330T110000', 'DTEND;TZID=Europe/Warsaw:20260330T120000', 'SUMMARY:Weekly sales review (moved)', 'END:VEVENT'
])
const newYork = wrap([
  'BEGIN:VEVENT', 'UID:ny-1@test', 'DTSTAMP:20260301T000000Z', 'DTSTART;TZID=America/New_York:20260305T090000', 'DTEND;TZID=America/New_York:20260305T093000',
  'RRULE:FREQ=WEEKLY;COUNT=2', `SUMMARY:Call with New York — ${'ż'.repeat(60)}`, 'END:VEVENT'
])
const allDay = wrap(['BEGIN:VEVENT', 'UID:allday-1@test', 'DTSTART;VALUE=DATE:20260401', 'DTEND;VALUE=DATE:20260402', 'SUMMARY:Company holiday', 'END:VEVENT'])
const secret = wrap(['BEGIN:VEVENT', 'UID:private-1@test', 'DTSTAMP:20260301T000000Z', 'DTSTART:20260402T120000Z', 'DTEND:20260402T130000Z', 'SUMMARY:Doctor', 'LOCATION:Clinic', 'CLASS:PRIVATE', 'END:VEVENT'])
const outlook = wrap(['BEGIN:VEVENT', 'UID:outlook-1@test', 'DTSTAMP:20260301T000000Z', 'DTSTART;TZID=W. Europe Standard Time:20260403T100000', 'DTEND;TZID=W. Europe Standard Time:20260403T110000', 'SUMMARY:From Outlook', 'END:VEVENT'], [
  'BEGIN:VTIMEZONE', 'TZID:W. Europe Standard Time', 'BEGIN:STANDARD', 'DTSTART:16010101T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'END:STANDARD',
  'BEGIN:DAYLIGHT', 'DTSTART:16010101T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3', 'END:DAYLIGHT', 'END:VTIMEZONE'
])
const todo = wrap(['BEGIN:VTODO', 'UID:todo-1@test', 'DTSTAMP:20260301T000000Z', 'DUE:20260405T170000Z', 'SUMMARY:Send offer', 'END:VTODO'])

const user = { id: 1, name: 'Alice', timezone: 'Europe/Warsaw' } as User
const cal = (id: number, name: string): FeedCalendar => ({ id, name, description: '', color: '#FF8800', timezone: 'Europe/Warsaw', access: 'owner' } as FeedCalendar)
const row = (calendarId: number, ical: string, extra: Partial<ObjectRow> = {}): ObjectRow => ({
  calendar_id: calendarId, item_kind: 'appointment', uid: /UID:([^\r]+)/.exec(ical)![1]!, component: ical.includes('BEGIN:VTODO') ? 'VTODO' : 'VEVENT',
  ical, updated_at: new Date('2026-03-01T12:00:00Z'), owner_id: 1, private: false, assignee_id: null, created_by: null, ...extra
})
const rows = [row(10, weekly), row(10, newYork), row(10, allDay), row(10, secret, { owner_id: 2, private: true }), row(10, outlook), row(10, todo, { item_kind: 'task', owner_id: null, assignee_id: 1 })]
const feed = (over: Partial<Feed> = {}): Feed => ({ id: 1, scope: 'calendar', calendar_id: 10, busy_only: false, name: '', ...over } as Feed)
const resolved = (over: Partial<Feed> = {}, calendars = [cal(10, 'Sales')]): ResolvedFeed => ({ feed: feed(over), user, calendars })
const opts = (over: Partial<FeedOptions> = {}): FeedOptions => ({ tasks: false, busy: false, prefix: true, from: null, to: null, ...over })
const settings = { refresh: 'PT1H', busyUidKey: Buffer.alloc(32, 7) }

t.test('a full feed keeps what was stored, and is read alike by ical.js and python icalendar', async t => {
  const { body } = renderFeed(resolved(), rows, opts({ tasks: true }), settings)
  t.same(lineProblems(body), [], 'CRLF, folded at 75 octets')
  for (const [who, parsed] of [['ical.js', parseWithIcalJs(body)], ['python icalendar', parseWithPython(body)]] as const) {
    t.same(parsed.errors, [], `${who}: no errors`)
    t.equal(parsed.calendar['X-WR-CALNAME'], 'Sales', `${who}: X-WR-CALNAME`)
    t.equal(parsed.calendar['X-WR-TIMEZONE'], 'Europe/Warsaw', `${who}: X-WR-TIMEZONE`)
    t.match(parsed.calendar['REFRESH-INTERVAL'], /PT1H|1:00:00/, `${who}: REFRESH-INTERVAL`)
    t.equal(parsed.calendar['X-PUBLISHED-TTL'], 'PT1H', `${who}: X-PUBLISHED-TTL`)
    t.same([...parsed.timezones].sort(), ['America/New_York', 'Europe/Warsaw', 'W. Europe Standard Time'], `${who}: a VTIMEZONE for every TZID`)
    const master = parsed.items.find(i => i.uid === 'weekly-1@test' && i.recurrenceId === null)!
    t.same(master.dtstart, { utc: '2026-03-16T08:00:00Z', tzid: 'Europe/Warsaw' }, `${who}: CET start`)
    t.match(master.rrule, /FREQ=WEEKLY;COUNT=4/)
    t.same(master.exdates, [{ utc: '2026-03-23T08:00:00Z', tzid: 'Europe/Warsaw' }], `${who}: EXDATE`)
    t.ok(master.props.includes('X-APPLE-TRAVEL-ADVISORY-BEHAVIOR') && master.props.includes('ATTENDEE') && master.subcomponents.includes('VALARM'), `${who}: client properties and alarms survive`)
    const moved = parsed.items.find(i => i.uid === 'weekly-1@test' && i.recurrenceId !== null)!
    t.same(moved.recurrenceId, { utc: '2026-03-30T07:00:00Z', tzid: 'Europe/Warsaw' }, `${who}: RECURRENCE-ID after the EU change to summer time`)
    t.same(moved.dtstart, { utc: '2026-03-30T09:00:00Z', tzid: 'Europe/Warsaw' }, `${who}: overridden instance at 11:00 CEST`)
    const ny = parsed.items.find(i => i.uid === 'ny-1@test')!
    t.same(ny.dtstart, { utc: '2026-03-05T14:00:00Z', tzid: 'America/New_York' }, `${who}: New York, EST`)
    t.match(ny.summary, /ż{60}$/, `${who}: a folded UTF-8 title comes back whole`)
    const day = parsed.items.find(i => i.uid === 'allday-1@test')!
    t.same([day.dtstart, day.dtend], [{ date: '20260401' }, { date: '20260402' }], `${who}: all-day as DATE`)
    t.ok(day.props.includes('DTSTAMP'), `${who}: DTSTAMP added where the body had none`)
    const outlookItem = parsed.items.find(i => i.uid === 'outlook-1@test')!
    t.same(outlookItem.dtstart, { utc: '2026-04-03T08:00:00Z', tzid: 'W. Europe Standard Time' }, `${who}: a Windows zone name with the client's VTIMEZONE`)
    t.ok(parsed.items.some(i => i.type === 'VTODO'), `${who}: tasks when asked`)
  }
})

t.test('the New York series is read across the US change to summer time', async t => {
  const { body } = renderFeed(resolved(), rows, opts(), settings)
  const ICAL = (await import('ical.js')).default
  const root = new ICAL.Component(ICAL.parse(body))
  for (const vtz of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(new ICAL.Timezone(vtz))
  const ev = new ICAL.Event(root.getAllSubcomponents('vevent').find(c => c.getFirstPropertyValue('uid') === 'ny-1@test')!)
  const it = ev.iterator()
  const starts = [it.next()!, it.next()!].map(d => d.toJSDate().toISOString())
  t.same(starts, ['2026-03-05T14:00:00.000Z', '2026-03-12T13:00:00.000Z'], '09:00 EST, then 09:00 EDT')
})

t.test('without ?tasks=1 the renderer gets no VTODO rows; busy-only leaks nothing', async t => {
  const { body } = renderFeed(resolved({ busy_only: true }), rows, opts(), settings)
  t.same(lineProblems(body), [])
  for (const [who, parsed] of [['ical.js', parseWithIcalJs(body)], ['python icalendar', parseWithPython(body)]] as const) {
    t.equal(parsed.calendar['X-WR-CALNAME'], 'Sales (busy)')
    for (const item of parsed.items) {
      t.equal(item.summary, 'Busy', `${who}: ${item.uid}: title is "Busy"`)
      for (const p of ['DESCRIPTION', 'LOCATION', 'ATTENDEE', 'ORGANIZER', 'URL', 'CLASS', 'CATEGORIES', 'X-APPLE-TRAVEL-ADVISORY-BEHAVIOR']) t.notOk(item.props.includes(p), `${who}: no ${p}`)
      t.notOk(item.props.some(p => p.startsWith('X-')), `${who}: no X- properties`)
      t.same(item.subcomponents, [], `${who}: no VALARM`)
      t.notOk(item.uid.includes('@test'), `${who}: the original UID is not given away`)
    }
    const master = parsed.items.find(i => i.rrule !== null && i.exdates.length > 0)!
    t.same(master.dtstart, { utc: '2026-03-16T08:00:00Z', tzid: 'Europe/Warsaw' }, `${who}: times stay`)
    t.equal(parsed.items.filter(i => i.uid === master.uid).length, 2, `${who}: the override keeps its series' UID`)
  }
  for (const word of ['Weekly', 'Pipeline', 'Room 4', 'alice@', 'bob@', 'crm.example', 'Reminder', 'Doctor', 'Clinic', 'Company holiday', 'PRIVATE']) t.notOk(body.includes(word), `"${word}" is nowhere in the busy feed`)
})

t.test('a private event is busy-only to anyone but its owner', async t => {
  const other = renderFeed(resolved(), rows, opts(), settings).body
  t.notOk(other.includes('Doctor') || other.includes('Clinic'), 'owner 2\'s private event, seen by user 1: no details')
  t.match(other, /SUMMARY:Busy\r\n/)
  const mine = renderFeed(resolved(), [row(10, secret, { owner_id: 1, private: true })], opts(), settings).body
  t.match(mine, /SUMMARY:Doctor/, 'the owner sees it all')
  const byClass = renderFeed(resolved(), [row(10, secret, { owner_id: 2, private: false })], opts(), settings).body
  t.notOk(byClass.includes('Doctor'), 'CLASS:PRIVATE in the body alone is enough')
})

t.test('a favourites feed marks each event with its calendar', async t => {
  const calendars = [cal(10, 'Sales'), cal(11, 'Support, 2nd line')]
  const both = [row(10, weekly), row(11, allDay), row(11, weekly)]
  const { body } = renderFeed(resolved({ scope: 'favourites', calendar_id: null }, calendars), both, opts(), settings)
  for (const [who, parsed] of [['ical.js', parseWithIcalJs(body)], ['python icalendar', parseWithPython(body)]] as const) {
    t.equal(parsed.calendar['X-WR-CALNAME'], 'Alice: favourites', who)
    const holiday = parsed.items.find(i => i.uid === 'allday-1@test')!
    t.equal(holiday.summary, '[Support, 2nd line] Company holiday', `${who}: title prefixed with the calendar`)
    t.same(holiday.categories, ['Support 2nd line'], `${who}: and the calendar as a category (commas dropped: Outlook's categories cannot hold them)`)
    t.equal(parsed.items.filter(i => i.uid === 'weekly-1@test' && i.recurrenceId === null).length, 1, `${who}: an event in two favourite calendars comes once`)
  }
  const plain = renderFeed(resolved({ scope: 'favourites', calendar_id: null }, calendars), both, opts({ prefix: false }), settings).body
  t.match(plain, /SUMMARY:Company holiday/, '?prefix=0 leaves titles alone')
})
