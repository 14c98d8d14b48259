import t from 'tap'
import { startServer } from '../testing/harness.ts'

// Writers of one item take turns: two edits based on the same version cannot both win.
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())
const alice = s.as('alice')

t.test('concurrent edits with the same If-Match: one wins, the other gets 412', async t => {
  for (const kind of ['appointments', 'tasks'] as const) {
    const body = kind === 'appointments' ? { title: 'Race', start: '2026-08-03T09:00:00Z', end: '2026-08-03T10:00:00Z' } : { title: 'Race' }
    const created = await alice(`/api/v1/${kind}`, { method: 'POST', json: body })
    const { id } = created.body_ as { id: number }
    const etag = created.headers.get('etag')!
    const results = await Promise.all(['first', 'second', 'third'].map(title =>
      alice(`/api/v1/${kind}/${id}`, { method: 'PATCH', json: { title }, headers: { 'if-match': etag } })))
    t.same(results.map(r => r.status).sort(), [200, 412, 412], `${kind}: exactly one edit applies`)
    const winner = results.find(r => r.status === 200)!.body_ as { title: string; version: number }
    const now = (await alice(`/api/v1/${kind}/${id}`)).body_ as { title: string; version: number }
    t.equal(now.title, winner.title, `${kind}: the stored title is the winner's`)
    t.equal(now.version, 2, `${kind}: one new version`)
  }
})

t.test('a UID is unique per calendar, not across colleagues', async t => {
  const body = { title: 'Outside meeting', start: '2026-08-04T09:00:00Z', end: '2026-08-04T10:00:00Z', uid: 'invite-123@example.com' }
  t.equal((await alice('/api/v1/appointments', { method: 'POST', json: body })).status, 201)
  t.equal((await s.as('bob')('/api/v1/appointments', { method: 'POST', json: body })).status, 201, 'bob keeps his own copy of the same invitation')
  const again = await alice('/api/v1/appointments', { method: 'POST', json: body })
  t.equal(again.status, 409, 'but not twice in one calendar')
  t.equal((again.body_ as { rule: string }).rule, 'no-uid-conflict')
})
