import t from 'tap'
import { syncDb } from './tables.ts'
import { startSyncWorld } from './testing.ts'

t.test('both ways: CRM to Google, Google to CRM, edits, echoes, deletes', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const made = await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Board meeting', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timezone: 'Europe/Warsaw', description: 'Agenda in the shared folder' } })
  t.equal(made.status, 201)
  const apptId = (made.body_ as { id: number }).id

  await w.connect('alice')
  const first = await w.run('alice')
  t.equal(first.state, 'ok', first.reason ?? 'first run')
  let events = await w.events('alice')
  t.equal(events.length, 1, 'the CRM appointment is in Google')
  t.equal(events[0]!.summary, 'Board meeting')
  t.equal(events[0]!.description, 'Agenda in the shared folder')
  t.equal(new Date(events[0]!.start!.dateTime!).toISOString(), '2026-12-01T09:00:00.000Z')
  t.equal(events[0]!.start!.timeZone, 'Europe/Warsaw')
  t.equal(events[0]!.extendedProperties?.private?.kalendsItem, `appointment:${apptId}`, 'a hidden link to the CRM item')
  t.match(events[0]!.id, /^kal[0-9a-v]+$/, 'a client-chosen id derived from the CRM item')
  t.same(w.g.sendUpdates().map(r => r.sendUpdates).filter(v => v !== 'none'), [], 'nobody is e-mailed')

  // made in Google
  const cal = w.calendar('alice')
  const inserted = (await cal.events.insert({ calendarId: 'primary', requestBody: { summary: 'Lunch with Bob', start: { dateTime: '2026-12-02T12:00:00+01:00', timeZone: 'Europe/Warsaw' }, end: { dateTime: '2026-12-02T13:00:00+01:00', timeZone: 'Europe/Warsaw' } } })).data
  const second = await w.run('alice')
  t.equal(second.in, 1, 'one item in')
  let list = (await alice('/api/v1/appointments?from=2026-11-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: { id: number; title: string; caseId: number | null; start: string }[] }
  const lunch = list.items.find(a => a.title === 'Lunch with Bob')
  t.ok(lunch, 'the Google event is a CRM appointment')
  t.equal(lunch!.caseId, null, 'imported items have no case')
  t.equal(new Date(lunch!.start).toISOString(), '2026-12-02T11:00:00.000Z')

  // nothing changed: a run writes nothing anywhere
  w.g.resetCalls()
  const quiet = await w.run('alice')
  t.same([quiet.in, quiet.out], [0, 0], 'no echo either way')
  const writes = Object.entries(w.g.calls().byRoute).filter(([k]) => !k.startsWith('GET'))
  t.same(writes, [], 'no writes to Google when nothing changed')

  // a run started by a push or a CRM change within the task poll interval: one list call, of events
  w.g.resetCalls()
  await w.run('alice', {})
  t.same(w.g.calls().byRoute, { 'GET /calendar/v3/calendars/{calendarId}/events': 1 }, 'one incremental list call when nothing else changed; tasks wait for their poll')
  await w.tasks('alice').tasks.insert({ tasklist: '@default', requestBody: { title: 'Polled task' } })
  await w.run('alice', {})
  t.notOk(((await alice('/api/v1/tasks')).body_ as { items: { title: string }[] }).items.some(x => x.title === 'Polled task'), 'Tasks has no push: not read before its poll is due')
  const polled = await w.connection('alice')
  await syncDb(w.s.k.db).updateTable('sync_connections').set({
    options: JSON.stringify({ ...polled.options, pollMinutes: 1 }),
    cursors: JSON.stringify({ ...polled.cursors, 'tasks.listedAt': new Date(Date.now() - 61_000).toISOString() })
  }).execute()
  await w.run('alice', {})
  t.ok(((await alice('/api/v1/tasks')).body_ as { items: { title: string }[] }).items.some(x => x.title === 'Polled task'), 'read once the poll interval has passed')

  // edited in Google
  await cal.events.patch({ calendarId: 'primary', eventId: inserted.id!, requestBody: { summary: 'Lunch with Bob and Carol', location: 'Canteen' } })
  await w.run('alice')
  const edited = (await alice(`/api/v1/appointments/${lunch!.id}`)).body_ as { title: string; location: string }
  t.equal(edited.title, 'Lunch with Bob and Carol')
  t.equal(edited.location, 'Canteen')

  // edited in the CRM
  await alice(`/api/v1/appointments/${apptId}`, { method: 'PATCH', json: { title: 'Board meeting (moved)', start: '2026-12-01T11:00:00Z', end: '2026-12-01T12:00:00Z' } })
  const out = await w.run('alice')
  t.equal(out.out, 1)
  events = await w.events('alice')
  const board = events.find(e => e.extendedProperties?.private?.kalendsItem === `appointment:${apptId}`)
  t.equal(board?.summary, 'Board meeting (moved)')
  t.equal(new Date(board!.start!.dateTime!).toISOString(), '2026-12-01T11:00:00.000Z')

  // deleted in Google, then in the CRM
  await cal.events.delete({ calendarId: 'primary', eventId: inserted.id! })
  await w.run('alice')
  t.equal((await alice(`/api/v1/appointments/${lunch!.id}`)).status, 404, 'deleted in Google: gone in the CRM')
  await alice(`/api/v1/appointments/${apptId}`, { method: 'DELETE' })
  await w.run('alice')
  events = await w.events('alice')
  t.same(events.map(e => e.summary), [], 'deleted in the CRM: gone in Google')

  const conn = await w.connection('alice')
  t.equal(conn.state, 'ok')
  t.ok(conn.last_success_at !== null)
  t.ok(conn.items_in >= 3 && conn.items_out >= 3, `counts in ${conn.items_in} out ${conn.items_out}`)
})
