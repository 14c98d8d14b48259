import t from 'tap'
import { syncDb } from './tables.ts'
import { crmTitles, seedAlice as seed, startEwsWorld } from './testing-ews.ts'

// Provider and engine bugs the randomized convergence test found with Exchange, each pinned by a plain case.

// Found by the randomized convergence test (convergence-both.test.ts): the SyncState a run keeps was
// taken before that run's own CreateItems, and Exchange folds a create and a delete after a SyncState
// into nothing, so a copy deleted in Outlook before the next run was never listed as deleted.
t.test('a copy Kalends made, deleted in Outlook before the next run, is deleted in the CRM', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  await seed(w)
  await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Short-lived', start: '2026-12-04T09:00:00Z', end: '2026-12-04T10:00:00Z' } })
  t.equal((await w.run('alice')).out, 1)
  w.em.userDelete(w.items('alice').find(i => i.props.Subject === 'Short-lived')!.id)
  const r = await w.run('alice')
  t.equal(r.in, 1, 'the deletion taken in')
  t.same(await crmTitles(w, 'alice'), ['From Outlook', 'From the CRM'])
  const before = w.em.calls().length
  t.same((await w.run('alice')), { state: 'ok', in: 0, out: 0, rerun: false }, 'settled')
  t.same(w.em.calls().slice(before), ['SyncFolderItems', 'SyncFolderItems'], 'and idle runs read nothing more than before')
})

// Found by the randomized convergence test (convergence-exchange.test.ts): without a SyncState
// Exchange lists only what exists, so a deletion made meanwhile was never seen and its link dangled.
t.test('an item deleted in Outlook while the SyncState was lost is deleted in the CRM by the full resync', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  await seed(w)
  const outlook = w.items('alice').find(i => i.props.Subject === 'From Outlook')!
  w.em.userDelete(outlook.id)
  w.em.expireSyncStates(w.email('alice'))
  const r = await w.run('alice')
  t.equal(r.state, 'ok', r.reason ?? 'resynced')
  t.equal(r.in, 1, 'the deletion taken in')
  t.same(await crmTitles(w, 'alice'), ['From the CRM'], 'gone from the CRM too')
  const links = await syncDb(w.s.k.db).selectFrom('sync_links').select('remote_id').where('connection_id', '=', (await w.connection('alice')).id).execute()
  t.same(links.map(l => l.remote_id), [w.items('alice')[0]!.id], 'no link left pointing at nothing')
  t.same((await w.run('alice')), { state: 'ok', in: 0, out: 0, rerun: false }, 'settled')
})
