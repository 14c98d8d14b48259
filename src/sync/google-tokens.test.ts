import t from 'tap'
import { syncDb } from './tables.ts'
import { startSyncWorld } from './testing.ts'

/** Refresh-token grants the emulator's token endpoint answered: each is one access token fetched by sync. */
const refreshes = (w: Awaited<ReturnType<typeof startSyncWorld>>) => w.g.tokenRequests().refresh_token ?? 0

t.test('the access token is kept, sealed, for its hour: an idle hour of polls asks the token endpoint once, then once more when the token expires or Google drops it', async t => {
  const w = await startSyncWorld({ users: ['alice'] })
  t.teardown(() => w.close())
  const conn = await w.connect('alice')
  const stored = await syncDb(w.s.k.db).selectFrom('sync_connections').select(['access_sealed', 'access_expires_at']).where('id', '=', conn.id).executeTakeFirstOrThrow()
  t.ok(stored.access_sealed !== null && !/ya29\./.test(stored.access_sealed), 'the consent\'s access token is kept sealed')
  t.ok(stored.access_expires_at !== null && stored.access_expires_at.getTime() > Date.now() + 50 * 60_000, 'with its expiry, about an hour away')

  // an idle hour polled every 5 minutes: 12 runs, each with a fresh context (as in another process)
  w.g.resetCalls()
  for (let i = 0; i < 12; i++) t.equal((await w.run('alice', { force: i % 2 === 0 })).state, 'ok')
  t.equal(refreshes(w), 0, 'the consent\'s token serves every run of its hour')

  // the hour is over (less than the 5-minute margin left): the next run refreshes once, the later ones reuse it
  await syncDb(w.s.k.db).updateTable('sync_connections').set({ access_expires_at: new Date(Date.now() + 4 * 60_000) }).where('id', '=', conn.id).execute()
  for (let i = 0; i < 12; i++) t.equal((await w.run('alice')).state, 'ok')
  t.equal(refreshes(w), 1, 'one refresh for the next hour of runs')
  const renewed = await syncDb(w.s.k.db).selectFrom('sync_connections').select('access_expires_at').where('id', '=', conn.id).executeTakeFirstOrThrow()
  t.ok(renewed.access_expires_at!.getTime() > Date.now() + 50 * 60_000, 'the new token and its expiry are stored for the other processes')

  // Google drops the token before its time: the 401 is answered by one refresh and the call again, not a red connection
  w.g.expireAccessTokens(w.email('alice'))
  const after = await w.run('alice')
  t.equal(after.state, 'ok', after.reason ?? 'green')
  t.equal((await w.connection('alice')).auth_failed_at, null, 'no reconnect asked for')
  t.equal(refreshes(w), 2, 'one refresh for the refused token')
  for (let i = 0; i < 5; i++) await w.run('alice')
  t.equal(refreshes(w), 2, 'and that one is kept too')

  // a refresh token Google no longer accepts still turns the connection red (after its one refresh)
  w.g.revoke(w.email('alice'))
  const red = await w.run('alice')
  t.equal(red.state, 'error')
  t.match(red.reason, /revoked or has expired/)
  t.equal(refreshes(w), 3)
})
