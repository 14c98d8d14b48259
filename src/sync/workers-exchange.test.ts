import t from 'tap'
import { syncConnection } from './engine.ts'
import { exchangeRemote } from './testing-remote.ts'
import { finishedRuns, NEEDS_POSTGRES, runStorm, workerWorld } from './testing-worker.ts'

/**
 * workers.test.ts for Exchange: two worker processes on one PostgreSQL
 * database, many Exchange connections, a storm of run requests, changes on
 * both sides (meetings with a colleague among them): no connection is ever
 * synced by two runs at once, seen by a proxy in front of EWS (every call
 * of a run names it, RUN_HEADER), and in the end every item is on both sides
 * once, the same, and Exchange mailed no one.
 * The same detector, pointed at two runs started at once in-process (the
 * queue's singleton bypassed), must see them overlap.
 */
const USERS = ['u1', 'u2', 'u3', 'u4']
const ZONE = 'Europe/Warsaw'
const STORM_MS = Number(process.env.KALENDS_WORKERS_STORM_MS ?? 12_000)

t.test('two workers never run one Exchange connection at once', { skip: NEEDS_POSTGRES ?? false }, async t => {
  const { w, x, ewsProxy, worker } = await workerWorld(t, USERS, 3)
  const r = exchangeRemote(x)
  const ids: number[] = []
  let n = 0
  const change = async (login: string) => {
    n++
    if (n % 2 === 0) {
      const colleague = USERS[(USERS.indexOf(login) + 1) % USERS.length]!
      const res = await w.s.as(login)('/api/v1/appointments', { method: 'POST', json: { title: `crm ${n}`, start: '2026-12-10T09:00:00Z', end: '2026-12-10T10:00:00Z', timezone: ZONE, ...(n % 4 === 0 ? { participantIds: [w.s.users[colleague]!.id] } : {}) } })
      if (res.status !== 201) throw new Error(`create: ${res.status}`)
    } else {
      await r.createEvent(login, { title: `exchange ${n}`, allDay: true, start: '2026-12-11', end: '2026-12-12' })
    }
  }
  for (const u of USERS) {
    ids.push((await r.connect(u)).id)
    for (let i = 0; i < 6; i++) await change(u)
  }
  const workers = [worker(3), worker(3)]
  const requests = await runStorm(w, workers, ids, USERS, change, STORM_MS)
  for (const p of workers) t.equal(await p.kill('SIGTERM'), 0, 'worker stops cleanly')

  const spans = ewsProxy.spans()
  const byConn = new Map<string, number>()
  for (const s of spans) byConn.set(s.connection, (byConn.get(s.connection) ?? 0) + 1)
  t.comment(`${requests} run requests, ${spans.length} runs seen at Exchange over ${byConn.size} connections, ${workers.map(finishedRuns).join(' + ')} runs finished per worker`)
  t.same([...byConn.keys()].sort(), ids.map(String).sort(), 'every connection ran, and every run named itself')
  t.ok([...byConn.values()].every(k => k >= 3), 'every connection ran several times')
  for (const p of workers) t.ok(finishedRuns(p) > 0, `worker ${p.pid} did runs`)
  t.same(ewsProxy.overlaps().map(([a, b]) => `${a.connection}: ${a.start}-${a.end} / ${b.start}-${b.end}`), [], 'no two runs of one connection overlapped')

  for (let i = 0; i < 3; i++) for (const u of USERS) await r.run(u)
  for (const u of USERS) {
    const c = await r.compare(u, ZONE)
    t.same([c.problems, c.mismatches], [[], []], `${u}: ${c.compared} items, one to one, the same on both sides`)
  }
  const titles = (await w.s.k.db.selectFrom('appointments').select('title').execute()).map(a => a.title)
  t.equal(new Set(titles).size, titles.length, `no appointment twice (${titles.length})`)
  t.same(r.mail(), [], 'no one was mailed')

  // the detector can fail: two runs of one connection started at once in-process, no queue
  for (let i = 0; i < 20; i++) await change('u1')
  const overlapsBefore = ewsProxy.overlaps().length
  await Promise.allSettled([syncConnection(w.s.k.sync.engine, ids[0]!), syncConnection(w.s.k.sync.engine, ids[0]!)])
  t.ok(ewsProxy.overlaps().length > overlapsBefore, 'two runs started at once without the queue are seen overlapping')
})
