import t from 'tap'
import { providerContext } from './engine.ts'
import type { EventData } from './items.ts'
import { startGraphWorld, type GraphWorld } from './testing-graph.ts'

// The per-person copies and reassignment rules run for every provider in sync-rules.test.ts; this is Microsoft 365's own meeting case.
type Appt = { id: number; title: string; participantIds: number[] }

async function runAll (w: GraphWorld, logins: string[]): Promise<void> {
  // two rounds: a change one connection brings in reaches the others' copies on the next
  for (let round = 0; round < 2; round++) {
    for (const l of logins) {
      const run = await w.run(l)
      if (run.state !== 'ok') throw new Error(`${l}: ${run.reason ?? run.state}`)
    }
  }
}

t.test('a meeting made in Outlook with a colleague: one CRM appointment with the colleague taking part, and the invitation Exchange put in the colleague\'s calendar is matched by its iCalUId, not duplicated', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  await w.connect('alice')
  await w.connect('bob')
  const made = await w.api('alice', 'POST', '/me/events', {
    subject: 'Planning', start: { dateTime: '2026-12-10T10:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-10T11:00:00', timeZone: 'UTC' },
    attendees: [{ emailAddress: { address: w.email('bob'), name: 'bob' }, type: 'required' }, { emailAddress: { address: 'someone@elsewhere.test' }, type: 'optional' }]
  })
  t.equal(made.status, 201)
  const invitation = w.g.deliverInvitation(made.body.id, w.email('bob'))
  t.equal(invitation.iCalUId, made.body.iCalUId)
  await runAll(w, ['alice', 'bob'])
  const list = (await w.s.as('alice')('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: Appt[] }
  const planning = list.items.filter(a => a.title === 'Planning')
  t.equal(planning.length, 1, 'one CRM appointment')
  t.same(planning[0]!.participantIds, [w.s.users.bob!.id], 'bob, a CRM user among the attendees, takes part')
  const bobs = (await w.events('bob')).filter(e => e.subject === 'Planning')
  t.equal(bobs.length, 1, 'bob\'s invitation copy was matched, not duplicated')
  t.equal(bobs[0].id, invitation.id, 'it is the invitation itself')
  t.equal((await w.events('alice')).filter(e => e.subject === 'Planning').length, 1)
})

t.test('the provider looks up a participant\'s copy by iCalUId before it creates: the invitation is taken, nothing is made; without a copy (or without the look-up) an event is made', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  await w.connect('bob', { tasks: false })
  const conn = await w.connection('bob')
  const session = await w.s.k.sync.engine.providers.get('graph')!.open(conn, providerContext(w.s.k.sync.engine, conn))
  const events = session.collections.find(c => c.kind === 'appointment')!
  const made = await w.api('alice', 'POST', '/me/events', {
    subject: 'Planning', start: { dateTime: '2026-12-10T10:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-10T11:00:00', timeZone: 'UTC' },
    attendees: [{ emailAddress: { address: w.email('bob') }, type: 'required' }]
  })
  // the CRM's appointment, whose UID came from alice's Outlook
  const data: EventData = { title: 'Planning', description: '', location: '', allDay: false, start: '2026-12-10T10:00:00.000Z', end: '2026-12-10T11:00:00.000Z', timezone: 'UTC', rrule: null, exdates: [], status: 'confirmed', private: false, busy: true, overrides: [] }
  const ref = { kind: 'appointment' as const, id: 4711, uid: made.body.iCalUId as string }
  const nothingYet = await events.create({ ...data, title: 'Before the invitation' }, { ...ref, id: 4712, uid: `${ref.uid}'quote` }, [], { lookupUid: true, mayExist: false })
  t.ok(nothingYet.remoteId, 'no copy of that UID: created (a quote in the UID is a valid filter)')
  const invitation = w.g.deliverInvitation(made.body.id, w.email('bob'))
  const found = await events.create(data, ref, [], { lookupUid: true, mayExist: false })
  t.equal(found.remoteId, invitation.id, 'the invitation is the copy')
  t.equal(found.uid, made.body.iCalUId)
  t.same((await w.events('bob')).map(e => e.subject).sort(), ['Before the invitation', 'Planning'], 'no second Planning')
  const duplicate = await events.create(data, { ...ref, id: 4713 }, [], { lookupUid: false, mayExist: false })
  t.not(duplicate.remoteId, invitation.id, 'without the look-up a second event is made')
  t.equal((await w.events('bob')).filter(e => e.subject === 'Planning').length, 2)
})
