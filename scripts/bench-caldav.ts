// CalDAV benchmark: the same workload against Kalends and Radicale in one run.
//
//   node scripts/bench-caldav.ts [sizes=1000,10000] [--db=pglite,postgres] [--no-radicale] [--reps=5] [--together] [--clients=1,4] [--block=1000]
//
// Per size it generates one calendar of events (15% recurring: weekly ×10,
// daily ×5, monthly ×6; seven a day around 2026-06-15, so a month holds the
// same number of events at every size), loads it into
//   - Radicale (Debian package 3.1.8) started on a loopback port with a
//     temporary config (auth none, owner_only rights, filesystem storage in a
//     temporary folder), in bulk: one PUT of a VCALENDAR with every event to
//     the collection URL, which Radicale splits into one item per UID;
//   - Kalends, through the domain layer (putObject: the same function a CalDAV
//     PUT calls, so rules and the journal apply) into a fresh database: an
//     embedded PGlite folder, or a new PostgreSQL database on the server named
//     by BENCH_PG_URL (postgres://kalends:kalends@127.0.0.1:5432/kalends),
//     dropped afterwards. The server then runs as its own process
//     (`bin/kalends serve`, as production starts it), so its RSS is its own.
// Every server of a size is loaded first and left running (with --together,
// those of every size, so sizes are compared under the same load too); then each operation runs on
// all of them with its repetitions interleaved (Radicale, PGlite, PostgreSQL,
// Radicale, …). Before, Radicale ran its whole workload first and Kalends
// minutes later, so a change of load on this shared machine (other test
// suites) fell on one side only and could swing a ratio several times over.
// It times, over HTTP on 127.0.0.1 with one client: PROPFIND Depth:1 of
// the calendar (getetag, getcontenttype, resourcetype), calendar-query of
// June 2026 with calendar-data, calendar-multiget of 50, sync-collection
// from a token taken before 10 edits, GET of one object, PUT of a new one.
// Reads repeat --reps times (Radicale's PROPFIND at 10,000 events: 3), GET and
// PUT 20 times; medians are printed with the ratio Radicale time / Kalends
// time. A server waits idle while the others answer, so each of these
// requests starts cold (on this machine that doubles a 3 ms request).
// Then throughput: every operation but PROPFIND sent back to back by 1, then
// 4 concurrent clients (--clients) for --block ms per server, three rounds,
// interleaved the same way; requests per second and the ratio Kalends /
// Radicale.
import { spawn, type ChildProcess } from 'node:child_process'
import { expect, freePort, hrefsOf, interleaved, memory, req, responses, stop, vevent, waitFor, wrap, type Result, type Target } from './bench-lib.ts'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const { openKalends } = await import('../src/app.ts')
const { readConfig } = await import('../src/config.ts')
const { createOrg, createUser } = await import('../src/domain/users.ts')
const { putObject } = await import('../src/domain/calendar-objects.ts')

const args = process.argv.slice(2)
const flag = (name: string) => args.find(a => a.startsWith(`--${name}=`))?.split('=')[1]
const sizes = (args.find(a => !a.startsWith('--')) ?? '1000,10000').split(',').map(Number)
const dbs = (flag('db') ?? 'pglite,postgres').split(',')
const withRadicale = !args.includes('--no-radicale')
const together = args.includes('--together')
const REPS = Number(flag('reps') ?? 5)
const CLIENTS = (flag('clients') ?? '1,4').split(',').map(Number)
const ROUNDS = 3
const BLOCK_MS = Number(flag('block') ?? 1000)
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://kalends:kalends@127.0.0.1:5432/kalends'
const ROOT = new URL('..', import.meta.url).pathname
const MONTH = { start: '20260601T000000Z', end: '20260701T000000Z' }
const PASSWORD = 'bench password 1'

console.log(`# CalDAV benchmark: sizes ${sizes.join(', ')}, ${dbs.join(' + ')}${withRadicale ? ' vs Radicale' : ''}, reps ${REPS}, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)

// ---------------------------------------------------------------- HTTP


const PROPFIND = '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getcontenttype/><d:resourcetype/></d:prop></d:propfind>'
const QUERY = `<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${MONTH.start}" end="${MONTH.end}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
const multiget = (hrefs: string[]) => `<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>${hrefs.map(h => `<d:href>${h}</d:href>`).join('')}</c:calendar-multiget>`
const sync = (token: string) => `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
const TOKEN = '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/></d:prop></d:propfind>'

async function timed (reps: number, fn: (i: number) => Promise<unknown>): Promise<{ median: number; all: number[] }> {
  const all: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    await fn(i)
    all.push(performance.now() - t0)
  }
  const sorted = [...all].sort((a, b) => a - b)
  return { median: sorted[Math.floor(sorted.length / 2)]!, all }
}


/** A server loaded with the calendar, ready for the workload. */
type Server = { t: Target; n: number; result: Result; rate: Record<string, number>; hrefs: Map<string, string>; token?: string; heavy: boolean; stop: () => Promise<void> }


const href = (s: Server, i: number) => s.hrefs.get(`bench-${i}.ics`) ?? (() => { throw new Error(`${s.t.name}: no href for bench-${i}`) })()

/** One request of each timed operation; each checks its answer and returns the number of items in it. */
const run = {
  async query (s: Server) {
    const r = await req(s.t, 'REPORT', s.t.calendar, QUERY, { depth: '1' })
    expect('calendar-query', r.status === 207, `${r.status} ${r.text.slice(0, 300)}`)
    return responses(r.text)
  },
  async multiget (s: Server) {
    const fifty = Array.from({ length: 50 }, (_, k) => href(s, (Math.floor(k * s.n / 50) + 1) % s.n))
    const r = await req(s.t, 'REPORT', s.t.calendar, multiget(fifty), { depth: '1' })
    expect('multiget', r.status === 207 && (r.text.match(/BEGIN:VEVENT/g) ?? []).length >= 50, `${r.status} ${r.text.slice(0, 300)}`)
    return 50
  },
  async sync (s: Server) {
    const r = await req(s.t, 'REPORT', s.t.calendar, sync(s.token!), { depth: '1' })
    expect('sync-collection', r.status === 207, `${r.status} ${r.text.slice(0, 300)}`)
    const changed = hrefsOf(r.text).filter(h => h.endsWith('.ics')).length
    expect(`${s.t.name}: sync-collection`, changed === 10, `${changed} changes, expected 10`)
    return changed
  },
  async get (s: Server, k: number) {
    const r = await req(s.t, 'GET', href(s, (Math.floor(k * s.n / 20) + 7) % s.n))
    expect('GET', r.status === 200 && r.text.includes('BEGIN:VEVENT'), `${r.status}`)
    return 1
  },
  /** a new object each time: i numbers it (bench-<n + 1000 + i>.ics) */
  async put (s: Server, i: number) {
    const j = s.n + 1000 + i
    const r = await req(s.t, 'PUT', `${s.t.calendar}bench-${j}.ics`, wrap(vevent(j, s.n)), { 'if-none-match': '*' })
    expect('PUT', r.status === 201, `${r.status} ${r.text.slice(0, 300)}`)
    return 1
  }
}

/** A sync token on every server, then 10 edits after it (not timed): what a sync-collection then answers. */
async function tenEdits (servers: Server[], how: string): Promise<void> {
  for (const s of servers) {
    const tk = await req(s.t, 'PROPFIND', s.t.calendar, TOKEN, { depth: '0' })
    s.token = /sync-token>([^<]+)</.exec(tk.text)?.[1]
    expect('sync-token', s.token !== undefined, tk.text.slice(0, 300))
    for (let k = 0; k < 10; k++) {
      const i = (Math.floor(k * s.n / 10) + 3) % s.n
      const r = await req(s.t, 'PUT', href(s, i), wrap(vevent(i, s.n, `Meeting ${i} (${how})`)))
      expect('edit', r.status === 204 || r.status === 201, `${r.status} ${r.text.slice(0, 300)}`)
    }
  }
}

/** The workload on every server at once, each operation interleaved; each server's calendar has its own size. */
async function workload (servers: Server[]): Promise<void> {
  // PROPFIND Depth:1
  await interleaved(servers, 'propfind-depth1', s => s.heavy ? Math.min(3, REPS) : REPS, async s => {
    const r = await req(s.t, 'PROPFIND', s.t.calendar, PROPFIND, { depth: '1' })
    expect('PROPFIND', r.status === 207, `${r.status} ${r.text.slice(0, 300)}`)
    const hrefs = hrefsOf(r.text).filter(h => h.endsWith('.ics'))
    expect('PROPFIND', hrefs.length === s.n, `${hrefs.length} objects listed, expected ${s.n}`)
    s.hrefs = new Map(hrefs.map(h => [decodeURIComponent(h.split('/').pop()!), h]))
    return hrefs.length
  })
  await interleaved(servers, 'query-month', () => REPS, run.query)
  await interleaved(servers, 'multiget-50', () => REPS, run.multiget)
  await tenEdits(servers, 'moved')
  await interleaved(servers, 'sync-after-10', () => REPS, run.sync)
  await interleaved(servers, 'get', () => 20, run.get)
  await interleaved(servers, 'put-new', () => 20, run.put)
}

/**
 * Throughput: each operation sent back to back by `clients` concurrent
 * clients for BLOCK_MS on one server, then on the next, ROUNDS times round
 * (so a change of load falls on every server alike); requests per second =
 * requests answered / time spent. Unlike the timings above, a server is
 * never left idle between two of its requests, so this is what it sustains.
 */
async function throughput (servers: Server[], clients: number): Promise<void> {
  const ops: Array<[string, (s: Server, i: number) => Promise<number>]> = [
    ['query-month', run.query], ['multiget-50', run.multiget], ['sync-after-10', run.sync], ['get', run.get],
    ['put-new', (s, i) => run.put(s, 100_000 * clients + i)]
  ]
  for (const [op, fn] of ops) {
    if (op === 'sync-after-10') await tenEdits(servers, `moved again ${clients}`)
    const done = new Map<Server, { n: number; ms: number }>(servers.map(s => [s, { n: 0, ms: 0 }]))
    const counter = new Map<Server, number>(servers.map(s => [s, 0]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of servers) {
        const t0 = performance.now()
        let n = 0
        await Promise.all(Array.from({ length: clients }, async () => {
          while (performance.now() - t0 < BLOCK_MS) {
            const i = counter.get(s)!
            counter.set(s, i + 1)
            await fn(s, i)
            n++
          }
        }))
        const d = done.get(s)!
        d.n += n
        d.ms += performance.now() - t0
      }
    }
    for (const s of servers) {
      const d = done.get(s)!
      s.rate[`${op}@${clients}`] = d.n / (d.ms / 1000)
      console.log(`  ${s.t.name.padEnd(22)} ${op.padEnd(16)} ${(d.n / (d.ms / 1000)).toFixed(1).padStart(9)} requests/s  (${d.n} in ${(d.ms / 1000).toFixed(1)} s, ${clients} client${clients === 1 ? '' : 's'})`)
    }
  }
}

// ---------------------------------------------------------------- processes

async function radicale (n: number): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-radicale-'))
  const port = await freePort()
  writeFileSync(join(dir, 'config'), [
    '[server]', `hosts = 127.0.0.1:${port}`, 'max_connections = 8', 'max_content_length = 1000000000', 'timeout = 600',
    '[auth]', 'type = none',
    '[rights]', 'type = owner_only',
    '[storage]', `filesystem_folder = ${join(dir, 'collections')}`,
    '[web]', 'type = none',
    '[logging]', 'level = warning'
  ].join('\n') + '\n')
  let err = ''
  const child = spawn('radicale', ['--config', join(dir, 'config')], { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr!.on('data', d => { err = (err + d).slice(-4000) })
  const stopIt = async () => {
    await stop(child)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const t: Target = { name: `Radicale ${n}`, base: `http://127.0.0.1:${port}`, calendar: '/bench/calendar/', auth: `Basic ${Buffer.from('bench:x').toString('base64')}`, pid: child.pid! }
    await waitFor(`${t.base}/.well-known/caldav`, child, () => err)
    const body = wrap(Array.from({ length: n }, (_, i) => vevent(i, n)).join('\r\n'))
    const t0 = performance.now()
    const r = await req(t, 'PUT', t.calendar, body)
    expect('Radicale bulk PUT', r.status === 201 || r.status === 204, `${r.status} ${r.text.slice(0, 300)}`)
    console.log(`  ${t.name.padEnd(22)} load: one PUT of ${n} events (${(body.length / 1e6).toFixed(1)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    return { t, n, result: {}, rate: {}, hrefs: new Map(), heavy: n >= 10_000, stop: stopIt }
  } catch (e) {
    await stopIt()
    throw e
  }
}

async function kalends (n: number, db: string): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-kalends-'))
  let dbName: string | null = null
  let url: string | null = null
  let child: ChildProcess | null = null
  const stopIt = async () => {
    if (child !== null) await stop(child)
    if (dbName !== null) {
      const c = new pg.Client({ connectionString: PG_URL }); await c.connect(); await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`); await c.end()
    }
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    if (db === 'postgres') {
      dbName = `kalends_bench_${randomBytes(5).toString('hex')}`
      const c = new pg.Client({ connectionString: PG_URL }); await c.connect(); await c.query(`CREATE DATABASE ${dbName}`); await c.end()
      const u = new URL(PG_URL); u.pathname = `/${dbName}`; url = u.toString()
    }
    const dataDir = join(dir, 'data')
    const env: Record<string, string> = { NODE_ENV: 'production', LOG_LEVEL: 'warn', KALENDS_SECRET_KEY: randomBytes(32).toString('base64'), ...(url !== null ? { DATABASE_URL: url } : { KALENDS_DATA_DIR: dataDir }) }
    // load through the domain layer, in this process, before the server owns the database
    const t0 = performance.now()
    const k = await openKalends(readConfig({ ...env, PORT: '0', LOG_LEVEL: 'silent' }), url !== null ? { url } : { dataDir })
    const org = await createOrg(k.db, 'Bench', 'system')
    const user = await createUser(k.db, null, org.id, { login: 'bench', name: 'Bench', password: PASSWORD, role: 'admin', timezone: 'Europe/Warsaw' })
    const cal = await k.db.selectFrom('calendars').select('id').where('owner_id', '=', user.id).where('slug', '=', 'calendar').executeTakeFirstOrThrow()
    const actor = { user, origin: 'caldav' as const }
    let next = 0
    const worker = async () => {
      while (next < n) {
        const i = next++
        await putObject(k.db, actor, cal.id, `bench-${i}.ics`, wrap(vevent(i, n)), { ifNoneMatch: '*' })
        if ((i + 1) % 10_000 === 0) console.log(`    loaded ${i + 1}/${n} (${((performance.now() - t0) / 1000).toFixed(0)} s)`)
      }
    }
    await Promise.all(Array.from({ length: db === 'postgres' ? 8 : 1 }, worker))
    await k.close()
    const load = (performance.now() - t0) / 1000
    const port = await freePort()
    let err = ''
    // bin/kalends: the launcher production runs (scripts/start, the Dockerfile), with its Node flags
    child = spawn(join(ROOT, 'bin/kalends'), ['serve'], { cwd: dir, env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr!.on('data', d => { err = (err + d).slice(-4000) })
    const t: Target = { name: `Kalends ${db} ${n}`, base: `http://127.0.0.1:${port}`, calendar: '/dav/calendars/bench/calendar/', auth: `Basic ${Buffer.from(`bench:${PASSWORD}`).toString('base64')}`, pid: child.pid! }
    await waitFor(`${t.base}/dav/`, child, () => err)
    console.log(`  ${t.name.padEnd(22)} load: ${n} putObject calls (${db === 'postgres' ? 8 : 1} concurrent) in ${load.toFixed(1)} s (${(n / load).toFixed(0)}/s)`)
    return { t, n, result: {}, rate: {}, hrefs: new Map(), heavy: false, stop: stopIt }
  } catch (e) {
    await stopIt()
    throw e
  }
}

// ---------------------------------------------------------------- run

const ratio = (x: number) => x >= 10 ? x.toFixed(0) : x.toFixed(1)
const OPS = ['propfind-depth1', 'query-month', 'multiget-50', 'sync-after-10', 'get', 'put-new']
const summary: string[] = []
// --together: every size loaded first and measured in one interleaved workload (for scaling comparisons)
for (const group of together ? [sizes] : sizes.map(n => [n])) {
  console.log(`\n## ${group.join(' + ')} events`)
  // every server is loaded first; then the workload runs on all of them at once, interleaved
  const servers: Server[] = []
  try {
    for (const n of group) {
      if (withRadicale) servers.push(await radicale(n))
      for (const db of dbs) servers.push(await kalends(n, db))
    }
    console.log(`  workload, interleaved: load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
    await workload(servers)
    for (const clients of CLIENTS) {
      console.log(`  throughput, ${clients} client${clients === 1 ? '' : 's'}, ${ROUNDS} rounds of ${BLOCK_MS} ms per server: load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
      await throughput(servers, clients)
    }
    for (const s of servers) {
      const m = memory(s.t.pid)
      console.log(`  ${s.t.name.padEnd(22)} server RSS ${m.rss.toFixed(0)} MB (peak ${m.hwm.toFixed(0)} MB)`)
      if (s.t.name.startsWith('Radicale')) continue
      const rad = servers.find(r => r.n === s.n && r.t.name.startsWith('Radicale'))?.result ?? null
      summary.push(`\n### ${s.t.name}, ${s.n} events (server RSS ${m.rss.toFixed(0)} MB, peak ${m.hwm.toFixed(0)} MB)`)
      const radRate = servers.find(r => r.n === s.n && r.t.name.startsWith('Radicale'))?.rate ?? null
      const rateHead = CLIENTS.map(c => ` Kalends req/s, ${c} client${c === 1 ? '' : 's'} |${rad ? ' Radicale | ratio |' : ''}`).join('')
      summary.push(`| operation | items | Kalends ms | ${rad ? 'Radicale ms | ratio |' : ''}${rateHead}`)
      summary.push(`| --- | --- | --- | ${rad ? '--- | --- |' : ''}${CLIENTS.map(() => ` --- |${rad ? ' --- | --- |' : ''}`).join('')}`)
      for (const op of OPS) {
        const k = s.result[op]!
        const r = rad?.[op]
        const rates = CLIENTS.map(c => {
          const kr = s.rate[`${op}@${c}`]
          const rr = radRate?.[`${op}@${c}`]
          if (kr === undefined) return ` |${rad ? ' | |' : ''}`
          return ` ${kr.toFixed(1)} |${rr === undefined ? '' : ` ${rr.toFixed(1)} | ${ratio(kr / rr)}× |`}`
        }).join('')
        summary.push(`| ${op} | ${k.n} | ${k.median.toFixed(1)} | ${r ? `${r.median.toFixed(1)} | ${ratio(r.median / k.median)}× |` : ''}${rates}`)
      }
    }
  } finally {
    for (const s of servers) await s.stop()
  }
}
console.log(summary.join('\n'))
