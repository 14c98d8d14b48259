import t from 'tap'
import { syncDb } from './tables.ts'
import { compareSides } from './testing-sides.ts'
import { NEEDS_POSTGRES, until, workerWorld } from './testing-worker.ts'

/**
 * Crash safety: a worker process (`node src/cli.ts worker`) is killed with
 * SIGKILL in the middle of a first sync of a few hundred items, twice (while
 * it takes Google's events in, then while it writes the CRM's out), with
 * changes on both sides while no worker runs; the job queue gives the run to
 * the next worker once the dead one's heartbeat stops. Google's answers are
 * held back a little after Google has acted (a proxy), so a kill mostly lands
 * where Google has made a change the worker has not recorded yet. In the end
 * every item is on both sides exactly once, with the changes made meanwhile.
 */
const ZONE = 'Europe/Warsaw'
const N = Number(process.env.KALENDS_CRASH_ITEMS ?? 120)

t.test('a worker killed mid-sync and started again duplicates nothing and loses no change', { skip: NEEDS_POSTGRES ?? false }, async t => {
  const { w, worker } = await workerWorld(t, ['alice', 'bob'], 4)
  const alice = w.s.as('alice')
  const bobId = w.s.users.bob!.id
  const day = (i: number, plus = 0) => new Date(Date.UTC(2026, 11, 1) + ((i % 80) + plus) * 86_400_000).toISOString().slice(0, 10)
  const inParallel = async (n: number, fn: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, k) => fn(i + k)))
  }

  // a few hundred items on each side before the first sync
  await inParallel(N, async i => {
    const json: Record<string, unknown> = i % 7 === 0
      ? { title: `crm ${i}`, allDay: true, start: day(i), end: day(i, 1) }
      : { title: `crm ${i}`, start: `${day(i)}T${String(8 + (i % 9)).padStart(2, '0')}:00:00Z`, end: `${day(i)}T${String(9 + (i % 9)).padStart(2, '0')}:00:00Z`, timezone: ZONE }
    if (i % 11 === 0) Object.assign(json, { rrule: 'FREQ=WEEKLY;COUNT=4' })
    if (i % 5 === 0) json.participantIds = [bobId]
    const res = await alice('/api/v1/appointments', { method: 'POST', json })
    if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body_)}`)
  })
  await inParallel(N / 5, async i => alice('/api/v1/tasks', { method: 'POST', json: { title: `crm task ${i}`, due: `${day(i)}T10:00:00Z` } }))
  const cal = w.calendar('alice')
  await inParallel(N, async i => cal.events.insert({
    calendarId: 'primary',
    requestBody: i % 6 === 0
      ? { summary: `google ${i}`, start: { date: day(i) }, end: { date: day(i, 2) } }
      : { summary: `google ${i}`, start: { dateTime: `${day(i)}T${String(10 + (i % 6)).padStart(2, '0')}:30:00Z`, timeZone: ZONE }, end: { dateTime: `${day(i)}T${String(11 + (i % 6)).padStart(2, '0')}:00:00Z`, timeZone: ZONE }, ...(i % 9 === 0 ? { recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] } : {}) }
  }))
  await inParallel(N / 5, async i => w.tasks('alice').tasks.insert({ tasklist: '@default', requestBody: { title: `google task ${i}`, due: `${day(i)}T00:00:00.000Z` } }))
  const aliceConn = await w.connect('alice')
  await w.connect('bob')

  const logged = async (direction: 'in' | 'out') => Number((await syncDb(w.s.k.db).selectFrom('sync_log').select(eb => eb.fn.countAll<number>().as('n'))
    .where('connection_id', '=', aliceConn.id).where('direction', '=', direction).where('action', '=', 'created').executeTakeFirstOrThrow()).n)
  // what users change while no worker runs: it must arrive too
  const meanwhile = async (tag: string) => {
    const rows = await w.s.k.db.selectFrom('appointments').select(['id', 'title']).where('owner_id', '=', w.s.users.alice!.id).orderBy('id').limit(40).execute()
    for (const r of rows.filter((_, i) => i % 8 === 0)) await alice(`/api/v1/appointments/${r.id}`, { method: 'PATCH', json: { title: `${r.title} (${tag} in the CRM)` } })
    const events = (w.g.dump(w.email('alice')).calendars[w.email('alice')] ?? []).filter(e => e.status !== 'cancelled' && e.recurringEventId == null && e.summary?.startsWith('google') === true)
    for (const e of events.filter((_, i) => i % 25 === 0)) await cal.events.patch({ calendarId: 'primary', eventId: e.id!, requestBody: { summary: `${e.summary} (${tag} in Google)` } })
    await alice('/api/v1/appointments', { method: 'POST', json: { title: `new while ${tag}`, start: '2026-12-24T09:00:00Z', end: '2026-12-24T10:00:00Z', participantIds: [bobId] } })
    await cal.events.insert({ calendarId: 'primary', requestBody: { summary: `new in Google while ${tag}`, start: { date: '2026-12-27' }, end: { date: '2026-12-28' } } })
  }

  let p = worker()
  await until('the first import under way', async () => (await logged('in')) >= N / 3, 90_000, 20)
  t.equal(await p.kill('SIGKILL'), null, 'killed with SIGKILL during the import from Google')
  const in1 = await logged('in')
  await meanwhile('down once')

  p = worker()
  let restarted = Date.now()
  await until('the import going on', async () => (await logged('in')) > in1, 120_000, 20)
  t.comment(`killed after ${in1} items taken in; the next worker went on after ${Date.now() - restarted} ms (the dead one's job expires with its heartbeat)`)
  await until('the first export under way', async () => (await logged('out')) >= N / 3, 120_000, 20)
  t.equal(await p.kill('SIGKILL'), null, 'killed with SIGKILL during the export to Google')
  const out2 = await logged('out')
  await meanwhile('down twice')

  p = worker()
  restarted = Date.now()
  await until('the export going on', async () => (await logged('out')) > out2, 120_000, 20)
  t.comment(`killed after ${out2} items written out; the next worker went on after ${Date.now() - restarted} ms`)
  const started = Date.now()
  const states = async () => syncDb(w.s.k.db).selectFrom('sync_connections').select(['id', 'state', 'state_reason', 'last_success_at']).execute()
  // alice's run (the one killed twice) whole after the restart; bob's connection green (it may have been done before)
  await until('a whole run after the restart', async () => (await states()).every(c => c.state === 'ok' && c.last_success_at !== null && (c.id !== aliceConn.id || c.last_success_at.getTime() > started)), 150_000, 200)
    .catch(async err => {
      const errors = await syncDb(w.s.k.db).selectFrom('sync_log').select(['connection_id', 'message']).where('action', '=', 'error').execute()
      throw new Error(`${(err as Error).message}: ${JSON.stringify({ connections: await states(), errors, started: new Date(started), worker: p.lines.slice(-5) })}`)
    })
  t.comment(`both connections synced whole ${Date.now() - started} ms after that`)
  t.equal(await p.kill('SIGTERM'), 0, 'the last worker stops cleanly on SIGTERM')

  // anything still pending (e.g. a rerun) goes through in-process; then nothing is left to do
  for (let i = 0; i < 5; i++) {
    const r = [await w.run('alice'), await w.run('bob')]
    if (r.every(x => x.in + x.out === 0 && !x.rerun)) break
  }
  for (const login of ['alice', 'bob']) {
    const r = await compareSides(w, login, ZONE)
    t.same(r.problems, [], `${login}: ${r.appointments.length} appointments <-> ${r.remote.appointments.length} events, ${r.tasks.length} tasks <-> ${r.remote.tasks.length} Google tasks, one to one`)
    t.same(r.mismatches, [], `${login}: the same data on both sides (${r.compared} items)`)
  }
  const titles = (await w.s.k.db.selectFrom('appointments').select('title').execute()).map(r => r.title)
  t.equal(titles.length, 2 * N + 4, 'every appointment once: none lost, none doubled')
  t.equal(new Set(titles).size, titles.length, 'no title twice')
  for (const tag of ['down once', 'down twice']) {
    t.ok(titles.some(x => x.includes(`(${tag} in the CRM)`)) && titles.some(x => x.includes(`(${tag} in Google)`)), `edits made while ${tag} are kept`)
  }
  t.equal((await w.s.k.db.selectFrom('tasks').select('id').execute()).length, 2 * Math.ceil(N / 5), 'every task once')
})
