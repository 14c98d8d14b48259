// Exchange (EWS) sync benchmark, against the EWS emulator (conformance/ews-emulator):
//
//   node scripts/bench-sync.ts exchange [items=5000] [changes=50]
//
// 1. first import of <items> calendar items of alice's Exchange mailbox into
//    the CRM (one run, appointments only): time, EWS requests by operation
// 2. one incremental run with nothing changed, as a notification or a CRM
//    change starts it: EWS requests (target: 1, SyncFolderItems)
// 3. notification latency: a server with one sync worker
//    (KALENDS_SYNC_WORKERS=1) holding the connection's GetStreamingEvents
//    stream open, the poll a day away; an item's subject is changed in the
//    mailbox <changes> times, one after the other, and the time until the CRM
//    shows it is measured (p50, p95, max)
//
// The emulator's xmllint check of every message is off here (the tests keep
// it on): 5,000 items' traffic would be validated at close for minutes.
// PGlite in memory, or PostgreSQL when KALENDS_TEST_DATABASE_URL is set.
import { cpus, loadavg } from 'node:os'

const { startEwsWorld } = await import('../src/sync/testing-ews.ts')
const { until } = await import('../src/sync/testing.ts')
const { viewOf } = await import('../src/sync/connections.ts')

const ITEMS = Number(process.argv[3] ?? 5000)
const CHANGES = Number(process.argv[4] ?? 50)
const database = process.env.KALENDS_TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'
const load = () => loadavg().map(l => l.toFixed(2)).join(' ')
console.log(`# Exchange sync benchmark: ${ITEMS} items, ${CHANGES} changes, ${database}, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${load()}`)

const WARSAW = '<t:StartTimeZone Id="Central European Standard Time"/><t:EndTimeZone Id="Central European Standard Time"/>'
const date = (i: number, plus = 0) => new Date(Date.UTC(2026, 0, 5) + ((i % 700) + plus) * 86_400_000).toISOString().slice(0, 10)
/** Every eighth all-day, every tenth weekly ×6, the rest an hour with a body and a place, in Warsaw time. */
function itemXml (i: number): string {
  if (i % 8 === 0) return `<t:Subject>Exchange ${i}</t:Subject><t:Start>${date(i)}T00:00:00</t:Start><t:End>${date(i, 1)}T00:00:00</t:End><t:IsAllDayEvent>true</t:IsAllDayEvent>${WARSAW}`
  const hour = String(8 + (i % 9)).padStart(2, '0')
  const end = String(9 + (i % 9)).padStart(2, '0')
  const weekday = new Date(`${date(i)}T12:00:00Z`).toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' })
  const recurrence = i % 10 === 0
    ? `<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>${weekday}</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>${date(i)}</t:StartDate><t:NumberOfOccurrences>6</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`
    : ''
  return `<t:Subject>Exchange ${i}</t:Subject><t:Body BodyType="Text">Notes for meeting ${i}</t:Body><t:Start>${date(i)}T${hour}:00:00</t:Start><t:End>${date(i)}T${end}:00:00</t:End><t:Location>Łódź</t:Location>${recurrence}${WARSAW}`
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!
const byOperation = (ops: string[]) => Object.entries(ops.reduce<Record<string, number>>((n, op) => ({ ...n, [op]: (n[op] ?? 0) + 1 }), {})).map(([op, n]) => `${op} ×${n}`).join(', ')
const APPOINTMENTS_ONLY = { tasks: false, pollMinutes: 1440 }

// 1 and 2
{
  const w = await startEwsWorld({ users: ['alice'], emulator: { check: false } })
  try {
    for (let i = 0; i < ITEMS; i++) w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', itemXml(i))
    await w.connect('alice', undefined, APPOINTMENTS_ONLY)
    let before = w.em.calls().length
    let t0 = performance.now()
    const r = await w.run('alice')
    let ms = performance.now() - t0
    let ops = w.em.calls().slice(before)
    const n = Number((await w.s.k.db.selectFrom('appointments').select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
    const pushProblem = (await w.connection('alice')).push_problem
    if (pushProblem !== null) console.log(`  (push after the import: ${pushProblem})`)
    console.log(`import: ${r.in} items in, ${n} appointments, in ${(ms / 1000).toFixed(1)} s (${(r.in / (ms / 1000)).toFixed(0)} items/s), ${ops.length} EWS requests (${byOperation(ops)}), load average ${load()}`)
    before = w.em.calls().length
    t0 = performance.now()
    await w.run('alice', { force: false })
    ms = performance.now() - t0
    ops = w.em.calls().slice(before)
    console.log(`incremental, nothing changed: ${ops.length} EWS request${ops.length === 1 ? '' : 's'} (${byOperation(ops)}), ${ms.toFixed(0)} ms`)
  } finally {
    await w.close()
  }
}

// 3
{
  const w = await startEwsWorld({ users: ['alice'], env: { KALENDS_SYNC_WORKERS: '1' }, emulator: { check: false } })
  try {
    const ids = Array.from({ length: 200 }, (_, i) => w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', itemXml(i + 1)))
    const conn = await w.connect('alice', undefined, APPOINTMENTS_ONLY)
    await w.s.k.sync.jobs.request(conn.id)
    await until('the first run and its subscription', async () => { const c = await w.connection('alice'); return c.state === 'ok' && c.channel !== null }, 120_000, 10)
    await until('the stream\'s first ConnectionStatus', async () => viewOf(await w.connection('alice')).pushState === 'on', 30_000, 10)
    const latencies: number[] = []
    for (let i = 0; i < CHANGES; i++) {
      const title = `Changed in Outlook ${i}`
      const start = performance.now()
      w.em.userUpdate(ids[i % ids.length]!, `<t:Subject>${title}</t:Subject>`)
      await until(title, async () => (await w.s.k.db.selectFrom('appointments').select('id').where('title', '=', title).executeTakeFirst()) !== undefined, 60_000, 10)
      latencies.push(performance.now() - start)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    console.log(`notification latency over ${CHANGES} changes: p50 ${pct(latencies, 0.5).toFixed(0)} ms, p95 ${pct(latencies, 0.95).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms (${w.em.streamsOpened()} GetStreamingEvents connection(s); polling alone: ${APPOINTMENTS_ONLY.pollMinutes} min), load average ${load()}`)
  } finally {
    await w.close()
  }
}
