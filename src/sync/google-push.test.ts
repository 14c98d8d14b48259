import t from 'tap'
import { syncDb } from './tables.ts'
import { startSyncWorld, until } from './testing.ts'


t.test('push: the admin sets the address, a connection watches its calendar, Google\'s notification brings the change in within seconds; forged ones are refused', async t => {
  const w = await startSyncWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  const admin = w.s.as('admin')
  const alice = w.s.as('alice')

  t.equal((await alice('/api/v1/integrations/google', { method: 'PUT', json: { pushAddress: w.s.url } })).status, 403, 'only admins set integrations')
  const set = await admin('/api/v1/integrations/google', { method: 'PUT', json: { pushAddress: w.s.url, clientId: 'kalends-test.apps.googleusercontent.com', clientSecret: 'kalends-test-secret' } })
  t.equal(set.status, 200)
  t.same(set.body_, { configured: true, enabled: true, clientId: 'kalends-test.apps.googleusercontent.com', clientSecretSet: true, applicationName: 'Kalends', pushAddress: w.s.url, delegationDomain: null, serviceAccount: null }, 'the secret is never shown back')
  const stored = await syncDb(w.s.k.db).selectFrom('integrations').select(['secret_sealed', 'settings']).executeTakeFirstOrThrow()
  t.notMatch(String(stored.secret_sealed), /kalends-test-secret/, 'sealed at rest')

  const conn = await w.connect('alice')
  t.equal((await alice(`/api/v1/connections/${conn.id}/sync`, { method: 'POST' })).status, 202)
  const watched = await until('a channel', async () => (await w.connection('alice')).channel)
  t.match(watched, { id: String, resourceId: String, expiration: Number, tokenSha256: /^[0-9a-f]{64}$/ })
  const listed = (await alice('/api/v1/connections')).body_ as { id: number; healthy: boolean; push: boolean }[]
  t.match(listed, [{ id: conn.id, healthy: true, push: true }])

  // a change in Google arrives through the notification, not a poll (the poll is minutes away)
  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary: 'Pushed', start: { dateTime: '2026-12-15T09:00:00Z' }, end: { dateTime: '2026-12-15T10:00:00Z' } } })
  await until('the pushed event in the CRM', async () => ((await alice('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: { title: string }[] }).items.some(a => a.title === 'Pushed'))

  // forged notifications change nothing
  const forged = await fetch(`${w.s.url}/sync/google/push`, { method: 'POST', headers: { 'x-goog-channel-id': String(watched.id), 'x-goog-channel-token': 'guess', 'x-goog-resource-state': 'exists' } })
  t.equal(forged.status, 404, 'a wrong channel token is refused')
  const unknown = await fetch(`${w.s.url}/sync/google/push`, { method: 'POST', headers: { 'x-goog-channel-id': 'nope', 'x-goog-resource-state': 'exists' } })
  t.equal(unknown.status, 404)

  // a channel close to its expiry is replaced by the next run, the old one stopped
  const stopsBefore = w.g.calls().byRoute['POST /calendar/v3/channels/stop'] ?? 0
  await syncDb(w.s.k.db).updateTable('sync_connections').set({ channel: JSON.stringify({ ...watched, expiration: Date.now() + 3_600_000 }) }).where('id', '=', conn.id).execute()
  await alice(`/api/v1/connections/${conn.id}/sync`, { method: 'POST' })
  const renewed = await until('a new channel', async () => { const c = (await w.connection('alice')).channel; return c !== null && c.id !== watched.id ? c : null })
  t.ok(Number(renewed.expiration) > Date.now() + 6 * 3_600_000, 'renewed well before it would have expired')
  t.equal(w.g.calls().byRoute['POST /calendar/v3/channels/stop'], stopsBefore + 1, 'the old channel is stopped')
  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary: 'Pushed again', start: { dateTime: '2026-12-15T11:00:00Z' }, end: { dateTime: '2026-12-15T12:00:00Z' } } })
  await until('the event pushed through the new channel', async () => ((await alice('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: { title: string }[] }).items.some(a => a.title === 'Pushed again'))

  // other people's connections are not there for alice
  const bobConn = await w.connect('bob')
  for (const [method, path] of [['GET', ''], ['PATCH', ''], ['POST', '/sync'], ['GET', '/log'], ['DELETE', '']] as const) {
    const res = await alice(`/api/v1/connections/${bobConn.id}${path}`, { method, ...(method === 'PATCH' ? { json: { tasks: false } } : {}) })
    t.equal(res.status, 404, `${method} ${path || '/'} on bob's connection`)
  }
  t.ok(await w.connection('bob'), 'bob\'s connection untouched')

  const bad = await alice(`/api/v1/connections/${conn.id}`, { method: 'PATCH', json: { appointments: false, tasks: false } })
  t.equal(bad.status, 400, 'appointments, tasks or both')
  const log = (await alice(`/api/v1/connections/${conn.id}/log`)).body_ as { action: string; message: string }[]
  t.ok(log.some(l => l.action === 'created' && /Pushed/.test(l.message)), 'the log says what came in')

  // disconnect stops the channel at Google
  t.equal((await alice(`/api/v1/connections/${conn.id}`, { method: 'DELETE' })).status, 204)
  const deliveries = w.g.deliveries().length
  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary: 'After disconnect', start: { dateTime: '2026-12-16T09:00:00Z' }, end: { dateTime: '2026-12-16T10:00:00Z' } } })
  await w.g.flushNotifications()
  t.equal(w.g.deliveries().length, deliveries, 'no more notifications once disconnected')
  t.same((await alice('/api/v1/connections')).body_, [], 'the connection is gone')
})
