import t from 'tap'
import { syncDb } from './tables.ts'
import { startGraphWorld } from './testing-graph.ts'
import { until } from './testing.ts'

type Sub = { id: string; kind: string; resource: string; expiration: number }
type Channel = { id: string; subs: Sub[]; stateSha256: string; expiration: number }

t.test('push: subscriptions with the handshake, clientState checked, lifecycle events, renewal, removal on disconnect', async t => {
  const w = await startGraphWorld({})
  t.teardown(() => w.close())
  const admin = w.s.as('admin')
  const alice = w.s.as('alice')
  t.equal((await alice('/api/v1/integrations/microsoft', { method: 'PUT', json: { pushAddress: w.s.url } })).status, 403, 'only admins set integrations')
  const set = await admin('/api/v1/integrations/microsoft', { method: 'PUT', json: { pushAddress: w.s.url } })
  t.equal(set.status, 200)
  t.match(set.body_, { configured: true, enabled: true, clientSecretSet: true, pushAddress: w.s.url, orgWide: false })
  t.notOk(JSON.stringify(set.body_).includes('kalends-graph-test-secret'), 'the secret is never shown back')

  const conn = await w.connect('alice')
  const first = await w.run('alice')
  t.equal(first.state, 'ok', first.reason ?? 'first run')
  let c = await w.connection('alice')
  const channel = c.channel as unknown as Channel
  t.equal(channel.subs.length, 2, 'one subscription for the calendar, one for the To Do list')
  t.match(channel.subs.map(s => s.resource).sort(), [/^me\/events$/, /^me\/todo\/lists\/.+\/tasks$/])
  t.ok(c.push_seen_at, 'the validation handshake reached us and counts as the first message')
  const listed = (await alice('/api/v1/connections')).body_ as { id: number; push: boolean; pushState: string }[]
  t.match(listed, [{ id: conn.id, push: true, pushState: 'on' }])

  // a change in Outlook comes as a notification: the route asks the queue for a run (recorded here; the test runs it)
  const requested: { id: number; force: boolean }[] = []
  w.s.k.sync.jobs.request = async (id, o) => { requested.push({ id, force: o?.force === true }) }
  await w.api('alice', 'POST', '/me/events', { subject: 'Pushed', start: { dateTime: '2026-12-15T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-15T10:00:00', timeZone: 'UTC' } })
  await w.g.flushNotifications()
  const delivered = w.g.deliveries().filter(d => d.url.includes('/sync/graph/notify'))
  t.ok(delivered.length >= 1, 'Graph posted a notification')
  t.same(delivered.map(d => d.status), delivered.map(() => 202), 'accepted')
  t.same(requested, [{ id: conn.id, force: false }], 'a run asked for')
  t.equal((await w.run('alice')).in, 1, 'the run brings the change in')

  // forged ones: wrong clientState, unknown channel
  const sub = channel.subs[0]!
  const forge = (channelId: string, clientState: string) => fetch(`${w.s.url}/sync/graph/notify/${channelId}`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: [{ subscriptionId: sub.id, clientState, changeType: 'updated', resource: 'me/events/x', tenantId: w.tenantId }] })
  })
  t.equal((await forge(channel.id, `${channel.id}.guess`)).status, 403, 'a wrong clientState is refused')
  t.equal((await forge('nope', 'nope.guess')).status, 404, 'an unknown channel is refused')
  const validation = await fetch(`${w.s.url}/sync/graph/notify/nope?validationToken=abc`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '' })
  t.equal(validation.status, 404, 'no handshake for a channel we did not make')

  // lifecycle: missed → the next run lists everything again (links keep duplicates away)
  await w.run('alice')
  t.ok((await w.connection('alice')).cursors.events, 'a delta cursor is kept')
  await w.g.lifecycle(sub.id, 'missed')
  await w.g.flushNotifications()
  c = await w.connection('alice')
  t.notOk(c.cursors.events, 'missed: the delta tokens are forgotten')
  t.same(requested.at(-1), { id: conn.id, force: true }, 'a full run asked for')
  const full = await w.run('alice')
  t.equal(full.state, 'ok', full.reason ?? 'full run')
  t.same([full.in, full.out], [0, 0], 'a full reconciliation that finds nothing to copy twice')
  t.equal((await w.events('alice')).filter(e => e.subject === 'Pushed').length, 1)

  // missed while a run runs (after it read its cursors): saving that run's cursors does not undo the reset
  t.ok((await w.connection('alice')).cursors.events, 'the full run listed again')
  const graph = w.s.k.sync.engine.providers.get('graph')!
  const open = graph.open
  graph.open = async (conn, ctx) => {
    graph.open = open
    const session = await open.call(graph, conn, ctx)
    await w.g.lifecycle(sub.id, 'missed')
    await w.g.flushNotifications()
    return session
  }
  const during = await w.run('alice')
  t.equal(during.state, 'ok', during.reason ?? 'the run the notification came during')
  c = await w.connection('alice')
  t.notOk(c.cursors.events, 'the delta token the missed notification forgot stays forgotten')
  t.notOk(c.cursors.tasks, 'for the To Do list too')
  const relisted = await w.run('alice')
  t.same([relisted.state, relisted.in, relisted.out], ['ok', 0, 0], 'the next run lists afresh and finds nothing to copy twice')
  t.ok((await w.connection('alice')).cursors.events, 'and keeps its new token')

  // reauthorizationRequired → the next run makes the subscriptions again
  await w.g.lifecycle(sub.id, 'reauthorizationRequired')
  await w.g.flushNotifications()
  t.equal(((await w.connection('alice')).channel as { renew?: boolean }).renew, true)
  await w.run('alice')
  const renewed = (await w.connection('alice')).channel as unknown as Channel & { renew?: boolean }
  t.not(renewed.id, channel.id, 'a new channel')
  t.notOk(renewed.renew)
  t.equal(renewed.subs.length, 2)

  // close to expiry: renewed in place by the next run
  const soon = Date.now() + 3_600_000
  await syncDb(w.s.k.db).updateTable('sync_connections').set({ channel: JSON.stringify({ ...renewed, subs: renewed.subs.map(s => ({ ...s, expiration: soon })), expiration: soon }) }).where('id', '=', conn.id).execute()
  await w.run('alice')
  const after = (await w.connection('alice')).channel as unknown as Channel
  t.equal(after.id, renewed.id, 'the same channel')
  t.ok(after.subs.every(s => s.expiration > soon + 3_600_000), 'renewed well before expiry')
  const graphSubs = await Promise.all(after.subs.map(async s => (await w.api('alice', 'GET', `/subscriptions/${s.id}`)).body))
  t.ok(graphSubs.every(s => Date.parse(s.expirationDateTime) > soon + 3_600_000), 'Graph has the new expiry')

  // disconnect removes them
  t.equal((await alice(`/api/v1/connections/${conn.id}`, { method: 'DELETE' })).status, 204)
  for (const s of after.subs) t.equal((await w.api('alice', 'GET', `/subscriptions/${s.id}`)).status, 404, 'subscription deleted')
})

t.test('without a public address: polling, no subscriptions', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  await w.connect('alice')
  t.equal((await w.run('alice')).state, 'ok')
  t.equal((await w.connection('alice')).channel, null)
  const listed = (await w.s.as('alice')('/api/v1/connections')).body_ as { pushState: string }[]
  t.match(listed, [{ pushState: 'off' }])
  await until('nothing delivered', async () => w.g.deliveries().length === 0)
})
