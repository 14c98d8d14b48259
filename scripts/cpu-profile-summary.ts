// Where a V8 CPU profile (.cpuprofile, as `node --cpu-prof` writes it) spent
// its time: the functions and the files with the most self time.
//
//   node scripts/cpu-profile-summary.ts <file.cpuprofile>... [--top=12] [--since=µs | --from-first-request]
//
// --since: only samples from that time on (µs of the monotonic clock the
// profile's startTime uses, which is process.hrtime's: bench-caldav passes
// the moment the server answered, so the start-up is left out).
// --from-first-request: only samples from the first one inside Fastify's
// routeHandler on (the same, when the moment is not known).
//
// Self time of a node = the time deltas of the samples taken in it. Files are
// shortened to what says whose code it is: src/… for Kalends, the package
// name for node_modules, node:… for Node's own, and V8's pseudo-frames
// ((garbage collector), (program), (idle)) as they are. Percentages are of
// the busy time (all but (idle)), so profiles of different lengths compare.
//
// On a loaded machine the profiler's thread is not always scheduled, and a
// sample then stands for up to a second (seen: 0.8 s in a profile of
// multigets at load 10, a third of its time in gaps over 50 ms), which would
// go to whatever function it caught. A delta counts for at most GAP_US; the
// rest is reported apart as unsampled.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

type Frame = { functionName: string; url: string; lineNumber: number }
type Profile = { nodes: Array<{ id: number; callFrame: Frame; children?: number[] }>; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }
export type From = { since?: number; firstRequest?: boolean }

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Whose code a script URL is: src/…, a package, node:…, or a V8 pseudo-frame. */
export function owner (url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)'
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  const path = url.startsWith('file://') ? fileURLToPath(url) : url
  const nm = path.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  return path.startsWith(ROOT) ? path.slice(ROOT.length) : path
}

export type Summary = { busyMs: number; idleMs: number; gapMs: number; functions: Array<[string, number]>; files: Array<[string, number]> }

/** The most one sample stands for (the sampling interval is 1 ms). */
const GAP_US = 10_000

/** The index of the first sample to count: at or after `since`, or the first inside a Fastify route handler. */
function firstSample (profile: Profile, from: From): number {
  if (from.since !== undefined) {
    let t = profile.startTime
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i] ?? 0
      if (t >= from.since) return i
    }
    return profile.samples.length
  }
  if (from.firstRequest === true) {
    const parent = new Map<number, number>()
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
    const byId = new Map(profile.nodes.map(n => [n.id, n.callFrame]))
    const inRequest = (id: number | undefined): boolean => {
      for (; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)!
        if (f.functionName === 'routeHandler' && f.url.includes('/fastify/')) return true
      }
      return false
    }
    const i = profile.samples.findIndex(id => inRequest(id))
    return i < 0 ? profile.samples.length : i
  }
  return 0
}

export function summarise (profile: Profile, from: From = {}): Summary {
  const byId = new Map(profile.nodes.map(n => [n.id, n.callFrame]))
  const first = firstSample(profile, from)
  const fn = new Map<string, number>()
  const file = new Map<string, number>()
  let idle = 0
  let busy = 0
  let gap = 0
  for (let i = first; i < profile.samples.length; i++) {
    const f = byId.get(profile.samples[i]!)!
    // the delta before the next sample is the time spent in this one
    const delta = profile.timeDeltas[i + 1] ?? 0
    const us = Math.min(delta, GAP_US)
    gap += delta - us
    if (f.functionName === '(idle)') { idle += us; continue }
    busy += us
    const where = owner(f.url, f.functionName)
    const key = f.url === '' && where.startsWith('(') ? where : `${f.functionName || '(anonymous)'} ${where}${f.url === '' ? '' : `:${f.lineNumber + 1}`}`
    fn.set(key, (fn.get(key) ?? 0) + us)
    file.set(where, (file.get(where) ?? 0) + us)
  }
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / 1000] as [string, number])
  return { busyMs: busy / 1000, idleMs: idle / 1000, gapMs: gap / 1000, functions: top(fn), files: top(file) }
}

/** A few lines for a terminal or a Markdown list: busy time, then the top files and functions by self time. */
export function describe (s: Summary, top = 10): string[] {
  const pct = (ms: number) => `${(100 * ms / Math.max(s.busyMs, 1e-9)).toFixed(1)}%`
  return [
    `busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms, unsampled ${s.gapMs.toFixed(0)} ms (gaps between samples past ${GAP_US / 1000} ms: a loaded machine)`,
    `files: ${s.files.slice(0, top).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}`,
    'functions (self):',
    ...s.functions.slice(0, top).map(([k, v]) => `  ${pct(v).padStart(6)} ${v.toFixed(0).padStart(6)} ms  ${k}`)
  ]
}

export const summariseFile = (path: string, from: From = {}) => summarise(JSON.parse(readFileSync(path, 'utf8')) as Profile, from)

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2)
  const top = Number(args.find(a => a.startsWith('--top='))?.split('=')[1] ?? 12)
  const since = args.find(a => a.startsWith('--since='))?.split('=')[1]
  const from: From = { ...(since !== undefined ? { since: Number(since) } : {}), firstRequest: args.includes('--from-first-request') }
  const files = args.filter(a => !a.startsWith('--'))
  if (files.length === 0) {
    console.error('usage: node scripts/cpu-profile-summary.ts <file.cpuprofile>... [--top=12]')
    process.exit(2)
  }
  for (const f of files) {
    console.log(`# ${f}`)
    for (const line of describe(summariseFile(f, from), top)) console.log(line)
  }
}
