import t from 'tap'
import type { Test } from 'tap'
import { HANDSHAKE_MS, pushStatus } from './push-health.ts'
import { PushListeners } from './listeners.ts'
import { syncDb } from './tables.ts'
import { until } from './testing.ts'
import { startEwsWorld, type EwsWorld } from './testing-ews.ts'

/**
 * Exchange's streaming notifications through a running server with one sync
 * worker: the poll is a day away, so what reaches the CRM came by the stream.
 */
const TIMES = (day: number) => `<t:Start>2026-12-${String(day).padStart(2, '0')}T09:00:00Z</t:Start><t:End>2026-12-${String(day).padStart(2, '0')}T10:00:00Z</t:End>`
const DAY_POLL = { pollMinutes: 1440, tasks: false }

type Listed = { id: number; push: boolean; pushState: string; pushReason: string | null; pushText: string }

async function titles (w: EwsWorld, login: string): Promise<string[]> {
  const res = await w.s.as(login)('/api/v1/appointments?from=2026-11-01T00:00:00Z&to=2027-02-01T00:00:00Z')
  return (res.body_ as { items: { title: string }[] }).items.map(a => a.title)
}

/** Alice connected with a day-long poll, her first run done, the worker's stream open and seen. */
async function listening (t: Test, w: EwsWorld) {
  const conn = await w.connect('alice', undefined, DAY_POLL)
  t.equal((await w.s.as('alice')(`/api/v1/connections/${conn.id}/sync`, { method: 'POST' })).status, 202)
  const channel = await until('a subscription', async () => (await w.connection('alice')).channel)
  await until('the stream open', async () => w.em.subscriptions().find(s => s.id === channel.id && s.streams === 1))
  const view = await until('push on', async () => {
    const v = ((await w.s.as('alice')('/api/v1/connections')).body_ as Listed[]).find(c => c.id === conn.id)
    return v?.pushState === 'on' ? v : null
  })
  return { conn, channel, view }
}

t.test('an item made in the Exchange mailbox reaches the CRM through the stream, long before the poll; the page says push on', async t => {
  const w = await startEwsWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  const { channel, view } = await listening(t, w)
  t.match(channel, { kind: 'ews-streaming', id: String, since: Number })
  t.match(view, { push: true, pushState: 'on', pushReason: null, pushText: 'push on: changes arrive within seconds' })
  t.same(w.em.subscriptions().map(s => s.kind), ['streaming'], 'one streaming subscription')

  const runsBefore = w.em.calls().filter(c => c === 'SyncFolderItems').length
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', `<t:Subject>Made in Outlook</t:Subject>${TIMES(14)}`)
  await until('the Outlook item in the CRM', async () => (await titles(w, 'alice')).includes('Made in Outlook'))
  t.ok(w.em.calls().filter(c => c === 'SyncFolderItems').length > runsBefore, 'the notification started a run, which read SyncFolderItems')
  t.equal(w.em.streamsOpened(), 1, 'still the same connection')
})

t.test('a dropped stream is opened again; a stream closed at its timeout too; changes in between arrive', async t => {
  const w = await startEwsWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  const { channel } = await listening(t, w)
  t.equal(w.em.endStreams('dropped'), 1)
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', `<t:Subject>While dropped</t:Subject>${TIMES(15)}`)
  await until('a new stream', async () => w.em.streamsOpened() === 2 && w.em.subscriptions()[0]?.streams === 1)
  await until('the change made while it was down', async () => (await titles(w, 'alice')).includes('While dropped'))
  t.equal(w.em.endStreams('closed'), 1)
  await until('a third stream', async () => w.em.streamsOpened() === 3 && w.em.subscriptions()[0]?.streams === 1)
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', `<t:Subject>After reopening</t:Subject>${TIMES(16)}`)
  await until('the change after reopening', async () => (await titles(w, 'alice')).includes('After reopening'))
  t.equal((await w.connection('alice')).channel?.id, channel.id, 'the same subscription all along')
})

t.test('a subscription Exchange forgot is made again, the old one never reused', async t => {
  const w = await startEwsWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  const { conn, channel } = await listening(t, w)
  w.em.expireSubscriptions(channel.id as string)
  const renewed = await until('a new subscription', async () => { const c = (await w.connection('alice')).channel; return c !== null && c.id !== channel.id ? c : null })
  await until('its stream open', async () => w.em.subscriptions().find(s => s.id === renewed.id && s.streams === 1))
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', `<t:Subject>After renewal</t:Subject>${TIMES(17)}`)
  await until('the change through the new subscription', async () => (await titles(w, 'alice')).includes('After renewal'))
  t.same(w.em.subscriptions().map(s => s.id), [renewed.id], 'only the new one lives')
  const log = (await w.s.as('alice')(`/api/v1/connections/${conn.id}/log`)).body_ as { message: string }[]
  t.ok(log.some(l => /Exchange no longer has the subscription \(ErrorSubscriptionNotFound\); a new one is made/.test(l.message)), 'the log says why')
})

t.test('disconnect unsubscribes and the worker lets the stream go', async t => {
  const w = await startEwsWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  const { conn } = await listening(t, w)
  t.equal((await w.s.as('alice')(`/api/v1/connections/${conn.id}`, { method: 'DELETE' })).status, 204)
  t.ok(w.em.calls().includes('Unsubscribe'), 'Unsubscribe sent')
  t.same(w.em.subscriptions(), [], 'Exchange has no subscription left')
  await until('the worker holds nothing', async () => w.s.k.sync.jobs.listeners.held().length === 0)
  const after = await w.connection('alice')
  t.equal(after.channel, null)
})

t.test('two workers: one stream per connection; the other takes over when the first stops', async t => {
  const w = await startEwsWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  const { conn } = await listening(t, w)
  const second = new PushListeners(w.s.k.sync.engine, async id => { await w.s.k.sync.jobs.request(id) })
  t.teardown(() => second.stop())
  second.start()
  await second.tick()
  await second.tick()
  t.same(second.held(), [], 'the lease is the first worker\'s')
  t.equal(w.em.subscriptions()[0]?.streams, 1, 'one stream')
  await w.s.k.sync.jobs.listeners.stop()
  await until('the second worker holds it', async () => second.held().includes(conn.id))
  await until('its stream open', async () => w.em.subscriptions()[0]?.streams === 1)
  t.equal(w.em.streamsOpened(), 2)
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', `<t:Subject>Via the second worker</t:Subject>${TIMES(18)}`)
  await until('the change via the second worker', async () => (await titles(w, 'alice')).includes('Via the second worker'))
})

t.test('push state with its reason: off before the first run, failing when nobody listens or Subscribe is refused', async t => {
  // no worker in this server: runs are made by the test, nobody holds the stream
  const w = await startEwsWorld()
  t.teardown(() => w.close())
  const conn = await w.connect('alice', undefined, DAY_POLL)
  t.match(((await w.s.as('alice')('/api/v1/connections')).body_ as Listed[]).find(x => x.id === conn.id), { push: false, pushState: 'off', pushReason: null, pushText: 'push off — polling every 1440 min' }, 'before its first run: no subscription, push off')
  await w.run('alice')
  const c = await w.connection('alice')
  t.match(c.channel, { kind: 'ews-streaming' })
  t.same(pushStatus(c), { state: 'starting', reason: null }, 'a new subscription: starting')
  const silent = pushStatus(c, Number(c.channel?.since) + HANDSHAKE_MS + 1)
  t.equal(silent.state, 'failing')
  t.match(silent.reason, /^no notification from Exchange since the channel was made at .*: check that a sync worker runs/)

  // Subscribe refused: push failing with Exchange's answer, polling goes on
  await syncDb(w.s.k.db).updateTable('sync_connections').set({ channel: null }).where('id', '=', conn.id).execute()
  w.em.fault({ kind: 'http500', operation: 'Subscribe', times: 2 }) // a transient failure is tried once more
  const r = await w.run('alice')
  t.equal(r.state, 'ok', 'the run itself succeeds')
  const listed = ((await w.s.as('alice')('/api/v1/connections')).body_ as Listed[]).find(x => x.id === conn.id)
  t.match(listed, { push: false, pushState: 'failing', pushReason: /^Exchange did not set up the channel: Exchange failed \(HTTP 500\) during Subscribe/ })
  t.match(listed?.pushText, /^push not arriving — polling every 1440 min: Exchange did not set up/)
})

t.test('where Exchange refuses streaming, a pull subscription read every few seconds brings the change', async t => {
  const w = await startEwsWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  w.em.refuseStreaming()
  w.s.k.sync.exchange.pullIntervalMs = 200
  const conn = await w.connect('alice', undefined, DAY_POLL)
  await w.s.k.sync.jobs.request(conn.id)
  const channel = await until('a subscription', async () => (await w.connection('alice')).channel)
  t.match(channel, { kind: 'ews-pull', id: String, watermark: String })
  t.same(w.em.subscriptions().map(s => s.kind), ['pull'])
  await until('push on', async () => ((await w.s.as('alice')('/api/v1/connections')).body_ as Listed[]).find(c => c.id === conn.id)?.pushState === 'on')
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', `<t:Subject>Pulled in</t:Subject>${TIMES(19)}`)
  await until('the pulled change in the CRM', async () => (await titles(w, 'alice')).includes('Pulled in'))
  t.ok(w.em.calls().includes('GetEvents'), 'read with GetEvents')
  t.equal(w.em.streamsOpened(), 0, 'no stream')
  t.equal((await w.connection('alice')).channel?.id, channel.id, 'the same subscription, its watermark kept by the listener')
})
