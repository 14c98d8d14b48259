import t from 'tap'
import { startGraphWorld } from './testing-graph.ts'

/** Regressions found by convergence-graph.test.ts (docs/performance.md, "Microsoft 365 (Graph) sync"). */

t.test('an event and a task deleted in Outlook while the delta tokens were lost are deleted in the CRM (seed 819281)', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await w.connect('alice')
  const ev = await w.api('alice', 'POST', '/me/events', { subject: 'Outlook event', start: { dateTime: '2026-12-03T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-03T10:00:00', timeZone: 'UTC' } })
  await w.api('alice', 'POST', '/me/events', { subject: 'Outlook event kept', start: { dateTime: '2026-12-04T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-04T10:00:00', timeZone: 'UTC' } })
  const task = (await alice('/api/v1/tasks', { method: 'POST', json: { title: 'CRM task', assigneeId: w.s.users.alice!.id } })).body_ as { id: number }
  const kept = (await alice('/api/v1/tasks', { method: 'POST', json: { title: 'CRM task kept', assigneeId: w.s.users.alice!.id } })).body_ as { id: number }
  t.equal((await w.run('alice')).state, 'ok')
  const todo = (await w.todo('alice')).find(x => x.title === 'CRM task')
  t.ok(todo, 'the task reached To Do')

  w.g.expireDeltaTokens() // the next round answers 410: a first round again, which has no tombstones
  t.equal((await w.api('alice', 'DELETE', `/me/events/${encodeURIComponent(ev.body.id)}`)).status, 204)
  const lists = (await w.api('alice', 'GET', '/me/todo/lists')).body.value as { id: string; wellknownListName: string }[]
  t.equal((await w.api('alice', 'DELETE', `/me/todo/lists/${lists.find(l => l.wellknownListName === 'defaultList')!.id}/tasks/${encodeURIComponent(todo.id)}`)).status, 204)
  const r = await w.run('alice')
  t.equal(r.state, 'ok', r.reason ?? 'ok')

  const appointments = ((await alice('/api/v1/appointments?from=2026-11-01T00:00:00Z&to=2027-03-01T00:00:00Z')).body_ as { items: { title: string }[] }).items.map(a => a.title)
  t.same(appointments, ['Outlook event kept'], 'the event deleted in Outlook is gone from the CRM, the other kept')
  t.equal((await alice(`/api/v1/tasks/${task.id}`)).status, 404, 'the task deleted in To Do is gone from the CRM')
  t.equal((await alice(`/api/v1/tasks/${kept.id}`)).status, 200, 'the other task kept')
})

t.test('a task and an event Kalends wrote to Outlook and the user deleted before the next delta round are deleted in the CRM (seed 120512)', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await w.connect('alice')
  const appt = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'CRM event', start: '2026-12-03T09:00:00Z', end: '2026-12-03T10:00:00Z' } })).body_ as { id: number }
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'CRM event kept', start: '2026-12-04T09:00:00Z', end: '2026-12-04T10:00:00Z' } })
  const task = (await alice('/api/v1/tasks', { method: 'POST', json: { title: 'CRM task', assigneeId: w.s.users.alice!.id } })).body_ as { id: number }
  await alice('/api/v1/tasks', { method: 'POST', json: { title: 'CRM task kept', assigneeId: w.s.users.alice!.id } })
  t.equal((await w.run('alice')).state, 'ok', 'the copies written after the round had read the (empty) calendar and list')

  const ev = (await w.events('alice')).find(e => e.subject === 'CRM event')
  const todo = (await w.todo('alice')).find(x => x.title === 'CRM task')
  t.equal((await w.api('alice', 'DELETE', `/me/events/${encodeURIComponent(ev.id)}`)).status, 204)
  const lists = (await w.api('alice', 'GET', '/me/todo/lists')).body.value as { id: string; wellknownListName: string }[]
  t.equal((await w.api('alice', 'DELETE', `/me/todo/lists/${lists.find(l => l.wellknownListName === 'defaultList')!.id}/tasks/${encodeURIComponent(todo.id)}`)).status, 204)
  const r = await w.run('alice')
  t.equal(r.state, 'ok', r.reason ?? 'ok')
  t.equal((await alice(`/api/v1/appointments/${appt.id}`)).status, 404, 'the event deleted in Outlook is gone from the CRM')
  t.equal((await alice(`/api/v1/tasks/${task.id}`)).status, 404, 'the task deleted in To Do is gone from the CRM')
  t.same((await w.events('alice')).map(e => e.subject), ['CRM event kept'])
  t.same((await w.todo('alice')).map(x => x.title), ['CRM task kept'])
})

t.test('a series made in Outlook and deleted there is deleted in the CRM, a single event and another series kept (seed 120512, km30)', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await w.connect('alice')
  const weekly = (subject: string, day: string) => ({
    subject,
    start: { dateTime: `${day}T09:00:00`, timeZone: 'UTC' },
    end: { dateTime: `${day}T10:00:00`, timeZone: 'UTC' },
    recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['thursday'] }, range: { type: 'numbered', startDate: day, numberOfOccurrences: 4 } }
  })
  const series = await w.api('alice', 'POST', '/me/events', weekly('Outlook series', '2026-12-03'))
  await w.api('alice', 'POST', '/me/events', weekly('Outlook series kept', '2026-12-03'))
  await w.api('alice', 'POST', '/me/events', { subject: 'Outlook event kept', start: { dateTime: '2026-12-04T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-04T10:00:00', timeZone: 'UTC' } })
  t.equal((await w.run('alice')).state, 'ok')
  const titles = async () => [...new Set(((await alice('/api/v1/appointments?from=2026-11-01T00:00:00Z&to=2027-03-01T00:00:00Z')).body_ as { items: { title: string }[] }).items.map(a => a.title))].sort()
  t.same(await titles(), ['Outlook event kept', 'Outlook series', 'Outlook series kept'], 'both series and the event reached the CRM')
  t.equal((await w.run('alice')).state, 'ok', 'a quiet run')

  t.equal((await w.api('alice', 'DELETE', `/me/events/${encodeURIComponent(series.body.id)}`)).status, 204)
  const r = await w.run('alice')
  t.equal(r.state, 'ok', r.reason ?? 'ok')
  t.same(await titles(), ['Outlook event kept', 'Outlook series kept'], 'the series deleted in Outlook is gone from the CRM, the others kept')
})

t.test('an occurrence deleted in Outlook reaches the CRM as an EXDATE when the delta round holds nothing of its series but its id under @removed (google+graph seed 4243, finding D)', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await w.connect('alice')
  const made = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'CRM weekly', start: '2026-12-10T09:00:00Z', end: '2026-12-10T10:00:00Z', timezone: 'Europe/Warsaw', rrule: 'FREQ=WEEKLY;COUNT=5' } })).body_ as { id: number }
  t.equal((await w.run('alice')).state, 'ok')
  t.equal((await w.run('alice')).state, 'ok', 'a run whose delta round shows the occurrences Kalends made')
  const master = (await w.events('alice')).find(e => e.subject === 'CRM weekly')
  const instances = ((await w.api('alice', 'GET', `/me/events/${encodeURIComponent(master.id)}/instances?startDateTime=2026-12-01T00:00:00Z&endDateTime=2027-02-01T00:00:00Z`)).body.value as { id: string; start: { dateTime: string } }[])
    .sort((a, b) => a.start.dateTime.localeCompare(b.start.dateTime))
  t.equal(instances.length, 5)

  // "delete this occurrence" in Outlook, one after another: each next round holds that occurrence's id under @removed and nothing else of the series
  const expected: string[] = []
  for (const k of [2, 3, 1]) {
    t.equal((await w.api('alice', 'DELETE', `/me/events/${encodeURIComponent(instances[k]!.id)}`)).status, 204)
    const calls = w.calls.length
    const r = await w.run('alice')
    t.equal(r.state, 'ok', r.reason ?? 'ok')
    expected.push(new Date(Date.parse('2026-12-10T09:00:00Z') + k * 7 * 86_400_000).toISOString())
    const crm = (await alice(`/api/v1/appointments/${made.id}`)).body_ as { exdates: string[] }
    t.same(crm.exdates.map(x => new Date(x).toISOString()).sort(), [...expected].sort(), `occurrence ${k + 1} deleted in Outlook is an EXDATE in the CRM`)
    t.ok(w.calls.length - calls <= 4, `the run asked Graph ${w.calls.length - calls} times: the delta round, the series re-read in one $batch, its occurrences (and the To Do delta)`)
  }
  t.equal((await w.run('alice')).state, 'ok')
  t.same(((await alice(`/api/v1/appointments/${made.id}`)).body_ as { exdates: string[] }).exdates.length, 3, 'a quiet run keeps them')
})
