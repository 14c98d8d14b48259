import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { logSafeUrl } from './log-safe-url.ts'

t.equal(logSafeUrl('/feeds/AbC_123-xyz.ics?tasks=1'), '/feeds/<secret>.ics?tasks=1')
t.equal(logSafeUrl('/api/v1/feeds/12/rotate'), '/api/v1/feeds/12/rotate', 'API ids are not secrets')

t.test('the server\'s logger writes request URLs without feed secrets', async t => {
  const lines: string[] = []
  const s = await startServer({ users: ['alice'], env: { LOG_LEVEL: 'info' }, logStream: { write: line => { lines.push(line) } } })
  try {
    // what Fastify logs for a request (and what an error log carries), through the server's own serializers
    s.app.log.info({ req: { id: 'r1', method: 'GET', url: `/feeds/${'Z'.repeat(43)}.ics`, ip: '127.0.0.1', headers: {} } }, 'incoming request')
    const res = await fetch(`${s.url}/feeds/${'Y'.repeat(43)}.ics`)
    t.equal(res.status, 404)
  } finally {
    await s.close()
  }
  const logged = lines.join('')
  t.match(logged, /"url":"\/feeds\/<secret>\.ics"/, 'the request is logged')
  t.notMatch(logged, /ZZZZZZZZZZ|YYYYYYYYYY/, 'without its secret')
})
