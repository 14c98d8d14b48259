import t from 'tap'
import { createOrg, createUser } from './users.ts'
import { PASSWORD, startServer } from '../testing/harness.ts'

// Shares decide who sees what; anything not visible is "not found", never a hint.
const s = await startServer({ users: ['alice', 'bob', 'carol'] })
t.teardown(() => s.close())
const [alice, bob, carol] = [s.as('alice'), s.as('bob'), s.as('carol')]
const other = await createOrg(s.k.db, 'Other Org', 'system')
await createUser(s.k.db, null, other.id, { login: 'mallory', password: PASSWORD })
const mallory = s.as('mallory')

const cal = (await alice('/api/v1/calendars', { method: 'POST', json: { name: 'Sales', color: '#00AA00' } })).body_ as { id: number }
const appt = (await alice('/api/v1/appointments', { method: 'POST', json: { calendarId: cal.id, title: 'Pitch', start: '2026-06-01T09:00:00Z', end: '2026-06-01T10:00:00Z' } })).body_ as { id: number }
const task = (await alice('/api/v1/tasks', { method: 'POST', json: { title: 'Private todo' } })).body_ as { id: number; calendarId: number }

t.test('nobody reads what is not shared with them: 404, not 403', async t => {
  for (const who of [bob, mallory]) {
    t.equal((await who(`/api/v1/calendars/${cal.id}`)).status, 404)
    t.equal((await who(`/api/v1/appointments/${appt.id}`)).status, 404)
    t.equal((await who(`/api/v1/tasks/${task.id}`)).status, 404)
    t.equal((await who(`/api/v1/appointments/${appt.id}`, { method: 'PATCH', json: { title: 'x' } })).status, 404)
    t.equal((await who(`/api/v1/appointments/${appt.id}`, { method: 'DELETE' })).status, 404)
    t.equal((await who(`/api/v1/tasks/${task.id}`, { method: 'DELETE' })).status, 404)
    const list = (await who('/api/v1/appointments')).body_ as { items: { id: number }[] }
    t.notOk(list.items.some(a => a.id === appt.id), 'not in their listing')
    t.notOk(((await who('/api/v1/calendars')).body_ as { id: number }[]).some(c => c.id === cal.id))
  }
  t.equal((await bob('/api/v1/appointments', { method: 'POST', json: { calendarId: cal.id, title: 'sneaky', start: '2026-06-02T09:00:00Z', end: '2026-06-02T10:00:00Z' } })).status, 404, 'cannot write into it')
  t.equal((await mallory(`/api/v1/users/${s.users.alice!.id}`)).status, 404, 'users of another organisation are invisible')
  t.equal((await s.as(null)('/api/v1/appointments')).status, 401, 'anonymous requests must sign in')
  t.equal((await bob('/api/v1/appointments')).status, 200)
  t.equal(((await alice(`/api/v1/appointments/${appt.id}`)).body_ as { title: string }).title, 'Pitch', 'unchanged')
})

t.test('a read share shows the calendar but refuses changes', async t => {
  t.equal((await alice(`/api/v1/calendars/${cal.id}/shares/${s.users.bob!.id}`, { method: 'PUT', json: { access: 'read' } })).status, 204)
  const seen = await bob(`/api/v1/calendars/${cal.id}`)
  t.equal(seen.status, 200)
  t.equal((seen.body_ as { access: string }).access, 'read')
  t.equal((await bob(`/api/v1/appointments/${appt.id}`)).status, 200)
  const edit = await bob(`/api/v1/appointments/${appt.id}`, { method: 'PATCH', json: { title: 'Hijacked' } })
  t.equal(edit.status, 403)
  t.equal((edit.body_ as { rule: string }).rule, 'need-privileges')
  t.equal((await bob(`/api/v1/appointments/${appt.id}`, { method: 'DELETE' })).status, 403)
  t.equal((await bob(`/api/v1/calendars/${cal.id}`, { method: 'PATCH', json: { name: 'Mine' } })).status, 403)
  t.equal((await bob(`/api/v1/calendars/${cal.id}/shares/${s.users.carol!.id}`, { method: 'PUT', json: { access: 'write' } })).status, 403, 'cannot reshare')
  t.equal(((await alice(`/api/v1/appointments/${appt.id}`)).body_ as { title: string }).title, 'Pitch')
  t.equal((await carol(`/api/v1/calendars/${cal.id}`)).status, 404, 'still invisible to carol')
})

t.test('a write share allows edits but not managing the calendar', async t => {
  await alice(`/api/v1/calendars/${cal.id}/shares/${s.users.bob!.id}`, { method: 'PUT', json: { access: 'write' } })
  t.equal((await bob(`/api/v1/appointments/${appt.id}`, { method: 'PATCH', json: { title: 'Pitch v2' } })).status, 200)
  t.equal(((await alice(`/api/v1/appointments/${appt.id}`)).body_ as { title: string }).title, 'Pitch v2')
  t.equal((await bob(`/api/v1/calendars/${cal.id}`, { method: 'DELETE' })).status, 403)
  t.equal((await alice(`/api/v1/calendars/${cal.id}/shares/${s.users.bob!.id}`, { method: 'DELETE' })).status, 204)
  t.equal((await bob(`/api/v1/appointments/${appt.id}`)).status, 404, 'unshared: gone again')
})

t.test('the company calendar is readable by everyone and written by admins', async t => {
  const company = ((await bob('/api/v1/calendars')).body_ as { id: number; kind: string; access: string }[]).find(c => c.kind === 'company')
  t.ok(company)
  t.equal(company!.access, 'read')
  t.equal((await bob('/api/v1/appointments', { method: 'POST', json: { calendarId: company!.id, title: 'x', start: '2026-06-02T09:00:00Z', end: '2026-06-02T10:00:00Z' } })).status, 403)
  const made = await s.as('admin')('/api/v1/appointments', { method: 'POST', json: { calendarId: company!.id, title: 'All hands', start: '2026-06-03T09:00:00Z', end: '2026-06-03T10:00:00Z' } })
  t.equal(made.status, 201)
  t.equal((await carol(`/api/v1/appointments/${(made.body_ as { id: number }).id}`)).status, 200)
  t.notOk(((await mallory('/api/v1/calendars')).body_ as { id: number }[]).some(c => c.id === company!.id), 'not another organisation\'s')
})

t.test('only admins manage users', async t => {
  t.equal((await bob('/api/v1/users', { method: 'POST', json: { login: 'eve', password: 'long enough pw' } })).status, 403)
  t.equal((await bob(`/api/v1/users/${s.users.bob!.id}`, { method: 'PATCH', json: { role: 'admin' } })).status, 403, 'no self-promotion')
  t.equal((await bob(`/api/v1/users/${s.users.bob!.id}`, { method: 'PATCH', json: { name: 'Robert' } })).status, 200, 'but one\'s own name is fine')
  t.equal((await s.as('admin')('/api/v1/users', { method: 'POST', json: { login: 'eve', password: 'long enough pw' } })).status, 201)
})

t.test('logins are unique across organisations, but a clash tells another organisation\'s admin nothing about who has it', async t => {
  const otherAdmin = await createUser(s.k.db, null, other.id, { login: 'olga', password: PASSWORD, role: 'admin' })
  const olga = s.as('olga')
  const elsewhere = await olga('/api/v1/users', { method: 'POST', json: { login: 'ALICE', password: 'long enough secret' } })
  t.equal(elsewhere.status, 409, 'alice signs in by login alone, so it stays hers')
  t.match(elsewhere.body_, { field: 'login', detail: /cannot be used; choose another/ })
  t.notMatch((elsewhere.body_ as { detail: string }).detail, /taken|exists|organisation/, 'it does not say the login exists, nor where')
  const own = await olga('/api/v1/users', { method: 'POST', json: { login: 'olga', password: 'long enough secret' } })
  t.same({ ...(own.body_ as object), detail: '', instance: '' }, { ...(elsewhere.body_ as object), detail: '', instance: '' }, 'the same answer as a clash in her own organisation')
  const renamed = await olga(`/api/v1/users/${otherAdmin.id}`, { method: 'PATCH', json: { login: 'alice' } })
  t.equal(renamed.status, 409, 'renaming to it: the same refusal, not a 500')
  t.match(renamed.body_, { field: 'login', detail: /cannot be used; choose another/ })
})
