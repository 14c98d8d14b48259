import t from 'tap'
import { disconnect } from './connections.ts'
import { syncDb } from './tables.ts'
import { startSyncWorld, type SyncWorld } from './testing.ts'

const crmTitles = async (w: SyncWorld, login: string) =>
  ((await w.s.as(login)('/api/v1/appointments?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z')).body_ as { items: { title: string }[] }).items.map(a => a.title).sort()
const googleTitles = async (w: SyncWorld, login: string) => (await w.events(login)).map(e => e.summary ?? '').sort()

async function seed (w: SyncWorld) {
  const alice = w.s.as('alice')
  for (const [i, title] of ['One', 'Two', 'Three'].entries()) {
    await alice('/api/v1/appointments', { method: 'POST', json: { title: `CRM ${title}`, start: `2026-12-1${i}T09:00:00Z`, end: `2026-12-1${i}T10:00:00Z` } })
  }
  await alice('/api/v1/tasks', { method: 'POST', json: { title: 'CRM task', due: '2026-12-15T10:00:00Z' } })
  const cal = w.calendar('alice')
  for (const title of ['Four', 'Five']) {
    await cal.events.insert({ calendarId: 'primary', requestBody: { summary: `Google ${title}`, start: { dateTime: '2026-12-20T09:00:00Z' }, end: { dateTime: '2026-12-20T10:00:00Z' } } })
  }
  await w.tasks('alice').tasks.insert({ tasklist: '@default', requestBody: { title: 'Google task' } })
}

const ALL = ['CRM One', 'CRM Three', 'CRM Two', 'Google Five', 'Google Four']

t.test('disconnect, then connect the same calendar again: nothing duplicated on either side', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  await seed(w)
  await w.connect('alice')
  await w.run('alice')
  t.same(await googleTitles(w, 'alice'), ALL)
  t.same(await crmTitles(w, 'alice'), ALL)
  const first = await w.connection('alice')
  await disconnect(w.s.k.sync.engine, w.s.users.alice!, first.id)
  t.equal(await syncDb(w.s.k.db).selectFrom('sync_links').select('item_id').where('connection_id', '=', first.id).execute().then(r => r.length), 0, 'links removed')
  t.same(await googleTitles(w, 'alice'), ALL, 'nothing deleted in Google')
  t.same(await crmTitles(w, 'alice'), ALL, 'nothing deleted in the CRM')

  await w.connect('alice')
  const again = await w.run('alice')
  t.equal(again.state, 'ok')
  t.same(await googleTitles(w, 'alice'), ALL, 'no duplicate in Google')
  t.same(await crmTitles(w, 'alice'), ALL, 'no duplicate in the CRM')
  t.same((await w.googleTasks('alice')).map(x => x.title).sort(), ['CRM task', 'Google task'])
  t.same(((await w.s.as('alice')('/api/v1/tasks')).body_ as { items: { title: string }[] }).items.map(x => x.title).sort(), ['CRM task', 'Google task'])
  const linked = await syncDb(w.s.k.db).selectFrom('sync_log').select('message').where('connection_id', '=', (await w.connection('alice')).id).where('action', '=', 'linked').execute()
  t.equal(linked.length, 7, 'every item matched by its hidden link or UID, none created')
})

t.test('a copy made before (by an earlier export of the same UIDs) is matched instead of duplicated', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const made = (await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Quarterly', start: '2026-12-14T09:00:00Z', end: '2026-12-14T10:00:00Z' } })).body_ as { uid: string }
  // an earlier manual .ics import left the same event in Google, without any link of ours
  await w.calendar('alice').events.import({ calendarId: 'primary', requestBody: { iCalUID: made.uid, summary: 'Quarterly', start: { dateTime: '2026-12-14T09:00:00Z' }, end: { dateTime: '2026-12-14T10:00:00Z' } } })
  await w.connect('alice')
  await w.run('alice')
  t.same(await googleTitles(w, 'alice'), ['Quarterly'], 'one event in Google')
  t.same(await crmTitles(w, 'alice'), ['Quarterly'], 'one appointment in the CRM')
})

t.test('revoked access: the connection turns red with the reason, changes wait, reconnect resumes them', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  await seed(w)
  await w.connect('alice')
  await w.run('alice')
  w.g.revoke(w.email('alice'))
  await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Made while red', start: '2026-12-21T09:00:00Z', end: '2026-12-21T10:00:00Z' } })
  const red = await w.run('alice')
  t.equal(red.state, 'error')
  const conn = await w.connection('alice')
  t.equal(conn.state, 'error')
  t.match(conn.state_reason, /revoked or has expired/, 'the reason says what happened')
  t.ok(conn.auth_failed_at !== null, 'runs skip it until the user reconnects')
  t.equal((await w.run('alice')).state, 'skipped')

  // meanwhile in Google
  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary: 'Made in Google while red', start: { dateTime: '2026-12-22T09:00:00Z' }, end: { dateTime: '2026-12-22T10:00:00Z' } } })
  await w.connect('alice')
  const resumed = await w.run('alice')
  t.equal(resumed.state, 'ok')
  t.equal((await w.connection('alice')).id, conn.id, 'the same connection, with its links and cursors')
  t.same(await googleTitles(w, 'alice'), [...ALL, 'Made in Google while red', 'Made while red'].sort())
  t.same(await crmTitles(w, 'alice'), [...ALL, 'Made in Google while red', 'Made while red'].sort())
})

t.test('an expired sync token means a full listing again, without duplicates', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  await seed(w)
  await w.connect('alice')
  await w.run('alice')
  w.g.expireSyncTokens()
  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary: 'After expiry', start: { dateTime: '2026-12-23T09:00:00Z' }, end: { dateTime: '2026-12-23T10:00:00Z' } } })
  const r = await w.run('alice')
  t.equal(r.state, 'ok')
  t.same(await crmTitles(w, 'alice'), [...ALL, 'After expiry'].sort())
  t.same(await googleTitles(w, 'alice'), [...ALL, 'After expiry'].sort())
})

t.test('disconnect, then connect the same account again: its calendar, task list, types, description fields, poll interval and log come back', async t => {
  const w = await startSyncWorld({ users: ['alice', 'bob'] })
  t.teardown(() => w.close())
  const admin = w.s.as('admin')
  const alice = w.s.as('alice')
  const meeting = (await admin('/api/v1/types', { method: 'POST', json: { name: 'Meeting', appliesTo: 'appointment' } })).body_ as { id: number }
  const call = (await admin('/api/v1/types', { method: 'POST', json: { name: 'Call', appliesTo: 'task' } })).body_ as { id: number }
  const work = w.g.addCalendar(w.email('alice'), 'Work')
  const list = w.g.addTaskList(w.email('alice'), 'CRM tasks')
  const chosen = { calendarId: work.id, taskListId: list.id, appointmentTypeId: meeting.id, taskTypeId: call.id, descriptionFields: ['case', 'link'], pollMinutes: 15 }
  const conn = await w.connect('alice', chosen)
  await w.calendar('alice').events.insert({ calendarId: work.id, requestBody: { summary: 'In Work', start: { dateTime: '2026-12-20T09:00:00Z' }, end: { dateTime: '2026-12-20T10:00:00Z' } } })
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'From the CRM', start: '2026-12-21T09:00:00Z', end: '2026-12-21T10:00:00Z' } })
  t.equal((await w.run('alice')).state, 'ok')
  const before = (await alice(`/api/v1/connections/${conn.id}`)).body_ as { options: Record<string, unknown> }
  t.match(before.options, chosen)
  const logBefore = (await alice(`/api/v1/connections/${conn.id}/log`)).body_ as { message: string }[]

  t.equal((await alice(`/api/v1/connections/${conn.id}`, { method: 'DELETE' })).status, 204)
  t.same((await alice('/api/v1/connections')).body_, [], 'gone from the list')
  t.equal((await alice(`/api/v1/connections/${conn.id}`)).status, 404, 'and from its address')
  t.equal((await w.run('alice')).state, 'skipped', 'a disconnected connection does not run')

  const again = await w.connect('alice')
  t.equal(again.id, conn.id, 'the same connection')
  const view = (await alice(`/api/v1/connections/${conn.id}`)).body_ as { options: Record<string, unknown>; state: string }
  t.same(view.options, before.options, 'every option as it was chosen')
  const log = ((await alice(`/api/v1/connections/${conn.id}/log`)).body_ as { message: string }[]).map(l => l.message)
  t.same(log.slice(-logBefore.length), logBefore.map(l => l.message), 'the earlier log is kept')
  t.match(log.slice(0, 2), [/^connected again to alice@example\.com; options and log kept$/, /^disconnected by Alice/])

  t.equal((await w.run('alice')).state, 'ok')
  const inWork = (await w.calendar('alice').events.list({ calendarId: work.id })).data.items ?? []
  t.same(inWork.map(e => e.summary).sort(), ['From the CRM', 'In Work'], 'the chosen calendar, nothing doubled')
  t.same((await w.events('alice')).map(e => e.summary), [], 'nothing in the primary calendar')
  const crm = ((await alice('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: { title: string; typeId: number | null }[] }).items
  t.match(crm.sort((a, b) => a.title.localeCompare(b.title)), [{ title: 'From the CRM' }, { title: 'In Work', typeId: meeting.id }], 'nothing doubled in the CRM; the imported one has the chosen type')

  // another user's new connection starts from the defaults
  const bobs = await w.connect('bob')
  t.not(bobs.id, conn.id)
  t.match(((await w.s.as('bob')(`/api/v1/connections/${bobs.id}`)).body_ as { options: Record<string, unknown> }).options, { calendarId: 'primary', pollMinutes: 5 })
})
