import t from 'tap'
import { validateSoap } from '../../../conformance/ews-emulator/schema-check.ts'
import { fromEwsRecurrence, toEwsRecurrence } from './ews-recurrence.ts'
import { NS, parse } from './ews-xml.ts'
import { fromGraphRecurrence, toGraphRecurrence } from './graph-recurrence.ts'
import { occurrences } from './occurrences.ts'
import { fromRRule, type MsRecurrence, type SeriesStart } from './recurrence.ts'

const S = (start: string): SeriesStart => start.length === 10 ? { start, timezone: null, allDay: true } : { start, timezone: 'Europe/Berlin', allDay: false }

// rules and starts; every one expressible
const RULES: [string, SeriesStart][] = [
  ['FREQ=DAILY;INTERVAL=2;COUNT=5', S('2026-03-02T08:00:00.000Z')],
  ['FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;WKST=SU', S('2026-03-02T08:00:00.000Z')],
  ['FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20261231T235959Z', S('2026-03-15T08:00:00.000Z')],
  ['FREQ=MONTHLY;BYDAY=-1FR', S('2026-03-27')],
  ['FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1', S('2026-04-01')],
  ['FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=2', S('2026-03-07')],
  ['FREQ=MONTHLY;BYMONTHDAY=-1', S('2026-03-31')],
  ['FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=1', S('2026-09-01')],
  ['FREQ=YEARLY;INTERVAL=3;BYMONTH=9;BYMONTHDAY=1;COUNT=4', S('2026-09-01')],
  ['FREQ=YEARLY;BYMONTH=8;BYDAY=1MO', S('2026-08-03')],
  ['FREQ=YEARLY;INTERVAL=2;BYMONTH=11;BYDAY=4TH', S('2026-11-26')]
]

const expressed = (rule: string, s: SeriesStart): MsRecurrence => {
  const r = fromRRule(rule, s)
  if (!r.ok) throw new Error(`${rule}: ${r.reason}`)
  return r.recurrence
}

const createWith = (recurrence: string) => `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="${NS.soap}" xmlns:t="${NS.t}" xmlns:m="${NS.m}"><soap:Body>
<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Subject>x</t:Subject>${recurrence}</t:CalendarItem></m:Items></m:CreateItem>
</soap:Body></soap:Envelope>`

t.test('EWS Recurrence: schema-valid, and read back to the same occurrences (yearly intervals as 12n months)', async t => {
  const xmls = RULES.map(([rule, s]) => toEwsRecurrence(expressed(rule, s)))
  t.same(await validateSoap(xmls.map(createWith)), [], 'every t:Recurrence passes types.xsd inside a CreateItem')
  RULES.forEach(([rule, s], i) => {
    const back = fromEwsRecurrence(parse(`<x xmlns:t="${NS.t}">${xmls[i]}</x>`).children[0] as never)
    t.ok(back, rule)
    t.same(occurrences(back as MsRecurrence, s, { max: 30 }), occurrences(expressed(rule, s), s, { max: 30 }), `${rule}: same occurrences after EWS`)
  })
  t.match(xmls[8], /<t:AbsoluteMonthlyRecurrence><t:Interval>36<\/t:Interval><t:DayOfMonth>1<\/t:DayOfMonth>/)
  t.match(xmls[4], /<t:DaysOfWeek>Weekday<\/t:DaysOfWeek><t:DayOfWeekIndex>First<\/t:DayOfWeekIndex>/)
})

t.test('EWS Recurrence as Exchange returns it: dates with offsets, Weekday sets, an unknown pattern', async t => {
  const read = (inner: string) => fromEwsRecurrence(parse(`<t:Recurrence xmlns:t="${NS.t}">${inner}</t:Recurrence>`))
  t.same(read('<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Wednesday</t:DaysOfWeek></t:WeeklyRecurrence><t:EndDateRecurrence><t:StartDate>2026-05-04-07:00</t:StartDate><t:EndDate>2026-06-30-07:00</t:EndDate></t:EndDateRecurrence>'),
    { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'], firstDayOfWeek: 'sunday' }, range: { type: 'endDate', startDate: '2026-05-04', endDate: '2026-06-30' } })
  t.same(read('<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>WeekendDay</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence><t:NoEndRecurrence><t:StartDate>2026-05-31Z</t:StartDate></t:NoEndRecurrence>')?.pattern,
    { type: 'relativeMonthly', interval: 1, daysOfWeek: ['sunday', 'saturday'], index: 'last' })
  t.equal(read('<t:DailyRegeneration><t:Interval>1</t:Interval></t:DailyRegeneration><t:NoEndRecurrence><t:StartDate>2026-05-31</t:StartDate></t:NoEndRecurrence>'), null, 'task regeneration is not a calendar pattern')
})

t.test('Graph patternedRecurrence: all properties with defaults, read back unchanged', async t => {
  for (const [rule, s] of RULES) {
    const r = expressed(rule, s)
    const g = toGraphRecurrence(r, 'W. Europe Standard Time')
    t.same(fromGraphRecurrence(JSON.parse(JSON.stringify(g))), r, rule)
  }
  t.same(toGraphRecurrence(expressed('FREQ=WEEKLY;BYDAY=MO', S('2026-03-02T08:00:00.000Z')), 'W. Europe Standard Time'), {
    pattern: { type: 'weekly', interval: 1, month: 0, dayOfMonth: 0, daysOfWeek: ['monday'], firstDayOfWeek: 'monday', index: 'first' },
    range: { type: 'noEnd', startDate: '2026-03-02', endDate: '0001-01-01', numberOfOccurrences: 0, recurrenceTimeZone: 'W. Europe Standard Time' }
  })
  t.equal(fromGraphRecurrence({ pattern: { type: 'hourly' as never, interval: 1 }, range: { type: 'noEnd', startDate: '2026-03-02' } }), null)
  t.equal(fromGraphRecurrence({ pattern: { type: 'weekly', interval: 1, daysOfWeek: [] }, range: { type: 'noEnd', startDate: '2026-03-02' } }), null)
})
