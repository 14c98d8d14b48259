// The embedded database's memory: a fresh PGlite server process, 10,000
// events imported by CalDAV PUT (8 in flight), then reads.
//
//   node scripts/bench-embedded-memory.ts [events=10000] [--inflight=8] [--block=3000] [--node="<node flags>"]
//
// The server is started as production starts it (`bin/kalends serve`, with
// the launcher's Node flags), or with --node as `node <flags> src/cli.ts
// serve` to try other flags. Its VmRSS is sampled every 100 ms from
// /proc/<pid>/status the whole time; the script prints the peak (VmHWM, the
// kernel's own high-water mark, which also catches what falls between two
// samples) per phase, and the "steady" RSS: after the import, and after the
// reads, each once the server has been idle for 5 s. The reads are GET of
// one object, calendar-multiget of 50, the month's calendar-query and
// PROPFIND Depth:1, by 1 and by 4 concurrent clients for --block ms each,
// in requests per second (GET with 4 clients against 1 says whether GET
// gains from concurrency), and the CPU time each request cost the server's
// main thread and its busiest other thread (the database's worker, when it
// has one), which the load does not inflate as it does the rates.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { expect, freePort, hrefsOf, memory, req, stop, threadCpu, vevent, waitFor, wrap, type Target } from './bench-lib.ts'

const { openKalends } = await import('../src/app.ts')
const { readConfig } = await import('../src/config.ts')
const { createOrg, createUser } = await import('../src/domain/users.ts')

const args = process.argv.slice(2)
const flag = (name: string) => args.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const N = Number(args.find(a => !a.startsWith('--')) ?? 10_000)
const INFLIGHT = Number(flag('inflight') ?? 8)
const BLOCK_MS = Number(flag('block') ?? 3000)
const NODE_FLAGS = flag('node')
const ROOT = new URL('..', import.meta.url).pathname
const PASSWORD = 'bench password 1'
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

console.log(`# Embedded database memory: ${N} PUTs, ${INFLIGHT} in flight, ${NODE_FLAGS === undefined ? 'bin/kalends' : `node ${NODE_FLAGS}`}, Node ${process.version}, load ${load()}`)

const QUERY = '<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20260601T000000Z" end="20260701T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>'
const PROPFIND = '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getcontenttype/><d:resourcetype/></d:prop></d:propfind>'
const multiget = (hrefs: string[]) => `<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>${hrefs.map(h => `<d:href>${h}</d:href>`).join('')}</c:calendar-multiget>`

/** RSS sampled every 100 ms; peak() is the highest since the last mark(), sampled or the kernel's VmHWM */
function sampler (pid: number) {
  let peak = 0
  let samples: number[] = []
  const timer = setInterval(() => {
    try {
      const m = memory(pid)
      samples.push(m.rss)
      peak = Math.max(peak, m.rss)
    } catch { /* exited */ }
  }, 100)
  return {
    mark () { const p = peak; peak = 0; const s = samples; samples = []; return { peak: p, samples: s } },
    stop () { clearInterval(timer) }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-embedded-'))
let child: ChildProcess | null = null
try {
  const dataDir = join(dir, 'data')
  const env: Record<string, string> = { NODE_ENV: 'production', LOG_LEVEL: 'warn', KALENDS_SECRET_KEY: randomBytes(32).toString('base64'), KALENDS_DATA_DIR: dataDir }
  // the account only, through the domain layer, before the server owns the folder
  const k = await openKalends(readConfig({ ...env, PORT: '0', LOG_LEVEL: 'silent' }), { dataDir })
  const org = await createOrg(k.db, 'Bench', 'system')
  await createUser(k.db, null, org.id, { login: 'bench', name: 'Bench', password: PASSWORD, role: 'admin', timezone: 'Europe/Warsaw' })
  await k.close()

  const port = await freePort()
  let err = ''
  const [cmd, argv] = NODE_FLAGS === undefined
    ? [join(ROOT, 'bin/kalends'), ['serve']]
    : ['node', [...NODE_FLAGS.split(' ').filter(Boolean), join(ROOT, 'src/cli.ts'), 'serve']]
  child = spawn(cmd, argv, { cwd: dir, env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr!.on('data', d => { err = (err + d).slice(-4000) })
  const t: Target = { name: 'Kalends pglite', base: `http://127.0.0.1:${port}`, calendar: '/dav/calendars/bench/calendar/', auth: `Basic ${Buffer.from(`bench:${PASSWORD}`).toString('base64')}`, pid: child.pid! }
  const s = sampler(t.pid)
  await waitFor(`${t.base}/dav/`, child, () => err)
  const started = s.mark()
  console.log(`started: RSS ${memory(t.pid).rss.toFixed(0)} MiB, peak while starting ${Math.max(started.peak, memory(t.pid).hwm).toFixed(0)} MiB`)

  const idle = async () => { await new Promise(r => setTimeout(r, 5000)); return memory(t.pid).rss }

  // import
  const t0 = performance.now()
  let next = 0
  await Promise.all(Array.from({ length: INFLIGHT }, async () => {
    while (next < N) {
      const i = next++
      const r = await req(t, 'PUT', `${t.calendar}bench-${i}.ics`, wrap(vevent(i, N)), { 'if-none-match': '*' })
      expect('PUT', r.status === 201, `${r.status} ${r.text.slice(0, 300)}`)
      if ((i + 1) % 2000 === 0) console.log(`  ${i + 1} PUT in ${((performance.now() - t0) / 1000).toFixed(1)} s, RSS ${memory(t.pid).rss.toFixed(0)} MiB, peak so far ${memory(t.pid).hwm.toFixed(0)} MiB`)
    }
  }))
  const secs = (performance.now() - t0) / 1000
  const imported = s.mark()
  const hwmImport = memory(t.pid).hwm
  const afterImport = await idle()
  console.log(`import: ${N} PUT in ${secs.toFixed(1)} s (${(N / secs).toFixed(0)}/s), peak RSS ${Math.max(imported.peak, hwmImport).toFixed(0)} MiB (sampled ${imported.peak.toFixed(0)}), steady after 5 s idle ${afterImport.toFixed(0)} MiB, load ${load()}`)

  // reads
  const pf = await req(t, 'PROPFIND', t.calendar, PROPFIND, { depth: '1' })
  const hrefs = hrefsOf(pf.text).filter(h => h.endsWith('.ics'))
  expect('PROPFIND', hrefs.length === N, `${hrefs.length} listed, expected ${N}`)
  const ops: Array<[string, (i: number) => Promise<void>]> = [
    ['GET one object', async i => {
      const r = await req(t, 'GET', hrefs[(i * 7919) % N]!)
      expect('GET', r.status === 200, `${r.status}`)
    }],
    ['multiget of 50', async i => {
      const r = await req(t, 'REPORT', t.calendar, multiget(Array.from({ length: 50 }, (_, k) => hrefs[(i * 50 + k * 197) % N]!)), { depth: '1' })
      expect('multiget', r.status === 207, `${r.status}`)
    }],
    ['calendar-query, month', async () => {
      const r = await req(t, 'REPORT', t.calendar, QUERY, { depth: '1' })
      expect('query', r.status === 207, `${r.status}`)
    }],
    ['PROPFIND Depth:1', async () => {
      const r = await req(t, 'PROPFIND', t.calendar, PROPFIND, { depth: '1' })
      expect('PROPFIND', r.status === 207, `${r.status}`)
    }]
  ]
  console.log(`reads, ${BLOCK_MS} ms each, requests/s: load ${load()}`)
  for (const [name, fn] of ops) {
    const rates: string[] = []
    for (const clients of [1, 4]) {
      let i = 0
      let n = 0
      const cpu0 = threadCpu(t.pid)
      const r0 = performance.now()
      await Promise.all(Array.from({ length: clients }, async () => {
        while (performance.now() - r0 < BLOCK_MS) { await fn(i++); n++ }
      }))
      const rate = n / ((performance.now() - r0) / 1000)
      const spent = [...threadCpu(t.pid)].map(([tid, ms]) => ({ tid, ms: ms - (cpu0.get(tid) ?? 0) }))
      const main = spent.find(x => x.tid === t.pid)?.ms ?? 0
      const other = Math.max(0, ...spent.filter(x => x.tid !== t.pid).map(x => x.ms))
      rates.push(`${clients} client${clients === 1 ? '' : 's'} ${rate.toFixed(0)} (CPU per request: main ${(main / n).toFixed(2)} ms, busiest other thread ${(other / n).toFixed(2)} ms)`)
    }
    console.log(`  ${name.padEnd(22)} ${rates.join(', ')}`)
  }
  const reads = s.mark()
  const afterReads = await idle()
  const m = memory(t.pid)
  console.log(`reads: peak RSS ${reads.peak.toFixed(0)} MiB sampled, steady after 5 s idle ${afterReads.toFixed(0)} MiB`)
  console.log(`whole run: peak RSS (VmHWM) ${m.hwm.toFixed(0)} MiB, now ${m.rss.toFixed(0)} MiB, load ${load()}`)
  s.stop()
} finally {
  if (child !== null) await stop(child)
  rmSync(dir, { recursive: true, force: true })
}
