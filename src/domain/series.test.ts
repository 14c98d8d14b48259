import t from 'tap'
import { startServer, type TestServer } from '../testing/harness.ts'
import { deleteOccurrence, editOccurrence, splitSeries } from './series.ts'

/**
 * One occurrence, this and following, the whole series: what is stored is
 * what a CalDAV client reads, so the tests read the stored iCalendar.
 */
let s: TestServer
t.before(async () => { s = await startServer({ users: ['alice', 'bob', 'carol'] }) })
t.teardown(async () => { await s?.close() })

const web = () => ({ user: s.users.alice!, origin: 'web' as const })
const bodyOf = async (id: number) => (await s.k.db.selectFrom('calendar_objects').select('ical').where('item_kind', '=', 'appointment').where('item_id', '=', id).executeTakeFirstOrThrow()).ical
async function weekly (title: string, rrule = 'FREQ=WEEKLY') {
  const res = await s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title, start: '2026-03-02T09:00:00+01:00', end: '2026-03-02T10:00:00+01:00', timezone: 'Europe/Warsaw', rrule, location: 'Room 1', participantIds: [s.users.bob!.id] } })
  t.equal(res.status, 201)
  return (res.body_ as { id: number }).id
}

t.test('this occurrence: an override with RECURRENCE-ID, and an EXDATE to delete one', async t => {
  const id = await weekly('Stand-up')
  await editOccurrence(s.k.db, web(), id, '2026-03-09T08:00:00Z', { start: '2026-03-09T10:00:00Z', end: '2026-03-09T11:00:00Z', title: 'Stand-up (moved)' })
  let ical = await bodyOf(id)
  t.match(ical, /RECURRENCE-ID;TZID=Europe\/Warsaw:20260309T090000/, 'the override names the original start in the series\' zone')
  t.match(ical, /DTSTART;TZID=Europe\/Warsaw:20260309T110000/)
  t.match(ical, 'SUMMARY:Stand-up (moved)')
  t.match(ical, /RRULE:FREQ=WEEKLY\r?\n/, 'the series is as it was')
  await deleteOccurrence(s.k.db, web(), id, '2026-03-16T08:00:00Z')
  ical = await bodyOf(id)
  t.match(ical, /EXDATE;TZID=Europe\/Warsaw:20260316T090000|EXDATE:20260316T080000Z/, 'the deleted one is an EXDATE')
  t.match(ical, 'RECURRENCE-ID', 'the earlier override stays')
  await deleteOccurrence(s.k.db, web(), id, '2026-03-09T08:00:00Z')
  ical = await bodyOf(id)
  t.notMatch(ical, 'RECURRENCE-ID', 'deleting an edited occurrence removes its override too')
  const inFeed = await s.as('alice')(`/api/v1/appointments/${id}`)
  t.equal(inFeed.status, 200)
})

t.test('this and following: the series ends before it and a new one starts with the change', async t => {
  const id = await weekly('Review')
  const { started } = await splitSeries(s.k.db, web(), id, '2026-03-16T08:00:00Z', { start: '2026-03-16T12:00:00Z', end: '2026-03-16T13:00:00Z' })
  const ended = await bodyOf(id)
  t.match(ended, /RRULE:FREQ=WEEKLY;UNTIL=20260316T075959Z/, 'the old series ends just before the occurrence')
  t.ok(started !== null)
  const next = await bodyOf(started!.id)
  t.match(next, /DTSTART;TZID=Europe\/Warsaw:20260316T130000/, 'the new series starts at the changed time')
  t.match(next, /RRULE:FREQ=WEEKLY\r?\n/)
  t.match(next, 'LOCATION:Room 1', 'with the same location')
  t.same(started!.participant_ids, [s.users.bob!.id], 'and the same people')
  t.notMatch(next.match(/UID:(.*)/)![1], ended.match(/UID:(.*)/)![1]!.trim(), 'a series of its own')
})

t.test('this and following carries the later edited occurrences into the new series, moved with it', async t => {
  const id = await weekly('Clinic')
  await editOccurrence(s.k.db, web(), id, '2026-03-09T08:00:00Z', { title: 'Clinic (early one)' })
  await editOccurrence(s.k.db, web(), id, '2026-03-23T08:00:00Z', { title: 'Clinic (guest)', location: 'Hall' })
  const { started } = await splitSeries(s.k.db, web(), id, '2026-03-16T08:00:00Z', { start: '2026-03-16T09:00:00Z', end: '2026-03-16T10:00:00Z' })
  const ended = await bodyOf(id)
  t.match(ended, 'SUMMARY:Clinic (early one)', 'the exception before the split stays with the old series')
  t.notMatch(ended, 'Clinic (guest)', 'the one after it leaves the old series')
  const next = await bodyOf(started!.id)
  t.match(next, /RECURRENCE-ID;TZID=Europe\/Warsaw:20260323T100000/, 'it is an exception of the new series, at its occurrence an hour later')
  t.match(next, /DTSTART;TZID=Europe\/Warsaw:20260323T100000/)
  t.match(next, 'SUMMARY:Clinic (guest)')
  t.match(next, 'LOCATION:Hall', 'with what was edited in it')
  t.notMatch(next, 'Clinic (early one)')
})

t.test('this and following with a COUNT: the new series gets what is left', async t => {
  const id = await weekly('Course', 'FREQ=WEEKLY;COUNT=5')
  const { started } = await splitSeries(s.k.db, web(), id, '2026-03-16T08:00:00Z', { title: 'Course (room 2)' })
  t.match(await bodyOf(id), /RRULE:FREQ=WEEKLY;UNTIL=20260316T075959Z/)
  t.match(await bodyOf(started!.id), /RRULE:FREQ=WEEKLY;COUNT=3/, 'two were before the split, three are left')
})

t.test('delete this and following; the first occurrence cannot be split; a single appointment has no occurrences', async t => {
  const id = await weekly('Lunch')
  const { started } = await splitSeries(s.k.db, web(), id, '2026-03-23T08:00:00Z', null)
  t.equal(started, null)
  t.match(await bodyOf(id), /UNTIL=20260323T075959Z/)
  await t.rejects(splitSeries(s.k.db, web(), id, '2026-03-02T08:00:00Z', null), { message: 'this is the first occurrence: change or delete the whole series instead' })
  const single = await s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Once', start: '2026-03-02T09:00:00+01:00', end: '2026-03-02T10:00:00+01:00' } })
  await t.rejects(deleteOccurrence(s.k.db, web(), (single.body_ as { id: number }).id, '2026-03-02T08:00:00Z'), { message: 'this appointment does not repeat' })
  await t.rejects(editOccurrence(s.k.db, { user: s.users.carol!, origin: 'web' }, id, '2026-03-09T08:00:00Z', { title: 'x' }), { message: 'appointment not found' }, 'someone who cannot see the series cannot edit one of its occurrences')
})
