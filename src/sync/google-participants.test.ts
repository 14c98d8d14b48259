import t from 'tap'

// The per-person copies and reassignment rules run for every provider in sync-rules.test.ts; this is Google's own meeting case.
import { startSyncWorld, type SyncWorld } from './testing.ts'

type Appt = { id: number; title: string; ownerId: number; participantIds: number[] }

async function runAll (w: SyncWorld, logins: string[]): Promise<void> {
  // two rounds: a change one connection brings in reaches the others' copies on the next
  for (let round = 0; round < 2; round++) for (const l of logins) await w.run(l)
}

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
