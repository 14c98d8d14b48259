import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { davClient, vevent } from './test-client.ts'

// Writers racing on one object with If-Match, as RFC 9110 §13.1.1 has them: read,
// write if unchanged, re-read on 412. GET, its conditional forms and PUT's
// precondition must all speak of the one stored object.
const s = await startServer({ users: ['alice'] })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const PATH = '/dav/calendars/alice/calendar/counter.ics'
const WRITERS = 8
const ROUNDS = 25
/** far above any losing streak seen (about 300 on either database); only a client that can never win reaches it */
const GIVE_UP = 5_000

const body = (n: number) => vevent('counter', [], { summary: `counter=${n}` })
const counterOf = (text: string) => Number(/\r\nSUMMARY:counter=(\d+)\r\n/.exec(text)?.[1])

t.test('GET answers If-Match and If-None-Match by the stored ETag', async t => {
  const put = await alice('PUT', PATH, { body: body(0), headers: { 'if-none-match': '*' } })
  t.equal(put.status, 201)
  const etag = put.headers.get('etag')!
  t.equal((await alice('GET', PATH, { headers: { 'if-match': etag } })).status, 200)
  t.equal((await alice('GET', PATH, { headers: { 'if-none-match': etag } })).status, 304)
  const stale = await alice('GET', PATH, { headers: { 'if-match': '"not-this-one"' } })
  t.equal(stale.status, 412, 'a GET whose If-Match fails is not served (RFC 9110 §13.1.1)')
  t.match(stale.text, etag, 'and says what the ETag is now')
  t.equal((await alice('HEAD', PATH, { headers: { 'if-match': '"not-this-one"' } })).status, 412)
  t.equal((await alice('GET', PATH, { headers: { 'if-none-match': '"not-this-one"' } })).status, 200)
})

t.test(`${WRITERS} writers, ${ROUNDS} increments each: one winner per ETag, nobody stuck`, async t => {
  const first = await alice('GET', PATH)
  const start = counterOf(first.text)
  /** every ETag seen, with the counter of the body it came with */
  const counterByEtag = new Map<string, number>([[first.headers.get('etag')!, start]])
  /** the ETag each successful PUT replaced: one success per generation */
  const replaced: string[] = []
  const problems: string[] = []
  const seen = (etag: string, n: number, how: string) => {
    const known = counterByEtag.get(etag)
    if (known === undefined) counterByEtag.set(etag, n)
    else if (known !== n) problems.push(`${how}: ETag ${etag} came with counter=${n}, before with counter=${known}`)
  }

  const writer = async (id: number) => {
    let attempts = 0
    // what this client holds: the last body it read or wrote, with its ETag
    let held: { etag: string; n: number } | null = null
    for (let round = 0; round < ROUNDS; round++) {
      for (;;) {
        if (++attempts > GIVE_UP) { problems.push(`writer ${id}: no write in ${GIVE_UP} attempts`); return }
        // a caching client revalidates what it holds; a 304 must mean it is still current
        const read = await alice('GET', PATH, held === null ? {} : { headers: { 'if-none-match': held.etag } })
        if (read.status === 200) {
          held = { etag: read.headers.get('etag')!, n: counterOf(read.text) }
          seen(held.etag, held.n, `writer ${id} GET`)
        } else if (read.status !== 304 || read.headers.get('etag') !== held?.etag) {
          problems.push(`writer ${id}: GET answered ${read.status} with ETag ${read.headers.get('etag')}`)
          return
        }
        const put = await alice('PUT', PATH, { body: body(held!.n + 1), headers: { 'if-match': held!.etag } })
        if (put.status === 204) {
          replaced.push(held!.etag)
          held = { etag: put.headers.get('etag')!, n: held!.n + 1 }
          seen(held.etag, held.n, `writer ${id} PUT`)
          break
        }
        if (put.status !== 412) { problems.push(`writer ${id}: PUT answered ${put.status}: ${put.text}`); return }
        // the PUT said the ETag changed: revalidating it must not answer 304 from now on
        const refused = held!.etag
        const again = await alice('GET', PATH, { headers: { 'if-none-match': refused } })
        if (again.status !== 200 || again.headers.get('etag') === refused) {
          problems.push(`writer ${id}: PUT refused ${refused} as changed, but GET answered ${again.status} with ETag ${again.headers.get('etag')}`)
          return
        }
        held = { etag: again.headers.get('etag')!, n: counterOf(again.text) }
        seen(held.etag, held.n, `writer ${id} GET after 412`)
      }
    }
  }
  await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(i)))

  t.same(problems, [], 'every GET, 304 and 412 agrees with the stored object')
  t.equal(replaced.length, WRITERS * ROUNDS, 'every round ends with one success')
  t.equal(new Set(replaced).size, replaced.length, 'no two writes replaced the same generation')
  const last = await alice('GET', PATH)
  t.equal(counterOf(last.text), start + WRITERS * ROUNDS, 'no increment was lost')
})
