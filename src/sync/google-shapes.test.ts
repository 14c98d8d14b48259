import t from 'tap'
import { startSyncWorld, shortenDec28OverCalDav, WEEKLY_REVIEW } from './testing.ts'

type Appt = { id: number; uid: string; title: string; allDay: boolean; start: string; end: string; timezone: string | null; rrule: string | null; exdates: string[] }
const list = async (w: Awaited<ReturnType<typeof startSyncWorld>>, login: string) =>
  ((await w.s.as(login)('/api/v1/appointments?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z')).body_ as { items: Appt[] }).items

t.test('recurring events stay recurring both ways, with their exceptions', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const weekly = (await alice('/api/v1/appointments', { method: 'POST', json: WEEKLY_REVIEW })).body_ as Appt
  await w.connect('alice')
  await w.run('alice')
  let events = await w.events('alice')
  t.equal(events.length, 1, 'one recurring event in Google, not ten')
  t.same(events[0]!.recurrence, ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10', 'EXDATE:20261221T090000Z'])

  // in Google, one occurrence is deleted and another is moved
  const cal = w.calendar('alice')
  const instances = (await cal.events.instances({ calendarId: 'primary', eventId: events[0]!.id! })).data.items ?? []
  t.equal(instances.length, 9, 'Google sees nine occurrences')
  const jan4 = instances.find(i => i.originalStartTime?.dateTime !== undefined && new Date(i.originalStartTime.dateTime!).toISOString() === '2027-01-04T09:00:00.000Z')!
  await cal.events.delete({ calendarId: 'primary', eventId: jan4.id! })
  await w.run('alice')
  const crm = (await alice(`/api/v1/appointments/${weekly.id}`)).body_ as Appt
  t.equal(crm.rrule, 'FREQ=WEEKLY;BYDAY=MO;COUNT=10', 'still recurring in the CRM')
  t.same(crm.exdates.map(d => new Date(d).toISOString()).sort(), ['2026-12-21T09:00:00.000Z', '2027-01-04T09:00:00.000Z'], 'the deleted occurrence is an exception')
  events = await w.events('alice')
  t.equal(events.filter(e => e.recurringEventId == null).length, 1, 'never flattened into single events')

  // a recurring event made in Google comes in as one recurring appointment
  await cal.events.insert({ calendarId: 'primary', requestBody: {
    summary: 'Daily stand-up', start: { dateTime: '2026-12-14T09:15:00+01:00', timeZone: 'Europe/Warsaw' }, end: { dateTime: '2026-12-14T09:30:00+01:00', timeZone: 'Europe/Warsaw' },
    recurrence: ['RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR']
  } })
  await w.run('alice')
  const standup = (await list(w, 'alice')).filter(a => a.title === 'Daily stand-up')
  t.equal(standup.length, 1)
  t.equal(standup[0]!.rrule, 'FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR', 'no end: stored as no end')
  t.equal(standup[0]!.timezone, 'Europe/Warsaw')
})

t.test('all-day items are dates with an exclusive end, both ways', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Christmas', allDay: true, start: '2026-12-24', end: '2026-12-27' } })
  await w.connect('alice')
  await w.run('alice')
  const ev = (await w.events('alice'))[0]!
  t.same([ev.start, ev.end], [{ date: '2026-12-24' }, { date: '2026-12-27' }], 'dates, not midnight date-times; end exclusive')
  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary: 'Offsite', start: { date: '2027-01-11' }, end: { date: '2027-01-13' } } })
  await w.run('alice')
  const offsite = (await list(w, 'alice')).find(a => a.title === 'Offsite')!
  t.same([offsite.allDay, offsite.start, offsite.end], [true, '2027-01-11', '2027-01-13'])
})

t.test('time zones are IANA and instants survive the trip, across a DST change', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await w.connect('alice')
  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: {
    summary: 'New York call', start: { dateTime: '2027-03-15T10:00:00-04:00', timeZone: 'America/New_York' }, end: { dateTime: '2027-03-15T11:00:00-04:00', timeZone: 'America/New_York' }
  } })
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Warsaw call', start: '2027-03-29T07:00:00Z', end: '2027-03-29T08:00:00Z', timezone: 'Europe/Warsaw' } })
  await w.run('alice')
  const ny = (await list(w, 'alice')).find(a => a.title === 'New York call')!
  t.same([ny.start, ny.timezone], ['2027-03-15T14:00:00.000Z', 'America/New_York'], 'after the US switch to summer time')
  const waw = (await w.events('alice')).find(e => e.summary === 'Warsaw call')!
  t.equal(new Date(waw.start!.dateTime!).toISOString(), '2027-03-29T07:00:00.000Z', 'after the EU switch: 09:00 in Warsaw')
  t.equal(waw.start!.timeZone, 'Europe/Warsaw')
})

t.test('an occurrence edited on its own travels both ways as an exception of the series', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const weekly = (await alice('/api/v1/appointments', { method: 'POST', json: {
    title: 'Weekly review', start: '2026-12-07T09:00:00Z', end: '2026-12-07T10:00:00Z', timezone: 'Europe/Warsaw', rrule: 'FREQ=WEEKLY;COUNT=6'
  } })).body_ as Appt
  await w.connect('alice')
  await w.run('alice')
  const master = (await w.events('alice'))[0]!
  const cal = w.calendar('alice')

  // moved in Google
  await cal.events.patch({ calendarId: 'primary', eventId: `${master.id}_20261214T090000Z`, requestBody: { summary: 'Weekly review (moved)', start: { dateTime: '2026-12-14T13:00:00Z', timeZone: 'Europe/Warsaw' }, end: { dateTime: '2026-12-14T14:00:00Z', timeZone: 'Europe/Warsaw' } } })
  await w.run('alice')
  const stored = await w.s.k.db.selectFrom('calendar_objects').select(['ical', 'name', 'calendar_id']).where('item_kind', '=', 'appointment').where('item_id', '=', weekly.id).executeTakeFirstOrThrow()
  t.match(stored.ical, /RECURRENCE-ID;TZID=Europe\/Warsaw:20261214T100000/, 'the CRM keeps the exception, in the series\' zone')
  t.match(stored.ical, /SUMMARY:Weekly review \(moved\)/)
  t.equal(((await alice(`/api/v1/appointments/${weekly.id}`)).body_ as Appt).rrule, 'FREQ=WEEKLY;COUNT=6', 'the series stays one recurring appointment')
  const quiet = await w.run('alice')
  t.same([quiet.in, quiet.out], [0, 0], 'settled: no echo of the exception')

  // moved by a CalDAV client (a phone edits one occurrence)
  const putStatus = await shortenDec28OverCalDav(w.s, 'alice', weekly.uid, stored)
  t.ok(putStatus === 204 || putStatus === 201, `PUT ${putStatus}`)
  await w.run('alice')
  const dec28 = (await cal.events.get({ calendarId: 'primary', eventId: `${master.id}_20261228T090000Z` })).data
  t.equal(dec28.summary, 'Weekly review (short)', 'Google shows the edited occurrence')
  t.equal(new Date(dec28.start!.dateTime!).toISOString(), '2026-12-28T07:00:00.000Z')
  t.equal((await w.events('alice')).filter(e => e.recurringEventId == null).length, 1, 'still one series in Google')
  const dec14 = (await cal.events.get({ calendarId: 'primary', eventId: `${master.id}_20261214T090000Z` })).data
  t.equal(dec14.summary, 'Weekly review (moved)', 'the earlier exception is kept')
})
