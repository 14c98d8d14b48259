import t from 'tap'
import { startServer } from '../testing/harness.ts'

// PRODUCT.md "Participants": one copy per person's calendar, edits reach every
// copy, the owner's delete removes all, a participant's only theirs.
const s = await startServer({ users: ['alice', 'bob', 'carol', 'dave'] })
t.teardown(() => s.close())
const [alice, bob, carol] = [s.as('alice'), s.as('bob'), s.as('carol')]
const id = (login: string) => s.users[login]!.id

async function copies (appointmentId: number) {
  const rows = await s.k.db.selectFrom('calendar_objects').innerJoin('calendars', 'calendars.id', 'calendar_objects.calendar_id')
    .select(['calendars.owner_id', 'calendar_objects.ical', 'calendar_objects.uid'])
    .where('item_kind', '=', 'appointment').where('item_id', '=', appointmentId).execute()
  return new Map(rows.map(r => [r.owner_id, r]))
}

async function meeting (title = 'Kick-off') {
  const res = await alice('/api/v1/appointments', {
    method: 'POST',
    json: { title, start: '2026-05-04T10:00:00+02:00', end: '2026-05-04T11:00:00+02:00', timezone: 'Europe/Warsaw', participantIds: [id('bob'), id('carol')] }
  })
  t.equal(res.status, 201)
  return res.body_ as { id: number; uid: string }
}

t.test('an appointment with participants appears in each participant\'s calendar', async t => {
  const m = await meeting()
  const c = await copies(m.id)
  t.same([...c.keys()].sort(), [id('alice'), id('bob'), id('carol')].sort(), 'one copy per person')
  for (const copy of c.values()) {
    t.equal(copy.uid, m.uid, 'same UID in every calendar')
    t.match(copy.ical, /SUMMARY:Kick-off/)
    t.notMatch(copy.ical, /ATTENDEE/, 'no attendees: nobody gets invitation mail')
  }
  for (const who of [bob, carol]) {
    const list = await who('/api/v1/appointments?from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z')
    t.ok((list.body_ as { items: { id: number }[] }).items.some(a => a.id === m.id), 'listed for the participant')
  }
  const dave = await s.as('dave')(`/api/v1/appointments/${m.id}`)
  t.equal(dave.status, 404, 'not visible to someone outside it')
})

t.test('owner and participant edits apply to every copy', async t => {
  const m = await meeting('Planning')
  t.equal((await alice(`/api/v1/appointments/${m.id}`, { method: 'PATCH', json: { title: 'Planning (moved)', location: 'Room 2' } })).status, 200)
  for (const copy of (await copies(m.id)).values()) t.match(copy.ical, /SUMMARY:Planning \(moved\)/)
  t.equal((await bob(`/api/v1/appointments/${m.id}`, { method: 'PATCH', json: { location: 'Room 3' } })).status, 200)
  for (const copy of (await copies(m.id)).values()) t.match(copy.ical, /LOCATION:Room 3/)
})

t.test('a participant who deletes leaves; the owner who deletes removes it for all', async t => {
  const m = await meeting('Review')
  const left = await bob(`/api/v1/appointments/${m.id}`, { method: 'DELETE' })
  t.equal(left.status, 200)
  t.same(left.body_, { result: 'left' })
  const after = await copies(m.id)
  t.notOk(after.has(id('bob')), 'bob\'s copy is gone')
  t.ok(after.has(id('alice')) && after.has(id('carol')), 'the others keep theirs')
  t.same((await alice(`/api/v1/appointments/${m.id}`)).body_ && ((await alice(`/api/v1/appointments/${m.id}`)).body_ as { participantIds: number[] }).participantIds, [id('carol')])
  t.equal((await bob(`/api/v1/appointments/${m.id}`)).status, 404, 'bob no longer sees it')
  t.equal((await alice(`/api/v1/appointments/${m.id}`, { method: 'DELETE' })).status, 204)
  t.equal((await copies(m.id)).size, 0, 'every copy is gone')
  t.equal((await carol(`/api/v1/appointments/${m.id}`)).status, 404)
})

t.test('reassigning moves the appointment to the new owner\'s calendar', async t => {
  const res = await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Client call', start: '2026-05-05T09:00:00Z', end: '2026-05-05T09:30:00Z' } })
  const m = res.body_ as { id: number; calendarId: number }
  const moved = await alice(`/api/v1/appointments/${m.id}`, { method: 'PATCH', json: { ownerId: id('dave') } })
  t.equal(moved.status, 200)
  const body = moved.body_ as { ownerId: number; calendarId: number }
  t.equal(body.ownerId, id('dave'))
  t.not(body.calendarId, m.calendarId)
  t.same([...(await copies(m.id)).keys()], [id('dave')], 'only in dave\'s calendar now')
  t.equal((await alice(`/api/v1/appointments/${m.id}`)).status, 404, 'alice no longer has it')
  t.equal((await s.as('dave')(`/api/v1/appointments/${m.id}`)).status, 200)
})

t.test('reassigning a task moves it to the new assignee\'s list', async t => {
  const res = await alice('/api/v1/tasks', { method: 'POST', json: { title: 'Draft contract' } })
  const task = res.body_ as { id: number; calendarId: number; createdBy: number }
  const moved = await alice(`/api/v1/tasks/${task.id}`, { method: 'PATCH', json: { assigneeId: id('bob') } })
  t.equal(moved.status, 200)
  const body = moved.body_ as { assigneeId: number; calendarId: number; createdBy: number }
  t.equal(body.assigneeId, id('bob'))
  t.not(body.calendarId, task.calendarId)
  t.equal(body.createdBy, id('alice'), 'created by stays')
  const rows = await s.k.db.selectFrom('calendar_objects').select('calendar_id').where('item_kind', '=', 'task').where('item_id', '=', task.id).execute()
  t.same(rows.map(r => r.calendar_id), [body.calendarId])
})

t.test('a participant cannot take the appointment over, move it or change who takes part; they edit and leave', async t => {
  const m = await meeting('Board prep')
  const before = (await alice(`/api/v1/appointments/${m.id}`)).body_ as { calendarId: number }
  const copiesBefore = [...(await copies(m.id)).keys()].sort()
  const bobsCalendar = ((await bob('/api/v1/calendars')).body_ as { id: number; ownerId: number; kind: string }[]).find(c => c.ownerId === id('bob') && c.kind === 'personal')!.id
  for (const [patch, field] of [
    [{ ownerId: id('bob'), participantIds: [] }, 'ownerId'],
    [{ ownerId: id('bob') }, 'ownerId'],
    [{ participantIds: [id('bob')] }, 'participantIds'],
    [{ participantIds: [id('bob'), id('carol'), id('dave')] }, 'participantIds'],
    [{ calendarId: bobsCalendar }, 'calendarId']
  ] as const) {
    const res = await bob(`/api/v1/appointments/${m.id}`, { method: 'PATCH', json: patch })
    t.equal(res.status, 403, `${JSON.stringify(patch)}: refused`)
    t.match(res.headers.get('content-type'), /application\/problem\+json/)
    t.match(res.body_, { rule: 'organiser-only', field })
    t.match((await alice(`/api/v1/appointments/${m.id}`)).body_, { ownerId: id('alice'), calendarId: before.calendarId, participantIds: [id('bob'), id('carol')].sort(), title: 'Board prep' }, 'unchanged')
    t.same([...(await copies(m.id)).keys()].sort(), copiesBefore, 'every copy stays where it was')
  }
  const edit = await bob(`/api/v1/appointments/${m.id}`, { method: 'PATCH', json: { title: 'Board prep (slides)', participantIds: [id('carol'), id('bob')], ownerId: id('alice') } })
  t.equal(edit.status, 200, 'a participant edits the meeting; sending the same owner and participants again changes nothing')
  t.match(edit.body_, { title: 'Board prep (slides)', ownerId: id('alice') })

  // whoever may write the owner's calendar acts for the owner
  t.equal((await alice(`/api/v1/calendars/${before.calendarId}/shares/${id('dave')}`, { method: 'PUT', json: { access: 'write' } })).status, 204)
  const byWriter = await s.as('dave')(`/api/v1/appointments/${m.id}`, { method: 'PATCH', json: { participantIds: [id('carol')] } })
  t.equal(byWriter.status, 200, 'a writer of the owner\'s calendar changes who takes part')
  t.match(byWriter.body_, { participantIds: [id('carol')] })
  t.equal((await carol(`/api/v1/appointments/${m.id}`, { method: 'DELETE' })).status, 200, 'and a participant still leaves')
  t.match((await alice(`/api/v1/appointments/${m.id}`)).body_, { ownerId: id('alice'), participantIds: [] })
})
