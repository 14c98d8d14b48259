import t from 'tap'
import type { Test } from 'tap'
import { startServer } from '../testing/harness.ts'

// Every write path records its change, with its origin, in the same transaction.
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())
const alice = s.as('alice')
const admin = s.as('admin')

async function head (): Promise<number> {
  const rows = (await admin('/api/v1/changes?since=0&limit=1000')).body_ as { seq: number }[]
  return rows.at(-1)?.seq ?? 0
}

type Change = { seq: number; entity: string; entityId: number; op: string; calendarId: number | null; objectName: string | null; origin: string; actorId: number }
async function after (since: number): Promise<Change[]> {
  return (await admin(`/api/v1/changes?since=${since}`)).body_ as Change[]
}

async function expectChange (t: Test, label: string, run: () => Promise<{ status: number; body_: unknown }>, expected: Partial<Change>[]) {
  const since = await head()
  const res = await run()
  t.ok(res.status < 300, `${label}: ${res.status}`)
  const got = await after(since)
  for (const e of expected) t.ok(got.some(c => Object.entries(e).every(([k, v]) => (c as Record<string, unknown>)[k] === v)), `${label}: journal has ${JSON.stringify(e)}`)
  t.ok(got.every(c => c.origin === 'api' && c.actorId === s.users.alice!.id), `${label}: origin api, actor alice`)
  return res.body_ as { id: number; calendarId?: number }
}


t.test('API writes', async t => {
  const cal = await expectChange(t, 'calendar create', () => alice('/api/v1/calendars', { method: 'POST', json: { name: 'Journal' } }), [{ entity: 'calendar', op: 'create' }])
  await expectChange(t, 'calendar update', () => alice(`/api/v1/calendars/${cal.id}`, { method: 'PATCH', json: { color: '#123456' } }), [{ entity: 'calendar', op: 'update', calendarId: cal.id }])
  await expectChange(t, 'share', () => alice(`/api/v1/calendars/${cal.id}/shares/${s.users.bob!.id}`, { method: 'PUT', json: { access: 'read' } }), [{ entity: 'share', op: 'create' }])
  const c = await expectChange(t, 'case create', () => alice('/api/v1/cases', { method: 'POST', json: { title: 'Acme' } }), [{ entity: 'case', op: 'create' }])
  await expectChange(t, 'case update', () => alice(`/api/v1/cases/${c.id}`, { method: 'PATCH', json: { kind: 'client' } }), [{ entity: 'case', op: 'update', entityId: c.id }])
  const a = await expectChange(t, 'appointment create', () => alice('/api/v1/appointments', { method: 'POST', json: { calendarId: cal.id, title: 'J', start: '2026-07-01T09:00:00Z', end: '2026-07-01T10:00:00Z' } }),
    [{ entity: 'appointment', op: 'create', calendarId: null }, { entity: 'appointment', op: 'create', calendarId: cal.id }])
  const objectName = (await after(0)).find(x => x.entity === 'appointment' && x.entityId === a.id && x.objectName !== null)!.objectName
  t.match(objectName, /\.ics$/, 'the calendar change names the object')
  await expectChange(t, 'appointment update', () => alice(`/api/v1/appointments/${a.id}`, { method: 'PATCH', json: { title: 'J2' } }),
    [{ entity: 'appointment', op: 'update', entityId: a.id, calendarId: cal.id, objectName }])
  await expectChange(t, 'appointment delete', () => alice(`/api/v1/appointments/${a.id}`, { method: 'DELETE' }),
    [{ entity: 'appointment', op: 'delete', entityId: a.id, calendarId: cal.id, objectName }, { entity: 'appointment', op: 'delete', calendarId: null }])
  const task = await expectChange(t, 'task create', () => alice('/api/v1/tasks', { method: 'POST', json: { title: 'T' } }), [{ entity: 'task', op: 'create' }])
  await expectChange(t, 'task update', () => alice(`/api/v1/tasks/${task.id}`, { method: 'PATCH', json: { status: 'in_progress' } }), [{ entity: 'task', op: 'update', calendarId: task.calendarId }])
  await expectChange(t, 'task delete', () => alice(`/api/v1/tasks/${task.id}`, { method: 'DELETE' }), [{ entity: 'task', op: 'delete', calendarId: task.calendarId }])
  await expectChange(t, 'case delete', () => alice(`/api/v1/cases/${c.id}`, { method: 'DELETE' }), [{ entity: 'case', op: 'delete', entityId: c.id }])
  const pw = await expectChange(t, 'app password', () => alice('/api/v1/app-passwords', { method: 'POST', json: { name: 'phone' } }), [{ entity: 'app_password', op: 'create' }])
  await expectChange(t, 'app password revoke', () => alice(`/api/v1/app-passwords/${pw.id}`, { method: 'DELETE' }), [{ entity: 'app_password', op: 'delete' }])
  await expectChange(t, 'calendar delete', () => alice(`/api/v1/calendars/${cal.id}`, { method: 'DELETE' }), [{ entity: 'calendar', op: 'delete', calendarId: cal.id }])
})

t.test('a refused write records nothing and changes nothing', async t => {
  const since = await head()
  const res = await alice('/api/v1/appointments', { method: 'POST', json: { title: 'bad', start: '2026-07-01T09:00:00Z', end: '2026-06-01T10:00:00Z' } })
  t.equal(res.status, 400)
  t.same(await after(since), [])
})

t.test('only admins read the journal', async t => {
  t.equal((await alice('/api/v1/changes')).status, 403)
})
