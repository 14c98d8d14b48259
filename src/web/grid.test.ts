import t from 'tap'
import { startServer, type TestServer } from '../testing/harness.ts'
import { WebClient, visible } from './test-client.ts'

/**
 * The grid's routes over HTTP: the events of a range (each occurrence of a
 * series, tasks on their due day), moves through the domain with the CSRF
 * token, refusals with the rule's reason, and one occurrence of a series
 * edited or deleted from its page.
 */
let s: TestServer
t.before(async () => { s = await startServer({ users: ['alice', 'bob', 'carol'] }) })
t.teardown(async () => { await s?.close() })

type Ev = { id: string; title: string; start: string; end: string; allDay: boolean; url?: string; editable: boolean; extendedProps: { kind: string; itemId: number; part: string; occurrence?: string; details: string[] } }
const bodyOf = async (id: number) => (await s.k.db.selectFrom('calendar_objects').select('ical').where('item_kind', '=', 'appointment').where('item_id', '=', id).orderBy('id').executeTakeFirstOrThrow()).ical

t.test('events of a range: occurrences in the user\'s zone and tasks on their due day', async t => {
  const made = await s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Weekly', start: '2026-04-06T09:00:00+02:00', end: '2026-04-06T10:00:00+02:00', timezone: 'Europe/Warsaw', rrule: 'FREQ=WEEKLY', location: 'Room 2' } })
  await s.as('alice')('/api/v1/tasks', { method: 'POST', json: { title: 'File the brief', due: '2026-04-08T23:30:00+02:00' } })
  const c = new WebClient(s)
  await c.signIn('alice')
  const res = await c.get('/calendar/events?start=2026-04-06T00:00:00%2B02:00&end=2026-04-20T00:00:00%2B02:00')
  t.equal(res.status, 200)
  const events = JSON.parse(res.text) as Ev[]
  const weekly = events.filter(e => e.title === 'Weekly')
  t.same(weekly.map(e => e.start), ['2026-04-06T07:00:00.000Z', '2026-04-13T07:00:00.000Z'], 'one event per occurrence')
  t.equal(weekly[0]!.editable, true, 'an occurrence is dragged alone: the move names it (occurrence), not the series')
  t.equal(weekly[1]!.extendedProps.occurrence, '2026-04-13T07:00:00.000Z')
  t.equal(weekly[1]!.url, `/appointments/${(made.body_ as { id: number }).id}/occurrence?at=2026-04-13T07%3A00%3A00.000Z`, 'an occurrence opens as itself')
  t.ok(weekly[0]!.extendedProps.details.includes('Location: Room 2'))
  const due = events.find(e => e.extendedProps.kind === 'task')
  t.match(due, { title: 'Due: File the brief', start: '2026-04-08', allDay: true }, 'the due day in Warsaw, not in UTC')
  t.equal((await c.get('/calendar/events?start=2026-04-06&end=2026-01-01')).status, 400, 'a range that ends before it starts')
  t.equal((await c.get('/calendar/events?start=x&end=y')).status, 400)
})

t.test('moves: CSRF, the domain\'s refusal with its reason, someone else\'s item', async t => {
  await s.k.db.updateTable('users').set({ can_change_planned_dates: false }).where('id', '=', s.users.bob!.id).execute()
  const task = await s.as('alice')('/api/v1/tasks', { method: 'POST', json: { title: 'Plan', assigneeId: s.users.bob!.id, plannedStart: '2026-04-07T09:00:00+02:00', plannedEnd: '2026-04-07T10:00:00+02:00' } })
  const taskId = (task.body_ as { id: number }).id
  const appt = await s.as('bob')('/api/v1/appointments', { method: 'POST', json: { title: 'Bob\'s', start: '2026-04-07T12:00:00+02:00', end: '2026-04-07T13:00:00+02:00' } })
  const apptId = (appt.body_ as { id: number }).id
  const bob = new WebClient(s)
  await bob.signIn('bob')
  const move = { kind: 'task', id: String(taskId), part: 'planned', start: '2026-04-07T12:00:00Z', end: '2026-04-07T13:00:00Z', allDay: '' }
  t.equal((await bob.post('/calendar/move', move, { csrf: null })).status, 403, 'no token, no move')
  const refused = await bob.post('/calendar/move', move)
  t.equal(refused.status, 422)
  t.same(JSON.parse(refused.text), { ok: false, reason: 'Planned start: Bob may not change planned dates' })
  const stored = await s.as('alice')(`/api/v1/tasks/${taskId}`)
  t.equal((stored.body_ as { plannedStart: string }).plannedStart, '2026-04-07T07:00:00.000Z', 'nothing changed')
  const moved = await bob.post('/calendar/move', { kind: 'appointment', id: String(apptId), part: 'appointment', start: '2026-04-08T08:00:00Z', end: '2026-04-08T09:30:00Z', allDay: '' })
  t.same(JSON.parse(moved.text), { ok: true })
  t.match((await s.as('bob')(`/api/v1/appointments/${apptId}`)).body_, { start: '2026-04-08T08:00:00.000Z', end: '2026-04-08T09:30:00.000Z' })
  const carol = new WebClient(s)
  await carol.signIn('carol')
  const other = await carol.post('/calendar/move', { kind: 'appointment', id: String(apptId), part: 'appointment', start: '2026-04-09T08:00:00Z', end: '2026-04-09T09:00:00Z', allDay: '' })
  t.equal(other.status, 404, 'someone else\'s appointment is not there')
  t.equal((await carol.post('/calendar/move', { kind: 'nonsense', id: '1', start: 'x', end: 'y' })).status, 400)
})

t.test('dragging one occurrence of a series moves that occurrence alone', async t => {
  const made = await s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Weekly call', start: '2026-07-06T10:00:00+02:00', end: '2026-07-06T11:00:00+02:00', timezone: 'Europe/Warsaw', rrule: 'FREQ=WEEKLY' } })
  const id = (made.body_ as { id: number }).id
  const c = new WebClient(s)
  await c.signIn('alice')
  const events = JSON.parse((await c.get('/calendar/events?start=2026-07-06T00:00:00%2B02:00&end=2026-07-20T00:00:00%2B02:00')).text) as Array<{ title: string; start: string; editable: boolean; extendedProps: { itemId: number; occurrence?: string } }>
  const second = events.find(e => e.extendedProps.itemId === id && e.extendedProps.occurrence === '2026-07-13T08:00:00.000Z')
  t.ok(second, 'each occurrence is its own card, named by its original start')
  t.equal(second?.editable, true, 'and may be dragged')
  const moved = await c.post('/calendar/move', { kind: 'appointment', id: String(id), part: 'appointment', occurrence: '2026-07-13T08:00:00.000Z', start: '2026-07-13T12:00:00Z', end: '2026-07-13T13:00:00Z', allDay: '' })
  t.same(JSON.parse(moved.text), { ok: true })
  const ical = (await s.k.db.selectFrom('calendar_objects').select('ical').where('item_kind', '=', 'appointment').where('item_id', '=', id).executeTakeFirstOrThrow()).ical
  t.match(ical, /RECURRENCE-ID;TZID=Europe\/Warsaw:20260713T100000/, 'an exception for that occurrence')
  t.match(ical, /DTSTART;TZID=Europe\/Warsaw:20260713T140000/, 'at the new time')
  t.match((await s.as('alice')(`/api/v1/appointments/${id}`)).body_, { start: '2026-07-06T08:00:00.000Z' }, 'the series itself did not move')
  const after = JSON.parse((await c.get('/calendar/events?start=2026-07-06T00:00:00%2B02:00&end=2026-07-20T00:00:00%2B02:00')).text) as typeof events
  t.same(after.filter(e => e.extendedProps.itemId === id).map(e => Date.parse(e.start)), [Date.parse('2026-07-06T08:00:00Z'), Date.parse('2026-07-13T12:00:00Z')], 'the grid shows the first where it was and the second where it was dropped')
})

t.test('one occurrence from its page: this one, then this and following', async t => {
  const made = await s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Jour fixe', start: '2026-06-01T10:00:00+02:00', end: '2026-06-01T11:00:00+02:00', timezone: 'Europe/Warsaw', rrule: 'FREQ=WEEKLY' } })
  const id = (made.body_ as { id: number }).id
  const c = new WebClient(s)
  await c.signIn('alice')
  const page = await c.get(`/appointments/${id}/occurrence?at=2026-06-08T08:00:00.000Z`)
  t.equal(page.status, 200)
  t.match(visible(page.text), 'This appointment repeats (FREQ=WEEKLY).')
  t.match(page.text, 'value="2026-06-08"')
  t.match(page.text, 'value="10:00"')
  let res = await c.post(`/appointments/${id}/occurrence`, { at: '2026-06-08T08:00:00.000Z', title: 'Jour fixe', date: '2026-06-08', endDate: '2026-06-08', start: '14:00', end: '15:00', location: '', scope: 'this' })
  t.equal(res.status, 303)
  t.match(await bodyOf(id), /RECURRENCE-ID;TZID=Europe\/Warsaw:20260608T100000[\s\S]*DTSTART;TZID=Europe\/Warsaw:20260608T140000/, 'an override of that one')
  const week = await c.get('/week?date=2026-06-08')
  t.match(visible(week.text), /14:00–15:00 · repeats Jour fixe/, 'the week shows it moved')
  res = await c.post(`/appointments/${id}/occurrence/delete`, { at: '2026-06-15T08:00:00.000Z', scope: 'this' })
  t.equal(res.status, 303)
  t.match(await bodyOf(id), /EXDATE;TZID=Europe\/Warsaw:20260615T100000/)
  res = await c.post(`/appointments/${id}/occurrence`, { at: '2026-06-22T08:00:00.000Z', title: 'Jour fixe (new room)', date: '2026-06-22', endDate: '2026-06-22', start: '10:00', end: '11:00', location: 'Room 9', scope: 'following' })
  t.equal(res.status, 303)
  t.match(await bodyOf(id), /UNTIL=20260622T075959Z/, 'the series ends before the 22nd')
  const list = await s.as('alice')('/api/v1/appointments?from=2026-06-22T00:00:00Z&to=2026-06-23T00:00:00Z')
  const series = (list.body_ as { items: { title: string; location: string; rrule: string; start: string }[] }).items.filter(a => a.title.startsWith('Jour fixe'))
  t.match(series, [{ title: 'Jour fixe (new room)', location: 'Room 9', rrule: 'FREQ=WEEKLY', start: '2026-06-22T08:00:00.000Z' }], 'a new series from the 22nd, the old one not there')
  const first = await c.post(`/appointments/${id}/occurrence/delete`, { at: '2026-06-01T08:00:00.000Z', scope: 'following' })
  t.equal(first.status, 400, 'the first occurrence and following is the whole series: refused with its reason')
  t.match(visible(first.text), 'change or delete the whole series instead')
  t.equal((await c.get(`/appointments/${id}/occurrence?at=nonsense`)).status, 404)
})

t.test('the grid in the reader\'s language: FullCalendar\'s locale and first day, its locale file served from the project', async t => {
  const c = new WebClient(s)
  await c.signIn('carol')
  const english = (await c.get('/week?date=2026-04-08')).text
  t.match(english, /data-locale="en-GB" data-first-day="1"/, 'English as the pages speak it: British, a Monday week')
  t.match(english, /<script src="\/static\/fullcalendar\/locales\/en-gb\.js"/)
  await c.post('/profile', { language: 'pl', timezone: 'Europe/Warsaw' })
  const polish = (await c.get('/week?date=2026-04-08')).text
  t.match(polish, /data-locale="pl-PL" data-first-day="1"/)
  t.match(polish, /<script src="\/static\/fullcalendar\/locales\/pl\.js"/)
  t.notMatch(polish, /locales\/en-gb\.js/, 'only the reader\'s locale file')
  const file = await c.get('/static/fullcalendar/locales/pl.js')
  t.equal(file.status, 200)
  t.match(file.res.headers.get('content-type'), /javascript/)
  t.match(file.text, /code: 'pl'/)
  t.match(file.text, /todayText: 'Dziś'/)
  t.equal((await c.get('/static/fullcalendar/locales/de.js')).status, 404, 'no other file of the package is served')
  await c.post('/profile', { language: 'en', timezone: 'Europe/Warsaw' })
})
