// iCal feed benchmark: a 10,000-event calendar served by Kalends, side by side
// with nginx serving the same bytes from a file, in the same run.
//
//   node scripts/bench-feeds.ts [events=10000] [connections=16]
//
// Measures the cold render (first fetch of a new feed link), then warm
// requests/s for the full body (identity and gzip) and for 304 answers, each
// against nginx (Debian package, one worker, started on a loopback port with a
// temporary config) and prints the ratios. Load: autocannon in a child
// process, bounded request counts, 127.0.0.1 only. PGlite in memory, or
// PostgreSQL when KALENDS_TEST_DATABASE_URL is set. BENCH_FULL_REQUESTS (400;
// gzip runs five times as many) and BENCH_304_REQUESTS (50000) set the counts,
// BENCH_ROUNDS (3) how often each pair runs, alternating; the median counts.
import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, cpus } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

process.env.KALENDS_FEED_RATE_PER_TOKEN ??= '100000000'
process.env.KALENDS_FEED_RATE_PER_ADDRESS ??= '100000000'
process.env.KALENDS_FEED_ACCESS_FLUSH_MS ??= '1000'

const { startServer } = await import('../src/testing/harness.ts')
const { createCalendar } = await import('../src/domain/calendars.ts')
const { createFeed } = await import('../src/domain/feeds.ts')
const { feedUrls } = await import('../src/feeds/http.ts')
const { vtimezoneFor, foldLine } = await import('../src/ical/index.ts')

const events = Number(process.argv[2] ?? 10_000)
const connections = Number(process.argv[3] ?? 16)
const AUTOCANNON = new URL('../node_modules/.bin/autocannon', import.meta.url).pathname

const s = await startServer({ users: ['alice'] })
const db = s.k.db
const alice = s.users.alice!
const actor = { user: alice, origin: 'system' as const }
const database = process.env.KALENDS_TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'
console.log(`# iCal feed benchmark: ${events} events, ${connections} connections, ${database}, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`)

// --- the calendar: bodies as clients write them (VTIMEZONE inside, alarms, attendees, series with exceptions)
const cal = await createCalendar(db, actor, { name: 'Bench 10k', timezone: 'Europe/Warsaw' })
const pad = (n: number) => String(n).padStart(2, '0')
const local = (d: Date) => `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}00`
const utc = (d: Date) => `${local(d)}Z`
const day = (d: Date) => local(d).slice(0, 8)
const ZONES = ['Europe/Warsaw', 'Europe/Warsaw', 'Europe/Warsaw', 'Europe/Warsaw', 'Europe/Warsaw', 'Europe/Warsaw', 'Europe/Warsaw', 'America/New_York', 'UTC', 'date']
function body (i: number, uid: string, start: Date, end: Date): string {
  const zone = ZONES[i % ZONES.length]!
  const when = zone === 'date'
    ? [`DTSTART;VALUE=DATE:${day(start)}`, `DTEND;VALUE=DATE:${day(new Date(start.getTime() + 86_400_000))}`]
    : zone === 'UTC' ? [`DTSTART:${utc(start)}`, `DTEND:${utc(end)}`] : [`DTSTART;TZID=${zone}:${local(start)}`, `DTEND;TZID=${zone}:${local(end)}`]
  const lines = ['BEGIN:VEVENT', `UID:${uid}`, `DTSTAMP:${utc(start)}`, `CREATED:${utc(start)}`, ...when, `SUMMARY:Client meeting ${i} — Łódź office`, 'SEQUENCE:0', 'TRANSP:OPAQUE']
  if (i % 7 === 0) lines.push('RRULE:FREQ=WEEKLY;COUNT=10', zone === 'date' ? `EXDATE;VALUE=DATE:${day(new Date(start.getTime() + 7 * 86_400_000))}` : `EXDATE${zone === 'UTC' ? '' : `;TZID=${zone}`}:${local(new Date(start.getTime() + 7 * 86_400_000))}${zone === 'UTC' ? 'Z' : ''}`)
  if (i % 5 === 0) {
    lines.push(`DESCRIPTION:Agenda: pricing for the next quarter\\, delivery dates\\, open invoices. Prepared by the sales team for customer ${i}.`, 'LOCATION:Piotrkowska 100\\, Łódź',
      'ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@example.com', 'X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC', 'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Reminder', 'TRIGGER:-PT15M', 'END:VALARM')
  }
  lines.push('END:VEVENT')
  const tz = zone === 'date' || zone === 'UTC' ? '' : vtimezoneFor(zone) ?? ''
  return `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 15.0//EN\r\n${tz}${lines.map(l => foldLine(l) + '\r\n').join('')}END:VCALENDAR\r\n`
}

const seedStart = performance.now()
const BATCH = 500
for (let from = 0; from < events; from += BATCH) {
  await db.transaction().execute(async tx => {
    const rows = []
    for (let i = from; i < Math.min(events, from + BATCH); i++) {
      const start = new Date(Date.UTC(2026, 0, 1, 8) + Math.floor(i / 8) * 86_400_000 + (i % 8) * 3_600_000)
      const end = new Date(start.getTime() + 3_600_000)
      rows.push({ i, uid: `bench-${i}@example.com`, start, end })
    }
    const appts = await tx.insertInto('appointments').values(rows.map(r => ({
      org_id: alice.org_id, uid: r.uid, calendar_id: cal.id, owner_id: alice.id, title: `Client meeting ${r.i}`, starts_at: r.start, ends_at: r.end, timezone: 'Europe/Warsaw', created_by: alice.id
    }))).returning(['id', 'uid']).execute()
    const changes = await tx.insertInto('changes').values(appts.map(a => ({
      org_id: alice.org_id, entity: 'appointment', entity_id: a.id, op: 'create' as const, calendar_id: cal.id, object_name: `${a.uid}.ics`, origin: 'system', actor_id: alice.id
    }))).returning('seq').execute()
    await tx.insertInto('calendar_objects').values(rows.map((r, k) => {
      const ical = body(r.i, r.uid, r.start, r.end)
      return {
        calendar_id: cal.id, name: `${r.uid}.ics`, item_kind: 'appointment' as const, item_id: appts[k]!.id, uid: r.uid, component: 'VEVENT' as const,
        ical, etag: `"${r.i}"`, size: Buffer.byteLength(ical), first_start: r.start,
        last_end: new Date(r.end.getTime() + (r.i % 7 === 0 ? 9 * 7 * 86_400_000 : 86_400_000)), modified_seq: changes[k]!.seq
      }
    })).execute()
  })
}
console.log(`seeded ${events} calendar objects in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`)

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers: { 'accept-encoding': 'identity', ...headers } })
  return { status: res.status, etag: res.headers.get('etag'), bytes: Buffer.from(await res.arrayBuffer()) }
}

// --- cold: the first fetch of a new link renders the feed
const colds: number[] = []
let url = ''
for (let i = 0; i < 5; i++) {
  const { token } = await createFeed(db, actor, { calendarId: cal.id })
  url = feedUrls(s.url, token).url
  const t0 = performance.now()
  const res = await get(url)
  colds.push(performance.now() - t0)
  if (res.status !== 200) throw new Error(`feed answered ${res.status}`)
}
const feedBody = (await get(url)).bytes
// the same work without HTTP: resolve, load the rows, render
{
  const { resolveFeed } = await import('../src/domain/feeds.ts')
  const { loadObjects, renderFeed } = await import('../src/feeds/render.ts')
  const { sha256 } = await import('../src/auth/api-tokens.ts')
  const token = url.slice(url.lastIndexOf('/') + 1, -4)
  const phases: string[] = []
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    const r = (await resolveFeed(db, sha256(token)))!
    const t1 = performance.now()
    const rows = await loadObjects(db, [cal.id], { tasks: false, from: null, to: null })
    const t2 = performance.now()
    renderFeed(r, rows, { tasks: false, busy: false, prefix: true, from: null, to: null }, { refresh: 'PT1H', busyUidKey: Buffer.alloc(32) })
    const t3 = performance.now()
    phases.push(`resolve ${(t1 - t0).toFixed(0)} + load ${(t2 - t1).toFixed(0)} + render ${(t3 - t2).toFixed(0)} ms`)
  }
  console.log(`in process: ${phases.join('; ')}`)
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`cold render (first GET of a new link, 5 links): median ${median(colds).toFixed(0)} ms, max ${Math.max(...colds).toFixed(0)} ms; body ${(feedBody.length / 1e6).toFixed(2)} MB`)

// --- nginx with the same bytes
const dir = mkdtempSync(join(tmpdir(), 'kalends-bench-feeds-'))
chmodSync(dir, 0o755) // nginx's workers run as another user
writeFileSync(join(dir, 'feed.ics'), feedBody)
// what Kalends sends for gzip: the same body at the same level
writeFileSync(join(dir, 'feed.ics.gz'), gzipSync(feedBody, { level: 6 }))
const port = await freePort()
writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  types { text/calendar ics; }
  charset utf-8;
  etag on;
  gzip_static on;
  gzip_vary on;
  server {
    listen 127.0.0.1:${port};
    root ${dir};
  }
}
`)
const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' })
process.on('exit', () => nginx.kill('SIGTERM'))
const nginxUrl = `http://127.0.0.1:${port}/feed.ics`
for (let i = 0; ; i++) {
  try { if ((await fetch(nginxUrl, { method: 'HEAD' })).ok) break } catch {}
  if (i > 100) throw new Error(`nginx did not start; see ${dir}/error.log`)
  await new Promise(resolve => setTimeout(resolve, 50))
}
const nginxEtag = (await get(nginxUrl)).etag!
const kalendsEtag = (await get(url)).etag!

type Result = { rps: number; mbps: number; p50: number; p99: number; non2xx: number; total: number }
/** autocannon in a child process; asynchronously, since this process is the server under test */
function load (target: string, amount: number, headers: Record<string, string>): Promise<Result> {
  const args = ['-c', String(connections), '-a', String(amount), '-j', '-t', '60']
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AUTOCANNON, ...args, target], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { err += d })
    child.on('error', reject)
    child.on('close', code => {
      if (code !== 0) return reject(new Error(`autocannon failed (${code}): ${err}`))
      if (out.trim() === '') return reject(new Error(`autocannon printed nothing: ${err}`))
      const j = JSON.parse(out) as { requests: { total: number }; throughput: { total: number }; duration: number; latency: { p50: number; p99: number }; non2xx: number }
      resolve({ rps: j.requests.total / j.duration, mbps: j.throughput.total / j.duration / 1e6, p50: j.latency.p50, p99: j.latency.p99, non2xx: j.non2xx, total: j.requests.total })
    })
  })
}

const fullAmount = Number(process.env.BENCH_FULL_REQUESTS ?? 400)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const scenarios: { name: string; amount: number; kalends: Record<string, string>; nginx: Record<string, string>; expect: number }[] = [
  { name: 'warm feed, identity', amount: fullAmount, kalends: { 'accept-encoding': 'identity' }, nginx: { 'accept-encoding': 'identity' }, expect: 200 },
  { name: 'warm feed, gzip', amount: fullAmount * 5, kalends: { 'accept-encoding': 'gzip' }, nginx: { 'accept-encoding': 'gzip' }, expect: 200 },
  { name: '304 (If-None-Match)', amount: Number(process.env.BENCH_304_REQUESTS ?? 50_000), kalends: { 'if-none-match': kalendsEtag }, nginx: { 'if-none-match': nginxEtag }, expect: 304 }
]
const rows: string[] = []
try {
  for (const sc of scenarios) {
    await load(url, Math.max(connections, Math.ceil(sc.amount / 10)), sc.kalends) // warm-up
    await load(nginxUrl, Math.max(connections, Math.ceil(sc.amount / 10)), sc.nginx)
    // alternate the two servers and keep each one's median round: a busy machine makes single runs noisy
    const ks: Result[] = []
    const ns: Result[] = []
    for (let round = 0; round < rounds; round++) {
      ks.push(await load(url, sc.amount, sc.kalends))
      ns.push(await load(nginxUrl, sc.amount, sc.nginx))
    }
    const mid = (rs: Result[]) => [...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)]!
    const k = mid(ks)
    const n = mid(ns)
    const bad = sc.expect === 304 ? '' : ` (non-2xx: Kalends ${k.non2xx}, nginx ${n.non2xx})`
    const spread = (rs: Result[]) => rs.map(r => r.rps.toFixed(0)).join('/')
    console.log(`${sc.name}: rounds Kalends ${spread(ks)}, nginx ${spread(ns)} req/s`)
    const line = `${sc.name.padEnd(22)} Kalends ${k.rps.toFixed(0).padStart(7)} req/s (${k.mbps.toFixed(0)} MB/s, p50 ${k.p50} ms, p99 ${k.p99} ms) | nginx ${n.rps.toFixed(0).padStart(7)} req/s (${n.mbps.toFixed(0)} MB/s, p50 ${n.p50} ms, p99 ${n.p99} ms) | ratio ${(k.rps / n.rps).toFixed(2)} | ${sc.amount} requests each, median of ${rounds}${bad}`
    console.log(line)
    rows.push(`| ${sc.name} | ${k.rps.toFixed(0)} | ${n.rps.toFixed(0)} | ${(k.rps / n.rps).toFixed(2)} |`)
  }
} finally {
  nginx.kill('SIGTERM')
  await s.close()
  rmSync(dir, { recursive: true, force: true })
}
console.log('\n| scenario | Kalends req/s | nginx req/s | ratio |\n| --- | --- | --- | --- |')
console.log(`| cold render, median of 5 | ${median(colds).toFixed(0)} ms | | |`)
for (const r of rows) console.log(r)

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port
      srv.close(() => resolve(p))
    })
    srv.on('error', reject)
  })
}
