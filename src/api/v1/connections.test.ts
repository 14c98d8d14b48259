import t from 'tap'
import { syncDb } from '../../sync/tables.ts'
import { startSyncWorld, type SyncWorld } from '../../sync/testing.ts'

/**
 * /api/v1/connections over HTTP against the Google emulator: ids beyond
 * what the database holds are refused as bad input (never a 500), and the
 * types given to items from outside are checked when the options are saved.
 */
let w: SyncWorld
t.before(async () => { w = await startSyncWorld({ users: ['alice', 'bob'] }) })
t.teardown(() => w.close())

t.test('ids too big for the database are a 400, never a 500', async t => {
  const alice = w.s.as('alice')
  const conn = await w.connect('alice')
  for (const id of ['100000000000000000000', '9223372036854775808', String(2 ** 53)]) {
    for (const [method, path, json] of [
      ['GET', '', undefined], ['PATCH', '', { tasks: false }], ['POST', '/sync', undefined], ['POST', '/sync-since', { date: '2026-01-01' }],
      ['GET', '/log', undefined], ['DELETE', '', undefined]
    ] as const) {
      const res = await alice(`/api/v1/connections/${id}${path}`, { method, ...(json === undefined ? {} : { json }) })
      t.equal(res.status, 400, `${method} /connections/${id}${path}`)
    }
  }
  for (const field of ['appointmentTypeId', 'taskTypeId']) {
    const res = await alice(`/api/v1/connections/${conn.id}`, { method: 'PATCH', json: { [field]: 100000000000000000000 } })
    t.equal(res.status, 400, `a huge ${field}`)
  }
  t.equal((await alice(`/api/v1/connections/${conn.id}`)).status, 200, 'the connection is still there')
})

t.test('the types for items from outside are checked when saved: another organisation\'s, the wrong kind or none is a 400 and nothing is stored', async t => {
  const alice = w.s.as('alice')
  const admin = w.s.as('admin')
  const conn = await w.connect('alice')
  const meeting = (await admin('/api/v1/types', { method: 'POST', json: { name: 'Meeting', appliesTo: 'appointment' } })).body_ as { id: number }
  const call = (await admin('/api/v1/types', { method: 'POST', json: { name: 'Call back', appliesTo: 'task' } })).body_ as { id: number }
  const org = await w.s.k.db.insertInto('orgs').values({ name: 'Elsewhere', settings: '{}' }).returning('id').executeTakeFirstOrThrow()
  const foreign = await w.s.k.db.insertInto('item_types').values({ org_id: org.id, name: 'Theirs', applies_to: 'appointment' }).returning('id').executeTakeFirstOrThrow()
  const before = (await w.connection('alice')).options
  for (const [json, field, why] of [
    [{ appointmentTypeId: call.id }, 'appointmentTypeId', 'a task type for appointments'],
    [{ taskTypeId: meeting.id }, 'taskTypeId', 'an appointment type for tasks'],
    [{ appointmentTypeId: foreign.id }, 'appointmentTypeId', 'another organisation\'s type'],
    [{ taskTypeId: 999_999 }, 'taskTypeId', 'no such type'],
    [{ appointmentTypeId: meeting.id, taskTypeId: 999_999 }, 'taskTypeId', 'one good, one bad']
  ] as const) {
    const res = await alice(`/api/v1/connections/${conn.id}`, { method: 'PATCH', json })
    t.equal(res.status, 400, why)
    t.equal((res.body_ as { field?: string }).field, field, `names ${field}`)
  }
  t.same((await w.connection('alice')).options, before, 'nothing stored')
  const ok = await alice(`/api/v1/connections/${conn.id}`, { method: 'PATCH', json: { appointmentTypeId: meeting.id, taskTypeId: call.id } })
  t.equal(ok.status, 200)
  t.match((await w.connection('alice')).options, { appointmentTypeId: meeting.id, taskTypeId: call.id })
  t.equal((await alice(`/api/v1/connections/${conn.id}`, { method: 'PATCH', json: { appointmentTypeId: null, taskTypeId: null } })).status, 200, 'none is fine')
  t.match((await w.connection('alice')).options, { appointmentTypeId: null, taskTypeId: null })
})

t.test('sync now waits for the reconnect, as on the pages; saving options queues a run', async t => {
  const bob = w.s.as('bob')
  const conn = await w.connect('bob')
  const queued: number[] = []
  const jobs = w.s.k.sync.jobs
  const request = jobs.request.bind(jobs)
  jobs.request = async (id, opts) => { queued.push(id); return request(id, opts) }
  t.teardown(() => { jobs.request = request })
  t.equal((await bob(`/api/v1/connections/${conn.id}`, { method: 'PATCH', json: { pollMinutes: 7 } })).status, 200)
  t.same(queued, [conn.id], 'a run after the options change')
  w.g.revoke(w.email('bob'))
  t.equal((await w.run('bob')).state, 'error')
  const res = await bob(`/api/v1/connections/${conn.id}/sync`, { method: 'POST' })
  t.equal(res.status, 409, 'not queued: Google refuses the access')
  t.match((res.body_ as { detail?: string }).detail, /Reconnect it first/)
  t.same(queued, [conn.id], 'nothing more queued')
})
