// CalDAV benchmark: the same events in Kalends, Cyrus and Radicale in one run,
// every figure beside issue 15's target, with ratios.
//
//   node scripts/bench-caldav.ts [sizes=10000] [--db=pglite,postgres] [--peers=cyrus,radicale]
//        [--ops=all|seed-put,propfind-depth1,sync-first,query-month,multiget-50,expand-week,sync-after-10,get,put-update,put-new]
//        [--clients=1,8] [--reps=5] [--block=1000] [--rounds=3] [--warm=1000] [--seed=put|domain] [--no-floor] [--profile[=dir]] [--together] [--cold] [--no-wrk] [--account-password]
//
// Quick parts, e.g.: `--db=postgres --peers= --ops=multiget-50,get --reps=3 1000`
// (--no-radicale = --peers=cyrus). Run as root when Cyrus is a peer.
//
// Per size it generates one calendar of events (15% recurring: weekly ×10,
// daily ×5, monthly ×6; seven a day around 2026-06-15, so a month holds the
// same number of events at every size) and loads it into
//   - Kalends (`bin/kalends serve`, the launcher production runs, in its own
//     process so its RSS is its own) on a fresh database: an embedded PGlite
//     folder, or a new PostgreSQL database on the server of BENCH_PG_URL
//     (postgres://kalends:kalends@127.0.0.1:5432/kalends), dropped afterwards;
//   - Cyrus IMAP 3.6's CalDAV (Debian cyrus-imapd cyrus-caldav sasl2-bin),
//     a private instance started by scripts/peers/cyrus.sh on loopback ports
//     with its own configuration and state in a temporary folder, removed
//     afterwards; a new calendar made by MKCALENDAR;
//   - Radicale (Debian radicale 3.1.8) with a temporary config (auth none,
//     owner_only rights, filesystem storage in a temporary folder).
// Kalends and Cyrus are seeded by PUT, 8 in flight (If-None-Match: *), in
// chunks of 500 taken in turn (Cyrus 500, PGlite 500, PostgreSQL 500, …) so a
// change of load falls on all alike; the PUT rate is the "seed-put" figure.
// Radicale's storage is written directly, one file per event as its PUT
// leaves them (one PUT per event costs it ~0.3 s at 10,000, a bulk PUT
// minutes), and an untimed PROPFIND builds its cache. --seed=domain loads Kalends through the
// domain layer in this process instead (faster; no seed-put figure).
// Then each operation runs on every server, its repetitions interleaved
// (Cyrus, Radicale, PGlite, PostgreSQL, Cyrus, …): first single requests with
// the servers idle in between (median ms; PROPFIND and the first sync of
// Radicale at 10,000: 3 times), then throughput: requests back to back by
// each --clients count for --block ms per server, --rounds rounds in turn
// (requests/s), after --warm ms of the same untimed on each server (so the
// figure is of code the JIT has compiled, not of its first thousand runs),
// with the CPU each request cost the server, its PostgreSQL backends and
// this client. Operations: PROPFIND Depth:1 (getetag, getcontenttype,
// resourcetype); the first sync-collection (empty token; every page Kalends
// hands out, followed to the end, in one figure); calendar-query of June
// 2026 with calendar-data; calendar-multiget of 50; calendar-query of the
// week of 15 June with <expand> (one VEVENT per instance); sync-collection
// from a token taken before 10 edits; GET of one object; PUT of an existing
// object (update, no precondition); PUT of a new one. The floor: the bare
// node:http server of scripts/bench-http-floor.ts at the same concurrencies,
// run in the same run. RSS: VmRSS after the bench (steady) and VmHWM (peak,
// through the seeding and the whole bench) of the server; Cyrus: the sum over
// its master and httpd processes.
//
// --profile[=dir]: each operation on a Kalends server started for it with
// `--cpu-prof` (NODE_OPTIONS; the profile is written when it stops), then a
// short summary per profile (scripts/cpu-profile-summary.ts) from the moment
// the server answered (its start-up left out). Restarts make
// the first request cold and RSS meaningless: profile runs are not baseline
// runs.
//
// --cold: every PROPFIND Depth:1, sync-collection, calendar-query, multiget
// and expand request is one the server has not seen (its body carries a
// comment with a counter, and Kalends keeps whole answers by the body's text,
// answer-cache.ts), so none is answered from a kept answer: what a client
// pays after any change to the calendar. One untimed request of each goes
// first (a server's very first request also compiles its code). The
// single-request figures then say "cold", and each server's CPU time per
// request is printed beside them (the server's processes; Kalends on
// PostgreSQL: also its database's backends).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { expect, freePort, hrefsOf, interleaved, memory, processCpu, radicaleCollection, req, responses, stop, treeCpu, treeMemory, vevent, waitFor, wrap, type Result, type Target } from './bench-lib.ts'
import { describe, summariseFile } from './cpu-profile-summary.ts'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const { openKalends } = await import('../src/app.ts')
const { readConfig } = await import('../src/config.ts')
const { createOrg, createUser } = await import('../src/domain/users.ts')
const { putObject } = await import('../src/domain/calendar-objects.ts')
const { createAppPassword } = await import('../src/auth/app-passwords.ts')

const ALL_OPS = ['seed-put', 'propfind-depth1', 'sync-first', 'query-month', 'multiget-50', 'expand-week', 'sync-after-10', 'get', 'put-update', 'put-new'] as const
type Op = typeof ALL_OPS[number]

const args = process.argv.slice(2)
const flag = (name: string) => args.find(a => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=').slice(1).join('=')
const list = (v: string | undefined, dflt: string) => (v ?? dflt).split(',').filter(x => x !== '')
const sizes = (args.find(a => !a.startsWith('--')) ?? '10000').split(',').map(Number)
const dbs = list(flag('db'), 'pglite,postgres')
const peers = list(flag('peers'), 'cyrus,radicale').filter(p => !(p === 'radicale' && args.includes('--no-radicale')))
const opsWanted = list(flag('ops'), 'all')
const OPS = new Set<Op>(opsWanted.includes('all') ? ALL_OPS : opsWanted.map(w => {
  const m = ALL_OPS.filter(o => o === w || o.startsWith(w))
  if (m.length !== 1) throw new Error(`--ops: "${w}" names ${m.length === 0 ? 'no operation' : m.join(', ')}; operations: ${ALL_OPS.join(', ')}`)
  return m[0]!
}))
const together = args.includes('--together')
const REPS = Number(flag('reps') ?? 5)
const CLIENTS = list(flag('clients'), '1,8').map(Number)
const ROUNDS = Number(flag('rounds') ?? 3)
const BLOCK_MS = Number(flag('block') ?? 1000)
const WARM_MS = Number(flag('warm') ?? 1000)
const SEED = flag('seed') ?? 'put'
const withFloor = !args.includes('--no-floor')
/** GET and multiget again with wrk (a client in C), when it is installed: the server's rate with less of this client's cost in it */
const WRK = !args.includes('--no-wrk') && (() => { try { execFileSync('wrk', ['--version'], { stdio: 'ignore' }); return true } catch (e) { return (e as { status?: number }).status !== undefined } })()
const COLD = args.includes('--cold')
const PROFILE = args.some(a => a === '--profile' || a.startsWith('--profile='))
const PROFILE_DIR = PROFILE ? (flag('profile') || mkdtempSync(join(tmpdir(), 'bench-profiles-'))) : ''
const SEED_IN_FLIGHT = 8
const SEED_CHUNK = 500
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://kalends:kalends@127.0.0.1:5432/kalends'
const ROOT = new URL('..', import.meta.url).pathname
const CYRUS_SH = join(ROOT, 'scripts/peers/cyrus.sh')
const MONTH = { start: '20260601T000000Z', end: '20260701T000000Z' }
const WEEK = { start: '20260615T000000Z', end: '20260622T000000Z' }
const PASSWORD = 'bench password 1'
/** Kalends is signed in to as a phone or Thunderbird is, with an app password (README); --account-password: with the account's own */
const ACCOUNT_PASSWORD = args.includes('--account-password')
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

// what this machine lacks, said before anything starts
const missing: string[] = []
if (peers.includes('cyrus')) {
  if (!existsSync('/usr/lib/cyrus/bin/httpd') || !existsSync('/usr/sbin/saslpasswd2')) missing.push('Cyrus: scripts/setup-debian.sh --bench (cyrus-imapd cyrus-caldav sasl2-bin)')
  if (process.getuid?.() !== 0) missing.push('Cyrus: run as root (its master drops to the cyrus user)')
}
if (peers.includes('radicale') && !existsSync('/usr/bin/radicale')) missing.push('Radicale: apt-get install radicale')
if (!['put', 'domain'].includes(SEED)) missing.push('--seed is put or domain')
if (missing.length > 0) {
  console.error(`bench-caldav: ${missing.join('; ')} (or leave the peer out: --peers=${peers.filter(p => !missing.some(m => m.toLowerCase().startsWith(p))).join(',')})`)
  process.exit(2)
}

console.log(`# CalDAV benchmark: sizes ${sizes.join(', ')}, Kalends on ${dbs.join(' + ')}${peers.length > 0 ? ` vs ${peers.join(', ')}` : ''}, ops ${[...OPS].join(' ')}, reps ${REPS}, clients ${CLIENTS.join(',')}, ${ROUNDS}×${BLOCK_MS} ms after ${WARM_MS} ms untimed, seed ${SEED}${PROFILE ? `, profiles in ${PROFILE_DIR}` : ''}${COLD ? ', COLD: every listing and report request new, none served by a kept answer' : ''}, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${load()}`)

// ---------------------------------------------------------------- data


// ---------------------------------------------------------------- HTTP

const PROPFIND = '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getcontenttype/><d:resourcetype/></d:prop></d:propfind>'
const QUERY = `<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${MONTH.start}" end="${MONTH.end}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
const multiget = (hrefs: string[]) => `<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>${hrefs.map(h => `<d:href>${h}</d:href>`).join('')}</c:calendar-multiget>`
const sync = (token: string) => `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
/** The body as sent: with --cold a comment makes each request another one, which no kept answer serves. */
let coldCount = 0
const fresh = (body: string) => COLD ? body.replace('?>', `?><!-- cold ${process.pid}-${++coldCount} -->`) : body
const TOKEN = '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/></d:prop></d:propfind>'

const EXPAND = `<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data><c:expand start="${WEEK.start}" end="${WEEK.end}"/></c:calendar-data></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${WEEK.start}" end="${WEEK.end}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`

// an interrupted run still stops its servers (Cyrus's master, Radicale, Kalends), even one being loaded, and drops its databases
const live = new Set<() => Promise<void>>()
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping ${live.size} servers`)
    void Promise.allSettled([...live].map(stop => stop())).then(() => process.exit(130))
  })
}
/** `stop`, registered so an interrupt runs it too; runs once */
function stopper (fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null
  const once = () => { live.delete(once); done ??= fn(); return done }
  live.add(once)
  return once
}

/** A server loaded with the calendar, ready for the workload. */
type Server = {
  t: Target
  kind: 'kalends' | 'cyrus' | 'radicale'
  db?: string
  n: number
  result: Result
  rate: Record<string, number>
  hrefs: Map<string, string>
  token?: string
  heavy: boolean
  /** seeded by PUT here (else in bulk or through the domain layer before the start) */
  seedByPut: boolean
  seedRate?: number
  pages?: number
  /** the multiget's body, made once: the same fifty hrefs each time, and making it is this client's cost, not the server's */
  multiget?: string
  /** what the server answered differently (e.g. an expand that is not one) */
  notes: Set<string>
  memory: () => { rss: number; hwm: number }
  /** CPU time (ms) so far of the server's processes, and of its PostgreSQL backends (Kalends on PostgreSQL) */
  cpu: () => Promise<{ server: number; db?: Map<number, number> }>
  /** Kalends: stop the server (which writes the profile it was started with) and start it again, profiling `op` if given */
  restart?: (op: string | null) => Promise<void>
  stop: () => Promise<void>
}

/** occurrences of `what` in `text` */
function count (text: string, what: string): number {
  let n = 0
  for (let at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + what.length)) n++
  return n
}
const href = (s: Server, i: number) => s.hrefs.get(`bench-${i % s.n}.ics`) ?? (() => { throw new Error(`${s.t.name}: no href for bench-${i % s.n}`) })()
const ok = (what: string, r: { status: number; text: string }, ...codes: number[]) => expect(what, codes.includes(r.status), `${r.status} ${r.text.slice(0, 300)}`)

/** One request of each timed operation; each checks its answer and returns the number of items in it. */
const run: Record<Exclude<Op, 'seed-put'>, (s: Server, i: number) => Promise<number>> = {
  async 'propfind-depth1' (s) {
    const r = await req(s.t, 'PROPFIND', s.t.calendar, fresh(PROPFIND), { depth: '1' })
    ok('PROPFIND', r, 207)
    const hrefs = hrefsOf(r.text).filter(h => h.endsWith('.ics'))
    expect('PROPFIND', hrefs.length === s.n, `${hrefs.length} objects listed, expected ${s.n}`)
    s.hrefs = new Map(hrefs.map(h => [decodeURIComponent(h.split('/').pop()!), h]))
    s.multiget = undefined
    return hrefs.length
  },
  /** from no token to the end, page after page (a 507 on the collection says more follow from the answer's token) */
  async 'sync-first' (s) {
    let token = ''
    let items = 0
    let pages = 0
    for (;;) {
      const r = await req(s.t, 'REPORT', s.t.calendar, fresh(sync(token)), { depth: '1' })
      ok('first sync-collection', r, 207)
      pages++
      items += hrefsOf(r.text).filter(h => h.endsWith('.ics')).length
      const next = /sync-token>([^<]+)</.exec(r.text)?.[1]
      if (!/<(?:\w+:)?status>HTTP\/1\.[01] 507/.test(r.text)) break
      expect('first sync-collection', next !== undefined && next !== token && pages < 1000, `page ${pages} has no new token`)
      token = next!
    }
    expect(`${s.t.name}: first sync-collection`, items >= s.n, `${items} members in ${pages} pages, expected ${s.n}`)
    s.pages = pages
    return items
  },
  async 'query-month' (s) {
    const r = await req(s.t, 'REPORT', s.t.calendar, fresh(QUERY), { depth: '1' })
    ok('calendar-query', r, 207)
    return responses(r.text)
  },
  async 'multiget-50' (s) {
    s.multiget ??= multiget(Array.from({ length: 50 }, (_, k) => href(s, Math.floor(k * s.n / 50) + 1)))
    const r = await req(s.t, 'REPORT', s.t.calendar, fresh(s.multiget), { depth: '1' })
    expect('multiget', r.status === 207 && count(r.text, 'BEGIN:VEVENT') >= 50, `${r.status} ${r.text.slice(0, 300)}`)
    return 50
  },
  /** items = instances (VEVENTs) in the answer */
  async 'expand-week' (s) {
    const r = await req(s.t, 'REPORT', s.t.calendar, fresh(EXPAND), { depth: '1' })
    ok('expand', r, 207)
    if (/RRULE:/.test(r.text)) s.notes.add('expand: answers with RRULEs left in (not expanded)')
    return (r.text.match(/BEGIN:VEVENT/g) ?? []).length
  },
  async 'sync-after-10' (s) {
    const r = await req(s.t, 'REPORT', s.t.calendar, sync(s.token!), { depth: '1' })
    ok('sync-collection', r, 207)
    const changed = hrefsOf(r.text).filter(h => h.endsWith('.ics')).length
    expect(`${s.t.name}: sync-collection`, changed === 10, `${changed} changes, expected 10`)
    return changed
  },
  async get (s, k) {
    const r = await req(s.t, 'GET', href(s, Math.floor(k * s.n / 20) + 7))
    expect('GET', r.status === 200 && r.text.includes('BEGIN:VEVENT'), `${r.status}`)
    return 1
  },
  /** an existing object rewritten (no precondition), a different one each time */
  async 'put-update' (s, k) {
    const i = (k * 37 + 11) % s.n
    const r = await req(s.t, 'PUT', href(s, i), wrap(vevent(i, s.n, `Meeting ${i} (update ${k})`)))
    ok('PUT update', r, 204, 200, 201)
    return 1
  },
  /** a new object each time: i numbers it (bench-<n + 1000 + i>.ics) */
  async 'put-new' (s, i) {
    const j = s.n + 1000 + i
    const r = await req(s.t, 'PUT', `${s.t.calendar}bench-${j}.ics`, wrap(vevent(j, s.n)), { 'if-none-match': '*' })
    ok('PUT new', r, 201)
    return 1
  }
}
const RATE_OPS = new Set<Op>(['query-month', 'multiget-50', 'expand-week', 'sync-after-10', 'get', 'put-update'])

/** A sync token on every server, then 10 edits after it (not timed): what a sync-collection then answers. */
async function tenEdits (servers: Server[]): Promise<void> {
  for (const s of servers) {
    const tk = await req(s.t, 'PROPFIND', s.t.calendar, TOKEN, { depth: '0' })
    s.token = /sync-token>([^<]+)</.exec(tk.text)?.[1]
    expect('sync-token', s.token !== undefined, tk.text.slice(0, 300))
    for (let k = 0; k < 10; k++) {
      const i = Math.floor(k * s.n / 10) + 3
      const r = await req(s.t, 'PUT', href(s, i), wrap(vevent(i % s.n, s.n, `Meeting ${i} (moved)`)))
      ok('edit', r, 204, 200, 201)
    }
  }
}

/** `fn` back to back by `clients` concurrent clients on one server for `ms`, numbering requests from `counter`: how many were made. */
async function drive (s: Server, clients: number, ms: number, counter: Map<Server, number>, fn: (s: Server, i: number) => Promise<number>): Promise<number> {
  const t0 = performance.now()
  let n = 0
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() - t0 < ms) {
      const i = counter.get(s)!
      counter.set(s, i + 1)
      await fn(s, i)
      n++
    }
  }))
  return n
}

/** CPU per request, as printed beside a rate: the server's processes, its PostgreSQL backends, and this client when measured. */
function cpuPerRequest (s: Server, n: number, c: { server: number; db: number; client?: number }): string {
  const us = (ms: number) => (ms * 1000 / n).toFixed(0)
  return `CPU per request: server ${us(c.server)} µs${s.db === 'postgres' ? ` + PostgreSQL ${us(c.db)} µs` : ''}${c.client === undefined ? '' : `, this client ${us(c.client)} µs`}`
}

/** `fn` by `clients` concurrent clients for BLOCK_MS on one server, then the next, ROUNDS times round: requests/s each. */
async function throughput (servers: Server[], op: string, clients: number, fn: (s: Server, i: number) => Promise<number>): Promise<void> {
  const done = new Map<Server, { n: number; ms: number }>(servers.map(s => [s, { n: 0, ms: 0 }]))
  const counter = new Map<Server, number>(servers.map(s => [s, 1000 * clients]))
  // untimed first: a server's code for this request compiled by the JIT, as it is in a server that has run a while
  for (const s of servers) await drive(s, clients, WARM_MS, counter, fn)
  // CPU per request of the server (its processes), its PostgreSQL backends and this client: where a c=1 latency goes
  const cpu = new Map<Server, { server: number; db: number; client: number }>(servers.map(s => [s, { server: 0, db: 0, client: 0 }]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of servers) {
      const before = await s.cpu()
      const client0 = process.cpuUsage()
      const t0 = performance.now()
      const n = await drive(s, clients, BLOCK_MS, counter, fn)
      const d = done.get(s)!
      d.n += n
      d.ms += performance.now() - t0
      const client = process.cpuUsage(client0)
      const after = await s.cpu()
      const c = cpu.get(s)!
      c.server += after.server - before.server
      c.db += dbSpent(before.db, after.db)
      c.client += (client.user + client.system) / 1000
    }
  }
  for (const s of servers) {
    const d = done.get(s)!
    s.rate[`${op}@${clients}`] = d.n / (d.ms / 1000)
    console.log(`  ${s.t.name.padEnd(22)} ${op.padEnd(16)} ${(d.n / (d.ms / 1000)).toFixed(1).padStart(9)} requests/s  (${d.n} in ${(d.ms / 1000).toFixed(1)} s, ${clients} client${clients === 1 ? '' : 's'}; ${cpuPerRequest(s, d.n, cpu.get(s)!)})`)
  }
}

/** Kalends and Cyrus seeded by PUT, SEED_IN_FLIGHT at once, SEED_CHUNK events per server in turn; PUT/s each. */
async function seed (servers: Server[]): Promise<void> {
  const todo = servers.filter(s => s.seedByPut)
  const ms = new Map<Server, number>(todo.map(s => [s, 0]))
  const most = Math.max(0, ...todo.map(s => s.n))
  for (let from = 0; from < most; from += SEED_CHUNK) {
    for (const s of todo) {
      const to = Math.min(s.n, from + SEED_CHUNK)
      if (from >= to) continue
      let next = from
      const t0 = performance.now()
      await Promise.all(Array.from({ length: SEED_IN_FLIGHT }, async () => {
        while (next < to) {
          const i = next++
          const r = await req(s.t, 'PUT', `${s.t.calendar}bench-${i}.ics`, wrap(vevent(i, s.n)), { 'if-none-match': '*' })
          ok(`${s.t.name}: seeding PUT`, r, 201)
        }
      }))
      ms.set(s, ms.get(s)! + performance.now() - t0)
    }
    if ((from + SEED_CHUNK) % 2000 === 0) console.log(`    seeded ${from + SEED_CHUNK}/${most} (load ${load()})`)
  }
  for (const s of todo) {
    s.seedRate = s.n / (ms.get(s)! / 1000)
    console.log(`  ${s.t.name.padEnd(22)} seed-put         ${s.seedRate.toFixed(1).padStart(9)} PUT/s  (${s.n} PUTs, ${SEED_IN_FLIGHT} in flight, ${(ms.get(s)! / 1000).toFixed(1)} s)`)
  }
  for (const s of servers) if (s.hrefs.size === 0) {
    // Radicale builds its cache of the items written into its storage (not timed)
    const r = await req(s.t, 'PROPFIND', s.t.calendar, PROPFIND, { depth: '1' })
    ok('PROPFIND', r, 207)
    s.hrefs = new Map(hrefsOf(r.text).filter(h => h.endsWith('.ics')).map(h => [decodeURIComponent(h.split('/').pop()!), h]))
  }
}

/** The bare node:http server's requests/s per client count (scripts/bench-http-floor.ts), measured in this run. */
let floor: Record<number, number> | null = null
function runFloor (): Record<number, number> {
  const out = execFileSync(process.execPath, [join(ROOT, 'scripts/bench-http-floor.ts'), `--clients=${CLIENTS.join(',')}`, '--no-pause'], { encoding: 'utf8' })
  const line = out.split('\n').find(l => l.startsWith('floor '))
  expect('bench-http-floor', line !== undefined, out)
  const f = JSON.parse(line!.slice(6)) as Record<number, number>
  console.log(`  floor (bare node:http "hello") ${CLIENTS.map(c => `${f[c]!.toFixed(0)} requests/s at c=${c}`).join(', ')}`)
  return f
}

/** The profiles of the operations, summarised once each server has written them. */
const profiles: Array<{ server: string; op: string; file: string; since?: number }> = []

/** Every chosen operation on every server: single requests interleaved, then throughput per client count. */
async function workload (servers: Server[]): Promise<void> {
  for (const op of ALL_OPS) {
    if (op === 'seed-put' || !OPS.has(op)) continue
    if (PROFILE) for (const s of servers) await s.restart?.(op)
    console.log(` ${op} (load ${load()})`)
    if (op === 'sync-after-10') await tenEdits(servers)
    if (op === 'get' && withFloor) floor = runFloor()
    const fn = run[op]
    const heavyReps = op === 'propfind-depth1' || op === 'sync-first'
    const singleReps = op === 'get' || op.startsWith('put') ? 20 : REPS
    const reps = (s: Server) => s.heavy && heavyReps ? Math.min(3, REPS) : singleReps
    // one untimed request first, so the figures are of a cold answer, not of a server's first request (its code not compiled yet)
    if (COLD && COLD_OPS.has(op)) for (const s of servers) await fn(s, 0)
    const before = COLD ? await Promise.all(servers.map(s => s.cpu())) : []
    await interleaved(servers, op, reps, fn)
    if (COLD) {
      // each server's own processes: the others' requests in between cost it nothing
      for (const [i, s] of servers.entries()) {
        const after = await s.cpu()
        const per = (a: number | undefined, b: number | undefined) => a === undefined || b === undefined ? '' : ((a - b) / reps(s)).toFixed(1)
        const db = after.db === undefined ? '' : (dbSpent(before[i]!.db, after.db) / reps(s)).toFixed(1)
        console.log(`  ${s.t.name.padEnd(22)} ${op.padEnd(16)} COLD: CPU per request ${per(after.server, before[i]!.server)} ms server${db === '' ? '' : ` + ${db} ms PostgreSQL backends`}`)
      }
    }
    if (RATE_OPS.has(op)) for (const c of CLIENTS) await throughput(servers, op, c, fn)
    if (WRK && WRK_OPS.has(op)) for (const c of CLIENTS) for (const s of servers) await wrkRate(s, op, c)
  }
}

const WRK_OPS = new Set<Op>(['get', 'multiget-50'])
/**
 * The request `op` sends, by wrk: c connections (one thread for c=1, two
 * otherwise), the same untimed warm-up, then ROUNDS×BLOCK_MS timed in one
 * block. An answer outside 2xx/3xx fails the run; the Node client above has
 * checked each answer's content.
 */
async function wrkRate (s: Server, op: Op, c: number): Promise<void> {
  const [method, path, body, headers] = op === 'get'
    ? ['GET', href(s, 7), '', {}]
    : ['REPORT', s.t.calendar, s.multiget ?? '', { depth: '1', 'content-type': 'application/xml; charset=utf-8' }]
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'))
  const lua = join(dir, 'request.lua')
  const long = (x: string) => `[==[${x}]==]`
  writeFileSync(lua, [
    `wrk.method = ${long(method)}`,
    `wrk.body = ${long(body)}`,
    `wrk.headers["Authorization"] = ${long(s.t.auth)}`,
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[ ${long(k)} ] = ${long(v)}`)
  ].join('\n'))
  const wrk = (ms: number) => execFileSync('wrk', [`-t${c === 1 ? 1 : 2}`, `-c${c}`, `-d${Math.max(1, Math.round(ms / 1000))}s`, '-s', lua, `${s.t.base}${path}`], { encoding: 'utf8' })
  try {
    wrk(WARM_MS)
    const before = await s.cpu()
    const out = wrk(ROUNDS * BLOCK_MS)
    const after = await s.cpu()
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
    const n = Number(/(\d+) requests in/.exec(out)?.[1])
    // wrk reports answers outside 2xx/3xx and socket errors in lines of their own
    expect(`${s.t.name}: wrk ${op}`, Number.isFinite(rps) && n > 0 && !/Non-2xx|Socket errors/.test(out), out)
    s.rate[`wrk:${op}@${c}`] = rps
    console.log(`  ${s.t.name.padEnd(22)} ${`wrk ${op}`.padEnd(16)} ${rps.toFixed(1).padStart(9)} requests/s  (${n} by wrk, ${c} connection${c === 1 ? '' : 's'}; ${cpuPerRequest(s, n, { server: after.server - before.server, db: dbSpent(before.db, after.db) })})`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- processes

/** CPU (ms) the backends spent between two readings: a backend that ended in between counts nothing, one that began counts all it spent. */
function dbSpent (before: Map<number, number> | undefined, after: Map<number, number> | undefined): number {
  let ms = 0
  for (const [pid, cpu] of after ?? []) ms += cpu - (before?.get(pid) ?? 0)
  return ms
}

/** Process ids of the PostgreSQL backends connected to a database (readable in /proc as root, or as the postgres user). */
async function backendsOf (dbName: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  try {
    return (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName])).rows.map(r => r.pid)
  } finally { await c.end() }
}

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
  const took = radicaleCollection(dir, '/bench/calendar/', 'VCALENDAR', Array.from({ length: n }, (_, i) => [`bench-${i}.ics`, wrap(vevent(i, n))]))
  let err = ''
  const child = spawn('radicale', ['--config', join(dir, 'config')], { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr!.on('data', d => { err = (err + d).slice(-4000) })
  const stopIt = stopper(async () => {
    await stop(child)
    rmSync(dir, { recursive: true, force: true })
  })
  try {
    const t: Target = { name: `Radicale ${n}`, base: `http://127.0.0.1:${port}`, calendar: '/bench/calendar/', auth: `Basic ${Buffer.from('bench:x').toString('base64')}`, pid: child.pid! }
    await waitFor(`${t.base}/.well-known/caldav`, child, () => err)
    console.log(`  ${t.name.padEnd(22)} load: ${n} files written into its storage in ${took.toFixed(1)} s (its cache is built by an untimed PROPFIND after the seeding)`)
    return { t, kind: 'radicale', n, result: {}, rate: {}, hrefs: new Map(), heavy: n >= 10_000, seedByPut: false, notes: new Set(), memory: () => memory(child.pid!), cpu: async () => ({ server: treeCpu(child.pid!) }), stop: stopIt }
  } catch (e) {
    await stopIt()
    throw e
  }
}

async function cyrus (n: number): Promise<Server> {
  const state = mkdtempSync(join(tmpdir(), 'bench-cyrus-'))
  const port = await freePort()
  const env = { ...process.env, CYRUS_STATE: state, CYRUS_HTTP_PORT: String(port), CYRUS_IMAP_PORT: String(await freePort()), CALDAV_USER: 'bench', CALDAV_PASS: 'benchpass' }
  const sh = (cmd: string) => execFileSync(CYRUS_SH, [cmd], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
  const stopIt = stopper(async () => { sh('reset') }) // stops our master and removes its state
  try {
    console.log(`  ${sh('start')}`)
    const pid = Number(sh('pid'))
    const t: Target = { name: `Cyrus ${n}`, base: `http://127.0.0.1:${port}`, calendar: `/dav/calendars/user/bench/bench-${n}/`, auth: `Basic ${Buffer.from('bench:benchpass').toString('base64')}`, pid }
    const mk = await req(t, 'MKCALENDAR', t.calendar)
    ok('Cyrus MKCALENDAR', mk, 201)
    return { t, kind: 'cyrus', n, result: {}, rate: {}, hrefs: new Map(Array.from({ length: n }, (_, i) => [`bench-${i}.ics`, `${t.calendar}bench-${i}.ics`])), heavy: false, seedByPut: true, notes: new Set(), memory: () => treeMemory(pid), cpu: async () => ({ server: treeCpu(pid) }), stop: stopIt }
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
  let profiling: string | null = null
  const stopIt = stopper(async () => {
    if (child !== null) await stop(child)
    if (dbName !== null) {
      const c = new pg.Client({ connectionString: PG_URL }); await c.connect(); await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`); await c.end()
    }
    rmSync(dir, { recursive: true, force: true })
  })
  try {
    if (db === 'postgres') {
      dbName = `kalends_bench_${randomBytes(5).toString('hex')}`
      const c = new pg.Client({ connectionString: PG_URL }); await c.connect(); await c.query(`CREATE DATABASE ${dbName}`); await c.end()
      const u = new URL(PG_URL); u.pathname = `/${dbName}`; url = u.toString()
    }
    const dataDir = join(dir, 'data')
    const env: Record<string, string> = { NODE_ENV: 'production', LOG_LEVEL: 'warn', KALENDS_SECRET_KEY: randomBytes(32).toString('base64'), ...(url !== null ? { DATABASE_URL: url } : { KALENDS_DATA_DIR: dataDir }) }
    // the account (and with --seed=domain the events, through the domain layer) in this process, before the server owns the database
    const t0 = performance.now()
    const k = await openKalends(readConfig({ ...env, PORT: '0', LOG_LEVEL: 'silent' }), url !== null ? { url } : { dataDir })
    const org = await createOrg(k.db, 'Bench', 'system')
    const user = await createUser(k.db, null, org.id, { login: 'bench', name: 'Bench', password: PASSWORD, role: 'admin', timezone: 'Europe/Warsaw' })
    const secret = ACCOUNT_PASSWORD ? PASSWORD : (await createAppPassword(k.db, { user, origin: 'cli' }, 'bench')).password
    if (SEED === 'domain') {
      const cal = await k.db.selectFrom('calendars').select('id').where('owner_id', '=', user.id).where('slug', '=', 'calendar').executeTakeFirstOrThrow()
      const actor = { user, origin: 'caldav' as const }
      let next = 0
      const worker = async () => {
        while (next < n) {
          const i = next++
          await putObject(k.db, actor, cal.id, `bench-${i}.ics`, wrap(vevent(i, n)), { ifNoneMatch: '*' })
        }
      }
      await Promise.all(Array.from({ length: db === 'postgres' ? 8 : 1 }, worker))
    }
    await k.close()
    if (SEED === 'domain') console.log(`  Kalends ${db} ${n}: ${n} putObject calls in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const port = await freePort()
    const t: Target = { name: `Kalends ${db} ${n}`, base: `http://127.0.0.1:${port}`, calendar: '/dav/calendars/bench/calendar/', auth: `Basic ${Buffer.from(`bench:${secret}`).toString('base64')}`, pid: 0 }
    const start = async () => {
      let err = ''
      let nodeOptions = {}
      if (profiling !== null) {
        const file = `${t.name.replaceAll(' ', '-')}-${profiling}.cpuprofile`
        profiles.push({ server: t.name, op: profiling, file: join(PROFILE_DIR, file) })
        nodeOptions = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${PROFILE_DIR} --cpu-prof-name=${file}`.trim() }
      }
      // bin/kalends: the launcher production runs (scripts/start, the Dockerfile), with its Node flags
      child = spawn(join(ROOT, 'bin/kalends'), ['serve'], { cwd: dir, env: { ...process.env, ...env, ...nodeOptions, HOST: '127.0.0.1', PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] })
      child.stderr!.on('data', d => { err = (err + d).slice(-4000) })
      t.pid = child.pid!
      await waitFor(`${t.base}/dav/`, child, () => err)
      // the profile's summary starts here, leaving the start-up out (same clock as the profile's timestamps)
      const mine = profiles.at(-1)
      if (profiling !== null && mine?.server === t.name) mine.since = Number(process.hrtime.bigint() / 1000n)
    }
    if (PROFILE && SEED === 'put') profiling = 'seed-put'
    await start()
    const restart = async (op: string | null) => {
      await stop(child!)
      profiling = op
      await start()
    }
    return {
      t, kind: 'kalends', db, n, result: {}, rate: {}, heavy: false, seedByPut: SEED === 'put', notes: new Set(),
      hrefs: new Map(Array.from({ length: n }, (_, i) => [`bench-${i}.ics`, `${t.calendar}bench-${i}.ics`])),
      memory: () => memory(t.pid),
      cpu: async () => ({ server: treeCpu(t.pid), ...(dbName === null ? {} : { db: new Map((await backendsOf(dbName)).map(pid => [pid, processCpu([pid])])) }) }),
      restart,
      stop: stopIt
    }
  } catch (e) {
    await stopIt()
    throw e
  }
}

// ---------------------------------------------------------------- the table

type Row = {
  label: string
  unit: 'ms' | 'req/s' | 'PUT/s' | 'MiB'
  better: 'lower' | 'higher'
  value: (s: Server) => number | undefined
  /** issue 15's target: on which database it is set, its text, and the test */
  target?: { on: 'postgres' | 'pglite'; text: string; met: (v: number, s: Server) => boolean }
  /** left out of "ahead of Cyrus" (memory: Cyrus forks a process per connection) */
  noRace?: boolean
}

const COLD_OPS = new Set<Op>(['propfind-depth1', 'sync-first', 'query-month', 'multiget-50', 'expand-week'])

function rows (): Row[] {
  const out: Row[] = []
  const ms = (op: Op) => (s: Server) => s.result[op]?.median
  const rate = (op: Op, c: number) => (s: Server) => s.rate[`${op}@${c}`]
  const rates = (op: Op, label: string, targets: Record<number, Row['target']> = {}) => {
    if (!RATE_OPS.has(op)) return
    for (const c of CLIENTS) out.push({ label: `${label}, c=${c}`, unit: op.startsWith('put') ? 'PUT/s' : 'req/s', better: 'higher', value: rate(op, c), target: targets[c] })
    if (WRK && WRK_OPS.has(op)) for (const c of CLIENTS) out.push({ label: `${label}, c=${c}, by wrk`, unit: 'req/s', better: 'higher', value: s => s.rate[`wrk:${op}@${c}`] })
  }
  // Cyrus is seeded by PUT whatever --seed says
  out.push({ label: `seeding by PUT, ${SEED_IN_FLIGHT} in flight`, unit: 'PUT/s', better: 'higher', value: s => s.seedRate })
  for (const op of ALL_OPS) {
    if (op === 'seed-put' || !OPS.has(op)) continue
    const single = (label: string, target?: Row['target']) => out.push({ label: COLD && COLD_OPS.has(op) ? `${label} (COLD)` : label, unit: 'ms', better: 'lower', value: ms(op), target })
    switch (op) {
      case 'propfind-depth1': single('PROPFIND Depth:1 of all', { on: 'postgres', text: '< 60 ms', met: v => v < 60 }); break
      case 'sync-first': single('first sync-collection of all (every page)', { on: 'postgres', text: '< 65 ms', met: v => v < 65 }); break
      case 'query-month':
        single('calendar-query of June')
        rates(op, 'calendar-query of June', { 1: { on: 'postgres', text: '≥ 150 req/s', met: v => v >= 150 } }); break
      case 'multiget-50':
        single('calendar-multiget of 50')
        rates(op, 'calendar-multiget of 50', { 1: { on: 'postgres', text: '≥ 800 req/s', met: v => v >= 800 } }); break
      case 'expand-week':
        single('expand of a week', { on: 'postgres', text: '≤ 10 ms', met: v => v <= 10 })
        rates(op, 'expand of a week', Object.fromEntries(CLIENTS.filter(c => c > 1 && CLIENTS.includes(1)).map(c => [c, { on: 'postgres' as const, text: '> rate at c=1', met: (v: number, s: Server) => v > (s.rate[`expand-week@1`] ?? Infinity) }]))); break
      case 'sync-after-10':
        single('sync-collection after 10 edits')
        rates(op, 'sync-collection after 10 edits'); break
      case 'get': {
        single('GET one event')
        const share = (c: number, p: number) => floor?.[c] === undefined ? undefined : { on: 'postgres' as const, text: `≥ ${p}% of floor (${(floor[c]! * p / 100).toFixed(0)})`, met: (v: number) => v >= floor![c]! * p / 100 }
        rates(op, 'GET one event', { 1: share(1, 25), 8: share(8, 10) })
        break
      }
      case 'put-update':
        single('PUT update')
        rates(op, 'PUT update', { 8: { on: 'postgres', text: '≥ 500 PUT/s', met: v => v >= 500 } }); break
      case 'put-new': single('PUT new'); break
    }
  }
  out.push({ label: 'RSS peak, seeding + bench', unit: 'MiB', better: 'lower', value: s => s.memory().hwm, target: { on: 'pglite', text: '< 500 MiB (PGlite)', met: v => v < 500 }, noRace: true })
  out.push({ label: 'RSS after the bench', unit: 'MiB', better: 'lower', value: s => s.memory().rss, target: { on: 'pglite', text: '< 350 MiB (PGlite)', met: v => v < 350 }, noRace: true })
  return out
}

const fmt = (v: number | undefined, unit: string) => v === undefined ? '—' : unit === 'ms' ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : v >= 100 ? v.toFixed(0) : v.toFixed(1)
const times = (x: number) => `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`

/** One Markdown table per size: every figure beside its target, met?, and Kalends' advantage over each peer (> 1× = Kalends better). */
function table (servers: Server[]): string[] {
  const ks = servers.filter(s => s.kind === 'kalends')
  const cy = servers.find(s => s.kind === 'cyrus')
  const ra = servers.find(s => s.kind === 'radicale')
  const lines = [
    `| operation | unit | ${ks.map(k => `Kalends ${k.db}`).join(' | ')} | ${cy ? 'Cyrus | ' : ''}${ra ? 'Radicale | ' : ''}target | met? | ${cy ? '×Cyrus | ' : ''}${ra ? '×Radicale |' : ''}`,
    `| --- | --- | ${ks.map(() => '---:').join(' | ')} | ${cy ? '---: | ' : ''}${ra ? '---: | ' : ''}--- | --- | ${cy ? '--- | ' : ''}${ra ? '--- |' : ''}`
  ]
  for (const row of rows()) {
    const adv = (k: Server, p: Server) => {
      const kv = row.value(k)
      const pv = row.value(p)
      if (kv === undefined || pv === undefined || kv === 0 || pv === 0) return undefined
      return row.better === 'lower' ? pv / kv : kv / pv
    }
    const ratioCell = (p: Server | undefined) => p === undefined || row.label.startsWith('floor') ? '' : `${ks.map(k => { const a = adv(k, p); return a === undefined ? '' : `${k.db} ${times(a)}` }).filter(x => x !== '').join(', ') || '—'} | `
    const met: string[] = []
    if (row.target !== undefined) {
      const on = ks.find(k => k.db === row.target!.on)
      const judged = on ?? ks[0]
      const v = judged === undefined ? undefined : row.value(judged)
      if (judged !== undefined && v !== undefined) met.push(`${row.target.met(v, judged) ? '✓' : '✗'}${on === undefined ? ` (on ${judged.db}; target is on ${row.target.on})` : ''}`)
    }
    if (cy !== undefined && row.noRace !== true) {
      const judged = ks.find(k => k.db === 'postgres') ?? ks[0]
      const a = judged === undefined ? undefined : adv(judged, cy)
      if (a !== undefined) met.push(a > 1 ? 'ahead of Cyrus' : 'behind Cyrus')
    }
    lines.push(`| ${row.label} | ${row.unit} | ${ks.map(k => fmt(row.value(k), row.unit)).join(' | ')} | ${cy ? `${row.label.startsWith('floor') ? '' : fmt(row.value(cy), row.unit)} | ` : ''}${ra ? `${row.label.startsWith('floor') ? '' : fmt(row.value(ra), row.unit)} | ` : ''}${row.target?.text ?? (row.noRace === true || cy === undefined ? '' : 'ahead of Cyrus')} | ${met.join('; ')} | ${ratioCell(cy)}${ra ? ratioCell(ra).replace(/ \| $/, ' |') : ''}`)
  }
  return lines
}

// ---------------------------------------------------------------- run

const summary: string[] = []
// --together: every size loaded first and measured in one interleaved workload (for scaling comparisons)
for (const group of together ? [sizes] : sizes.map(n => [n])) {
  console.log(`\n## ${group.join(' + ')} events`)
  const servers: Server[] = []
  try {
    for (const n of group) {
      if (peers.includes('cyrus')) servers.push(await cyrus(n))
      if (peers.includes('radicale')) servers.push(await radicale(n))
      for (const db of dbs) servers.push(await kalends(n, db))
    }
    console.log(`  seeding (load ${load()})`)
    await seed(servers)
    await workload(servers)
    for (const s of servers) {
      const m = s.memory()
      console.log(`  ${s.t.name.padEnd(22)} server RSS ${m.rss.toFixed(0)} MiB (peak ${m.hwm.toFixed(0)} MiB)`)
    }
    for (const n of group) {
      const mine = servers.filter(s => s.n === n)
      summary.push(`\n### ${n} events${mine.some(s => s.kind === 'radicale') ? ' (Radicale seeded by writing its storage)' : ''}; load average at the end ${load()}${PROFILE ? '; PROFILED RUN: timings include the profiler and cold starts, RSS is per restart' : ''}${COLD ? '; COLD RUN (--cold): listings and reports are new requests each time, none served by a kept answer, throughput too' : ''}`, '', ...table(mine))
      const pages = mine.filter(s => s.pages !== undefined).map(s => `${s.t.name} ${s.pages}`)
      if (floor !== null) summary.push('', `floor (scripts/bench-http-floor.ts, bare node:http "hello", this run): ${CLIENTS.map(c => `${floor![c]!.toFixed(0)} req/s at c=${c}`).join(', ')}`)
      for (const s of mine) for (const note of s.notes) summary.push('', `${s.t.name}: ${note}`)
      if (pages.length > 0) summary.push('', `first sync-collection pages: ${pages.join(', ')}; expand instances: ${mine.map(s => `${s.t.name} ${s.result['expand-week']?.n ?? '—'}`).join(', ')}`)
    }
  } finally {
    for (const s of servers) await s.stop()
  }
}
console.log(summary.join('\n'))
if (PROFILE) {
  console.log(`\n## CPU profiles (${PROFILE_DIR}), self time`)
  for (const p of profiles) {
    if (!existsSync(p.file)) { console.log(`\n### ${p.server}: ${p.op}: no profile written`); continue }
    console.log(`\n### ${p.server}: ${p.op}`)
    for (const line of describe(summariseFile(p.file, p.since === undefined ? {} : { since: p.since }), 8)) console.log(`  ${line}`)
  }
}
