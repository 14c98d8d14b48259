import t from 'tap'
import { parseObject } from '../../ical/parse.ts'
import { instancesBetween } from '../../ical/instances.ts'
import { cal, vevent } from '../../ical/testing.ts'
import { instanceIndex, occurrences } from './occurrences.ts'
import { fromRRule, toRRule, type MsRecurrence, type SeriesStart } from './recurrence.ts'

const BERLIN = 'Europe/Berlin'
/** Monday 2 March 2026, 09:00 in Berlin (CET; CEST from 29 March). */
const MON_9 = { start: '2026-03-02T08:00:00.000Z', timezone: BERLIN, allDay: false }

/** Both sides expand up to here (the project's expander needs a window). */
const WINDOW_END = '2038-01-01'

/** The instants ical.js (through the project's expander) gives for RRULE + DTSTART, first `n`. */
function rfcInstants (rrule: string, s: SeriesStart, n: number): string[] {
  const dt = s.allDay
    ? `DTSTART;VALUE=DATE:${s.start.replace(/-/g, '')}`
    : `DTSTART;TZID=${s.timezone}:${new Intl.DateTimeFormat('sv-SE', { timeZone: s.timezone ?? 'UTC', dateStyle: 'short', timeStyle: 'medium' }).format(new Date(s.start)).replace(/[-:]/g, '').replace(' ', 'T')}`
  const obj = parseObject(cal(vevent('UID:x', dt, `RRULE:${rrule}`)))
  const from = new Date(Date.parse(s.allDay ? `${s.start}T00:00:00Z` : s.start) - 86_400_000 * 2)
  const list = instancesBetween(obj, from, new Date(Date.parse(`${WINDOW_END}T00:00:00Z`)), { max: 5000, floatingTimezone: 'UTC' })
  return list.slice(0, n).map(i => s.allDay ? i.start.toISOString().slice(0, 10) : i.start.toISOString())
}

// [rule, series start, the RRULE Microsoft's form maps back to (same when omitted)]
const CORPUS: [string, SeriesStart, string?][] = [
  ['FREQ=DAILY', MON_9],
  ['FREQ=DAILY;INTERVAL=3;COUNT=10', MON_9],
  ['FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR', MON_9, 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'],
  ['FREQ=WEEKLY', MON_9],
  ['FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=12', MON_9],
  ['FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH', MON_9],
  ['FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;WKST=SU', MON_9],
  ['FREQ=WEEKLY;BYDAY=MO;UNTIL=20260427T070000Z', MON_9, 'FREQ=WEEKLY;UNTIL=20260427T070000Z'],
  ['FREQ=WEEKLY;BYDAY=TU;COUNT=3', { start: '2026-03-03T08:00:00.000Z', timezone: BERLIN, allDay: false }, 'FREQ=WEEKLY;COUNT=3'],
  ['FREQ=MONTHLY', MON_9],
  ['FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=2', MON_9, 'FREQ=MONTHLY;INTERVAL=2'],
  ['FREQ=MONTHLY;BYDAY=1MO', MON_9],
  ['FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1', MON_9, 'FREQ=MONTHLY;BYDAY=1MO'],
  ['FREQ=MONTHLY;BYDAY=-1FR', { start: '2026-03-27T08:00:00.000Z', timezone: BERLIN, allDay: false }],
  ['FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', { start: '2026-03-31T07:00:00.000Z', timezone: BERLIN, allDay: false }],
  ['FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=14', { start: '2026-01-31', timezone: null, allDay: true }],
  ['FREQ=YEARLY', { start: '2026-09-01', timezone: null, allDay: true }],
  ['FREQ=YEARLY;INTERVAL=2;BYMONTH=9;BYMONTHDAY=1', { start: '2026-09-01', timezone: null, allDay: true }, 'FREQ=YEARLY;INTERVAL=2'],
  ['FREQ=YEARLY;BYMONTH=8;BYDAY=1MO', { start: '2026-08-03T15:30:00.000Z', timezone: 'America/New_York', allDay: false }],
  ['FREQ=YEARLY;BYMONTH=11;BYDAY=SA,SU;BYSETPOS=-1', { start: '2026-11-29', timezone: null, allDay: true }],
  ['FREQ=WEEKLY;BYDAY=TU;UNTIL=20261229', { start: '2026-03-03', timezone: null, allDay: true }, 'FREQ=WEEKLY;UNTIL=20261229']
]

t.test('expressible rules map to Microsoft and back, and both sides give the same instants', async t => {
  for (const [rule, s, back] of CORPUS) {
    const r = fromRRule(rule, s)
    if (!r.ok) {
      t.fail(`${rule}: ${r.reason}`)
      continue
    }
    t.equal(toRRule(r.recurrence, s), back ?? rule, `${rule} round trip`)
    const n = r.recurrence.range.type === 'noEnd' ? 40 : 500
    t.same(occurrences(r.recurrence, s, { max: n, through: WINDOW_END }), rfcInstants(rule, s, n), `${rule}: Microsoft's occurrences are RFC 5545's`)
  }
})

t.test('a rule read from Microsoft leaves out the day its start gives, so the series can be moved in the CRM (issue 11)', async t => {
  const fri = { start: '2027-02-05T07:00:00.000Z', timezone: 'Europe/Warsaw', allDay: false }
  const weekly = fromRRule('FREQ=WEEKLY;BYDAY=FR;COUNT=5', fri) as { recurrence: MsRecurrence }
  const rule = toRRule(weekly.recurrence, fri)
  t.equal(rule, 'FREQ=WEEKLY;COUNT=5')
  const thu = { ...fri, start: '2026-12-03T11:00:00.000Z' }
  t.match(fromRRule(rule, thu), { ok: true, recurrence: { pattern: { type: 'weekly', daysOfWeek: ['thursday'] } } }, 'moved to a Thursday: weekly on Thursdays')
  t.match(fromRRule('FREQ=WEEKLY;BYDAY=FR;COUNT=5', thu), { ok: false }, 'the rule as Exchange names it would not produce the new start')
  const monthly = fromRRule('FREQ=MONTHLY;BYMONTHDAY=5', fri) as { recurrence: MsRecurrence }
  t.equal(toRRule(monthly.recurrence, fri), 'FREQ=MONTHLY')
  const twoDays = fromRRule('FREQ=WEEKLY;BYDAY=MO,FR', fri) as { recurrence: MsRecurrence }
  t.equal(toRRule(twoDays.recurrence, fri), 'FREQ=WEEKLY;BYDAY=MO,FR', 'days besides the start\'s are named')
})

t.test('wall-clock time survives daylight saving: 09:00 Berlin is 08:00Z in March, 07:00Z from 29 March', async t => {
  const r = fromRRule('FREQ=WEEKLY;BYDAY=MO;COUNT=6', MON_9)
  t.ok(r.ok)
  const list = occurrences((r as { recurrence: MsRecurrence }).recurrence, MON_9)
  t.same(list, ['2026-03-02T08:00:00.000Z', '2026-03-09T08:00:00.000Z', '2026-03-16T08:00:00.000Z', '2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z'])
  const fall = { start: '2026-10-23T07:30:00.000Z', timezone: BERLIN, allDay: false }
  const daily = fromRRule('FREQ=DAILY;COUNT=4', fall)
  t.same(occurrences((daily as { recurrence: MsRecurrence }).recurrence, fall), ['2026-10-23T07:30:00.000Z', '2026-10-24T07:30:00.000Z', '2026-10-25T08:30:00.000Z', '2026-10-26T08:30:00.000Z'])
})

t.test('UNTIL becomes the inclusive end date in the series zone, and back', async t => {
  // UNTIL is 08:59:59 Berlin on Monday 27 April, before that day's 09:00: the last date is the 26th
  const r = fromRRule('FREQ=WEEKLY;BYDAY=MO;UNTIL=20260427T065959Z', MON_9)
  t.match(r, { ok: true, recurrence: { range: { type: 'endDate', startDate: '2026-03-02', endDate: '2026-04-26' } } })
  const rec = (r as { recurrence: MsRecurrence }).recurrence
  t.equal(occurrences(rec, MON_9).at(-1), '2026-04-20T07:00:00.000Z')
  t.equal(toRRule(rec, MON_9), 'FREQ=WEEKLY;UNTIL=20260426T070000Z')
  const local = fromRRule('FREQ=DAILY;UNTIL=20260305T090000', MON_9)
  t.match(local, { ok: true, recurrence: { range: { endDate: '2026-03-05' } } }, 'a floating UNTIL is read in the series zone')
})

t.test('what Microsoft cannot say is NotExpressible with a reason, never a lossy rule', async t => {
  const cases: [string, RegExp, SeriesStart?][] = [
    ['FREQ=HOURLY', /FREQ=HOURLY/],
    ['FREQ=MINUTELY;INTERVAL=15', /FREQ=MINUTELY/],
    ['FREQ=DAILY;BYHOUR=9,17', /BYHOUR/],
    ['FREQ=MONTHLY;BYMONTHDAY=1,15', /several days of the month/],
    ['FREQ=MONTHLY;BYMONTHDAY=31', /last day of shorter months/],
    ['FREQ=MONTHLY;BYMONTHDAY=-2', /counts days of the month from the start/],
    ['FREQ=MONTHLY;BYDAY=MO,WE;BYSETPOS=2', /one day, every day, weekdays or weekend days/],
    ['FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1,3', /several occurrences/],
    ['FREQ=MONTHLY;BYDAY=5MO', /first to fourth and last/],
    ['FREQ=MONTHLY;BYDAY=-2MO', /first to fourth and last/],
    ['FREQ=MONTHLY;BYDAY=MO', /without an ordinal/],
    ['FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13', /together with BYDAY/],
    ['FREQ=YEARLY;BYYEARDAY=100', /BYYEARDAY/],
    ['FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO', /BYWEEKNO/],
    ['FREQ=YEARLY;BYMONTH=1,7', /several months/],
    ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', /last day of shorter months/, { start: '2028-02-29', timezone: null, allDay: true }],
    ['FREQ=WEEKLY;BYDAY=TU', /starts on a day its rule does not produce/],
    ['FREQ=DAILY;COUNT=3;UNTIL=20260310T000000Z', /COUNT and UNTIL/],
    ['FREQ=DAILY;X-NAME=1', /X-NAME/],
    ['FREQ=WEEKLY;INTERVAL=100', /INTERVAL=100: too large for a weekly pattern/],
    ['FREQ=DAILY;INTERVAL=1000', /INTERVAL=1000/],
    ['FREQ=YEARLY;INTERVAL=9', /INTERVAL=9: too large for a absoluteYearly/, { start: '2026-09-01', timezone: null, allDay: true }]
  ]
  for (const [rule, reason, s] of cases) t.match(fromRRule(rule, s ?? MON_9), { ok: false, reason }, rule)
  t.match(fromRRule('FREQ=DAILY', MON_9, { rdates: ['2026-03-20T08:00:00.000Z'] }), { ok: false, reason: /RDATE/ })
  t.match(fromRRule('FREQ=DAILY', MON_9, { exrule: 'FREQ=WEEKLY' }), { ok: false, reason: /EXRULE/ })
})

t.test('instanceIndex counts occurrences from 1, as OccurrenceItemId does', async t => {
  const r = fromRRule('FREQ=WEEKLY;BYDAY=MO,WE', MON_9) as { recurrence: MsRecurrence }
  t.equal(instanceIndex(r.recurrence, MON_9, '2026-03-02T08:00:00.000Z'), 1)
  t.equal(instanceIndex(r.recurrence, MON_9, '2026-03-04T08:00:00Z'), 2)
  t.equal(instanceIndex(r.recurrence, MON_9, '2026-04-01T07:00:00.000Z'), 10, 'after the DST change')
  t.equal(instanceIndex(r.recurrence, MON_9, '2026-03-03T08:00:00.000Z'), null, 'no occurrence then')
  const allDay = { start: '2026-03-03', timezone: null, allDay: true }
  const tue = fromRRule('FREQ=WEEKLY;BYDAY=TU', allDay) as { recurrence: MsRecurrence }
  t.equal(instanceIndex(tue.recurrence, allDay, '2026-03-17'), 3)
})
