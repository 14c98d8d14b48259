import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { WebClient } from '../web/test-client.ts'

// Every CRM business rule, over HTTP: the edit is refused with its reason and nothing changes.
const s = await startServer({ users: ['alice', 'bob', 'pat'] })
t.teardown(() => s.close())
const alice = s.as('alice')
const admin = s.as('admin')
await admin(`/api/v1/users/${s.users.pat!.id}`, { method: 'PATCH', json: { canChangePlannedDates: false, canRenameCases: false } })
const pat = s.as('pat')

async function task (status: string, extra: Record<string, unknown> = {}) {
  const created = await alice('/api/v1/tasks', { method: 'POST', json: { title: `task ${status}`, actualStart: '2026-03-02T09:00:00Z', ...extra } })
  t.equal(created.status, 201)
  const id = (created.body_ as { id: number }).id
  if (status !== 'open') {
    const moved = await alice(`/api/v1/tasks/${id}`, { method: 'PATCH', json: { status, ...(status === 'done' ? { actualEnd: '2026-03-03T17:00:00Z' } : {}) } })
    t.equal(moved.status, 200, `moved to ${status}`)
  }
  return { id, before: (await alice(`/api/v1/tasks/${id}`)).body_ as Record<string, unknown> }
}

async function refused (path: string, patch: Record<string, unknown>, rule: string, field: string, as = alice) {
  const before = (await as(path)).body_
  const res = await as(path, { method: 'PATCH', json: patch })
  t.equal(res.status, 422, `${rule}: refused`)
  t.match(res.headers.get('content-type'), /application\/problem\+json/)
  const body = res.body_ as Record<string, string>
  t.equal(body.rule, rule)
  t.equal(body.field, field)
  t.ok((body.detail ?? '').length > 10, 'a human-readable reason')
  t.same((await as(path)).body_, before, `${rule}: nothing changed`)
}

t.test('actual start cannot change once a task is in progress, ready for review or done', async t => {
  for (const status of ['in_progress', 'review', 'done']) {
    const { id } = await task(status)
    await refused(`/api/v1/tasks/${id}`, { actualStart: '2026-03-01T08:00:00Z' }, 'actual-start-locked', 'actualStart')
    await refused(`/api/v1/tasks/${id}`, { actualStart: null }, 'actual-start-locked', 'actualStart')
  }
  const open = await task('open')
  const ok = await alice(`/api/v1/tasks/${open.id}`, { method: 'PATCH', json: { actualStart: '2026-03-01T08:00:00Z' } })
  t.equal(ok.status, 200, 'an open task may change its actual start')
  const start = await alice(`/api/v1/tasks/${open.id}`, { method: 'PATCH', json: { status: 'in_progress', actualStart: '2026-03-01T08:30:00Z' } })
  t.equal(start.status, 200, 'the change that starts the task may set it')
})

t.test('actual end cannot change once a task is done', async t => {
  const { id } = await task('done')
  await refused(`/api/v1/tasks/${id}`, { actualEnd: '2026-03-04T17:00:00Z' }, 'actual-end-locked', 'actualEnd')
  const review = await task('review')
  const ok = await alice(`/api/v1/tasks/${review.id}`, { method: 'PATCH', json: { actualEnd: '2026-03-04T17:00:00Z' } })
  t.equal(ok.status, 200, 'a task under review may still change its actual end')
})

t.test('a user without the permission cannot change planned dates', async t => {
  const created = await pat('/api/v1/tasks', { method: 'POST', json: { title: 'mine', due: '2026-04-01T12:00:00Z' } })
  t.equal(created.status, 201)
  const id = (created.body_ as { id: number }).id
  const first = await pat('/api/v1/tasks', { method: 'POST', json: { title: 'planned', plannedStart: '2026-04-01T08:00:00Z' } })
  t.equal(first.status, 422, 'cannot set them on create either')
  t.equal((first.body_ as { rule: string }).rule, 'planned-dates-locked')
  await refused(`/api/v1/tasks/${id}`, { plannedStart: '2026-04-01T08:00:00Z' }, 'planned-dates-locked', 'plannedStart', pat)
  await refused(`/api/v1/tasks/${id}`, { plannedEnd: '2026-04-01T18:00:00Z' }, 'planned-dates-locked', 'plannedEnd', pat)
  const other = await pat(`/api/v1/tasks/${id}`, { method: 'PATCH', json: { title: 'renamed' } })
  t.equal(other.status, 200, 'other fields stay editable')
  const byAlice = await alice('/api/v1/tasks', { method: 'POST', json: { title: 'for pat', assigneeId: s.users.pat!.id, plannedStart: '2026-04-02T08:00:00Z' } })
  t.equal(byAlice.status, 201, 'a user with the permission may plan it')
  await refused(`/api/v1/tasks/${(byAlice.body_ as { id: number }).id}`, { plannedStart: '2026-04-03T08:00:00Z' }, 'planned-dates-locked', 'plannedStart', pat)
})

t.test('admins rename cases; users only when the organisation allows it and they have the permission', async t => {
  const created = await alice('/api/v1/cases', { method: 'POST', json: { title: 'Smith v. Jones', kind: 'matter' } })
  const id = (created.body_ as { id: number }).id
  await refused(`/api/v1/cases/${id}`, { title: 'Smith & Co v. Jones' }, 'case-title-locked', 'title', alice)
  t.equal((await admin(`/api/v1/cases/${id}`, { method: 'PATCH', json: { title: 'Smith & Co v. Jones' } })).status, 200, 'an administrator may always')

  const web = new WebClient(s)
  await web.signIn('admin')
  t.notMatch((await web.get('/admin/organisation')).text, /name="usersMayRenameCases" value="1" checked/, 'off by default')
  t.equal((await web.post('/admin/organisation', { name: 'Test Org', timezone: 'UTC', usersMayRenameCases: '1' })).status, 200)
  await refused(`/api/v1/cases/${id}`, { title: 'Jones v. Smith' }, 'case-title-locked', 'title', pat)
  const kind = await pat(`/api/v1/cases/${id}`, { method: 'PATCH', json: { kind: 'project' } })
  t.equal(kind.status, 200, 'other case fields stay editable')
  const ok = await alice(`/api/v1/cases/${id}`, { method: 'PATCH', json: { title: 'Jones v. Smith' } })
  t.equal(ok.status, 200, 'allowed by the organisation, a user with the permission may rename it')
  t.equal((await web.post('/admin/organisation', { name: 'Test Org', timezone: 'UTC' })).status, 200)
  await refused(`/api/v1/cases/${id}`, { title: 'Smith v. Jones' }, 'case-title-locked', 'title', alice)
})

t.test('administrators manage the organisation\'s item types; users pick from them', async t => {
  const mine = await alice('/api/v1/types', { method: 'POST', json: { name: 'Alice\'s type', appliesTo: 'appointment' } })
  t.equal(mine.status, 403)
  t.match(mine.headers.get('content-type'), /application\/problem\+json/)
  t.notOk(((await alice('/api/v1/types')).body_ as { name: string }[]).some(x => x.name === 'Alice\'s type'), 'nothing was made')
  const made = await admin('/api/v1/types', { method: 'POST', json: { name: 'Hearing', appliesTo: 'appointment' } })
  t.equal(made.status, 201)
  const typeId = (made.body_ as { id: number }).id
  const used = await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Hearing', start: '2026-05-06T09:00:00Z', end: '2026-05-06T10:00:00Z', typeId } })
  t.equal(used.status, 201, 'a user gives an appointment the type')
})

t.test('created by and created at are the CRM\'s', async t => {
  const { id, before } = await task('open')
  const res = await alice(`/api/v1/tasks/${id}`, { method: 'PATCH', json: { createdBy: s.users.bob!.id } })
  t.equal(res.status, 400)
  t.equal((res.body_ as { field: string }).field, 'createdBy')
  t.same((await alice(`/api/v1/tasks/${id}`)).body_, before)
  t.equal(before.createdBy, s.users.alice!.id)
  t.ok(Date.parse(before.createdAt as string) > Date.now() - 600_000)
})

t.test('a case in use cannot be deleted', async t => {
  const c = (await alice('/api/v1/cases', { method: 'POST', json: { title: 'Busy' } })).body_ as { id: number }
  await alice('/api/v1/tasks', { method: 'POST', json: { title: 'linked', caseId: c.id } })
  const res = await alice(`/api/v1/cases/${c.id}`, { method: 'DELETE' })
  t.equal(res.status, 409)
  t.equal((await alice(`/api/v1/cases/${c.id}`)).status, 200)
})
