import t from 'tap'
import type { Test } from 'tap'
import { startServer, type Client } from '../../testing/harness.ts'

/**
 * Bad input to the REST API gets a clear 4xx as application/problem+json
 * naming the field at fault, never a 500: malformed JSON, unknown fields,
 * wrong types, bad values, unknown routes, oversized bodies, and random
 * bodies thrown at the create endpoints.
 */

const server = await startServer({ users: ['alice'] })
t.teardown(() => server.close())
const alice = server.as('alice')

type Problem = { type: string; title: string; status: number; detail?: string; field?: string; instance?: string }

/** Asserts a problem+json answer with this status (and field, when given). */
async function problem (t: Test, res: Response & { body_: unknown }, status: number, field?: string): Promise<Problem> {
  t.equal(res.status, status, `status ${status}`)
  t.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8', 'problem+json')
  const p = res.body_ as Problem
  t.equal(p.status, status, 'the body repeats the status')
  t.type(p.title, 'string')
  t.type(p.type, 'string')
  if (field !== undefined) {
    t.equal(p.field, field, `names the field ${field}`)
    t.match(p.detail ?? '', /\S/, 'and says what is wrong')
  }
  return p
}

const post = (client: Client, path: string, json: unknown) => client(path, { method: 'POST', json })
const send = (path: string, body: string, method = 'POST', type = 'application/json') => alice(path, { method, body, headers: { 'content-type': type } })

t.test('a body that is not JSON: 400 naming "body"', async t => {
  for (const [label, body] of [['truncated', '{"name":'], ['trailing comma', '{"name":"x",}'], ['single quotes', "{'name':'x'}"], ['plain text', 'hello'], ['empty', '']] as const) {
    await t.test(label, async t => {
      const p = await problem(t, await send('/api/v1/calendars', body), 400, 'body')
      t.notMatch(p.detail ?? '', /at .*\.(ts|js):\d+/, 'no stack trace')
    })
  }
  await t.test('JSON that is not an object', async t => {
    for (const body of ['[]', '"a calendar"', '42', 'null']) {
      const res = await send('/api/v1/calendars', body)
      t.equal(res.status, 400, body)
      t.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    }
  })
  await t.test('PATCH too', async t => {
    const cal = (await post(alice, '/api/v1/calendars', { name: 'Patch target' })).body_ as { id: number }
    await problem(t, await send(`/api/v1/calendars/${cal.id}`, '{"name"', 'PATCH'), 400, 'body')
  })
  await t.test('an unsupported media type is 415, not 500', async t => {
    const res = await send('/api/v1/calendars', '<name>x</name>', 'POST', 'application/xml')
    await problem(t, res, 415)
  })
})

t.test('an unknown field: 400 naming it', async t => {
  await problem(t, await post(alice, '/api/v1/calendars', { name: 'Work', colour: '#ff0000' }), 400, 'colour')
  await problem(t, await post(alice, '/api/v1/cases', { title: 'Smith v Jones', client: 'Smith' }), 400, 'client')
  await problem(t, await post(alice, '/api/v1/appointments', { title: 'Call', start: '2026-03-02T09:00:00Z', end: '2026-03-02T10:00:00Z', attendees: [] }), 400, 'attendees')
  await problem(t, await post(alice, '/api/v1/tasks', { title: 'Draft', priority: 1 }), 400, 'priority')
  await problem(t, await alice('/api/v1/appointments?sort=title'), 400, 'sort')
})

t.test('wrong types: 400 naming the field', async t => {
  const cases: [string, string, unknown, string][] = [
    ['calendar name as a number', '/api/v1/calendars', { name: 5 }, 'name'],
    ['calendar order as text', '/api/v1/calendars', { name: 'x', order: 'first' }, 'order'],
    ['calendar order as a fraction', '/api/v1/calendars', { name: 'x', order: 1.5 }, 'order'],
    ['calendar without a name', '/api/v1/calendars', { color: '#336699' }, 'name'],
    ['case title as an object', '/api/v1/cases', { title: { text: 'x' } }, 'title'],
    ['appointment title as an array', '/api/v1/appointments', { title: ['x'], start: '2026-03-02T09:00:00Z' }, 'title'],
    ['appointment without a start', '/api/v1/appointments', { title: 'x' }, 'start'],
    ['allDay as a string', '/api/v1/appointments', { title: 'x', start: '2026-03-02', allDay: 'yes' }, 'allDay'],
    ['calendarId as text', '/api/v1/appointments', { title: 'x', start: '2026-03-02T09:00:00Z', calendarId: 'main' }, 'calendarId'],
    ['calendarId zero', '/api/v1/appointments', { title: 'x', start: '2026-03-02T09:00:00Z', calendarId: 0 }, 'calendarId'],
    ['participantIds not a list', '/api/v1/appointments', { title: 'x', start: '2026-03-02T09:00:00Z', participantIds: 3 }, 'participantIds'],
    ['task title as null', '/api/v1/tasks', { title: null }, 'title'],
    ['task assigneeId negative', '/api/v1/tasks', { title: 'x', assigneeId: -1 }, 'assigneeId']
  ]
  for (const [label, path, body, field] of cases) {
    await t.test(label, async t => { await problem(t, await post(alice, path, body), 400, field) })
  }
})

t.test('bad values: 400 naming the field', async t => {
  const appointment = { title: 'Hearing', start: '2026-03-02T09:00:00+01:00', end: '2026-03-02T10:00:00+01:00' }
  const cases: [string, string, unknown, string][] = [
    ['calendar color "red"', '/api/v1/calendars', { name: 'x', color: 'red' }, 'color'],
    ['calendar color without #', '/api/v1/calendars', { name: 'x', color: '336699' }, 'color'],
    ['calendar timezone "Mars/Base"', '/api/v1/calendars', { name: 'x', timezone: 'Mars/Base' }, 'timezone'],
    ['calendar empty name', '/api/v1/calendars', { name: '' }, 'name'],
    ['calendar blank name', '/api/v1/calendars', { name: '   ' }, 'name'],
    ['calendar components', '/api/v1/calendars', { name: 'x', components: ['VJOURNAL'] }, 'components.0'],
    ['case kind', '/api/v1/cases', { title: 'x', kind: 'lawsuit' }, 'kind'],
    ['appointment timezone "Mars/Base"', '/api/v1/appointments', { ...appointment, timezone: 'Mars/Base' }, 'timezone'],
    ['rrule FREQ=SOMETIMES', '/api/v1/appointments', { ...appointment, rrule: 'FREQ=SOMETIMES' }, 'rrule'],
    ['rrule without FREQ', '/api/v1/appointments', { ...appointment, rrule: 'BYDAY=MO' }, 'rrule'],
    ['appointment status "maybe"', '/api/v1/appointments', { ...appointment, status: 'maybe' }, 'status'],
    ['start "tomorrow"', '/api/v1/appointments', { ...appointment, start: 'tomorrow' }, 'start'],
    ['start without an offset', '/api/v1/appointments', { ...appointment, start: '2026-03-02T09:00:00' }, 'start'],
    ['end before start', '/api/v1/appointments', { ...appointment, end: '2026-03-02T08:00:00+01:00' }, 'end'],
    ['all-day end before start', '/api/v1/appointments', { title: 'Trip', allDay: true, start: '2026-03-05', end: '2026-03-03' }, 'end'],
    ['all-day end equal to start', '/api/v1/appointments', { title: 'Trip', allDay: true, start: '2026-03-05', end: '2026-03-05' }, 'end'],
    ['all-day start 2026-13-01', '/api/v1/appointments', { title: 'Trip', allDay: true, start: '2026-13-01' }, 'start'],
    ['exdate "someday"', '/api/v1/appointments', { ...appointment, rrule: 'FREQ=DAILY', exdates: ['someday'] }, 'exdates[0]'],
    ['empty title', '/api/v1/appointments', { ...appointment, title: '' }, 'title'],
    ['unknown participant', '/api/v1/appointments', { ...appointment, participantIds: [999_999] }, 'participantIds'],
    ['task status "maybe"', '/api/v1/tasks', { title: 'x', status: 'maybe' }, 'status'],
    ['task due "tomorrow"', '/api/v1/tasks', { title: 'x', due: 'tomorrow' }, 'due'],
    ['task plannedEnd before plannedStart', '/api/v1/tasks', { title: 'x', plannedStart: '2026-03-02T10:00:00Z', plannedEnd: '2026-03-02T09:00:00Z' }, 'plannedEnd']
  ]
  for (const [label, path, body, field] of cases) {
    await t.test(label, async t => {
      const p = await problem(t, await post(alice, path, body), 400)
      // the message names the field, whether the schema or the domain refused it
      t.ok(p.field === field || (p.field ?? '').startsWith(field.replace(/[.[].*$/, '')), `names ${field} (got ${p.field}: ${p.detail})`)
    })
  }
})

t.test('impossible dates are refused, not rolled over into the next month', async t => {
  for (const [label, body, field] of [
    ['appointment start on 30 February', { title: 'x', start: '2026-02-30T09:00:00Z', end: '2026-03-03T10:00:00Z' }, 'start'],
    ['appointment end at 25:00', { title: 'x', start: '2026-03-02T09:00:00Z', end: '2026-03-02T25:00:00Z' }, 'end']
  ] as const) {
    const res = await post(alice, '/api/v1/appointments', body)
    t.equal(res.status, 400, `${label}: 400`)
    if (res.status === 400) t.equal((res.body_ as Problem).field, field)
  }
  const task = await post(alice, '/api/v1/tasks', { title: 'x', due: '2026-04-31T12:00:00Z' })
  t.equal(task.status, 400, 'task due on 31 April: 400')
})


t.test('out-of-range numbers, control characters and inconsistent dates are 400 naming the field', async t => {
  const cases: [string, string, unknown, string][] = [
    ['NUL in a case title', '/api/v1/cases', { title: 'a\u0000b' }, 'title'],
    ['NUL in a calendar name', '/api/v1/calendars', { name: 'a\u0000b' }, 'name'],
    ['NUL in an appointment title', '/api/v1/appointments', { title: 'a\u0000b', start: '2026-03-02T09:00:00Z', end: '2026-03-02T10:00:00Z' }, 'title'],
    ['calendar order 2^31', '/api/v1/calendars', { name: 'x', order: 2 ** 31 }, 'order'],
    ['calendarId 1e20', '/api/v1/appointments', { title: 'x', start: '2026-03-02T09:00:00Z', end: '2026-03-02T10:00:00Z', calendarId: 1e20 }, 'calendarId'],
    ['assigneeId 1e20', '/api/v1/tasks', { title: 'x', assigneeId: 1e20 }, 'assigneeId'],
    ['task due before its planned start', '/api/v1/tasks', { title: 'x', plannedStart: '2026-03-02T10:00:00Z', due: '2026-03-02T09:00:00Z' }, 'due'],
    ['uid with a line break', '/api/v1/appointments', { title: 'x', start: '2026-03-02T09:00:00Z', end: '2026-03-02T10:00:00Z', uid: 'a\r\nb' }, 'uid']
  ]
  for (const [label, path, body, field] of cases) {
    const res = await post(alice, path, body)
    const p = res.body_ as Problem
    t.ok(res.status === 400 && p.field === field, `${label}: 400 naming ${field} (got ${res.status} ${p.field ?? ''})`)
  }
})

t.test('list queries: bad limits, dates and cursors are 400 naming the parameter', async t => {
  for (const [query, field] of [
    ['limit=5000', 'limit'], ['limit=0', 'limit'], ['limit=ten', 'limit'], ['calendarId=abc', 'calendarId'],
    ['from=yesterday', 'from'], ['cursor=not-a-cursor', 'cursor'], ['withoutCase=perhaps', 'withoutCase']
  ] as const) {
    for (const list of ['appointments', 'tasks']) {
      await t.test(`${list}?${query}`, async t => { await problem(t, await alice(`/api/v1/${list}?${query}`), 400, field) })
    }
  }
  t.equal((await alice('/api/v1/appointments?limit=1000')).status, 200, 'limit=1000 is allowed')
  const notAdmin = await alice('/api/v1/changes?limit=5000')
  t.ok(notAdmin.status === 400 || notAdmin.status === 403, `the journal, not an administrator: ${notAdmin.status}`)
  await problem(t, await server.as('admin')('/api/v1/changes?limit=5000'), 400, 'limit')
})

t.test('bad ids in paths are 400 or 404, never 500', async t => {
  for (const path of ['/api/v1/calendars/abc', '/api/v1/calendars/0', '/api/v1/calendars/-1', '/api/v1/calendars/1.5', '/api/v1/appointments/%00', '/api/v1/tasks/2147483648', '/api/v1/tasks/9007199254740991']) {
    const res = await alice(path)
    t.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`)
    t.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  }
  // 9223372036854775807 becomes 9223372036854775808 as a JS number: just past bigint
  for (const path of ['/api/v1/calendars/99999999999999999999', '/api/v1/tasks/9223372036854775807']) {
    const res = await alice(path)
    t.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`)
  }
  await problem(t, await alice('/api/v1/calendars/abc'), 400, 'id')
  await problem(t, await alice('/api/v1/appointments/999999'), 404)
})

t.test('an unknown route is 404 problem+json', async t => {
  for (const [client, path, method] of [[alice, '/api/v1/nothing-here', 'GET'], [server.as(null), '/api/v1/nothing-here', 'GET'], [alice, '/api/v2/appointments', 'GET'], [alice, '/api/v1/me', 'DELETE'], [server.as(null), '/wp-login.php', 'POST']] as const) {
    const p = await problem(t, await client(path, { method }), 404)
    t.equal(p.instance, path, `${method} ${path}: instance is the path`)
  }
})

t.test('a body over KALENDS_MAX_BODY_BYTES is 413', async t => {
  const small = await startServer({ users: ['alice'], env: { KALENDS_MAX_BODY_BYTES: '2048' } })
  t.teardown(() => small.close())
  const client = small.as('alice')
  t.equal((await post(client, '/api/v1/calendars', { name: 'Fits', description: 'x'.repeat(1500) })).status, 201, 'under the limit: created')
  await problem(t, await post(client, '/api/v1/calendars', { name: 'Too big', description: 'x'.repeat(3000) }), 413)
  await problem(t, await post(client, '/api/v1/appointments', { title: 'Too big', start: '2026-03-02T09:00:00Z', description: 'x'.repeat(100_000) }), 413)
  const names = ((await client('/api/v1/calendars')).body_ as { name: string }[]).map(c => c.name)
  t.notOk(names.includes('Too big'), 'nothing was created from the oversized body')
})

// ---- fuzzing ----

/** Small deterministic PRNG so a failure can be replayed from its seed. */
function prng (seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const FIELDS: Record<string, string[]> = {
  calendars: ['name', 'description', 'color', 'order', 'timezone', 'components', 'kind'],
  appointments: ['calendarId', 'title', 'description', 'location', 'allDay', 'start', 'end', 'timezone', 'rrule', 'exdates', 'caseId', 'typeId', 'status', 'private', 'busy', 'ownerId', 'participantIds', 'uid'],
  tasks: ['calendarId', 'title', 'description', 'due', 'plannedStart', 'plannedEnd', 'actualStart', 'actualEnd', 'status', 'typeId', 'caseId', 'assigneeId', 'uid'],
  cases: ['title', 'kind']
}

const STRINGS = [
  '', ' ', 'x', 'Hearing', '2026-03-02', '2026-03-02T09:00:00Z', '2026-03-02T09:00:00+01:00', '2026-02-30', '0000-00-00', '9999-12-31T23:59:59Z',
  '2026-03-29T02:30:00+01:00', 'FREQ=DAILY', 'FREQ=WEEKLY;BYDAY=MO,WE', 'FREQ=SOMETIMES', 'FREQ=DAILY;COUNT=-1', 'FREQ=YEARLY;BYMONTH=13', 'FREQ=MINUTELY;INTERVAL=0',
  'Europe/Warsaw', 'Mars/Base', 'UTC', '#336699', 'red', '#GGGGGG', 'VEVENT', 'VTODO', 'personal', 'company', 'tasks', 'matter', 'open', 'done', 'maybe',
  'confirmed', 'cancelled', 'in_progress', '\u0000', '\uFFFF', '\uD800', '😀'.repeat(50), '<script>alert(1)</script>', "'; DROP TABLE users; --", '%s%n', '../../etc/passwd',
  'a\r\nX-Injected: 1', 'BEGIN:VCALENDAR\r\nEND:VCALENDAR', 'x'.repeat(1001), 'y'.repeat(70_000), 'NaN', 'true', 'null', '1e309', '-0'
]
const NUMBERS = [0, -1, 1, 2, 3, 1.5, -0.5, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, 999_999_999]

function randomValue (r: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  switch (Math.floor(r() * (depth > 2 ? 5 : 8))) {
    case 0: return null
    case 1: return r() < 0.5
    case 2: return pick(NUMBERS)
    case 3: case 4: return pick(STRINGS)
    case 5: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1))
    case 6: return Object.fromEntries(Array.from({ length: Math.floor(r() * 3) }, () => [pick(['a', 'title', '__proto__', 'constructor', '']), randomValue(r, depth + 1)]))
    default: return `${pick(STRINGS).slice(0, 20)}${Math.floor(r() * 1000)}`
  }
}

const DATES = ['2026-03-02', '2026-03-03', '2026-02-28', '2026-02-29', '2026-03-29', '2026-10-25', '2030-01-01', '1970-01-01', '0001-01-01', '2026-3-2']
const INSTANTS = ['2026-03-02T09:00:00Z', '2026-03-02T10:00:00+01:00', '2026-03-29T02:30:00+01:00', '2026-10-25T02:30:00+02:00', '2026-03-02T09:00:00.123456789Z', '1900-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-03-02T24:00:00Z', '2026-03-02T09:00:00-12:00']
/** Values each field might plausibly get, so that bodies get past the schema and into the domain. */
const PLAUSIBLE: Record<string, unknown[]> = {
  start: [...DATES, ...INSTANTS], end: [...DATES, ...INSTANTS], exdates: [[], [DATES[0]], [INSTANTS[0]], [DATES[1], INSTANTS[1]]],
  due: INSTANTS, plannedStart: INSTANTS, plannedEnd: INSTANTS, actualStart: INSTANTS, actualEnd: INSTANTS,
  allDay: [true, false], private: [true, false], busy: [true, false],
  timezone: ['Europe/Warsaw', 'UTC', 'America/New_York', 'Etc/GMT+12', 'Mars/Base', null],
  rrule: ['FREQ=DAILY', 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5', 'FREQ=MONTHLY;BYMONTHDAY=31', 'FREQ=YEARLY;UNTIL=20300101T000000Z', 'FREQ=DAILY;UNTIL=2026-01-01', 'FREQ=HOURLY;INTERVAL=0', 'RRULE:FREQ=DAILY', null, ''],
  status: ['tentative', 'confirmed', 'cancelled', 'open', 'in_progress', 'review', 'done'],
  kind: ['personal', 'tasks', 'company', 'matter', 'project', 'client'],
  color: ['#336699', '#33669980', null], components: [['VEVENT'], ['VTODO'], ['VEVENT', 'VTODO'], ['VTODO', 'VTODO']],
  order: [0, 1, -5, 2 ** 31], participantIds: [[], [1], [1, 1]], uid: ['fuzz-uid', 'a@b', ' ']
}
const TEMPLATES: Record<string, () => Record<string, unknown>> = {
  calendars: () => ({ name: 'Fuzz calendar' }),
  appointments: () => ({ title: 'Fuzz', start: '2026-03-02T09:00:00Z', end: '2026-03-02T10:00:00Z' }),
  tasks: () => ({ title: 'Fuzz task' }),
  cases: () => ({ title: 'Fuzz case' })
}

function randomBody (r: () => number, endpoint: string, fields: string[]): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const roll = r()
  if (roll < 0.05) return randomValue(r, 3) // not even an object
  if (roll < 0.35) {
    // anything goes
    const body: Record<string, unknown> = {}
    for (const f of fields) if (r() < 0.4) body[f] = randomValue(r)
    if (r() < 0.1) body[`extra${Math.floor(r() * 10)}`] = randomValue(r)
    return body
  }
  // a valid body with a few fields changed, mostly to plausible values
  const body = TEMPLATES[endpoint]!()
  const changes = Math.floor(r() * 4)
  for (let i = 0; i < changes; i++) {
    const f = pick(fields)
    body[f] = PLAUSIBLE[f] !== undefined && r() < 0.7 ? pick(PLAUSIBLE[f]) : randomValue(r)
    if (r() < 0.05) delete body[f]
  }
  return body
}


t.test('fuzz: random JSON bodies to the create endpoints never get a 5xx', async t => {
  // a fixed seed keeps the suite repeatable; KALENDS_FUZZ_SEED=random explores
  const given = process.env.KALENDS_FUZZ_SEED ?? '20260302'
  const seed = given === 'random' ? Date.now() % 1_000_000 : Number(given)
  t.comment(`seed ${seed} (replay with KALENDS_FUZZ_SEED=${seed})`)
  const r = prng(seed)
  // a few real ids so some bodies pass validation and reach the domain
  const cal = (await post(alice, '/api/v1/calendars', { name: 'Fuzz target' })).body_ as { id: number }
  NUMBERS.push(cal.id, server.users.alice!.id)
  const counts: Record<string, Record<number, number>> = {}
  const failures: string[] = []
  for (const [endpoint, fields] of Object.entries(FIELDS)) {
    counts[endpoint] = {}
    for (let i = 0; i < 200; i++) {
      const body = randomBody(r, endpoint, fields)
      const res = await post(alice, `/api/v1/${endpoint}`, body)
      counts[endpoint]![res.status] = (counts[endpoint]![res.status] ?? 0) + 1
      const json = (JSON.stringify(body) ?? '').slice(0, 300)
      let wrong: string | null = null
      if (res.status >= 500) wrong = `${res.status} POST /api/v1/${endpoint} ${json}`
      else if (res.status >= 400 && res.headers.get('content-type') !== 'application/problem+json; charset=utf-8') wrong = `${res.status} without problem+json: POST /api/v1/${endpoint} ${json}`
      else if (res.status === 400 && typeof (res.body_ as Problem).field !== 'string') wrong = `400 naming no field: POST /api/v1/${endpoint} ${json} -> ${JSON.stringify(res.body_)}`
      if (wrong !== null) failures.push(wrong)
    }
  }
  t.comment(`statuses: ${JSON.stringify(counts)}`)
  t.same(failures, [], 'every answer is below 500, and every 4xx is problem+json (400s naming a field)')
  for (const endpoint of Object.keys(FIELDS)) {
    t.ok(counts[endpoint]![400], `${endpoint}: some bodies were refused`)
    t.ok(counts[endpoint]![201], `${endpoint}: some bodies got through to the database`)
  }
  t.equal((await alice('/healthz')).status, 200, 'the server is still well')
})
