import t from 'tap'
import { startSyncWorld, until } from './testing.ts'


t.test('the job queue runs a new connection and follows CRM changes from the journal, both ways', async t => {
  const w = await startSyncWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  const conn = await w.connect('alice')
  await w.s.k.sync.jobs.request(conn.id)
  await until('the first run', async () => (await w.connection('alice')).state === 'ok', 30_000)

  const alice = w.s.as('alice')
  const made = await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Picked up by the journal', start: '2026-12-03T09:00:00Z', end: '2026-12-03T10:00:00Z' } })
  t.equal(made.status, 201)
  const ev = await until('the event in Google', async () => (await w.events('alice')).find(e => e.summary === 'Picked up by the journal'))
  t.ok(ev, 'created in Google without anyone asking for a run')

  // Google announces our own write with a push like any change, and the run it starts finds
  // nothing new: wait until alice's connection is quiet before watching for a run
  let before = (await w.connection('alice')).last_success_at
  for (let quiet = false, i = 0; !quiet && i < 12; i++) {
    await new Promise(resolve => setTimeout(resolve, 2500))
    const now = (await w.connection('alice')).last_success_at
    quiet = String(now) === String(before)
    before = now
  }
  // bob's change does not concern alice: her connection is not asked to run for it
  await w.s.as('bob')('/api/v1/appointments', { method: 'POST', json: { title: 'Bob alone', start: '2026-12-03T09:00:00Z', end: '2026-12-03T10:00:00Z' } })
  await new Promise(resolve => setTimeout(resolve, 2500))
  t.same((await w.connection('alice')).last_success_at, before, 'no run for an unrelated change')
  t.notOk((await w.events('alice')).some(e => e.summary === 'Bob alone'))
})
