import t from 'tap'
import { startSyncWorld } from './testing.ts'

// Found by scripts/bench-sync.ts: a first import longer than the server's keep-alive
// timeout failed the whole run on the next listing (ECONNRESET on a stale connection).
t.test('a listing whose kept-alive connection was reset is read again, not the whole run failed', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary: 'Imported', start: { date: '2026-12-01' }, end: { date: '2026-12-02' } } })
  await w.connect('alice')
  w.g.fault({ kind: 'reset', match: { method: 'GET', pathIncludes: '/tasks/' } })
  const r = await w.run('alice')
  t.equal(r.state, 'ok', 'the run goes through')
  t.equal(r.in, 1)
  t.same(w.g.injectedFaults().map(f => f.kind), ['reset'], 'the reset happened')
  // a write is not repeated blindly: a reset create fails the run, to be retried with its pending link
  await w.s.as('alice')('/api/v1/tasks', { method: 'POST', json: { title: 'Out' } })
  w.g.fault({ kind: 'reset', match: { method: 'POST', pathIncludes: '/tasks/' } })
  await t.rejects(w.run('alice'), /ECONNRESET|no answer/)
  t.equal((await w.run('alice')).state, 'ok')
  t.equal((await w.googleTasks('alice')).filter(x => x.title === 'Out').length, 1, 'made once')
})
