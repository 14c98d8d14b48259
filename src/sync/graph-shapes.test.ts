import t from 'tap'
import { overridesOf } from './overrides.ts'
import { startGraphWorld } from './testing-graph.ts'
import { shortenDec28OverCalDav, WEEKLY_REVIEW } from './testing.ts'

type Appt = { id: number; uid: string; title: string; allDay: boolean; start: string; end: string; timezone: string | null; rrule: string | null; exdates: string[] }
const WARSAW = 'Central European Standard Time'

t.test('series with exceptions both ways, never flattened', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const weekly = (await alice('/api/v1/appointments', { method: 'POST', json: WEEKLY_REVIEW })).body_ as Appt
  // a phone edits the 28 December occurrence over CalDAV: an override in the CRM
  const stored = await w.s.k.db.selectFrom('calendar_objects').select(['name', 'calendar_id']).where('uid', '=', weekly.uid).executeTakeFirstOrThrow()
  t.equal(await shortenDec28OverCalDav(w.s, 'alice', weekly.uid, stored), 204)

  await w.connect('alice')
  const first = await w.run('alice')
  t.equal(first.state, 'ok', first.reason ?? 'first run')
  let events = (await w.events('alice')).filter(e => e.subject === 'Weekly review')
  t.equal(events.length, 1, 'one series master in Outlook, not ten events')
  const master = events[0]
  t.equal(master.type, 'seriesMaster')
  t.match(master.recurrence, { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] }, range: { type: 'numbered', numberOfOccurrences: 10, startDate: '2026-12-07' } })
  const instances = (await w.api('alice', 'GET', `/me/events/${master.id}/instances?startDateTime=2026-12-01T00:00:00Z&endDateTime=2027-03-01T00:00:00Z`)).body.value as { id: string; type: string; subject: string; start: { dateTime: string }; originalStart: string }[]
  t.equal(instances.length, 9, 'the deleted occurrence is cancelled in Outlook')
  t.notOk(instances.some(i => i.originalStart.startsWith('2026-12-21')), 'no 21 December occurrence')
  const dec28 = instances.find(i => i.originalStart.startsWith('2026-12-28'))!
  t.equal(dec28.type, 'exception', 'the edited occurrence is an exception of the series')
  t.equal(dec28.subject, 'Weekly review (short)')
  t.equal(dec28.start.dateTime.slice(0, 19), '2026-12-28T07:00:00', '08:00 Warsaw, in UTC')
  t.same((await w.run('alice')).in, 0, 'the series written is not read back as a change')

  // in Outlook: one occurrence deleted, another moved
  const jan4 = instances.find(i => i.originalStart.startsWith('2027-01-04'))!
  const jan11 = instances.find(i => i.originalStart.startsWith('2027-01-11'))!
  t.equal((await w.api('alice', 'DELETE', `/me/events/${jan4.id}`)).status, 204)
  t.equal((await w.api('alice', 'PATCH', `/me/events/${jan11.id}`, { subject: 'Weekly review (late)', start: { dateTime: '2027-01-11T14:00:00', timeZone: WARSAW }, end: { dateTime: '2027-01-11T15:00:00', timeZone: WARSAW } })).status, 200)
  const back = await w.run('alice')
  t.equal(back.state, 'ok', back.reason ?? 'run')
  const crm = (await alice(`/api/v1/appointments/${weekly.id}`)).body_ as Appt
  t.equal(crm.rrule, 'FREQ=WEEKLY;COUNT=10', 'still recurring in the CRM')
  t.same(crm.exdates.map(d => new Date(d).toISOString()).sort(), ['2026-12-21T09:00:00.000Z', '2027-01-04T09:00:00.000Z'], 'the occurrence deleted in Outlook is an exception')
  const body = await w.s.k.db.selectFrom('calendar_objects').select('ical').where('uid', '=', weekly.uid).executeTakeFirstOrThrow()
  const overrides = overridesOf(body.ical).map(o => [o.recurrenceId, o.title, o.start]).sort()
  t.same(overrides, [['2026-12-28T09:00:00.000Z', 'Weekly review (short)', '2026-12-28T07:00:00.000Z'], ['2027-01-11T09:00:00.000Z', 'Weekly review (late)', '2027-01-11T13:00:00.000Z']], 'both edited occurrences, by their original starts')
  events = (await w.events('alice')).filter(e => e.subject === 'Weekly review')
  t.equal(events.length, 1, 'still one series in Outlook')

  // a series made in Outlook comes in as one recurring appointment, its cancelled occurrence an exdate
  const standup = await w.api('alice', 'POST', '/me/events', {
    subject: 'Daily stand-up', start: { dateTime: '2026-12-14T09:15:00', timeZone: WARSAW }, end: { dateTime: '2026-12-14T09:30:00', timeZone: WARSAW },
    recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], firstDayOfWeek: 'monday' }, range: { type: 'noEnd', startDate: '2026-12-14', recurrenceTimeZone: WARSAW } }
  })
  t.equal(standup.status, 201)
  const occ = (await w.api('alice', 'GET', `/me/events/${standup.body.id}/instances?startDateTime=2026-12-15T00:00:00Z&endDateTime=2026-12-16T00:00:00Z`)).body.value[0]
  await w.api('alice', 'DELETE', `/me/events/${occ.id}`)
  await w.run('alice')
  const list = ((await alice('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-02-01T00:00:00Z')).body_ as { items: Appt[] }).items
  const mine = [...new Map(list.filter(a => a.title === 'Daily stand-up').map(a => [a.id, a])).values()]
  t.equal(mine.length, 1, 'one appointment')
  const full = (await alice(`/api/v1/appointments/${mine[0]!.id}`)).body_ as Appt
  t.equal(full.rrule, 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', 'no end: stored as no end')
  t.equal(full.timezone, 'Europe/Warsaw')
  t.same(full.exdates.map(d => new Date(d).toISOString()), ['2026-12-15T08:15:00.000Z'], 'the cancelled occurrence')
  t.same(w.g.sentMail(), [], 'no mail')
})

t.test('all-day items are dates with an exclusive end, both ways', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Christmas', allDay: true, start: '2026-12-24', end: '2026-12-27' } })
  await w.connect('alice')
  await w.run('alice')
  const ev = (await w.events('alice')).find(e => e.subject === 'Christmas')
  t.equal(ev.isAllDay, true)
  t.same([ev.start.dateTime.slice(0, 10), ev.end.dateTime.slice(0, 10)], ['2026-12-24', '2026-12-27'])
  await w.api('alice', 'POST', '/me/events', { subject: 'Offsite', isAllDay: true, start: { dateTime: '2027-01-11T00:00:00', timeZone: 'UTC' }, end: { dateTime: '2027-01-13T00:00:00', timeZone: 'UTC' } })
  await w.run('alice')
  const list = ((await alice('/api/v1/appointments?from=2027-01-01T00:00:00Z&to=2027-02-01T00:00:00Z')).body_ as { items: Appt[] }).items
  const offsite = list.find(a => a.title === 'Offsite')!
  t.same([offsite.allDay, offsite.start, offsite.end], [true, '2027-01-11', '2027-01-13'])
})
