import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { davClient, vevent } from './test-client.ts'

// Clients creating the same new name at the same moment (two devices of one
// user uploading the same event, a client retrying a PUT it thinks was lost).
// One create wins; the others become updates of it or a 409 they may retry,
// never a 500, and exactly one object is stored.
const s = await startServer({ users: ['alice'] })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const RACERS = 8

t.test(`${RACERS} PUTs of one new name at once: no 500, one object`, async t => {
  for (let round = 0; round < 5; round++) {
    const path = `/dav/calendars/alice/calendar/race-${round}.ics`
    const statuses = await Promise.all(Array.from({ length: RACERS }, (_, i) =>
      alice('PUT', path, { body: vevent(`race-${round}`, [], { summary: `writer ${i}` }) }).then(r => r.status)))
    t.ok(statuses.every(st => st === 201 || st === 204 || st === 409), `round ${round}: ${statuses.join(' ')}`)
    t.ok(statuses.includes(201), 'one of them created it')
    const got = await alice('GET', path)
    t.equal(got.status, 200)
    t.match(got.text, /SUMMARY:writer \d/)
  }
  const listing = await alice('PROPFIND', '/dav/calendars/alice/calendar/', { headers: { depth: '1' }, body: '<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>' })
  t.equal((listing.text.match(/race-\d\.ics/g) ?? []).length, 5, 'each name once')
})

t.test(`${RACERS} If-None-Match: * creates of one name: one 201, the others 412 or 409`, async t => {
  const path = '/dav/calendars/alice/calendar/once.ics'
  const statuses = await Promise.all(Array.from({ length: RACERS }, (_, i) =>
    alice('PUT', path, { body: vevent('once', [], { summary: `writer ${i}` }), headers: { 'if-none-match': '*' } }).then(r => r.status)))
  t.equal(statuses.filter(st => st === 201).length, 1, statuses.join(' '))
  t.ok(statuses.every(st => st === 201 || st === 412 || st === 409), statuses.join(' '))
})
