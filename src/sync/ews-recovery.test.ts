import t from 'tap'
import { freePort } from '../testing/harness.ts'
import { disconnect } from './connections.ts'
import { saveExchangeIntegration } from './ews/integration.ts'
import { syncDb } from './tables.ts'
import { crmTitles, seedAlice as seed, startEwsWorld, type EwsWorld } from './testing-ews.ts'

const exchangeTitles = (w: EwsWorld, login: string) => w.items(login).map(i => i.props.Subject ?? '').sort()

t.test('an invalidated SyncState lists everything again and matches it: no duplicate either side', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  await seed(w)
  w.em.expireSyncStates(w.email('alice'))
  const again = await w.run('alice')
  t.equal(again.state, 'ok')
  t.same([again.in, again.out], [0, 0], 'nothing copied again')
  t.same(await crmTitles(w, 'alice'), ['From Outlook', 'From the CRM'])
  t.same(exchangeTitles(w, 'alice'), ['From Outlook', 'From the CRM'])
  const conn = await w.connection('alice')
  const info = await syncDb(w.s.k.db).selectFrom('sync_log').select('message').where('connection_id', '=', conn.id).where('message', 'like', '%expired%').execute()
  t.equal(info.length, 2, 'the log says the cursor expired, once per folder (calendar and tasks)')
})

t.test('disconnect, then connect again: the hidden CRM id matches both kinds of item, zero duplicates', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  await seed(w)
  const before = (await w.connection('alice')).id
  await disconnect(w.s.k.sync.engine, w.s.users.alice!, before)
  // the log is kept across a disconnect: only what the run after it wrote counts here
  const since = (await syncDb(w.s.k.db).selectFrom('sync_log').select(eb => eb.fn.max('id').as('id')).where('connection_id', '=', before).executeTakeFirstOrThrow()).id ?? 0
  await w.connect('alice')
  const back = await w.run('alice')
  t.equal(back.state, 'ok', back.reason ?? 'reconnected')
  t.same(await crmTitles(w, 'alice'), ['From Outlook', 'From the CRM'], 'no duplicate in the CRM')
  t.same(exchangeTitles(w, 'alice'), ['From Outlook', 'From the CRM'], 'no duplicate in Exchange')
  const log = await syncDb(w.s.k.db).selectFrom('sync_log').select('action').where('connection_id', '=', (await w.connection('alice')).id).where('action', 'in', ['linked', 'created']).where('id', '>', since).execute()
  t.same(log.map(l => l.action), ['linked', 'linked'], 'both matched (hidden id, Exchange UID), none created')
  t.equal((await w.connection('alice')).id, before, 'the same connection, with its options and log')
})

t.test('an item already in Exchange with the CRM item\'s UID (an earlier .ics import) is matched, not duplicated', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  const made = (await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Quarterly', start: '2026-12-14T09:00:00Z', end: '2026-12-14T10:00:00Z' } })).body_ as { uid: string }
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', '<t:Subject>Quarterly</t:Subject><t:Start>2026-12-14T09:00:00Z</t:Start><t:End>2026-12-14T10:00:00Z</t:End>', made.uid)
  await w.connect('alice')
  t.equal((await w.run('alice')).state, 'ok')
  t.same(exchangeTitles(w, 'alice'), ['Quarterly'], 'one item in Exchange')
  t.same(await crmTitles(w, 'alice'), ['Quarterly'], 'one appointment in the CRM')
})

t.test('a copy made by an interrupted create is found by its hidden property instead of made twice', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  const made = await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Half made', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })
  const id = (made.body_ as { id: number }).id
  await w.connect('alice')
  const conn = await w.connection('alice')
  // what a process that died between CreateItem and saving the link leaves: a pending link, and the copy in Exchange
  await syncDb(w.s.k.db).insertInto('sync_links').values({ connection_id: conn.id, item_kind: 'appointment', item_id: id, remote_id: null, remote_etag: null, written_hash: null, crm_hash: null, updated_at: new Date() }).execute()
  await syncDb(w.s.k.db).updateTable('sync_connections').set({ cursors: JSON.stringify({ events: 'x', tasks: 'x' }) }).where('id', '=', conn.id).execute()
  w.em.expireSyncStates()
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', `<t:Subject>Half made</t:Subject><t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="KalendsItem" PropertyType="String"/><t:Value>appointment:${id}</t:Value></t:ExtendedProperty><t:Start>2026-12-01T09:00:00Z</t:Start><t:End>2026-12-01T10:00:00Z</t:End>`)
  await syncDb(w.s.k.db).deleteFrom('sync_links').where('connection_id', '=', conn.id).execute()
  await syncDb(w.s.k.db).insertInto('sync_links').values({ connection_id: conn.id, item_kind: 'appointment', item_id: id, remote_id: null, remote_etag: null, written_hash: null, crm_hash: null, updated_at: new Date() }).execute()
  const res = await w.run('alice')
  t.equal(res.state, 'ok', res.reason ?? 'resumed')
  t.same(exchangeTitles(w, 'alice'), ['Half made'], 'one copy')
  t.same(await crmTitles(w, 'alice'), ['Half made'])
})

t.test('password changed in Exchange: red with the reason, no retries; the new password resumes it', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  await seed(w)
  w.em.store.mailboxes.get(w.email('alice'))!.password = 'Changed-2'
  const red = await w.run('alice')
  t.equal(red.state, 'error')
  t.match(red.reason, /password is wrong or was changed/)
  const conn = await w.connection('alice')
  t.equal(conn.state, 'error')
  t.ok(conn.auth_failed_at !== null, 'waits for the user')
  t.equal((await w.run('alice')).state, 'skipped', 'not tried again with the old password')
  await t.rejects(w.connect('alice', { password: 'wrong' }), { message: /Exchange refused/ }, 'a wrong new password is refused at once')
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', '<t:Subject>While red</t:Subject><t:Start>2026-12-03T12:00:00Z</t:Start><t:End>2026-12-03T13:00:00Z</t:End>')
  await w.connect('alice', { password: 'Changed-2' })
  const resumed = await w.run('alice')
  t.equal(resumed.state, 'ok')
  t.equal(resumed.in, 1, 'resumes from its SyncState: only what changed meanwhile')
  t.same(await crmTitles(w, 'alice'), ['From Outlook', 'From the CRM', 'While red'])
})

t.test('ErrorServerBusy: waits BackOffMilliseconds and goes on; HTTP 503: the run is retried later', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  await seed(w)
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', '<t:Subject>After the storm</t:Subject><t:Start>2026-12-03T12:00:00Z</t:Start><t:End>2026-12-03T13:00:00Z</t:End>')
  w.em.fault({ kind: 'serverBusy', operation: 'GetItem', times: 2, backOffMs: 20 })
  const busy = await w.run('alice')
  t.equal(busy.state, 'ok', 'the back-off was waited out within the run')
  t.same(w.em.injectedFaults().map(f => f.kind), ['serverBusy', 'serverBusy'])
  t.ok((await crmTitles(w, 'alice')).includes('After the storm'))

  w.em.fault({ kind: 'serverBusy', operation: 'SyncFolderItems', times: 1, backOffMs: 10 * 60_000 })
  await t.rejects(w.run('alice'), { message: /busy \(ErrorServerBusy, back off 600000 ms\)/ }, 'a back-off longer than a run waits: retried later')
  w.em.fault({ kind: 'http503', operation: 'SyncFolderItems', times: 1 })
  await t.rejects(w.run('alice'), { message: /unavailable \(HTTP 503\)/ })
  const conn = await w.connection('alice')
  t.match(conn.state_reason, /^retrying: /, 'the connection says it is retrying')
  t.equal(conn.auth_failed_at, null)
  t.equal((await w.run('alice')).state, 'ok', 'and the next run goes through')
})

t.test('a service account with ApplicationImpersonation syncs a mailbox without the user\'s password; without the right, red with the reason', async t => {
  const w = await startEwsWorld({ integration: { serviceUsername: 'svc-kalends@example.com', servicePassword: 'Svc-Secret-1' } })
  t.teardown(() => w.close())
  w.em.addMailbox('svc-kalends@example.com', { password: 'Svc-Secret-1' })
  await t.rejects(w.connect('alice', {}), { message: /ApplicationImpersonation/ }, 'no right yet: said when connecting')
  w.em.grantImpersonation('svc-kalends@example.com', w.email('alice'))
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', '<t:Subject>In her mailbox</t:Subject><t:Start>2026-12-02T12:00:00Z</t:Start><t:End>2026-12-02T13:00:00Z</t:End>')
  const conn = await w.connect('alice', {})
  t.equal(conn.auth_kind, 'delegation')
  t.equal(conn.credentials_sealed, null, 'no password of hers is stored')
  t.equal((await w.run('alice')).state, 'ok')
  t.same(await crmTitles(w, 'alice'), ['In her mailbox'])
  w.em.store.impersonation.clear()
  const red = await w.run('alice')
  t.equal(red.state, 'error')
  t.match(red.reason, /may not act for alice@example.com.*ApplicationImpersonation/)
})

t.test('connecting says plainly what is wrong: unreachable server, wrong address, wrong password', async t => {
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  await t.rejects(w.connect('alice', { password: 'not-hers' }), { message: /Exchange refused: .*password is wrong/ })
  await saveExchangeIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId, { ewsUrl: `http://127.0.0.1:${await freePort()}/EWS/Exchange.asmx` })
  await t.rejects(w.connect('alice'), { message: /Exchange could not be reached: .*ECONNREFUSED/ })
  await saveExchangeIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId, { ewsUrl: `${w.em.url}/owa/` })
  await t.rejects(w.connect('alice'), { message: /HTTP 404 and no SOAP: is the EWS URL right\?/ })
  t.equal(await syncDb(w.s.k.db).selectFrom('sync_connections').select('id').execute().then(r => r.length), 0, 'no connection is made')
})
