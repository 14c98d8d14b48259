import { connect } from 'node:net'
import t from 'tap'
import { sha256 } from '../auth/api-tokens.ts'
import { saveGoogleIntegration } from './google/integration.ts'
import { syncDb } from './tables.ts'
import { CLIENT_ID, CLIENT_SECRET, startSyncWorld, until } from './testing.ts'

/**
 * POSTs a notification as Google's push guide shows it
 * (https://developers.google.com/calendar/api/guides/push): a JSON content
 * type, an empty body, the X-Goog-* headers. Written on the socket as is:
 * fetch would add headers of its own. Answers the status code.
 */
async function googleNotification (serverUrl: string, headers: Record<string, string>): Promise<number> {
  const u = new URL('/sync/google/push', serverUrl)
  const request = [`POST ${u.pathname} HTTP/1.1`, `Host: ${u.host}`, 'Content-Type: application/json; utf-8', 'Content-Length: 0',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'User-Agent: APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)',
    'Accept-Encoding: gzip, deflate, br', 'Connection: close', '', ''].join('\r\n')
  const socket = connect(Number(u.port), u.hostname)
  socket.write(request)
  let answer = ''
  for await (const chunk of socket) answer += String(chunk)
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1])
}


t.test('push: the admin sets the address, a connection watches its calendar, Google\'s notification brings the change in within seconds; forged ones are refused', async t => {
  const w = await startSyncWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  const admin = w.s.as('admin')
  const alice = w.s.as('alice')

  t.equal((await alice('/api/v1/integrations/google', { method: 'PUT', json: { pushAddress: w.s.url } })).status, 403, 'only admins set integrations')
  const set = await admin('/api/v1/integrations/google', { method: 'PUT', json: { pushAddress: w.s.url, clientId: 'kalends-test.apps.googleusercontent.com', clientSecret: 'kalends-test-secret' } })
  t.equal(set.status, 200)
  t.same(set.body_, { configured: true, enabled: true, clientId: 'kalends-test.apps.googleusercontent.com', clientSecretSet: true, applicationName: 'Kalends', pushAddress: w.s.url, delegationDomain: null, serviceAccount: null, delegateContacts: false }, 'the secret is never shown back')
  const stored = await syncDb(w.s.k.db).selectFrom('integrations').select(['secret_sealed', 'settings']).executeTakeFirstOrThrow()
  t.notMatch(String(stored.secret_sealed), /kalends-test-secret/, 'sealed at rest')

  const conn = await w.connect('alice')
  t.equal((await alice(`/api/v1/connections/${conn.id}/sync`, { method: 'POST' })).status, 202)
  // stored first without Google's resourceId (its sync message may come before the answer), then with it
  const watched = await until('a channel', async () => { const c = (await w.connection('alice')).channel; return c?.resourceId !== undefined ? c : null })
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
  const renewed = await until('a new channel', async () => { const c = (await w.connection('alice')).channel; return c !== null && c.id !== watched.id && c.resourceId !== undefined ? c : null })
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

t.test('Google\'s own notifications (JSON type, empty body, X-Goog headers) are accepted: the sync message marks push as arriving, an exists message brings the change', async t => {
  const w = await startSyncWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  await saveGoogleIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, pushAddress: w.s.url })
  // this test is Google's notifier: the emulator's own messages are dropped
  w.g.notifications({ drop: 1 })
  const conn = await w.connect('alice')
  const alice = w.s.as('alice')
  t.equal((await alice(`/api/v1/connections/${conn.id}/sync`, { method: 'POST' })).status, 202)
  const stored = await until('a channel', async () => { const c = (await w.connection('alice')).channel; return c?.resourceId !== undefined ? c : null })
  // the channel as Google has it, with the token Kalends gave (and stores only hashed)
  const made = w.g.channels().find(c => c.id === stored.id)!
  t.equal(sha256(made.token ?? ''), stored.tokenSha256)
  const view = async () => (await alice(`/api/v1/connections/${conn.id}`)).body_ as { push: boolean; pushState: string }
  t.match(await view(), { push: true, pushState: 'starting' }, 'nothing has arrived yet')
  const message = (state: string, n: number) => ({
    'X-Goog-Channel-ID': made.id,
    'X-Goog-Channel-Token': made.token!,
    'X-Goog-Channel-Expiration': new Date(made.expiration).toUTCString(),
    'X-Goog-Resource-ID': made.resourceId,
    'X-Goog-Resource-URI': made.resourceUri,
    'X-Goog-Resource-State': state,
    'X-Goog-Message-Number': String(n)
  })
  t.equal(await googleNotification(w.s.url, message('sync', 1)), 204, 'the sync message is acknowledged')
  t.match(await view(), { push: true, pushState: 'on' }, 'push is arriving')

  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary: 'Notified', start: { dateTime: '2026-12-15T09:00:00Z' }, end: { dateTime: '2026-12-15T10:00:00Z' } } })
  t.equal(await googleNotification(w.s.url, message('exists', 2)), 204, 'the exists message is acknowledged')
  // the poll is five minutes away: only the notification brings it within the wait
  await until('the notified event in the CRM', async () => ((await alice('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: { title: string }[] }).items.some(a => a.title === 'Notified'))

  t.equal(await googleNotification(w.s.url, { ...message('exists', 3), 'X-Goog-Channel-Token': 'forged' }), 404, 'a wrong token is still refused')
  t.equal(await googleNotification(w.s.url, { ...message('exists', 4), 'X-Goog-Channel-ID': 'unknown' }), 404, 'an unknown channel too')
})
