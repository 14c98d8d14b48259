import t from 'tap'
import { RateLimiter } from './limits.ts'
import { feedOptions, feedSettingsFromEnv, feedUrls, pickCoding } from './http.ts'

t.test('a token bucket per key: a burst, then one request per refill', async t => {
  const limit = new RateLimiter(60, 3)
  const at = 1_000_000
  t.same([limit.take('a', at), limit.take('a', at), limit.take('a', at)], [0, 0, 0], 'the burst')
  t.equal(limit.take('a', at), 1, 'then: wait a second')
  t.equal(limit.take('b', at), 0, 'other keys have their own bucket')
  t.equal(limit.take('a', at + 1000), 0, 'one token a second comes back')
  t.equal(limit.take('a', at + 1000), 1)
  limit.prune(at + 60_000)
  t.same([limit.take('a', at + 60_000), limit.take('a', at + 60_000), limit.take('a', at + 60_000)], [0, 0, 0], 'refilled (and forgotten) after a while')
  t.equal(new RateLimiter(0).take('x'), 0, '0 per minute: no limit')
})

t.test('content codings by Accept-Encoding', async t => {
  t.equal(pickCoding(undefined), null)
  t.equal(pickCoding('gzip, deflate, br'), 'br')
  t.equal(pickCoding('gzip;q=1.0, br;q=0'), 'gzip', 'q=0 refuses')
  t.equal(pickCoding('x-gzip'), 'gzip')
  t.equal(pickCoding('identity'), null)
  t.equal(pickCoding('deflate'), null)
})

t.test('feed options and settings', async t => {
  t.same(feedOptions({}), { tasks: false, busy: false, prefix: true, from: null, to: null })
  const o = feedOptions({ tasks: '1', busy: 'true', prefix: '0', from: '2026-01-01', to: '2026-02-01T00:00:00+01:00' })
  t.same([o.tasks, o.busy, o.prefix, o.from?.toISOString(), o.to?.toISOString()], [true, true, false, '2026-01-01T00:00:00.000Z', '2026-01-31T23:00:00.000Z'])
  for (const bad of [{ tasks: 'maybe' }, { from: '2026-13-01' }, { to: '01/02/2026' }, { from: '2026-02-01', to: '2026-01-01' }, { from: '2026-01-01T10:00' }]) {
    t.throws(() => feedOptions(bad), JSON.stringify(bad))
  }
  t.same(feedUrls('https://crm.example.com', 'abc'), { url: 'https://crm.example.com/feeds/abc.ics', webcal: 'webcal://crm.example.com/feeds/abc.ics' })
  t.same(feedUrls('http://127.0.0.1:8080', 'abc').webcal, 'webcal://127.0.0.1:8080/feeds/abc.ics')
  t.equal(feedSettingsFromEnv({}).refresh, 'PT1H')
  t.equal(feedSettingsFromEnv({ KALENDS_FEED_REFRESH: 'PT4H' }).refresh, 'PT4H')
  t.throws(() => feedSettingsFromEnv({ KALENDS_FEED_REFRESH: '4 hours' }))
  t.throws(() => feedSettingsFromEnv({ KALENDS_FEED_RATE_PER_TOKEN: '-1' }))
})
