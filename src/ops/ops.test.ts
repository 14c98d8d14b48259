import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, startServer, testDatabase } from '../testing/harness.ts'

/**
 * Operations endpoints over HTTP (health, metrics, request ids, the OpenAPI
 * document) and the real `kalends serve` process: first start, sign-in with
 * the configured admin password, and a graceful SIGTERM.
 */

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url))
const onPostgres = (process.env.KALENDS_TEST_DATABASE_URL ?? '') !== ''
const expectedKind = onPostgres ? 'postgres' : 'pglite'

const server = await startServer({ users: ['alice'] })
t.teardown(() => server.close())
const anon = server.as(null)

t.test('GET /healthz reports ok and the database kind', async t => {
  const res = await anon('/healthz')
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^application\/json/)
  t.same(res.body_, { status: 'ok', database: expectedKind })
})

/** The value of kalends_http_requests_total for one label set, 0 when not yet counted. */
function requestCount (metrics: string, method: string, route: string, status: number): number {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('kalends_http_requests_total{')) continue
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]]))
    if (labels.method === method && labels.route === route && labels.status === String(status)) return Number(line.split(' ').at(-1))
  }
  return 0
}

t.test('/metrics is Prometheus text that counts the requests made', async t => {
  const before = await anon('/metrics')
  t.equal(before.status, 200)
  t.match(before.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = before.body_ as string
  t.match(text, /^# HELP kalends_http_requests_total /m)
  t.match(text, /^# TYPE kalends_http_requests_total counter$/m)
  t.match(text, /^# TYPE kalends_http_request_duration_seconds histogram$/m)
  t.match(text, /^process_cpu_user_seconds_total /m, 'the process metrics are there too')

  const healthBefore = requestCount(text, 'GET', '/healthz', 200)
  const meBefore = requestCount(text, 'GET', '/api/v1/me', 401)
  await anon('/healthz')
  await anon('/healthz')
  t.equal((await anon('/api/v1/me')).status, 401)
  const after = (await anon('/metrics')).body_ as string
  t.equal(requestCount(after, 'GET', '/healthz', 200), healthBefore + 2, 'two more GET /healthz 200')
  t.equal(requestCount(after, 'GET', '/api/v1/me', 401), meBefore + 1, 'one more GET /api/v1/me 401, labelled by route and status')
  t.match(after, /^kalends_http_request_duration_seconds_count\{method="GET",route="\/healthz"\} \d+$/m)
})

t.test('every response carries x-request-id, and an incoming one is echoed', async t => {
  const alice = server.as('alice')
  const seen = new Set<string>()
  for (const [label, res] of [
    ['health', await anon('/healthz')],
    ['metrics', await anon('/metrics')],
    ['openapi', await anon('/api/v1/openapi.json')],
    ['401', await anon('/api/v1/me')],
    ['200 signed in', await alice('/api/v1/me')],
    ['404', await anon('/no/such/thing')],
    ['400', await alice('/api/v1/calendars', { method: 'POST', json: { nope: 1 } })]
  ] as const) {
    const id = res.headers.get('x-request-id')
    t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `${label}: a generated UUID`)
    t.notOk(seen.has(id!), `${label}: not reused`)
    seen.add(id!)
  }
  for (const path of ['/healthz', '/api/v1/me', '/nowhere']) {
    const res = await anon(path, { headers: { 'x-request-id': 'crm-trace-42' } })
    t.equal(res.headers.get('x-request-id'), 'crm-trace-42', `${path} (${res.status}) echoes the caller's id`)
  }
})

t.test('a caller\'s x-request-id is echoed and logged only when it is a short plain id; anything else gets a new one', async t => {
  const lines: string[] = []
  const s = await startServer({ users: [], env: { LOG_LEVEL: 'info' }, logStream: { write: line => { lines.push(line) } } })
  t.teardown(() => s.close())
  const ok = 'crm.trace:42-A_b'
  t.equal((await s.as(null)('/healthz', { headers: { 'x-request-id': ok } })).headers.get('x-request-id'), ok)
  t.equal((await s.as(null)('/healthz', { headers: { 'x-request-id': 'x'.repeat(64) } })).headers.get('x-request-id'), 'x'.repeat(64), '64 characters are fine')
  for (const bad of ['x'.repeat(65), 'two words', 'fake","level":60', '<script>', 'id;drop', 'caf%C3%A9', '']) {
    const res = await s.as(null)('/healthz', { headers: { 'x-request-id': bad } })
    t.match(res.headers.get('x-request-id'), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `${JSON.stringify(bad)}: replaced by a generated id`)
  }
  const logged = lines.map(l => (JSON.parse(l) as { reqId?: string }).reqId).filter(id => id !== undefined)
  t.ok(logged.includes(ok), 'a good id is logged')
  t.same(logged.filter(id => !/^[A-Za-z0-9._:-]{1,64}$/.test(id!)), [], 'nothing else reaches the log as a request id')
})

t.test('/metrics answers only this host, or whoever sends KALENDS_METRICS_TOKEN', async t => {
  const relayed = await anon('/metrics', { headers: { 'x-forwarded-for': '203.0.113.7' } })
  t.equal(relayed.status, 403, 'without a token, a request relayed by a proxy is refused')
  t.match(relayed.headers.get('content-type'), /application\/problem\+json/)
  t.match(relayed.body_, { rule: 'metrics-loopback-only', detail: /KALENDS_METRICS_TOKEN/ })
  t.equal((await anon('/metrics', { headers: { forwarded: 'for=203.0.113.7' } })).status, 403)

  const token = 'metrics-token-0123456789abcdef'
  const s = await startServer({ users: [], env: { KALENDS_METRICS_TOKEN: token } })
  t.teardown(() => s.close())
  t.equal((await s.as(null)('/metrics')).status, 401, 'with a token set, even this host must send it')
  t.equal((await s.as(null)('/metrics', { headers: { authorization: `Bearer ${token}x` } })).status, 401, 'a wrong token')
  t.equal((await s.as(null)('/metrics', { headers: { authorization: `Basic ${Buffer.from(`admin:${s.password}`).toString('base64')}` } })).status, 401, 'a password is not the token')
  const ok = await s.as(null)('/metrics', { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.7' } })
  t.equal(ok.status, 200, 'the token works from anywhere')
  t.match(ok.body_, /kalends_http_requests_total/)
})

t.test('/api/v1/openapi.json is an OpenAPI 3.1 document of the API', async t => {
  const res = await anon('/api/v1/openapi.json')
  t.equal(res.status, 200, 'served without signing in')
  t.match(res.headers.get('content-type'), /^application\/json/)
  const doc = res.body_ as { openapi: string; info: { title: string }; paths: Record<string, Record<string, { requestBody?: unknown; parameters?: unknown[] }>>; components: { securitySchemes: Record<string, unknown> } }
  t.match(doc.openapi, /^3\.1\./)
  t.equal(doc.info.title, 'Kalends API')
  for (const path of ['/api/v1/appointments', '/api/v1/appointments/{id}', '/api/v1/tasks', '/api/v1/tasks/{id}', '/api/v1/calendars', '/api/v1/cases', '/api/v1/me', '/api/v1/app-passwords', '/api/v1/tokens']) {
    t.ok(doc.paths[path], `lists ${path}`)
  }
  t.ok(doc.paths['/api/v1/appointments']?.post?.requestBody, 'POST /appointments documents its body')
  t.ok(doc.paths['/api/v1/appointments']?.get?.parameters?.length, 'GET /appointments documents its query')
  t.notOk(doc.paths['/healthz'] ?? doc.paths['/metrics'] ?? doc.paths['/api/v1/openapi.json'], 'operations endpoints are not in it')
  t.ok(doc.components.securitySchemes.basic && doc.components.securitySchemes.bearer, 'Basic and Bearer security schemes')
})

// ---- the real process ----

type Serve = { child: ChildProcess; url: string; output (): string; exited: Promise<{ code: number | null; signal: string | null }>; waitFor (re: RegExp): Promise<void> }

function serve (env: Record<string, string>, port: number): Serve {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: tmpdir(), // no stray ./.env
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  const waiters: { re: RegExp; resolve: () => void }[] = []
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8')
    for (const w of [...waiters]) if (w.re.test(out)) { waiters.splice(waiters.indexOf(w), 1); w.resolve() }
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<{ code: number | null; signal: string | null }>(resolve => child.on('exit', (code, signal) => resolve({ code, signal })))
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    waitFor: re => re.test(out)
      ? Promise.resolve()
      : Promise.race([
        new Promise<void>(resolve => waiters.push({ re, resolve })),
        exited.then(e => { throw new Error(`serve exited (${e.code ?? e.signal}) before printing ${re}:\n${out}`) })
      ])
  }
}

t.test('kalends serve: first start, admin sign-in and graceful shutdown on SIGTERM', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kalends-serve-'))
  const db = await testDatabase()
  t.teardown(async () => { rmSync(dir, { recursive: true, force: true }); await db.drop() })
  const port = await freePort()
  const adminPassword = 'first-admin-pw-7'
  const target: Record<string, string> = 'url' in db.target ? { DATABASE_URL: db.target.url } : { KALENDS_DATA_DIR: dir }
  const s = serve({ ...target, KALENDS_ADMIN_PASSWORD: adminPassword }, port)
  t.teardown(() => { if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL') })

  await s.waitFor(/Kalends is listening/)
  const out = s.output()
  t.match(out, /Kalends created the first administrator/, 'first start announces the administrator')
  t.match(out, /user name: admin/)
  t.match(out, new RegExp(`password: +${adminPassword} \\(from KALENDS_ADMIN_PASSWORD\\)`))
  t.match(out, new RegExp(`Sign in at http://127\\.0\\.0\\.1:${port}/`))
  t.match(out, /kalends user add <login> --password/)

  const health = await fetch(`${s.url}/healthz`)
  t.same(await health.json(), { status: 'ok', database: expectedKind })
  const basic = (pw: string) => ({ authorization: `Basic ${Buffer.from(`admin:${pw}`).toString('base64')}` })
  const me = await fetch(`${s.url}/api/v1/me`, { headers: basic(adminPassword) })
  t.equal(me.status, 200, 'the admin password from KALENDS_ADMIN_PASSWORD signs in')
  t.match(await me.json(), { login: 'admin', role: 'admin' })
  t.equal((await fetch(`${s.url}/api/v1/me`, { headers: basic('not-the-password') })).status, 401)

  // A request in flight when SIGTERM arrives: headers and half the body sent,
  // the rest only once the server has begun shutting down. It must still be answered.
  const body = JSON.stringify({ name: 'Made during shutdown' })
  const half = Math.floor(body.length / 2)
  const socket = connect(port, '127.0.0.1')
  let response = ''
  socket.setEncoding('utf8')
  socket.on('data', chunk => { response += chunk })
  const closed = new Promise<void>(resolve => socket.on('close', () => resolve()))
  await new Promise<void>(resolve => socket.once('connect', () => resolve()))
  socket.write([
    'POST /api/v1/calendars HTTP/1.1', `Host: 127.0.0.1:${port}`, `Authorization: ${basic(adminPassword).authorization}`,
    'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', body.slice(0, half)
  ].join('\r\n'))
  // the server has read the headers once this request shows up in its log
  await s.waitFor(/"url":"\/api\/v1\/calendars"/)

  s.child.kill('SIGTERM')
  await s.waitFor(/shutting down/)
  socket.write(body.slice(half))
  await closed
  t.match(response, /^HTTP\/1\.1 201 /, 'the request in flight was finished')
  t.match(response, /"name":"Made during shutdown"/)

  const exit = await s.exited
  t.same(exit, { code: 0, signal: null }, 'exits with code 0')
  t.match(s.output(), /"signal":"SIGTERM".*shutting down: finishing requests in flight/)
  t.match(s.output(), /"msg":"stopped"/, 'logs that it stopped')
  t.notMatch(s.output(), /"level":50|shutdown took over/, 'no errors on the way down')
})

t.test('a second start on the same database does not create another admin', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kalends-serve-'))
  const db = await testDatabase()
  t.teardown(async () => { rmSync(dir, { recursive: true, force: true }); await db.drop() })
  const target: Record<string, string> = 'url' in db.target ? { DATABASE_URL: db.target.url } : { KALENDS_DATA_DIR: dir }
  for (const [i, expectAnnouncement] of [[1, true], [2, false]] as const) {
    const s = serve({ ...target }, await freePort())
    t.teardown(() => { if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL') })
    await s.waitFor(/Kalends is listening/)
    if (expectAnnouncement) {
      t.match(s.output(), /password: +\S+ +\(shown once: write it down\)/, 'without KALENDS_ADMIN_PASSWORD a random password is shown once')
    } else {
      t.notMatch(s.output(), /created the first administrator/, `start ${i}: no second administrator`)
    }
    s.child.kill('SIGINT')
    t.same(await s.exited, { code: 0, signal: null }, `start ${i}: SIGINT stops it cleanly too`)
  }
})
