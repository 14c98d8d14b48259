// What the DAV benchmarks (bench-caldav.ts, bench-carddav.ts, bench-embedded-memory.ts) share: HTTP
// with keep-alive, interleaved timing, starting and stopping servers, and the calendar.
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:net'
import http from 'node:http'

// The benchmarks' calendar (bench-caldav.ts, bench-embedded-memory.ts): event i
// of n, seven a day around 2026-06-15 (so a month holds the same number of
// events at every size), 15% recurring (weekly ×10, daily ×5, monthly ×6).
const PER_DAY = 7
const CENTRE = Date.UTC(2026, 5, 15)
const DAY = 86_400_000
const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')

export function vevent (i: number, n: number, summary = `Meeting ${i}`): string {
  const day = Math.floor(i / PER_DAY) - Math.floor(n / PER_DAY / 2)
  const start = CENTRE + day * DAY + (7 + (i % PER_DAY)) * 3_600_000
  const lines = ['BEGIN:VEVENT', `UID:bench-${i}`, 'DTSTAMP:20260101T000000Z', `DTSTART:${stamp(start)}`, `DTEND:${stamp(start + 2_700_000)}`, `SUMMARY:${summary}`]
  const r = i % 20
  if (r === 0) lines.push('RRULE:FREQ=WEEKLY;COUNT=10')
  else if (r === 1) lines.push('RRULE:FREQ=DAILY;COUNT=5')
  else if (r === 2) lines.push('RRULE:FREQ=MONTHLY;COUNT=6')
  if (i % 5 === 0) lines.push(`DESCRIPTION:Call about order ${i}\\, bring the quote`, 'LOCATION:Office')
  if (i % 10 === 3) lines.push('BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Reminder', 'TRIGGER:-PT15M', 'END:VALARM')
  lines.push('END:VEVENT')
  return lines.join('\r\n')
}
export const wrap = (body: string) => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kalends//bench//EN\r\n${body}\r\nEND:VCALENDAR\r\n`

export type Target = { name: string; base: string; calendar: string; auth: string; pid: number }

// node:http rather than fetch: undici's parser asserted on Radicale's long answers
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
export async function req (t: Target, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const u = new URL(t.base + path)
  const h: Record<string, string | number> = { authorization: t.auth, ...headers }
  if (body !== undefined) {
    h['content-type'] ??= method === 'PUT' ? 'text/calendar; charset=utf-8' : 'application/xml; charset=utf-8'
    h['content-length'] = Buffer.byteLength(body)
  }
  return new Promise((resolve, reject) => {
    const r = http.request({ host: u.hostname, port: u.port, path: u.pathname, method, headers: h, agent }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    r.on('error', reject)
    r.end(body)
  })
}

export const hrefsOf = (xml: string) => [...xml.matchAll(/<(?:\w+:)?href>([^<]+)<\/(?:\w+:)?href>/g)].map(m => m[1]!)
export const responses = (xml: string) => (xml.match(/<(?:\w+:)?response>/g) ?? []).length

export function expect (what: string, cond: boolean, detail: string) {
  if (!cond) throw new Error(`${what}: ${detail}`)
}

export type Result = Record<string, { median: number; all: number[]; n: number }>

/**
 * Times `fn` on every server, repetition by repetition in turn (A B C A B C …),
 * so a change of load on this shared machine falls on all of them alike.
 */
export async function interleaved<Server extends { t: { name: string }; result: Result }> (servers: Server[], op: string, reps: (s: Server) => number, fn: (s: Server, i: number) => Promise<number>): Promise<void> {
  const times = new Map<Server, number[]>(servers.map(s => [s, []]))
  const counts = new Map<Server, number>()
  const most = Math.max(...servers.map(reps))
  for (let i = 0; i < most; i++) {
    for (const s of servers) {
      if (i >= reps(s)) continue
      const t0 = performance.now()
      counts.set(s, await fn(s, i))
      times.get(s)!.push(performance.now() - t0)
    }
  }
  for (const s of servers) {
    const all = times.get(s)!
    const sorted = [...all].sort((a, b) => a - b)
    const median = sorted[Math.floor(sorted.length / 2)]!
    s.result[op] = { median, all, n: counts.get(s)! }
    console.log(`  ${s.t.name.padEnd(22)} ${op.padEnd(16)} median ${median.toFixed(1).padStart(9)} ms  [${all.map(x => x.toFixed(0)).join(' ')}]  (${counts.get(s)} items)`)
  }
}

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address()
      srv.close(() => typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port')))
    })
  })
}

export async function waitFor (url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr()}`)
    try { await req({ name: '', base: url, calendar: '', auth: '', pid: 0 }, 'GET', ''); return } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`server at ${url} did not start: ${stderr()}`)
    await new Promise(r => setTimeout(r, 200))
  }
}

export function memory (pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

/**
 * CPU time (ms) of each thread of pid, by thread id (the main thread's is pid):
 * what a request costs each thread, which the load does not inflate as it does wall time.
 */
export function threadCpu (pid: number): Map<number, number> {
  const out = new Map<number, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) * 10) // utime + stime, USER_HZ = 100
    } catch { /* the thread ended */ }
  }
  return out
}

export async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const done = new Promise(r => child.once('exit', r))
  child.kill('SIGTERM')
  await Promise.race([done, new Promise(r => setTimeout(r, 30_000))])
  if (child.exitCode === null) child.kill('SIGKILL')
}

/** A process and all its descendants (Cyrus: master + one httpd per connection; Kalends: its launcher and node). */
function processTree (pid: number): number[] {
  const parent = new Map<number, number>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch { /* gone */ }
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) for (const [p, pp] of parent) if (pp === tree[i]) tree.push(p)
  return tree
}

/** RSS of a process and all its descendants; peak = sum of each one's peak. */
export function treeMemory (pid: number): { rss: number; hwm: number } {
  let rss = 0
  let hwm = 0
  for (const p of processTree(pid)) {
    try { const m = memory(p); rss += m.rss; hwm += m.hwm } catch { /* gone */ }
  }
  return { rss, hwm }
}

/** CPU time (ms, utime + stime of every thread) of these processes; those gone count nothing. */
export function processCpu (pids: number[]): number {
  let ms = 0
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')
      ms += (Number(f[11]) + Number(f[12])) * 10 // USER_HZ = 100
    } catch { /* gone */ }
  }
  return ms
}

/** The same for a process and all its descendants. */
export const treeCpu = (pid: number) => processCpu(processTree(pid))

/**
 * A Radicale collection written straight into its filesystem storage, one
 * file per item as its own PUT leaves them: a bulk PUT of 10,000 takes it
 * many minutes. Its cache is built on the first request that reads them.
 */
export function radicaleCollection (dir: string, path: string, tag: 'VCALENDAR' | 'VADDRESSBOOK', items: Iterable<[string, string]>): number {
  const t0 = performance.now()
  const col = join(dir, 'collections', 'collection-root', ...path.split('/').filter(x => x !== ''))
  mkdirSync(col, { recursive: true })
  writeFileSync(join(col, '.Radicale.props'), JSON.stringify({ tag }))
  for (const [name, text] of items) writeFileSync(join(col, name), text)
  return (performance.now() - t0) / 1000
}
