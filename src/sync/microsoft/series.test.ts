import t from 'tap'
import type { EventData } from '../items.ts'
import { fromMsSeries, toMsSeries } from './series.ts'
import { allDayDate, allDayInstant } from './zones.ts'

const base: EventData = {
  title: 'Standup', description: '', location: '', allDay: false,
  start: '2026-03-23T08:00:00.000Z', end: '2026-03-23T08:15:00.000Z', timezone: 'Europe/Berlin',
  rrule: 'FREQ=WEEKLY;BYDAY=MO,WE', exdates: [], status: 'confirmed', private: false, busy: true, overrides: []
}

t.test('EXDATEs become deleted occurrences and overrides modified ones, across the DST change', async t => {
  const moved = { recurrenceId: '2026-04-01T07:00:00.000Z', title: 'Standup (late)', start: '2026-04-01T09:00:00.000Z', end: '2026-04-01T09:15:00.000Z', location: '', description: '' }
  const r = toMsSeries({ ...base, exdates: ['2026-03-30T07:00:00.000Z', '2026-03-30T08:00:00.000Z'], overrides: [moved] })
  t.match(r, { ok: true, series: { deleted: ['2026-03-30T07:00:00.000Z'], modified: [moved], droppedExdates: ['2026-03-30T08:00:00.000Z'] } },
    '09:00 Berlin on 30 March is 07:00Z (CEST); an EXDATE at 08:00Z is on no occurrence')
  if (!r.ok) return
  const back = fromMsSeries(r.series.recurrence, base, r.series.deleted, r.series.modified)
  t.same(back, { rrule: 'FREQ=WEEKLY;BYDAY=MO,WE', exdates: ['2026-03-30T07:00:00.000Z'], overrides: [moved] })
})

t.test('an override off the rule, or an inexpressible rule, is NotExpressible', async t => {
  const stray = { recurrenceId: '2026-03-24T08:00:00.000Z', title: 'x', start: '2026-03-24T08:00:00.000Z', end: '2026-03-24T09:00:00.000Z', location: '', description: '' }
  t.match(toMsSeries({ ...base, overrides: [stray] }), { ok: false, reason: /edited occurrence at 2026-03-24/ })
  t.match(toMsSeries({ ...base, rrule: 'FREQ=DAILY;BYHOUR=9,17' }), { ok: false, reason: /BYHOUR/ })
  t.match(toMsSeries({ ...base, rrule: null }), { ok: false })
})

t.test('all-day series: dates in ItemData, midnight instants at Exchange', async t => {
  const allDay = { ...base, allDay: true, start: '2026-03-23', end: '2026-03-24', timezone: null, exdates: ['2026-03-25'] }
  t.match(toMsSeries(allDay), { ok: true, series: { deleted: ['2026-03-25'], droppedExdates: [] } })
  t.equal(allDayInstant('2026-03-30', 'Europe/Berlin'), '2026-03-29T22:00:00.000Z')
  t.equal(allDayDate('2026-03-29T22:00:00Z', 'Europe/Berlin'), '2026-03-30')
  t.equal(allDayDate(allDayInstant('2026-10-25', 'America/New_York'), 'America/New_York'), '2026-10-25')
})
