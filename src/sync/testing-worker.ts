import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { EWS_PATH } from '../../conformance/ews-emulator/server.ts'
import { startEwsWorld, type EwsWorld } from './testing-ews.ts'
import { graphEnv, startGraphWorld, type GraphWorld } from './testing-graph.ts'
import type { Test } from 'tap'
import { syncConnection } from './engine.ts'
import { exchangeRemote, googleRemote, graphRemote, type ProviderName } from './testing-remote.ts'
import { startSyncProxy, type SyncProxy } from './testing-proxy.ts'
import { CLIENT_ID, CLIENT_SECRET, startSyncWorld, until, type SyncWorld } from './testing.ts'

export { until } from './testing.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Why the worker-process tests need PostgreSQL, or null when they have it. */
export const NEEDS_POSTGRES = process.env.KALENDS_TEST_DATABASE_URL === undefined || process.env.KALENDS_TEST_DATABASE_URL === ''
  ? 'worker processes need PostgreSQL (set KALENDS_TEST_DATABASE_URL): the embedded database is owned by one process; the single-process path is covered by convergence.test.ts and jobs.test.ts'
  : null

/** The PostgreSQL URL of the test server's own fresh database. */
export async function databaseUrl (w: SyncWorld): Promise<string> {
  const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(w.s.k.db)
  const url = new URL(process.env.KALENDS_TEST_DATABASE_URL ?? '')
  url.pathname = `/${rows[0]!.name}`
  return url.toString()
}

export type WorkerProcess = {
  pid: number
  /** JSON log lines it printed */
  lines: Record<string, unknown>[]
  exited: Promise<number | null>
  kill (signal: NodeJS.Signals): Promise<number | null>
}

/**
 * `node src/cli.ts worker`, as bin/kalends runs it, against the test's
 * database and Google (the emulator or a proxy in front of it), with the
 * same secret key as the test server so the sealed refresh tokens open.
 */
export function startWorker (w: SyncWorld, opts: { databaseUrl: string; googleUrl: string; secretKey: string; concurrency?: number; env?: Record<string, string> }): WorkerProcess {
  const child = spawn(process.execPath, ['src/cli.ts', 'worker'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: opts.databaseUrl,
      KALENDS_PUBLIC_URL: w.s.url,
      KALENDS_SECRET_KEY: opts.secretKey,
      KALENDS_SYNC_WORKERS: String(opts.concurrency ?? 1),
      KALENDS_GOOGLE_BASE_URL: opts.googleUrl,
      KALENDS_GOOGLE_CLIENT_ID: CLIENT_ID,
      KALENDS_GOOGLE_CLIENT_SECRET: CLIENT_SECRET,
      ...opts.env
    }
  })
  const lines: Record<string, unknown>[] = []
  let rest = ''
  child.stdout.on('data', (chunk: Buffer) => {
    rest += chunk.toString()
    const parts = rest.split('\n')
    rest = parts.pop() ?? ''
    for (const p of parts) {
      try { lines.push(JSON.parse(p) as Record<string, unknown>) } catch { lines.push({ msg: p }) }
    }
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => {
    if (code !== 0 && code !== null && process.env.KALENDS_SYNC_DEBUG === '1') process.stderr.write(stderr)
    resolve(code)
  }))
  return {
    pid: child.pid ?? 0,
    lines,
    exited,
    async kill (signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    }
  }
}

/**
 * A sync world for worker processes: the test server (no workers of its own)
 * and the workers share a fresh PostgreSQL database and one secret key, and
 * reach Google and Exchange each through a watching proxy; with `graph`,
 * Microsoft 365 too (the workers sign in at the emulator directly and reach
 * Graph through a proxy of its own). Everything stops at teardown.
 */
export async function workerWorld (t: { teardown (fn: () => Promise<void>): void }, users: string[], latencyMs: number, opts: { graph?: boolean } = {}): Promise<{ w: SyncWorld; x: EwsWorld; m: GraphWorld | null; proxy: SyncProxy; ewsProxy: SyncProxy; graphProxy: SyncProxy | null; worker (concurrency?: number): WorkerProcess }> {
  const secretKey = randomBytes(32).toString('base64')
  const proxy = await startSyncProxy(latencyMs)
  const ewsProxy = await startSyncProxy(latencyMs)
  const w = await startSyncWorld({ users, env: { KALENDS_SECRET_KEY: secretKey, KALENDS_GOOGLE_BASE_URL: proxy.url } })
  proxy.target = w.g.url
  // Exchange too, for the same users, reached through a proxy of its own (the integration is in the database the workers share)
  const x = await startEwsWorld({ server: w.s, ewsUrl: () => `${ewsProxy.url}${EWS_PATH}` })
  ewsProxy.target = x.em.url
  const graphProxy = opts.graph === true ? await startSyncProxy(latencyMs) : null
  const m = graphProxy === null ? null : await startGraphWorld({ server: w.s, graphUrl: () => `${graphProxy.url}/v1.0` })
  if (graphProxy !== null && m !== null) Object.assign(graphProxy, { target: m.g.url, ca: m.g.caCertificate, rewrite: true })
  const workers: WorkerProcess[] = []
  t.teardown(async () => {
    for (const p of workers) await p.kill('SIGKILL')
    await m?.close()
    await graphProxy?.close()
    await x.close()
    await w.close()
    await proxy.close()
    await ewsProxy.close()
  })
  const url = await databaseUrl(w)
  return {
    w,
    x,
    m,
    proxy,
    ewsProxy,
    graphProxy,
    worker (concurrency = 1) {
      const env = m === null || graphProxy === null ? undefined : graphEnv(m.g, m.caFile, `${graphProxy.url}/v1.0`)
      const p = startWorker(w, { databaseUrl: url, googleUrl: proxy.url, secretKey, concurrency, env })
      workers.push(p)
      return p
    }
  }
}

/** How many runs a worker process said it finished. */
export const finishedRuns = (p: WorkerProcess): number => p.lines.filter(l => l.msg === 'sync: run finished').length

/**
 * The storm of the worker tests: for `ms` (longer, up to three times, until
 * `enough`), changes for about half the users
 * and two run requests for every connection, over and over; then waits until
 * the workers finish no more runs (the queue drained). Returns the number of
 * run requests.
 */
export async function runStorm (w: SyncWorld, workers: WorkerProcess[], ids: number[], users: string[], change: (login: string) => Promise<unknown>, ms: number, enough: () => boolean = () => true): Promise<number> {
  // a busy machine takes a while to start a Node process: the storm begins when both take jobs
  await until('the workers started', async () => workers.every(p => p.lines.some(l => l.msg === 'sync worker started')), 120_000, 100)
  const end = Date.now() + ms
  let requests = 0
  // on a loaded machine runs are slow: the storm goes on (up to three times as long) until `enough` says the runs wanted were seen
  while (Date.now() < end || (!enough() && Date.now() < end + 2 * ms)) {
    for (const u of users) if (Math.random() < 0.5) await change(u)
    await Promise.all(ids.flatMap(id => [w.s.k.sync.jobs.request(id), w.s.k.sync.jobs.request(id)]))
    requests += 2 * ids.length
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const total = () => workers.map(finishedRuns).reduce((a, b) => a + b, 0)
  await until('the queue to drain', async () => {
    const before = total()
    await new Promise(resolve => setTimeout(resolve, 3000))
    return total() === before
  }, 60_000, 0)
  return requests
}

const STORM_MS = Number(process.env.KALENDS_WORKERS_STORM_MS ?? 12_000)

/**
 * Two worker processes on one PostgreSQL database, four connections to the
 * provider, a storm of run requests (runStorm), changes on both sides
 * (meetings with a colleague among them): no connection is ever synced by
 * two runs at once, seen by the proxy in front of the provider (every call
 * of a run names it, RUN_HEADER), and in the end every item is on both sides
 * once, the same, and no one was mailed. The same detector, pointed at two
 * runs started at once in-process (the queue's singleton bypassed), must see
 * them overlap. workers-exchange.test.ts and workers-graph.test.ts; Google's
 * own (workers.test.ts) has six connections.
 */
export function workersScenario (top: Test, provider: ProviderName): void {
  const USERS = ['u1', 'u2', 'u3', 'u4']
  const ZONE = 'Europe/Warsaw'
  top.test(`two workers never run one ${provider} connection at once`, { skip: NEEDS_POSTGRES ?? false }, async t => {
    const { w, x, m, proxy, ewsProxy, graphProxy, worker } = await workerWorld(t, USERS, 3, { graph: provider === 'graph' })
    const r = provider === 'google' ? googleRemote(w, false) : provider === 'graph' ? graphRemote(m!, false) : exchangeRemote(x)
    const seen = provider === 'google' ? proxy : provider === 'graph' ? graphProxy! : ewsProxy
    const ids: number[] = []
    let n = 0
    const change = async (login: string) => {
      n++
      if (n % 2 === 0) {
        const colleague = USERS[(USERS.indexOf(login) + 1) % USERS.length]!
        const res = await w.s.as(login)('/api/v1/appointments', { method: 'POST', json: { title: `crm ${n}`, start: '2026-12-10T09:00:00Z', end: '2026-12-10T10:00:00Z', timezone: ZONE, ...(n % 4 === 0 ? { participantIds: [w.s.users[colleague]!.id] } : {}) } })
        if (res.status !== 201) throw new Error(`create: ${res.status}`)
      } else {
        await r.createEvent(login, { title: `${provider} ${n}`, allDay: true, start: '2026-12-11', end: '2026-12-12' })
      }
    }
    for (const u of USERS) {
      ids.push((await r.connect(u)).id)
      for (let i = 0; i < 6; i++) await change(u)
    }
    const workers = [worker(3), worker(3)]
    const ranThrice = () => ids.every(id => seen.spans().filter(s => s.connection === String(id)).length >= 3)
    const requests = await runStorm(w, workers, ids, USERS, change, STORM_MS, ranThrice)
    for (const p of workers) t.equal(await p.kill('SIGTERM'), 0, 'worker stops cleanly')

    const spans = seen.spans()
    const byConn = new Map<string, number>()
    for (const s of spans) byConn.set(s.connection, (byConn.get(s.connection) ?? 0) + 1)
    t.comment(`${requests} run requests, ${spans.length} runs seen at ${r.label} over ${byConn.size} connections, ${workers.map(finishedRuns).join(' + ')} runs finished per worker`)
    t.same([...byConn.keys()].sort(), ids.map(String).sort(), 'every connection ran, and every run named itself')
    t.ok([...byConn.values()].every(k => k >= 3), 'every connection ran several times')
    for (const p of workers) t.ok(finishedRuns(p) > 0, `worker ${p.pid} did runs`)
    t.same(seen.overlaps().map(([a, b]) => `${a.connection}: ${a.start}-${a.end} / ${b.start}-${b.end}`), [], 'no two runs of one connection overlapped')

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
    const overlapsBefore = seen.overlaps().length
    await Promise.allSettled([syncConnection(w.s.k.sync.engine, ids[0]!), syncConnection(w.s.k.sync.engine, ids[0]!)])
    t.ok(seen.overlaps().length > overlapsBefore, 'two runs started at once without the queue are seen overlapping')
  })
}
