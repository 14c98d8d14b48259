import t from 'tap'
import { updateOptions } from './connections.ts'
import { providerContext } from './engine.ts'
import { syncDb } from './tables.ts'
import { startEwsWorld } from './testing-ews.ts'

const WARSAW = '<t:StartTimeZone Id="Central European Standard Time"/><t:EndTimeZone Id="Central European Standard Time"/>'

t.test('Exchange both ways: first import, edits, echoes, deletes, no mail', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const made = await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Board meeting', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timezone: 'Europe/Warsaw', description: 'Agenda in the shared folder' } })
  t.equal(made.status, 201)
  const apptId = (made.body_ as { id: number }).id
  const inOutlook = w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', `<t:Subject>Lunch with Bob</t:Subject><t:Body BodyType="Text">Bring the figures</t:Body><t:Start>2026-12-02T12:00:00</t:Start><t:End>2026-12-02T13:00:00</t:End><t:Location>Canteen</t:Location>${WARSAW}`)

  await w.connect('alice')
  const first = await w.run('alice')
  t.equal(first.state, 'ok', first.reason ?? 'first run')
  t.same([first.in, first.out], [1, 1], 'one item each way')
  const board = w.items('alice').find(i => i.props.Subject === 'Board meeting')
  t.ok(board, 'the CRM appointment is in Exchange')
  t.equal(board?.props.Start, '2026-12-01T09:00:00Z')
  t.equal(board?.props.Body, 'Agenda in the shared folder')
  t.same(board?.extended.map(e => e.value), [`appointment:${apptId}`], 'a hidden link to the CRM item')
  const list = (await alice('/api/v1/appointments?from=2026-11-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: { id: number; title: string; start: string; location: string; timezone: string; description: string }[] }
  const lunch = list.items.find(a => a.title === 'Lunch with Bob')
  t.ok(lunch, 'the Outlook item is a CRM appointment')
  t.equal(new Date(lunch!.start).toISOString(), '2026-12-02T11:00:00.000Z', 'wall time in its zone, as an instant')
  t.equal(lunch!.timezone, 'Europe/Warsaw', 'the Windows zone read as IANA')
  t.equal(lunch!.location, 'Canteen')
  t.equal(lunch!.description, 'Bring the figures')

  // nothing changed: our own writes come back once (read, recognised, skipped), then one SyncFolderItems per folder
  const echo = await w.run('alice')
  t.same([echo.in, echo.out], [0, 0], 'no echo either way')
  const before = w.em.calls().length
  const quiet = await w.run('alice')
  t.same([quiet.in, quiet.out], [0, 0])
  t.same(w.em.calls().slice(before), ['SyncFolderItems', 'SyncFolderItems'], 'an idle run is one request per folder')

  // edited in Outlook
  w.em.userUpdate(inOutlook, '<t:Subject>Lunch with Bob and Carol</t:Subject>')
  const editIn = await w.run('alice')
  t.equal(editIn.in, 1)
  t.equal(((await alice(`/api/v1/appointments/${lunch!.id}`)).body_ as { title: string }).title, 'Lunch with Bob and Carol')

  // edited in the CRM
  await alice(`/api/v1/appointments/${apptId}`, { method: 'PATCH', json: { title: 'Board meeting (moved)', start: '2026-12-01T11:00:00Z', end: '2026-12-01T12:00:00Z' } })
  const editOut = await w.run('alice')
  t.equal(editOut.out, 1)
  t.equal(w.em.item(board!.id).props.Subject, 'Board meeting (moved)')
  t.equal(w.em.item(board!.id).props.Start, '2026-12-01T11:00:00Z')
  t.same((await w.run('alice')).in, 0, 'our own write is not read back as a change')

  // deleted in Outlook, then in the CRM
  w.em.userDelete(inOutlook)
  await w.run('alice')
  t.equal((await alice(`/api/v1/appointments/${lunch!.id}`)).status, 404, 'deleted in Exchange: gone in the CRM')
  await alice(`/api/v1/appointments/${apptId}`, { method: 'DELETE' })
  await w.run('alice')
  t.same(w.items('alice'), [], 'deleted in the CRM: gone from the calendar')

  const conn = await w.connection('alice')
  t.equal(conn.state, 'ok')
  t.equal(conn.auth_kind, 'password')
  t.same(w.em.sentMail(), [], 'nobody is e-mailed')
  const log = await syncDb(w.s.k.db).selectFrom('sync_log').select(['action', 'message']).where('connection_id', '=', conn.id).where('action', '=', 'error').execute()
  t.same(log, [], 'no errors logged')
})

t.test('a stale ChangeKey is ErrorIrresolvableConflict under NeverOverwrite: the item is read again and the CRM version written over the fresh one', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const made = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Review', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })).body_ as { id: number }
  await w.connect('alice')
  await w.run('alice')
  await w.run('alice') // reads our own create back (and its ChangeKey): settled
  const [copy] = w.items('alice')
  // the ChangeKey we hold is no longer Exchange's: an Outlook write whose change we have not listed yet
  const conn = await w.connection('alice')
  await syncDb(w.s.k.db).updateTable('sync_links').set({ remote_etag: 'c3RhbGVDaGFuZ2VLZXk=' }).where('connection_id', '=', conn.id).execute()
  await alice(`/api/v1/appointments/${made.id}`, { method: 'PATCH', json: { title: 'Review (CRM)' } })
  const before = w.em.calls().length
  const res = await w.run('alice')
  t.equal(res.state, 'ok', res.reason ?? 'run')
  t.equal(w.em.item(copy!.id).props.Subject, 'Review (CRM)', 'written after reading the item again')
  t.same(w.em.calls().slice(before).filter(c => c === 'UpdateItem').length, 2, 'refused once with the stale ChangeKey, then written with the fresh one')
})

t.test('the folders to choose from (FindFolder Deep), and a chosen sub-calendar is the one synced', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  const team = w.em.addFolder(w.email('alice'), 'calendar', 'Team')
  w.em.addFolder(w.email('alice'), 'tasks', 'Errands', 'IPF.Task')
  await w.connect('alice')
  const conn = await w.connection('alice')
  const provider = w.s.k.sync.engine.providers.get('exchange')!
  const choices = await provider.choices!(conn, providerContext(w.s.k.sync.engine, conn))
  t.same(choices.calendars.map(c => c.name), ['Calendar', 'Team'])
  t.same(choices.taskLists.map(c => c.name), ['Tasks', 'Errands'])
  await updateOptions(w.s.k.db, w.s.users.alice!, conn.id, { calendarId: choices.calendars[1]!.id })
  await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Team day', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })
  t.equal((await w.run('alice')).state, 'ok')
  t.same(w.items('alice'), [], 'not in the default calendar')
  t.same(w.em.items(w.email('alice'), team).map(id => w.em.item(id).props.Subject), ['Team day'], 'in the chosen one')
})
