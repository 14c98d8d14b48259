import t from 'tap'
import { syncDb } from './tables.ts'
import { startSyncWorld } from './testing.ts'

type Task = { id: number; status: string; actualEnd: string | null; title: string; description: string; due: string | null }

t.test('a business rule broken in Google is reverted at the source, with the reason in the log', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const task = (await alice('/api/v1/tasks', { method: 'POST', json: { title: 'File the claim', due: '2026-12-10T09:00:00Z' } })).body_ as Task
  await alice(`/api/v1/tasks/${task.id}`, { method: 'PATCH', json: { status: 'done', actualEnd: '2026-12-09T15:00:00Z' } })
  await w.connect('alice')
  await w.run('alice')
  const g = (await w.googleTasks('alice')).find(x => x.title === 'File the claim')!
  t.equal(g.status, 'completed')
  t.equal(g.due, '2026-12-10T00:00:00.000Z', 'due is a date')

  // reopening a done task would change its locked actual end
  await w.tasks('alice').tasks.patch({ tasklist: '@default', task: g.id!, requestBody: { status: 'needsAction', completed: null } })
  const r = await w.run('alice')
  t.equal(r.state, 'ok')
  const crm = (await alice(`/api/v1/tasks/${task.id}`)).body_ as Task
  t.equal(crm.status, 'done', 'the CRM keeps its state')
  t.equal(crm.actualEnd, '2026-12-09T15:00:00.000Z')
  const back = (await w.tasks('alice').tasks.get({ tasklist: '@default', task: g.id! })).data
  t.equal(back.status, 'completed', 'Google shows the task completed again')
  const log = await syncDb(w.s.k.db).selectFrom('sync_log').selectAll().where('connection_id', '=', (await w.connection('alice')).id).where('action', '=', 'reverted').execute()
  t.equal(log.length, 1, 'one revert logged')
  t.match(log[0]!.message, /actual end of a done task cannot change/, 'with the rule\'s reason')

  // and a permitted edit of the same task comes through
  await w.tasks('alice').tasks.patch({ tasklist: '@default', task: g.id!, requestBody: { title: 'File the claim (sent)' } })
  await w.run('alice')
  t.equal(((await alice(`/api/v1/tasks/${task.id}`)).body_ as Task).title, 'File the claim (sent)')
})

t.test('the first sync honours the start date; later changes come whatever their date', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Old CRM meeting', start: '2026-01-05T09:00:00Z', end: '2026-01-05T10:00:00Z' } })
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'New CRM meeting', start: '2026-12-05T09:00:00Z', end: '2026-12-05T10:00:00Z' } })
  const cal = w.calendar('alice')
  await cal.events.insert({ calendarId: 'primary', requestBody: { summary: 'Old Google meeting', start: { dateTime: '2026-01-06T09:00:00Z' }, end: { dateTime: '2026-01-06T10:00:00Z' } } })
  await cal.events.insert({ calendarId: 'primary', requestBody: { summary: 'New Google meeting', start: { dateTime: '2026-12-06T09:00:00Z' }, end: { dateTime: '2026-12-06T10:00:00Z' } } })
  await w.connect('alice', { startDate: '2026-06-01' })
  await w.run('alice')
  const google = (await w.events('alice')).map(e => e.summary).sort()
  t.same(google, ['New CRM meeting', 'New Google meeting', 'Old Google meeting'], 'only the CRM meeting after the start date went out')
  const crm = ((await alice('/api/v1/appointments?from=2025-01-01T00:00:00Z&to=2027-12-31T00:00:00Z')).body_ as { items: { title: string }[] }).items.map(a => a.title).sort()
  t.same(crm, ['New CRM meeting', 'New Google meeting', 'Old CRM meeting'], 'only the Google meeting after the start date came in')

  // an old item changed later is a change like any other
  await alice('/api/v1/appointments?from=2025-01-01T00:00:00Z&to=2027-12-31T00:00:00Z').then(async res => {
    const old = (res.body_ as { items: { id: number; title: string }[] }).items.find(a => a.title === 'Old CRM meeting')!
    await alice(`/api/v1/appointments/${old.id}`, { method: 'PATCH', json: { title: 'Old CRM meeting (revived)' } })
  })
  await w.run('alice')
  t.ok((await w.events('alice')).some(e => e.summary === 'Old CRM meeting (revived)'))
})

t.test('a days-before/after window bounds the first sync', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const day = 86_400_000
  const at = (d: number) => new Date(Date.now() + d * day).toISOString()
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Far past', start: at(-60), end: at(-59.9) } })
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Near', start: at(2), end: at(2.1) } })
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Far future', start: at(90), end: at(90.1) } })
  await w.connect('alice', { daysBefore: 30, daysAfter: 30 })
  await w.run('alice')
  t.same((await w.events('alice')).map(e => e.summary), ['Near'])
})

t.test('CRM fields go into the Google description below the user\'s own text; neither is lost', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const kase = (await alice('/api/v1/cases', { method: 'POST', json: { title: 'Smith v. Jones' } })).body_ as { id: number }
  const type = (await w.s.as('admin')('/api/v1/types', { method: 'POST', json: { name: 'Hearing', appliesTo: 'appointment' } })).body_ as { id: number }
  const appt = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Hearing', description: 'Bring the originals', start: '2026-12-11T09:00:00Z', end: '2026-12-11T11:00:00Z', caseId: kase.id, typeId: type.id } })).body_ as { id: number }
  await w.connect('alice', { descriptionFields: ['case', 'type', 'link'] })
  await w.run('alice')
  const ev = (await w.events('alice'))[0]!
  t.equal(ev.description, `Bring the originals\n\n-- Kalends --\nCase: Smith v. Jones\nType: Hearing\n${w.s.url}/appointments/${appt.id}/edit`)

  // the user edits their part in Google: the CRM gets their text, the block stays
  await w.calendar('alice').events.patch({ calendarId: 'primary', eventId: ev.id!, requestBody: { description: ev.description!.replace('Bring the originals', 'Bring the originals and two copies') } })
  await w.run('alice')
  const crm = (await alice(`/api/v1/appointments/${appt.id}`)).body_ as { description: string; caseId: number }
  t.equal(crm.description, 'Bring the originals and two copies', 'only the user\'s text reaches the CRM description')
  t.equal(crm.caseId, kase.id)
  // the case is renamed in the CRM: the block follows
  await w.s.as('admin')(`/api/v1/cases/${kase.id}`, { method: 'PATCH', json: { title: 'Smith v. Jones Ltd' } })
  await alice(`/api/v1/appointments/${appt.id}`, { method: 'PATCH', json: { location: 'Court 3' } })
  await w.run('alice')
  t.match((await w.events('alice'))[0]!.description, /^Bring the originals and two copies\n\n-- Kalends --\nCase: Smith v\. Jones Ltd\n/)
})

t.test('items from Google get the connection\'s default type and no case', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const meeting = (await w.s.as('admin')('/api/v1/types', { method: 'POST', json: { name: 'Meeting', appliesTo: 'appointment' } })).body_ as { id: number }
  const todo = (await w.s.as('admin')('/api/v1/types', { method: 'POST', json: { name: 'To do', appliesTo: 'task' } })).body_ as { id: number }
  await w.connect('alice', { appointmentTypeId: meeting.id, taskTypeId: todo.id })
  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary: 'From Google', start: { dateTime: '2026-12-12T09:00:00Z' }, end: { dateTime: '2026-12-12T10:00:00Z' } } })
  await w.tasks('alice').tasks.insert({ tasklist: '@default', requestBody: { title: 'Task from Google', due: '2026-12-13T00:00:00.000Z' } })
  await w.run('alice')
  const a = ((await alice('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: { title: string; typeId: number; caseId: number | null }[] }).items.find(x => x.title === 'From Google')!
  t.same([a.typeId, a.caseId], [meeting.id, null])
  const task = ((await alice('/api/v1/tasks')).body_ as { items: (Task & { typeId: number; caseId: number | null })[] }).items.find(x => x.title === 'Task from Google')!
  t.same([task.typeId, task.caseId], [todo.id, null])
  t.equal(task.due, '2026-12-12T23:00:00.000Z', 'a Google due date is midnight in the user\'s zone (Europe/Warsaw)')
  const withoutCase = (await alice('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z&withoutCase=true')).body_ as { items: { title: string }[] }
  t.ok(withoutCase.items.some(x => x.title === 'From Google'), 'listed under "without case"')
})
