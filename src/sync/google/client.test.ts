import t from 'tap'
import { AuthFailed, CursorExpired, RemoteConflict, Transient } from '../provider.ts'
import { classify, GoogleRefused } from './client.ts'

const answer = (status: number, reason = '') => Object.assign(new Error(`status ${status}`), { response: { status, data: { error: { errors: [{ reason }] } } } })

t.test('a refusal stays a refusal when an outer catch classifies it again', async t => {
  const once = classify(answer(400, 'badRequest'), 'update occurrence')
  t.type(once, GoogleRefused)
  t.notOk(once instanceof Transient, 'not retried')
  const twice = classify(once, 'update event')
  t.equal(twice, once, 'passed through unchanged')
  t.notOk(twice instanceof Transient, 'a 400 is not retried forever')
})

t.test('the other kinds pass through a second classify too', async t => {
  for (const [e, kind] of [[answer(401), AuthFailed], [answer(503), Transient], [answer(412), RemoteConflict], [answer(410), CursorExpired]] as const) {
    const once = classify(e, 'list events')
    t.type(once, kind)
    t.equal(classify(once, 'outer'), once)
  }
})

t.test('no status at all is a network failure, worth retrying', async t => {
  t.type(classify(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'get event'), Transient)
})
