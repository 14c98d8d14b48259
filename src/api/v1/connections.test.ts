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
