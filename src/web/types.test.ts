import t from 'tap'
import { startServer, type TestServer } from '../testing/harness.ts'
import { WebClient, visible } from './test-client.ts'

/** Types managed by an administrator, chosen on the forms, shown and filtered in the task list. */
let s: TestServer
t.before(async () => { s = await startServer({ users: ['alice', 'bob'] }) })
t.teardown(async () => { await s?.close() })

t.test('administrators add, rename, recolour and retire types; others may not', async t => {
  const admin = new WebClient(s)
  await admin.signIn('admin')
  await admin.get('/admin/types')
  let res = await admin.post('/admin/types', { name: 'Hearing', appliesTo: 'appointment', color: '#B42318' })
  t.equal(res.status, 200)
  t.match(visible(res.text), 'The type “Hearing” is added.')
  t.match(res.text, 'style="--c:#b42318"', 'the swatch has the colour')
  res = await admin.post('/admin/types', { name: 'Hearing', appliesTo: 'appointment', color: '#000000' })
  t.equal(res.status, 409, 'the same name twice')
  res = await admin.post('/admin/types', { name: 'Call', appliesTo: 'task', color: 'red' })
  t.equal(res.status, 400)
  t.match(visible(res.text), 'must be a colour like #1a7f37')
  await admin.post('/admin/types', { name: 'Call', appliesTo: 'task', color: '#1a7f37' })
  const types = await s.as('admin')('/api/v1/types')
  const hearing = (types.body_ as { id: number; name: string }[]).find(ty => ty.name === 'Hearing')!
  res = await admin.post(`/admin/types/${hearing.id}`, { name: 'Court hearing', color: '#0b5cad' })
  t.match(visible(res.text), 'The type “Court hearing” is saved.')
  const row = await s.k.db.selectFrom('item_types').selectAll().where('id', '=', hearing.id).executeTakeFirstOrThrow()
  t.match(row, { name: 'Court hearing', color: '#0b5cad', retired: false })
  const alice = new WebClient(s)
  await alice.signIn('alice')
  t.equal((await alice.get('/admin/types')).status, 403)
  t.equal((await alice.post(`/admin/types/${hearing.id}/retire`, {})).status, 403, 'a user cannot retire one')
  const form = await alice.get('/appointments/new')
  t.match(form.text, new RegExp(`<option value="${hearing.id}">Court hearing</option>`), 'the appointment form offers it')
  res = await admin.post(`/admin/types/${hearing.id}/retire`, {})
  t.match(visible(res.text), 'is retired')
  t.notMatch((await alice.get('/appointments/new')).text, 'Court hearing', 'a retired type is offered for no new appointment')
})

t.test('the task form chooses a type; the list shows type, case, status, creator and filters by them', async t => {
  const types = (await s.as('admin')('/api/v1/types')).body_ as { id: number; name: string }[]
  const call = types.find(ty => ty.name === 'Call')!
  const alice = new WebClient(s)
  await alice.signIn('alice')
  await alice.get('/tasks/new')
  let res = await alice.post('/tasks', { title: 'Call the court', status: 'open', assigneeId: String(s.users.alice!.id), typeId: String(call.id), calendarId: '' })
  t.equal(res.status, 303)
  await s.as('bob')('/api/v1/tasks', { method: 'POST', json: { title: 'Bob’s own', assigneeId: s.users.alice!.id } })
  res = await alice.get('/tasks')
  const text = visible(res.text)
  t.match(res.text, /Call the court<\/a><\/td>\s*<td data-label="Type"><span class="swatch" style="--c:#1a7f37" aria-hidden="true"><\/span>Call<\/td>/, 'the type, with its colour, is in the row')
  t.match(text, 'Created by')
  t.match(res.text, /<td data-label="Created by">Alice<\/td>/)
  t.match(res.text, /<td data-label="Created by">Bob<\/td>/)
  res = await alice.get(`/tasks?typeId=${call.id}`)
  t.match(visible(res.text), 'Call the court')
  t.notMatch(visible(res.text), 'Bob’s own', 'filtered by type')
  res = await alice.get(`/tasks?createdBy=${s.users.bob!.id}`)
  t.match(visible(res.text), 'Bob’s own')
  t.notMatch(visible(res.text), 'Call the court', 'filtered by who created it')
  const stored = await s.k.db.selectFrom('calendar_objects').select('ical').where('item_kind', '=', 'task').orderBy('id').executeTakeFirstOrThrow()
  t.match(stored.ical, 'Call', 'the type travels in the task\'s body (CATEGORIES or X- property)')
})

t.test('the integrations page says when Google is enabled but not configured', async t => {
  const admin = new WebClient(s)
  await admin.signIn('admin')
  const res = await admin.get('/admin/integrations')
  t.match(visible(res.text), 'Enabled but not configured: enter the OAuth client below before users can connect.')
})
