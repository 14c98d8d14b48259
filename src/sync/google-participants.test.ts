import t from 'tap'
import { startSyncWorld, type SyncWorld } from './testing.ts'

type Appt = { id: number; title: string; ownerId: number; participantIds: number[] }

async function runAll (w: SyncWorld, logins: string[]): Promise<void> {
  // two rounds: a change one connection brings in reaches the others' copies on the next
  for (let round = 0; round < 2; round++) for (const l of logins) await w.run(l)
}

const byRef = (id: number) => (e: { extendedProperties?: { private?: Record<string, string> | null } | null }) => e.extendedProperties?.private?.kalendsItem === `appointment:${id}`

t.test('participants: one copy per person, no attendees; owner and participant edits reach every copy; a participant delete leaves, an owner delete removes all', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const { alice: a, bob: b } = w.s.users
  const made = await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Client visit', start: '2026-12-07T09:00:00Z', end: '2026-12-07T10:00:00Z', participantIds: [b!.id] } })
  const appt = made.body_ as Appt
  await w.connect('alice')
  await w.connect('bob')
  await runAll(w, ['alice', 'bob'])
  const aliceCopy = (await w.events('alice')).find(byRef(appt.id))
  const bobCopy = (await w.events('bob')).find(byRef(appt.id))
  t.equal(aliceCopy?.summary, 'Client visit', 'in the owner\'s calendar')
  t.equal(bobCopy?.summary, 'Client visit', 'in the participant\'s calendar')
  t.same([aliceCopy?.attendees ?? [], bobCopy?.attendees ?? []], [[], []], 'copies are made without attendees: nobody is invited by mail')
  t.same(w.g.sendUpdates().filter(r => r.sendUpdates !== 'none'), [], 'every write says sendUpdates=none')

  // the owner edits in Google: bob's copy follows
  await w.calendar('alice').events.patch({ calendarId: 'primary', eventId: aliceCopy!.id!, requestBody: { summary: 'Client visit (room 2)' } })
  await runAll(w, ['alice', 'bob'])
  t.equal((await w.events('bob')).find(byRef(appt.id))?.summary, 'Client visit (room 2)', 'owner edit reaches the participant')

  // the participant edits in Google: alice's copy and the CRM follow
  await w.calendar('bob').events.patch({ calendarId: 'primary', eventId: bobCopy!.id!, requestBody: { location: 'Reception' } })
  await runAll(w, ['bob', 'alice'])
  t.equal((await w.events('alice')).find(byRef(appt.id))?.location, 'Reception', 'participant edit reaches the owner')
  t.equal(((await w.s.as('alice')(`/api/v1/appointments/${appt.id}`)).body_ as { location: string }).location, 'Reception')

  // the participant deletes their copy: they leave, the meeting stays
  await w.calendar('bob').events.delete({ calendarId: 'primary', eventId: bobCopy!.id! })
  await runAll(w, ['bob', 'alice'])
  const after = (await w.s.as('alice')(`/api/v1/appointments/${appt.id}`)).body_ as Appt
  t.same(after.participantIds, [], 'bob left the meeting')
  t.ok((await w.events('alice')).find(byRef(appt.id)), 'alice keeps it')
  t.notOk((await w.events('bob')).find(byRef(appt.id) ), 'bob\'s copy stays deleted')

  // bob is invited again, then the owner deletes in Google: gone everywhere
  await w.s.as('alice')(`/api/v1/appointments/${appt.id}`, { method: 'PATCH', json: { participantIds: [b!.id] } })
  await runAll(w, ['alice', 'bob'])
  const again = (await w.events('bob')).filter(byRef(appt.id))
  t.equal(again.length, 1, 'bob has exactly one copy again (the deleted id was restored, not duplicated)')
  await w.calendar('alice').events.delete({ calendarId: 'primary', eventId: aliceCopy!.id! })
  await runAll(w, ['alice', 'bob'])
  t.equal((await w.s.as('alice')(`/api/v1/appointments/${appt.id}`)).status, 404, 'owner delete: gone from the CRM')
  t.notOk((await w.events('bob')).find(byRef(appt.id)), 'and from the participant\'s Google')
  t.equal(a!.id, (await w.connection('alice')).user_id)
})

t.test('reassignment: the appointment leaves the old owner\'s Google and appears in the new owner\'s; a task follows its assignee', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const bob = w.s.users.bob!
  const appt = (await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Handover', start: '2026-12-08T09:00:00Z', end: '2026-12-08T09:30:00Z' } })).body_ as Appt
  const task = (await w.s.as('alice')('/api/v1/tasks', { method: 'POST', json: { title: 'Prepare the file', due: '2026-12-09T12:00:00Z' } })).body_ as { id: number }
  await w.connect('alice')
  await w.connect('bob')
  await runAll(w, ['alice', 'bob'])
  t.ok((await w.events('alice')).find(byRef(appt.id)))
  t.ok((await w.googleTasks('alice')).find(x => x.title === 'Prepare the file'))

  await w.s.as('alice')(`/api/v1/appointments/${appt.id}`, { method: 'PATCH', json: { ownerId: bob.id } })
  await w.s.as('alice')(`/api/v1/tasks/${task.id}`, { method: 'PATCH', json: { assigneeId: bob.id } })
  await runAll(w, ['alice', 'bob'])
  t.notOk((await w.events('alice')).find(byRef(appt.id)), 'left the old owner\'s calendar')
  t.equal((await w.events('bob')).filter(byRef(appt.id)).length, 1, 'in the new owner\'s calendar, once')
  t.notOk((await w.googleTasks('alice')).find(x => x.title === 'Prepare the file' && x.deleted !== true), 'task left the old assignee\'s list')
  t.equal((await w.googleTasks('bob')).filter(x => x.title === 'Prepare the file').length, 1, 'task in the new assignee\'s list, once')
})

t.test('a meeting with attendees made in Google becomes one CRM appointment with the CRM users as participants, and the attendees\' invitation copies are matched, not duplicated', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  await w.connect('alice')
  await w.connect('bob')
  const ev = (await w.calendar('alice').events.insert({ calendarId: 'primary', sendUpdates: 'none', requestBody: {
    summary: 'Planning', start: { dateTime: '2026-12-10T10:00:00Z' }, end: { dateTime: '2026-12-10T11:00:00Z' },
    attendees: [{ email: 'alice@example.com', organizer: true, self: true }, { email: 'bob@example.com' }, { email: 'someone@elsewhere.test' }]
  } })).data
  // Google puts the invitation into bob's calendar with the same iCalUID
  await w.calendar('bob').events.import({ calendarId: 'primary', requestBody: { iCalUID: ev.iCalUID!, summary: 'Planning', start: { dateTime: '2026-12-10T10:00:00Z' }, end: { dateTime: '2026-12-10T11:00:00Z' }, attendees: ev.attendees } })
  await runAll(w, ['alice', 'bob'])
  const list = (await w.s.as('alice')('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: Appt[] }
  const planning = list.items.filter(a => a.title === 'Planning')
  t.equal(planning.length, 1, 'one CRM appointment')
  t.same(planning[0]!.participantIds, [w.s.users.bob!.id], 'bob, a CRM user among the attendees, takes part')
  t.equal((await w.events('bob')).filter(e => e.summary === 'Planning').length, 1, 'bob\'s invitation copy was matched, not duplicated')
  t.equal((await w.events('alice')).filter(e => e.summary === 'Planning').length, 1)
})
