import t from 'tap'
import { providerContext } from './engine.ts'
import type { EventData } from './items.ts'
import { Transient } from './provider.ts'
import { syncDb } from './tables.ts'
import { startGraphWorld } from './testing-graph.ts'

type Appt = { id: number; uid: string; title: string }
const titles = async (w: Awaited<ReturnType<typeof startGraphWorld>>, login: string) => ((await w.s.as(login)('/api/v1/appointments?from=2026-11-01T00:00:00Z&to=2027-03-01T00:00:00Z')).body_ as { items: Appt[] }).items.map(a => a.title).sort()
const outlookTitles = async (w: Awaited<ReturnType<typeof startGraphWorld>>, login: string) => (await w.events(login)).map(e => e.subject as string).sort()

t.test('consent revoked: red with the reason, reconnect resumes without duplicates', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Before', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })
  await w.connect('alice')
  t.equal((await w.run('alice')).state, 'ok')

  w.g.revokeConsent(w.email('alice'), (await import('./testing-graph.ts')).GRAPH_CLIENT_ID)
  w.g.advanceClock(2 * 3_600_000) // the access token the run holds expires: MSAL has to use the refresh token
  const red = await w.run('alice')
  t.equal(red.state, 'error')
  t.match(red.reason, /consent to Kalends was revoked.*AADSTS65001.*reconnect/, 'a reason a person can act on')
  const conn = await w.connection('alice')
  t.ok(conn.auth_failed_at, 'needs a reconnect')
  t.equal((await w.run('alice')).state, 'skipped', 'no runs until then')

  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'While red', start: '2026-12-02T09:00:00Z', end: '2026-12-02T10:00:00Z' } })
  await w.api('alice', 'POST', '/me/events', { subject: 'Outlook while red', start: { dateTime: '2026-12-03T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-03T10:00:00', timeZone: 'UTC' } })
  const again = await w.connect('alice')
  t.equal(again.id, conn.id, 'the same connection')
  t.equal(again.auth_failed_at, null)
  const resumed = await w.run('alice')
  t.equal(resumed.state, 'ok', resumed.reason ?? 'resumed')
  t.same([resumed.in, resumed.out], [1, 1], 'only what changed meanwhile')
  t.same(await outlookTitles(w, 'alice'), ['Before', 'Outlook while red', 'While red'], 'no duplicates in Outlook')
  t.same(await titles(w, 'alice'), ['Before', 'Outlook while red', 'While red'], 'no duplicates in the CRM')
})

t.test('password changed and admin approval needed read as such', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  await w.connect('alice')
  t.equal((await w.run('alice')).state, 'ok')
  w.g.changePassword(w.email('alice'))
  w.g.advanceClock(2 * 3_600_000)
  const red = await w.run('alice')
  t.match(red.reason, /password was changed or reset.*AADSTS50173/)

  w.g.requireAdminApproval((await import('./testing-graph.ts')).GRAPH_CLIENT_ID, ['Calendars.ReadWrite'])
  await t.rejects(w.connect('bob'), /authorize answered 200/, 'the sign-in stops at Microsoft\'s "Need admin approval" page')
})

t.test('an expired delta token: everything listed again, nothing duplicated', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Ours', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })
  await w.api('alice', 'POST', '/me/events', { subject: 'Theirs', start: { dateTime: '2026-12-03T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-03T10:00:00', timeZone: 'UTC' } })
  await w.connect('alice')
  await w.run('alice')
  w.g.expireDeltaTokens()
  const run = await w.run('alice')
  t.equal(run.state, 'ok', run.reason ?? 'run')
  t.same([run.in, run.out], [0, 0], 'matched by their links')
  const log = await syncDb(w.s.k.db).selectFrom('sync_log').select('message').where('connection_id', '=', (await w.connection('alice')).id).execute()
  t.ok(log.some(l => /sync token expired/.test(l.message)), 'the log says why everything was listed')
  // the links gone too (a reconnect after a disconnect): matched by the hidden CRM id, not copied
  await syncDb(w.s.k.db).deleteFrom('sync_links').execute()
  await syncDb(w.s.k.db).updateTable('sync_connections').set({ cursors: JSON.stringify({}), journal_seq: 0 }).execute()
  const rematch = await w.run('alice')
  t.equal(rematch.state, 'ok', rematch.reason ?? 'rematch')
  t.same(await outlookTitles(w, 'alice'), ['Ours', 'Theirs'])
  t.same(await titles(w, 'alice'), ['Ours', 'Theirs'])
})

t.test('412: a stale etag is resolved by reading again, never a lost or doubled write', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const a = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Review', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })).body_ as Appt
  const b = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Doomed', start: '2026-12-02T09:00:00Z', end: '2026-12-02T10:00:00Z' } })).body_ as Appt
  await w.connect('alice')
  await w.run('alice')
  // the etags we hold are stale (as after a change we have not listed yet)
  await syncDb(w.s.k.db).updateTable('sync_links').set({ remote_etag: 'W/"stale"' }).execute()
  await alice(`/api/v1/appointments/${a.id}`, { method: 'PATCH', json: { title: 'Review (CRM)' } })
  await alice(`/api/v1/appointments/${b.id}`, { method: 'DELETE' })
  const run = await w.run('alice')
  t.equal(run.state, 'ok', run.reason ?? 'run')
  t.equal(run.out, 2)
  t.same(await outlookTitles(w, 'alice'), ['Review (CRM)'], 'updated over the fresh etag; deleted anyway')
})

t.test('429 and 503 wait out Retry-After; a long one ends the run for a later retry', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const waits: number[] = []
  w.s.k.sync.graph.sleep = async s => { waits.push(s) }
  const alice = w.s.as('alice')
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Throttled', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })
  await w.api('alice', 'POST', '/me/events', { subject: 'Outlook', start: { dateTime: '2026-12-03T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-03T10:00:00', timeZone: 'UTC' } })
  await w.connect('alice')
  w.g.throttle({ status: 429, retryAfter: 3, times: 1, pathIncludes: 'calendarView' })
  w.g.throttle({ status: 503, retryAfter: 2, times: 1, pathIncludes: '/events/' }) // inside the $batch that reads the event
  const run = await w.run('alice')
  t.equal(run.state, 'ok', run.reason ?? 'run')
  t.same(waits, [3, 2], 'each Retry-After waited for, as given')
  t.same(await titles(w, 'alice'), ['Outlook', 'Throttled'])

  w.g.throttle({ status: 429, retryAfter: 120, times: 1, pathIncludes: 'calendarView' })
  const err: unknown = await w.run('alice').catch((e: unknown) => e)
  t.ok(err instanceof Transient, 'two minutes is not waited for inside a run')
  t.match((await w.connection('alice')).state_reason, /^retrying: .*429/)
  t.equal((await w.run('alice')).state, 'ok', 'the retry goes through')
})

t.test('creates are idempotent: transactionId and the hidden CRM id', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const appt = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Once', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })).body_ as Appt
  await w.connect('alice', { tasks: false })
  const conn = await w.connection('alice')
  const provider = w.s.k.sync.engine.providers.get('graph')!
  const session = await provider.open(conn, providerContext(w.s.k.sync.engine, conn))
  const events = session.collections[0]!
  const data: EventData = { title: 'Once', description: '', location: '', allDay: false, start: '2026-12-01T09:00:00.000Z', end: '2026-12-01T10:00:00.000Z', timezone: 'UTC', rrule: null, exdates: [], status: 'confirmed', private: false, busy: true, overrides: [] }
  const ref = { kind: 'appointment' as const, id: appt.id, uid: appt.uid }
  const one = await events.create(data, ref, [], { lookupUid: false, mayExist: false })
  const two = await events.create(data, ref, [], { lookupUid: false, mayExist: false })
  t.equal(two.remoteId, one.remoteId, 'the retried POST answers the first event (same transactionId)')
  t.equal((await w.events('alice')).length, 1)

  // the process died after the create reached Outlook, before its link was written: the run finds our copy
  await syncDb(w.s.k.db).insertInto('sync_links').values({ connection_id: conn.id, item_kind: 'appointment', item_id: appt.id, remote_id: null, remote_etag: null, written_hash: null, crm_hash: null, updated_at: new Date() }).execute()
  const run = await w.run('alice')
  t.equal(run.state, 'ok', run.reason ?? 'run')
  t.same(await outlookTitles(w, 'alice'), ['Once'], 'no second event')
  t.same(await titles(w, 'alice'), ['Once'], 'no copy in the CRM either')
})

t.test('the delta window follows the connection\'s: a window that moved past the token\'s end starts a new round', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const day = 86_400_000
  const at = (days: number) => new Date(Math.floor(Date.now() / day) * day + days * day + 9 * 3_600_000).toISOString().slice(0, 19)
  await w.api('alice', 'POST', '/me/events', { subject: 'Soon', start: { dateTime: at(10), timeZone: 'UTC' }, end: { dateTime: at(10).replace('T09', 'T10'), timeZone: 'UTC' } })
  await w.api('alice', 'POST', '/me/events', { subject: 'Far ahead', start: { dateTime: at(80), timeZone: 'UTC' }, end: { dateTime: at(80).replace('T09', 'T10'), timeZone: 'UTC' } })
  await w.connect('alice', { daysBefore: 30, daysAfter: 60 })
  await w.run('alice')
  t.same(await titles(w, 'alice'), ['Soon'], 'only what is in the window')
  const { updateOptions } = await import('./connections.ts')
  await updateOptions(w.s.k.db, w.s.users.alice!, (await w.connection('alice')).id, { daysBefore: 30, daysAfter: 120 })
  const run = await w.run('alice')
  t.equal(run.state, 'ok', run.reason ?? 'run')
  t.equal(run.in, 1, 'the event the wider window reaches comes in')
  t.same(await titles(w, 'alice'), ['Far ahead', 'Soon'], 'nothing twice')
  t.same([(await w.run('alice')).in], [0], 'then incremental again')
})
