import t from 'tap'
import { syncDb } from './tables.ts'
import { startSyncWorld } from './testing.ts'

// Engine bugs the randomized convergence test found, each pinned by a plain case.

t.test('tasks deleted in the CRM do not trip the mass-delete guard when Google lists them back', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const ids: number[] = []
  for (let i = 0; i < 24; i++) ids.push(((await alice('/api/v1/tasks', { method: 'POST', json: { title: `task ${i}` } })).body_ as { id: number }).id)
  await w.connect('alice')
  t.equal((await w.run('alice')).state, 'ok')
  t.equal((await w.googleTasks('alice')).length, 24)
  for (const id of ids) await alice(`/api/v1/tasks/${id}`, { method: 'DELETE' })
  t.equal((await w.run('alice')).out, 24, 'removed from Google')
  // Tasks has no sync token: the next poll lists the 24 deletions again, ours, none of them linked
  const again = await w.run('alice')
  t.equal(again.state, 'ok', again.reason ?? 'the next run goes on')
  t.equal((await w.connection('alice')).state, 'ok')
})

t.test('a task create retried after a crash finds its own copy, not one whose id starts the same', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const ids: number[] = []
  for (let i = 0; i < 12; i++) ids.push(((await alice('/api/v1/tasks', { method: 'POST', json: { title: `task ${i}` } })).body_ as { id: number }).id)
  const a = ids.find(x => ids.some(y => y !== x && String(y).startsWith(String(x))))
  t.ok(a !== undefined, 'one id is the start of another (e.g. 1 and 10)')
  const conn = await w.connect('alice')
  await w.run('alice')
  // as if the process died after the pending link and before Google made the task
  const link = await syncDb(w.s.k.db).selectFrom('sync_links').selectAll().where('connection_id', '=', conn.id).where('item_kind', '=', 'task').where('item_id', '=', a!).executeTakeFirstOrThrow()
  await w.tasks('alice').tasks.delete({ tasklist: '@default', task: link.remote_id! })
  await syncDb(w.s.k.db).updateTable('sync_links').set({ remote_id: null, remote_etag: null, written_hash: null, crm_hash: null })
    .where('connection_id', '=', conn.id).where('item_kind', '=', 'task').where('item_id', '=', a!).execute()
  await alice(`/api/v1/tasks/${a}`, { method: 'PATCH', json: { title: 'made again' } })
  const r = await w.run('alice')
  t.equal(r.state, 'ok', r.reason ?? 'the run succeeds')
  const live = (await w.googleTasks('alice')).filter(x => x.deleted !== true)
  t.equal(live.length, 12, 'one Google task per CRM task')
  t.equal(live.filter(x => x.title === 'made again').length, 1, 'the lost one made again')
})

t.test('an EXDATE written as wall time with TZID in Google is that wall time in the CRM, not UTC', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  await w.connect('alice')
  await w.calendar('alice').events.insert({
    calendarId: 'primary',
    requestBody: {
      summary: 'Weekly with a skipped week',
      start: { dateTime: '2026-12-01T10:00:00+01:00', timeZone: 'Europe/Warsaw' },
      end: { dateTime: '2026-12-01T11:00:00+01:00', timeZone: 'Europe/Warsaw' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE;TZID=Europe/Warsaw:20261208T100000']
    }
  })
  await w.run('alice')
  const a = await w.s.k.db.selectFrom('appointments').selectAll().where('title', '=', 'Weekly with a skipped week').executeTakeFirstOrThrow()
  t.same(a.exdates.map(x => new Date(x).toISOString()), ['2026-12-08T09:00:00.000Z'], '10:00 in Warsaw is 09:00 UTC')
})
