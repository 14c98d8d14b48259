// Google sync benchmark, against the Google emulator (conformance/google-emulator):
//
//   node scripts/bench-sync.ts [events=5000] [pushes=30] [google|graph|both=google]
//
// (`node scripts/bench-sync.ts exchange [items] [changes]` runs the Exchange
// row instead: scripts/bench-sync-exchange.ts)
//
// 1. first import of <events> Google events into the CRM (one run): time, API calls
// 2. first export of <events> CRM appointments to Google (one run): time, API calls
// 3. incremental runs: nothing changed; one event changed in Google; one
//    appointment changed in the CRM: API calls of each
// 4. push latency: a server with one sync worker (KALENDS_SYNC_WORKERS=1) and
//    the integration's push address set to it; an event is changed in Google
//    <pushes> times, one after the other, and the time until the CRM shows the
//    change is measured (p50, p95, max). The emulator posts its notifications
//    as Google does (Content-Type: application/json; utf-8, empty body).
// 5. token requests of an idle hour: one connection whose kept access token
//    has expired, polled 12 times (every 5 minutes for an hour): refresh
//    grants at the emulator's token endpoint
//
// The Graph row (conformance/graph-emulator): first import of <events>
// Outlook events (time, requests, how many were $batch), one idle
// incremental run (requests per collection), and notification-to-CRM
// latency through the emulator's subscriptions.
//
// PGlite in memory, or PostgreSQL when KALENDS_TEST_DATABASE_URL is set
// (a fresh database per world). Runs are in-process, as a worker runs them.
import { cpus } from 'node:os'
import type { SyncWorld } from '../src/sync/testing.ts'

if (process.argv[2] === 'exchange') {
  await import('./bench-sync-exchange.ts')
  process.exit(0)
}

const { startSyncWorld, until, CLIENT_ID, CLIENT_SECRET } = await import('../src/sync/testing.ts')
const { createAppointment } = await import('../src/domain/appointments.ts')
const { saveGoogleIntegration } = await import('../src/sync/google/integration.ts')

const EVENTS = Number(process.argv[2] ?? 5000)
const PUSHES = Number(process.argv[3] ?? 30)
const WHICH = process.argv[4] ?? 'google'
const google = WHICH === 'google' || WHICH === 'both'
const graph = WHICH === 'graph' || WHICH === 'both'
const database = process.env.KALENDS_TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'
console.log(`# sync benchmark (${WHICH}): ${EVENTS} events, ${PUSHES} pushes, ${database}, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`)

const day = (i: number, plus = 0) => new Date(Date.UTC(2026, 0, 5) + ((i % 700) + plus) * 86_400_000).toISOString().slice(0, 10)
const inParallel = async (n: number, width: number, fn: (i: number) => Promise<unknown>) => {
  for (let i = 0; i < n; i += width) await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => fn(i + k)))
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!
/** One sync run as the job queue would make it: a run that fails on a transient error is tried again. */
const { Transient } = await import('../src/sync/provider.ts')
const runUntilDone = async (w: SyncWorld, login: string, force = true) => {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ...(await w.run(login, { force })), attempt }
    } catch (err) {
      if (!(err instanceof Transient) || attempt >= 5) throw err
      console.log(`  (attempt ${attempt} failed: ${err.message}; tried again, as the job queue would)`)
    }
  }
}
/** The test's own Google edits: once more when the kept-alive connection was closed while the sync worked. */
const again = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn()
  } catch (err) {
    if ((err as { code?: string }).code !== 'ECONNRESET') throw err
    return fn()
  }
}
/** The user's events as the emulator stores them (no API call: the test's own client may sit on a stale connection). */
const liveEvents = (w: SyncWorld, login: string) => (w.g.dump(w.email(login)).calendars[w.email(login)] ?? []).filter(e => e.status !== 'cancelled')
const routes = (byRoute: Record<string, number>) => Object.entries(byRoute).map(([k, v]) => `${k.replace('/calendar/v3/calendars/{calendarId}', '…').replace('/tasks/v1/lists/{tasklist}', '…')}: ${v}`).join(', ')

if (google) {
  const w = await startSyncWorld({ users: ['alice', 'bob'] })
  try {
    // 1. import
    const cal = w.calendar('alice')
    const seedStart = Date.now()
    await inParallel(EVENTS, 25, async i => cal.events.insert({
      calendarId: 'primary',
      requestBody: i % 8 === 0
        ? { summary: `Google ${i}`, start: { date: day(i) }, end: { date: day(i, 1) } }
        : { summary: `Google ${i}`, description: `Notes for meeting ${i}`, location: 'Łódź', start: { dateTime: `${day(i)}T${String(8 + (i % 9)).padStart(2, '0')}:00:00Z`, timeZone: 'Europe/Warsaw' }, end: { dateTime: `${day(i)}T${String(9 + (i % 9)).padStart(2, '0')}:00:00Z`, timeZone: 'Europe/Warsaw' }, ...(i % 10 === 0 ? { recurrence: ['RRULE:FREQ=WEEKLY;COUNT=6'] } : {}) }
    }))
    console.log(`seeded ${EVENTS} Google events in ${Date.now() - seedStart} ms`)
    await w.connect('alice')
    w.g.resetCalls()
    let t0 = performance.now()
    let r = await runUntilDone(w, 'alice')
    let ms = performance.now() - t0
    let calls = w.g.calls()
    r.in = Number((await w.s.k.db.selectFrom('appointments').select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
    console.log(`import (${r.attempt} attempt${r.attempt > 1 ? 's' : ''}): ${r.in} items in ${(ms / 1000).toFixed(1)} s (${(r.in / (ms / 1000)).toFixed(0)} items/s), ${calls.total} API calls (${routes(calls.byRoute)})`)

    // 2. export
    const bob = w.s.users.bob!
    const crmStart = Date.now()
    await inParallel(EVENTS, 10, async i => createAppointment(w.s.k.db, { user: bob, origin: 'system' }, i % 8 === 0
      ? { title: `CRM ${i}`, allDay: true, start: day(i), end: day(i, 1) }
      : { title: `CRM ${i}`, description: `Agenda ${i}`, start: `${day(i)}T${String(8 + (i % 9)).padStart(2, '0')}:00:00Z`, end: `${day(i)}T${String(9 + (i % 9)).padStart(2, '0')}:00:00Z`, timezone: 'Europe/Warsaw', ...(i % 10 === 0 ? { rrule: 'FREQ=WEEKLY;COUNT=6' } : {}) }))
    console.log(`seeded ${EVENTS} CRM appointments in ${Date.now() - crmStart} ms`)
    await w.connect('bob')
    w.g.resetCalls()
    t0 = performance.now()
    r = await runUntilDone(w, 'bob')
    ms = performance.now() - t0
    calls = w.g.calls()
    console.log(`export (${r.attempt} attempt${r.attempt > 1 ? 's' : ''}): ${r.out} items in ${(ms / 1000).toFixed(1)} s (${(r.out / (ms / 1000)).toFixed(0)} items/s), ${calls.total} API calls (${routes(calls.byRoute)})`)

    // 3. incremental
    const measure = async (what: string, login: string, change: () => Promise<unknown>, force = true) => {
      await change()
      w.g.resetCalls()
      const start = performance.now()
      const res = await runUntilDone(w, login, force)
      const c = w.g.calls()
      console.log(`incremental, ${what}: ${c.total} API calls (${routes(c.byRoute)}), in ${res.in} out ${res.out}, ${(performance.now() - start).toFixed(0)} ms`)
    }
    await measure(`first run after bob's ${EVENTS} CRM items (the organisation's journal read through)`, 'alice', async () => {})
    await measure('nothing changed, forced ("sync now": events and tasks)', 'alice', async () => {})
    await measure('nothing changed, as a push or a CRM change starts it (tasks only when their poll is due)', 'alice', async () => {}, false)
    await measure('one event changed in Google, as its push starts it', 'alice', async () => again(() => cal.events.patch({ calendarId: 'primary', eventId: liveEvents(w, 'alice')[2]!.id!, requestBody: { summary: 'Pushed' } })), false)
    const events = liveEvents(w, 'alice')
    await measure('one event changed in Google', 'alice', async () => again(() => cal.events.patch({ calendarId: 'primary', eventId: events[1]!.id!, requestBody: { summary: 'Changed in Google' } })))
    const one = await w.s.k.db.selectFrom('appointments').select('id').where('owner_id', '=', w.s.users.alice!.id).orderBy('id').executeTakeFirstOrThrow()
    await measure('one appointment changed in the CRM', 'alice', async () => w.s.as('alice')(`/api/v1/appointments/${one.id}`, { method: 'PATCH', json: { title: 'Changed in the CRM' } }))
    const { updateOptions } = await import('../src/sync/connections.ts')
    await updateOptions(w.s.k.db, w.s.users.alice!, (await w.connection('alice')).id, { tasks: false })
    await measure('nothing changed (events only, tasks switched off)', 'alice', async () => {})
  } finally {
    await w.close()
  }
}

// 4. push latency
if (google) {
  const w = await startSyncWorld({ users: ['alice'], env: { KALENDS_SYNC_WORKERS: '1' } })
  try {
    await saveGoogleIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, pushAddress: w.s.url })
    const cal = w.calendar('alice')
    await inParallel(200, 25, async i => cal.events.insert({ calendarId: 'primary', requestBody: { summary: `Event ${i}`, start: { dateTime: `${day(i)}T10:00:00Z`, timeZone: 'Europe/Warsaw' }, end: { dateTime: `${day(i)}T11:00:00Z`, timeZone: 'Europe/Warsaw' } } }))
    const conn = await w.connect('alice')
    await w.s.k.sync.jobs.request(conn.id)
    await until('first run with a push channel', async () => { const c = await w.connection('alice'); return c.state === 'ok' && c.channel !== null }, 120_000, 10)
    const { viewOf } = await import('../src/sync/connections.ts')
    await until('the channel\'s sync message', async () => viewOf(await w.connection('alice')).pushState === 'on', 30_000, 10)
    const events = liveEvents(w, 'alice')
    const latencies: number[] = []
    for (let i = 0; i < PUSHES; i++) {
      const title = `Pushed change ${i}`
      const ev = events[i % events.length]!
      const start = performance.now()
      await again(() => cal.events.patch({ calendarId: 'primary', eventId: ev.id!, requestBody: { summary: title } }))
      await until(title, async () => (await w.s.k.db.selectFrom('appointments').select('id').where('title', '=', title).executeTakeFirst()) !== undefined, 60_000, 10)
      latencies.push(performance.now() - start)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    const d = w.g.deliveries()
    const answers = [...new Set(d.map(x => x.status))].join(', ')
    console.log(`push latency over ${PUSHES} changes: p50 ${pct(latencies, 0.5).toFixed(0)} ms, p95 ${pct(latencies, 0.95).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms (${d.length} notifications delivered with Google's headers, answered ${answers}; polling alone: 5-10 min)`)
  } finally {
    await w.close()
  }
}

// 5. token requests of an idle hour
if (google) {
  const w = await startSyncWorld({ users: ['alice'] })
  try {
    const conn = await w.connect('alice')
    await runUntilDone(w, 'alice')
    // an hour later: the kept access token has expired
    const { syncDb } = await import('../src/sync/tables.ts')
    await syncDb(w.s.k.db).updateTable('sync_connections').set({ access_expires_at: new Date(Date.now() - 1000) }).where('id', '=', conn.id).execute()
    w.g.resetCalls()
    for (let i = 0; i < 12; i++) await runUntilDone(w, 'alice', false)
    const grants = w.g.tokenRequests()
    console.log(`token requests over an idle hour (12 polls of one connection, its kept token expired at the start): ${grants.refresh_token ?? 0} (refresh_token grants: ${JSON.stringify(grants)})`)
  } finally {
    await w.close()
  }
}

// Graph row
if (graph) {
  const { startGraphWorld } = await import('../src/sync/testing-graph.ts')
  const w = await startGraphWorld({ users: ['alice'], env: { KALENDS_SYNC_WORKERS: '1' } })
  const runGraph = async (force = true) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await w.run('alice', { force })
      } catch (err) {
        if (!(err instanceof Transient) || attempt >= 5) throw err
        console.log(`  (attempt ${attempt} failed: ${err.message}; tried again, as the job queue would)`)
      }
    }
  }
  const tally = (calls: string[]) => {
    const by: Record<string, number> = {}
    for (const c of calls) by[c] = (by[c] ?? 0) + 1
    return `${calls.length} requests, ${by['POST /$batch'] ?? 0} of them $batch (${Object.entries(by).map(([k, v]) => `${k}: ${v}`).join(', ')})`
  }
  try {
    const seedStart = Date.now()
    await inParallel(EVENTS, 25, async i => w.api('alice', 'POST', '/me/events', i % 8 === 0
      ? { subject: `Outlook ${i}`, isAllDay: true, start: { dateTime: `${day(i)}T00:00:00`, timeZone: 'UTC' }, end: { dateTime: `${day(i, 1)}T00:00:00`, timeZone: 'UTC' } }
      : { subject: `Outlook ${i}`, body: { contentType: 'text', content: `Notes for meeting ${i}` }, location: { displayName: 'Łódź' }, start: { dateTime: `${day(i)}T${String(8 + (i % 9)).padStart(2, '0')}:00:00`, timeZone: 'UTC' }, end: { dateTime: `${day(i)}T${String(9 + (i % 9)).padStart(2, '0')}:00:00`, timeZone: 'UTC' } }))
    console.log(`seeded ${EVENTS} Outlook events in ${Date.now() - seedStart} ms`)
    await w.connect('alice')
    w.calls.length = 0
    let t0 = performance.now()
    const r = await runGraph()
    const ms = performance.now() - t0
    const n = Number((await w.s.k.db.selectFrom('appointments').select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
    console.log(`graph import: ${n} items in ${(ms / 1000).toFixed(1)} s (${(n / (ms / 1000)).toFixed(0)} items/s), in ${r.in} out ${r.out}, ${tally(w.calls)}`)
    await runGraph()
    w.calls.length = 0
    t0 = performance.now()
    const idle = await runGraph()
    console.log(`graph incremental, nothing changed, forced (calendar and To Do list): ${tally(w.calls)}, in ${idle.in} out ${idle.out}, ${(performance.now() - t0).toFixed(0)} ms`)

    // notification latency: the integration's push address is this server, one sync worker runs the jobs
    await w.s.as('admin')('/api/v1/integrations/microsoft', { method: 'PUT', json: { pushAddress: w.s.url } })
    await runGraph()
    const { viewOf } = await import('../src/sync/connections.ts')
    await until('subscriptions made and validated', async () => viewOf(await w.connection('alice')).pushState === 'on', 60_000, 10)
    const events = (await w.api('alice', 'GET', '/me/events?$top=50&$select=id')).body.value as { id: string }[]
    const latencies: number[] = []
    for (let i = 0; i < PUSHES; i++) {
      const title = `Pushed change ${i}`
      const start = performance.now()
      await w.api('alice', 'PATCH', `/me/events/${events[i % events.length]!.id}`, { subject: title })
      await until(title, async () => (await w.s.k.db.selectFrom('appointments').select('id').where('title', '=', title).executeTakeFirst()) !== undefined, 60_000, 10)
      latencies.push(performance.now() - start)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    const d = w.g.deliveries().filter(x => x.url.includes('/sync/graph/notify'))
    console.log(`graph notification latency over ${PUSHES} changes: p50 ${pct(latencies, 0.5).toFixed(0)} ms, p95 ${pct(latencies, 0.95).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms (${d.length} notifications delivered, answered ${[...new Set(d.map(x => x.status))].join(', ')})`)
  } finally {
    await w.close()
  }
}
