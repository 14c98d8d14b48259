import t from 'tap'
import { shortenDec28OverCalDav } from './testing.ts'
import { syncDb } from './tables.ts'
import { startEwsWorld } from './testing-ews.ts'

type Appt = { id: number; uid: string; title: string; allDay: boolean; start: string; end: string; timezone: string | null; rrule: string | null; exdates: string[] }
const WARSAW = '<t:StartTimeZone Id="Central European Standard Time"/><t:EndTimeZone Id="Central European Standard Time"/>'

t.test('a series with deleted and edited occurrences travels both ways as exceptions', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const weekly = (await alice('/api/v1/appointments', { method: 'POST', json: {
    title: 'Weekly review', start: '2026-12-07T09:00:00Z', end: '2026-12-07T10:00:00Z', timezone: 'Europe/Warsaw', rrule: 'FREQ=WEEKLY;COUNT=6', exdates: ['2026-12-21T09:00:00Z']
  } })).body_ as Appt
  await w.connect('alice')
  t.equal((await w.run('alice')).state, 'ok')
  const [master] = w.items('alice')
  t.ok(master !== undefined && 'Recurrence' in master.props, 'a recurring master in Exchange')
  t.same(master?.deletedOccurrences, ['2026-12-21T09:00:00Z'], 'the EXDATE is a deleted occurrence')

  // in Outlook: one occurrence moved, another deleted
  w.em.userModifyOccurrence(master!.id, '2026-12-14T09:00:00Z', '<t:Subject>Weekly review (moved)</t:Subject><t:Start>2026-12-14T13:00:00Z</t:Start><t:End>2026-12-14T14:00:00Z</t:End>')
  w.em.userDeleteOccurrence(master!.id, '2027-01-04T09:00:00Z')
  const back = await w.run('alice')
  t.equal(back.in, 1)
  const crm = (await alice(`/api/v1/appointments/${weekly.id}`)).body_ as Appt
  t.equal(crm.rrule, 'FREQ=WEEKLY;COUNT=6', 'still one recurring appointment, its rule without the weekday its start gives (the same occurrences)')
  t.same(crm.exdates.map(d => new Date(d).toISOString()).sort(), ['2026-12-21T09:00:00.000Z', '2027-01-04T09:00:00.000Z'])
  const stored = await w.s.k.db.selectFrom('calendar_objects').select(['ical', 'name', 'calendar_id']).where('item_kind', '=', 'appointment').where('item_id', '=', weekly.id).executeTakeFirstOrThrow()
  t.match(stored.ical, /RECURRENCE-ID;TZID=Europe\/Warsaw:20261214T100000/, 'the moved occurrence is an exception in the CRM')
  t.match(stored.ical, /SUMMARY:Weekly review \(moved\)/)
  const quiet = await w.run('alice')
  t.same([quiet.in, quiet.out], [0, 0], 'settled: no echo of the exceptions')

  // in the CRM: a phone edits another occurrence over CalDAV
  const putStatus = await shortenDec28OverCalDav(w.s, 'alice', weekly.uid, stored)
  t.ok(putStatus === 204 || putStatus === 201, `PUT ${putStatus}`)
  t.equal((await w.run('alice')).out, 1)
  const after = w.em.item(master!.id)
  const exceptions = after.exceptions.map(id => w.em.item(id).props)
  t.same(exceptions.map(p => p.Subject).sort(), ['Weekly review (moved)', 'Weekly review (short)'], 'Exchange holds both edited occurrences')
  t.equal(exceptions.find(p => p.Subject === 'Weekly review (short)')?.Start, '2026-12-28T07:00:00Z')
  t.equal(w.items('alice').length, 1, 'still one series in Exchange')
  t.same((await w.run('alice')).in, 0, 'no echo')
  t.same(w.em.sentMail(), [])
})

t.test('all-day items as dates, and a series across the end of summer time keeps its wall time', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Christmas Eve', allDay: true, start: '2026-12-24', end: '2026-12-25' } })
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', `<t:Subject>New Year's Eve</t:Subject><t:Start>2026-12-31T00:00:00</t:Start><t:End>2027-01-01T00:00:00</t:End><t:IsAllDayEvent>true</t:IsAllDayEvent>${WARSAW}`)
  // 09:00 in Warsaw every Monday from 19 October: 07:00Z before 25 October, 08:00Z after
  const series = w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', `<t:Subject>Standup</t:Subject><t:Start>2026-10-19T09:00:00</t:Start><t:End>2026-10-19T09:15:00</t:End><t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2026-10-19</t:StartDate><t:NumberOfOccurrences>4</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>${WARSAW}`)
  await w.connect('alice', undefined, { startDate: '2026-10-01' })
  t.equal((await w.run('alice')).state, 'ok')
  const eve = w.items('alice').find(i => i.props.Subject === 'Christmas Eve')
  t.equal(eve?.props.IsAllDayEvent, 'true')
  t.equal(eve?.props.Start, '2026-12-23T23:00:00Z', 'midnight in the user\'s zone')
  t.equal(eve?.props.End, '2026-12-24T23:00:00Z')
  const list = ((await alice('/api/v1/appointments?from=2026-10-01T00:00:00Z&to=2027-02-01T00:00:00Z')).body_ as { items: Appt[] }).items
  const nye = list.find(a => a.title === 'New Year\'s Eve')
  t.same([nye?.allDay, nye?.start, nye?.end], [true, '2026-12-31', '2027-01-01'], 'an Outlook all-day item is a CRM all-day item')
  const standup = list.find(a => a.title === 'Standup')
  t.equal(standup?.rrule, 'FREQ=WEEKLY;COUNT=4')
  t.equal(standup?.timezone, 'Europe/Warsaw')
  t.equal(new Date(standup!.start).toISOString(), '2026-10-19T07:00:00.000Z')
  // the occurrence after the change, deleted in Outlook, is named by its own instant
  w.em.userDeleteOccurrence(series, '2026-11-02T08:00:00Z')
  await w.run('alice')
  const after = (await alice(`/api/v1/appointments/${standup!.id}`)).body_ as Appt
  t.same(after.exdates.map(d => new Date(d).toISOString()), ['2026-11-02T08:00:00.000Z'], '09:00 Warsaw after summer time is 08:00Z')
  t.same((await w.run('alice')), { state: 'ok', in: 0, out: 0, rerun: false }, 'settled')
})

t.test('a repeat rule Exchange cannot hold stays whole in the CRM and is logged, never flattened', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const made = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Payroll', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timezone: 'Europe/Warsaw', rrule: 'FREQ=MONTHLY;BYMONTHDAY=1,15' } })).body_ as Appt
  await w.connect('alice')
  t.equal((await w.run('alice')).state, 'ok', 'the rest of the sync goes on')
  t.same(w.items('alice'), [], 'no flattened copy in Exchange')
  t.equal(((await alice(`/api/v1/appointments/${made.id}`)).body_ as Appt).rrule, 'FREQ=MONTHLY;BYMONTHDAY=1,15', 'the CRM keeps the rule')
  const conn = await w.connection('alice')
  const errors = async () => syncDb(w.s.k.db).selectFrom('sync_log').select('message').where('connection_id', '=', conn.id).where('action', '=', 'error').execute()
  const first = await errors()
  t.equal(first.length, 1)
  t.match(first[0]?.message, /"Payroll" kept in the CRM only.*Exchange cannot hold the repeat rule FREQ=MONTHLY;BYMONTHDAY=1,15/)
  await w.run('alice')
  t.equal((await errors()).length, 1, 'said once, not on every run')
  await alice(`/api/v1/appointments/${made.id}`, { method: 'PATCH', json: { rrule: 'FREQ=MONTHLY;BYMONTHDAY=1' } })
  await w.run('alice')
  t.equal(w.items('alice').length, 1, 'once expressible, it goes out')
  t.ok('Recurrence' in (w.items('alice')[0]?.props ?? {}), 'as a series')
})

t.test('tasks both ways: due date, completion, edits, deletes', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const crmTask = (await alice('/api/v1/tasks', { method: 'POST', json: { title: 'Prepare the file', due: '2026-12-09T12:00:00Z' } })).body_ as { id: number }
  const outlookTask = w.em.userCreate(w.email('alice'), 'tasks', 'Task', '<t:Subject>Call the client</t:Subject><t:DueDate>2026-12-10T23:00:00Z</t:DueDate>')
  await w.connect('alice')
  const first = await w.run('alice')
  t.same([first.state, first.in, first.out], ['ok', 1, 1])
  const copy = w.items('alice', 'tasks').find(x => x.props.Subject === 'Prepare the file')
  t.equal(copy?.props.DueDate, '2026-12-09T00:00:00Z')
  type TaskView = { id: number; title: string; due: string | null; status: string }
  const tasks = async () => ((await alice('/api/v1/tasks')).body_ as { items: TaskView[] }).items
  const call = (await tasks()).find(x => x.title === 'Call the client')
  t.ok(call, 'the Outlook task is a CRM task')
  t.equal(new Date(call!.due!).toISOString(), '2026-12-10T23:00:00.000Z', 'due on 11 December, Warsaw midnight')

  w.em.userUpdate(outlookTask, '<t:Status>Completed</t:Status>')
  await w.run('alice')
  t.equal((await tasks()).find(x => x.id === call!.id)?.status, 'done', 'completed in Outlook: done in the CRM')
  await alice(`/api/v1/tasks/${crmTask.id}`, { method: 'PATCH', json: { status: 'done' } })
  await w.run('alice')
  t.equal(w.em.item(copy!.id).props.Status, 'Completed', 'done in the CRM: completed in Exchange')
  t.same((await w.run('alice')), { state: 'ok', in: 0, out: 0, rerun: false }, 'settled')

  await alice(`/api/v1/tasks/${crmTask.id}`, { method: 'DELETE' })
  w.em.userDelete(outlookTask)
  await w.run('alice')
  t.same(w.items('alice', 'tasks'), [], 'deleted in the CRM: gone from Exchange')
  t.equal((await tasks()).some(x => x.id === call!.id), false, 'deleted in Outlook: gone from the CRM')
})
