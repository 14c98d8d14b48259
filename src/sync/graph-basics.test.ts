import t from 'tap'
import { startGraphWorld } from './testing-graph.ts'

const WARSAW = 'Central European Standard Time'

t.test('Microsoft 365 both ways: calendar and To Do, edits, echoes, deletes, no attendee mail', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const made = await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Board meeting', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timezone: 'Europe/Warsaw', description: 'Agenda in the shared folder' } })
  t.equal(made.status, 201)
  const apptId = (made.body_ as { id: number }).id
  const task = await alice('/api/v1/tasks', { method: 'POST', json: { title: 'Send the contract', due: '2026-12-03T15:00:00Z' } })
  t.equal(task.status, 201, JSON.stringify(task.body_))
  const taskId = (task.body_ as { id: number }).id
  const lunch = await w.api('alice', 'POST', '/me/events', {
    subject: 'Lunch with Bob', body: { contentType: 'text', content: 'Bring the figures' },
    start: { dateTime: '2026-12-02T12:00:00', timeZone: WARSAW }, end: { dateTime: '2026-12-02T13:00:00', timeZone: WARSAW }, location: { displayName: 'Canteen' }
  })
  t.equal(lunch.status, 201)
  const lists = (await w.api('alice', 'GET', '/me/todo/lists')).body.value as { id: string; wellknownListName: string }[]
  const listId = lists.find(l => l.wellknownListName === 'defaultList')!.id
  const call = await w.api('alice', 'POST', `/me/todo/lists/${listId}/tasks`, { title: 'Call the notary', dueDateTime: { dateTime: '2026-12-04T00:00:00', timeZone: 'UTC' } })
  t.equal(call.status, 201)

  await w.connect('alice')
  const conn = await w.connection('alice')
  t.equal(conn.provider, 'graph')
  t.equal(conn.account, w.email('alice'))
  t.notOk(w.s.k.secrets.open(conn.credentials_sealed!).includes('Board'), 'the sealed credentials are MSAL\'s token cache')
  const first = await w.run('alice')
  t.equal(first.state, 'ok', first.reason ?? 'first run')
  t.same([first.in, first.out], [2, 2], 'one appointment and one task each way')

  const events = await w.events('alice')
  const board = events.find(e => e.subject === 'Board meeting')
  t.ok(board, 'the CRM appointment is in Outlook')
  t.equal(board.start.dateTime.slice(0, 19), '2026-12-01T09:00:00', 'at its time (asked in UTC)')
  t.equal(board.originalStartTimeZone, WARSAW, 'in its zone, by its Windows name')
  t.match(board.body.content, /^Agenda in the shared folder/)
  t.same(board.singleValueExtendedProperties?.map((p: { value: string }) => p.value), [`appointment:${apptId}`], 'a hidden link to the CRM item')
  t.match(board.transactionId, /^kalends-/, 'created with a transactionId')
  t.same(board.attendees, [], 'no attendees')

  const list = (await alice('/api/v1/appointments?from=2026-11-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: { id: number; title: string; start: string; location: string; timezone: string; description: string }[] }
  const crmLunch = list.items.find(a => a.title === 'Lunch with Bob')
  t.ok(crmLunch, 'the Outlook event is a CRM appointment')
  t.equal(new Date(crmLunch!.start).toISOString(), '2026-12-02T11:00:00.000Z', 'wall time in its zone, as an instant')
  t.equal(crmLunch!.timezone, 'Europe/Warsaw', 'the Windows zone read as IANA')
  t.equal(crmLunch!.location, 'Canteen')
  t.equal(crmLunch!.description, 'Bring the figures')

  const todo = await w.todo('alice')
  const contract = todo.find((x: { title: string }) => x.title === 'Send the contract')
  t.ok(contract, 'the CRM task is in To Do')
  t.equal(contract.dueDateTime.dateTime.slice(0, 10), '2026-12-03', 'due on its day')
  const tasks = (await alice('/api/v1/tasks')).body_ as { items: { id: number; title: string; due: string | null }[] }
  const notary = tasks.items.find(x => x.title === 'Call the notary')
  t.ok(notary, 'the To Do task is a CRM task')

  const echo = await w.run('alice')
  t.same([echo.in, echo.out], [0, 0], 'no echo either way')

  // edited in Outlook and To Do
  await w.api('alice', 'PATCH', `/me/events/${lunch.body.id}`, { subject: 'Lunch with Bob and Carol' })
  await w.api('alice', 'PATCH', `/me/todo/lists/${listId}/tasks/${contract.id}`, { status: 'completed' })
  const editIn = await w.run('alice')
  t.equal(editIn.in, 2, editIn.reason ?? 'edits in')
  t.equal(((await alice(`/api/v1/appointments/${crmLunch!.id}`)).body_ as { title: string }).title, 'Lunch with Bob and Carol')
  t.equal(((await alice(`/api/v1/tasks/${taskId}`)).body_ as { status: string }).status, 'done', 'completed in To Do: done in the CRM')

  // edited in the CRM
  await alice(`/api/v1/appointments/${apptId}`, { method: 'PATCH', json: { title: 'Board meeting (moved)', start: '2026-12-01T11:00:00Z', end: '2026-12-01T12:00:00Z' } })
  const editOut = await w.run('alice')
  t.equal(editOut.out, 1, editOut.reason ?? 'edit out')
  const moved = (await w.api('alice', 'GET', `/me/events/${board.id}`)).body
  t.equal(moved.subject, 'Board meeting (moved)')
  t.equal(moved.start.dateTime.slice(0, 19), '2026-12-01T11:00:00')
  t.same((await w.run('alice')).in, 0, 'our own write is not read back as a change')

  // deleted in Outlook, then in the CRM
  await w.api('alice', 'DELETE', `/me/events/${lunch.body.id}`)
  await w.run('alice')
  t.equal((await alice(`/api/v1/appointments/${crmLunch!.id}`)).status, 404, 'deleted in Outlook: gone in the CRM')
  await alice(`/api/v1/appointments/${apptId}`, { method: 'DELETE' })
  await w.run('alice')
  t.equal((await w.api('alice', 'GET', `/me/events/${board.id}`)).status, 404, 'deleted in the CRM: gone in Outlook')
  t.same(w.g.sentMail(), [], 'no mail sent to anyone')
})

t.test('a first sync sends new events in JSON $batches of 20', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  for (let i = 0; i < 45; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0')
    await alice('/api/v1/appointments', { method: 'POST', json: { title: `Visit ${i}`, start: `2026-12-${day}T09:00:00Z`, end: `2026-12-${day}T10:00:00Z` } })
  }
  await w.connect('alice', { tasks: false })
  const before = w.calls.length
  const run = await w.run('alice')
  t.equal(run.state, 'ok', run.reason ?? 'first run')
  t.equal(run.out, 45)
  const calls = w.calls.slice(before)
  t.equal(calls.filter(c => c === 'POST /{user}/events').length, 0, 'no event created on its own')
  t.equal(calls.filter(c => c === 'POST /$batch').length, 3, 'three batches: 20, 20 and 5')
  const events = await w.events('alice')
  t.equal(events.length, 45, 'each once')
  t.equal(new Set(events.map(e => e.singleValueExtendedProperties?.[0]?.value)).size, 45, 'each with its own CRM id')
  const again = await w.run('alice')
  t.same([again.in, again.out], [0, 0], 'nothing echoed')
})
