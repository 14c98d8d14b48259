import t from 'tap'
import { freePort } from '../testing/harness.ts'
import { saveGoogleIntegration } from './google/integration.ts'
import { HANDSHAKE_MS, NOTICE_MS, pushStatus } from './push-health.ts'
import { CLIENT_ID, CLIENT_SECRET, startSyncWorld, until, type SyncWorld } from './testing.ts'

type View = { push: boolean; pushState: string; pushReason: string | null; pushText: string; healthy: boolean }

/** Alice connected, with the organisation's push address (given the world's own server address). */
async function world (t: { teardown (fn: () => Promise<void>): void }, pushAddress: (serverUrl: string) => string): Promise<{ w: SyncWorld; id: number; view (): Promise<View>; log (): Promise<string[]> }> {
  const w = await startSyncWorld({ users: ['alice'] })
  t.teardown(() => w.close())
  await saveGoogleIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, pushAddress: pushAddress(w.s.url) })
  const { id } = await w.connect('alice')
  const alice = w.s.as('alice')
  return {
    w,
    id,
    view: async () => (await alice(`/api/v1/connections/${id}`)).body_ as View,
    log: async () => ((await alice(`/api/v1/connections/${id}/log`)).body_ as { message: string }[]).map(l => l.message)
  }
}

/** A run as it would happen `ms` later: the time push health is judged by moves, nothing else. */
async function runLater (w: SyncWorld, ms: number) {
  w.s.k.sync.engine.now = () => Date.now() + ms
  try {
    return await w.run('alice', { force: false })
  } finally {
    delete w.s.k.sync.engine.now
  }
}

const notArriving = (log: string[]) => log.filter(l => l.startsWith('push not arriving'))

t.test('a channel Google never reaches (not even its sync message) says so after a minute, in the view and once in the log; a working address brings push back', async t => {
  const nobody = `http://127.0.0.1:${await freePort()}`
  const { w, view, log } = await world(t, () => nobody)
  t.equal((await w.run('alice')).state, 'ok')
  t.match(await view(), { push: true, pushState: 'starting', pushText: 'push starting: waiting for Google\'s first notification' }, 'just made: waiting for the first message')

  t.equal((await runLater(w, HANDSHAKE_MS + 30_000)).state, 'ok')
  const v = await view()
  t.match(v, { push: false, pushState: 'failing', healthy: true }, 'not claimed as on; the sync itself is fine (polling)')
  t.match(v.pushText, /^push not arriving — polling every 5 min: no notification from Google since the channel was made at \S+, not even its first \(sync\) message: check that http:\/\/127\.0\.0\.1:\d+\/sync\/google\/push is reachable from the internet$/)
  t.same(notArriving(await log()), [v.pushText], 'logged')
  await runLater(w, HANDSHAKE_MS + 60_000)
  t.equal(notArriving(await log()).length, 1, 'once, not on every run')

  // the admin fixes the address: the next run makes a new channel, and Google's sync message reaches it
  await saveGoogleIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId, { pushAddress: w.s.url })
  await w.run('alice', { force: false })
  await until('push on', async () => (await view()).pushState === 'on')
  await w.run('alice', { force: false })
  t.match(await log(), ['push notifications arrive again'], 'the log says it is back')
})

t.test('a change that came in by polling, made while the channel lived and no notification announced, marks push as not arriving until a notification comes', async t => {
  const { w, view, log } = await world(t, url => url)
  await w.run('alice')
  await until('the sync message', async () => (await view()).pushState === 'on')
  const insert = (summary: string) => w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary, start: { dateTime: '2026-12-15T09:00:00Z' }, end: { dateTime: '2026-12-15T10:00:00Z' } } })

  // announced: a listing long after the change is no evidence against push
  await insert('Announced')
  await w.g.flushNotifications()
  t.equal((await runLater(w, NOTICE_MS + 30_000)).in, 1)
  t.match(await view(), { pushState: 'on' }, 'the notification came')

  // Google's message is lost: the poll a while later finds the change
  w.g.notifications({ drop: 1 })
  await insert('Not announced')
  await w.g.flushNotifications()
  t.equal((await runLater(w, NOTICE_MS + 30_000)).in, 1, 'polling brought it')
  const v = await view()
  t.match(v, { push: false, pushState: 'failing' })
  t.match(v.pushText, /^push not arriving — polling every 5 min: a change made in Google at \S+ came in by polling; no notification announced it$/)
  t.same(notArriving(await log()), [v.pushText])

  // notifications arrive again
  w.g.clearFaults()
  await insert('Announced again')
  await until('a notification', async () => (await view()).pushState === 'on')
  await w.run('alice', { force: false })
  t.match(await log(), ['push notifications arrive again'], 'logged as back')
})

t.test('a channel Google refuses to make says why; sync goes on by polling', async t => {
  // Google makes channels only to https addresses
  const { w, view, log } = await world(t, () => 'http://calendar.example.com')
  const r = await w.run('alice')
  t.equal(r.state, 'ok', 'the run itself succeeds')
  const v = await view()
  t.match(v, { push: false, pushState: 'failing', healthy: true })
  t.match(v.pushText, /^push not arriving — polling every 5 min: Google did not set up the channel: Google answered 400 \(push\.webhookUrlNotHttps\) to watch events/)
  await w.run('alice')
  t.same(notArriving(await log()), [v.pushText], 'logged once')
})

t.test('the rules, at given times', async t => {
  const made = Date.parse('2026-12-01T10:00:00Z')
  const channel = { id: 'c1', since: made, expiration: made + 86_400_000, address: 'https://k.example.com' }
  const quiet = { provider: 'google' as const, channel, push_seen_at: null, push_seen_channel: null, push_problem: null, push_problem_at: null }
  t.same(pushStatus({ ...quiet, channel: null }, made), { state: 'off', reason: null }, 'no channel: polling only')
  t.same(pushStatus(quiet, made + HANDSHAKE_MS - 1), { state: 'starting', reason: null })
  t.equal(pushStatus(quiet, made + HANDSHAKE_MS + 1).state, 'failing', 'nothing at all after the grace')
  t.equal(pushStatus({ ...quiet, provider: 'graph' }, made + HANDSHAKE_MS + 1).reason,
    'no notification from Microsoft 365 since the channel was made at 2026-12-01T10:00:00Z, check that https://k.example.com/sync/graph/notify/c1 is reachable from the internet',
    'a Graph channel is judged by the same rule and named by its own sender and address, not Google\'s')
  const seen = { ...quiet, push_seen_at: new Date(made + 2_000), push_seen_channel: 'c1' }
  t.same(pushStatus(seen, made + 3_600_000), { state: 'on', reason: null }, 'the sync message came: on, however quiet the calendar since')
  t.equal(pushStatus({ ...seen, push_seen_channel: 'an older channel' }, made + HANDSHAKE_MS + 1).state, 'failing', 'a message of another channel does not count')
  t.match(pushStatus(seen, made + 86_400_000), { state: 'failing', reason: 'the channel expired at 2026-12-02T10:00:00Z and was not renewed' })
  const problem = { ...seen, push_problem: 'lost', push_problem_at: new Date(made + 10_000) }
  t.same(pushStatus(problem, made + 20_000), { state: 'failing', reason: 'lost' }, 'a problem a run found holds')
  t.equal(pushStatus({ ...problem, push_seen_at: new Date(made + 15_000) }, made + 20_000).state, 'on', 'until a notification comes after it')
  t.equal(pushStatus({ ...problem, channel: { ...channel, id: 'c2', since: made + 12_000 } }, made + 20_000).state, 'starting', 'or a newer channel is made')
})
