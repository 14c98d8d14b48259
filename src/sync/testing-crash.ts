import type { Test } from 'tap'
import { syncDb } from './tables.ts'
import { exchangeRemote, googleRemote, graphRemote, type ProviderName } from './testing-remote.ts'
import { NEEDS_POSTGRES, until, workerWorld } from './testing-worker.ts'

/**
 * Crash safety: a worker process (`node src/cli.ts worker`) is killed with
 * SIGKILL in the middle of a first sync of a few hundred items, twice (while
 * it takes Google's events in, then while it writes the CRM's out), with
 * changes on both sides while no worker runs; the job queue gives the run to
 * the next worker once the dead one's heartbeat stops. The provider's answers
 * are held back a little after it has acted (a proxy), so a kill mostly lands
 * where Google or Exchange has made a change the worker has not recorded yet.
 * In the end every item is on both sides exactly once, with the changes made
 * meanwhile. Once for each provider.
 */
const ZONE = 'Europe/Warsaw'
const N = Number(process.env.KALENDS_CRASH_ITEMS ?? 120)

/** The scenario for one provider (crash.test.ts: Google, crash-exchange.test.ts: Exchange, crash-graph.test.ts: Microsoft 365; a file each keeps each under the suite's time limit). */
export function crashScenario (top: Test, provider: ProviderName): void {
  top.test(`${provider}: a worker killed mid-sync and started again duplicates nothing and loses no change`, { skip: NEEDS_POSTGRES ?? false }, async t => {
    const { w, x, m, worker } = await workerWorld(t, ['alice', 'bob'], 4, { graph: provider === 'graph' })
    const r = provider === 'google' ? googleRemote(w, false) : provider === 'graph' ? graphRemote(m!, false) : exchangeRemote(x)
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
    await inParallel(N, async i => r.createEvent('alice', i % 6 === 0
      ? { title: `outside ${i}`, allDay: true, start: day(i), end: day(i, 2) }
      : { title: `outside ${i}`, start: `${day(i)}T${String(10 + (i % 6)).padStart(2, '0')}:30:00Z`, end: `${day(i)}T${String(11 + (i % 6)).padStart(2, '0')}:00:00Z`, ...(i % 9 === 0 ? { daily: 3 } : {}) }))
    await inParallel(N / 5, async i => r.createTask('alice', { title: `outside task ${i}`, due: day(i) }))
    const aliceConn = await r.connect('alice')
    await r.connect('bob')

    const logged = async (direction: 'in' | 'out') => Number((await syncDb(w.s.k.db).selectFrom('sync_log').select(eb => eb.fn.countAll<number>().as('n'))
      .where('connection_id', '=', aliceConn.id).where('direction', '=', direction).where('action', '=', 'created').executeTakeFirstOrThrow()).n)
    // what users change while no worker runs: it must arrive too
    const meanwhile = async (tag: string) => {
      const rows = await w.s.k.db.selectFrom('appointments').select(['id', 'title']).where('owner_id', '=', w.s.users.alice!.id).orderBy('id').limit(40).execute()
      for (const r of rows.filter((_, i) => i % 8 === 0)) await alice(`/api/v1/appointments/${r.id}`, { method: 'PATCH', json: { title: `${r.title} (${tag} in the CRM)` } })
      const events = (await r.events('alice')).filter(e => e.title.startsWith('outside'))
      for (const e of events.filter((_, i) => i % 25 === 0)) await r.patchEvent('alice', e.id, { title: `${e.title} (${tag} outside)` })
      await alice('/api/v1/appointments', { method: 'POST', json: { title: `new while ${tag}`, start: '2026-12-24T09:00:00Z', end: '2026-12-24T10:00:00Z', participantIds: [bobId] } })
      await r.createEvent('alice', { title: `new outside while ${tag}`, allDay: true, start: '2026-12-27', end: '2026-12-28' })
    }

    let p = worker()
    await until('the first import under way', async () => (await logged('in')) >= N / 3, 90_000, 20)
    t.equal(await p.kill('SIGKILL'), null, `killed with SIGKILL during the import from ${r.label}`)
    const in1 = await logged('in')
    await meanwhile('down once')

    p = worker()
    let restarted = Date.now()
    await until('the import going on', async () => (await logged('in')) > in1, 120_000, 20)
    t.comment(`killed after ${in1} items taken in; the next worker went on after ${Date.now() - restarted} ms (the dead one's job expires with its heartbeat)`)
    await until('the first export under way', async () => (await logged('out')) >= N / 3, 120_000, 20)
    t.equal(await p.kill('SIGKILL'), null, `killed with SIGKILL during the export to ${r.label}`)
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
      const runs = [await r.run('alice'), await r.run('bob')]
      if (runs.every(x => x.in + x.out === 0 && !x.rerun)) break
    }
    for (const login of ['alice', 'bob']) {
      const c = await r.compare(login, ZONE)
      t.same(c.problems, [], `${login}: ${c.appointments.length} appointments <-> ${c.remote.appointments.length} events, ${c.tasks.length} tasks <-> ${c.remote.tasks.length} ${r.label} tasks, one to one`)
      t.same(c.mismatches, [], `${login}: the same data on both sides (${c.compared} items)`)
    }
    const titles = (await w.s.k.db.selectFrom('appointments').select('title').execute()).map(r => r.title)
    t.equal(titles.length, 2 * N + 4, 'every appointment once: none lost, none doubled')
    t.equal(new Set(titles).size, titles.length, 'no title twice')
    for (const tag of ['down once', 'down twice']) {
      t.ok(titles.some(x => x.includes(`(${tag} in the CRM)`)) && titles.some(x => x.includes(`(${tag} outside)`)), `edits made while ${tag} are kept`)
    }
    t.equal((await w.s.k.db.selectFrom('tasks').select('id').execute()).length, 2 * Math.ceil(N / 5), 'every task once')
    t.same(r.mail(), [], 'no one was mailed')
  })
}
