import t from 'tap'
import type { Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, testDatabase } from './testing/harness.ts'
import { WebClient } from './web/test-client.ts'

/**
 * The real `kalends` CLI as an operator runs it, on the database the suite
 * targets: the embedded one in a data folder, or a fresh PostgreSQL database.
 */

// Each test has its own database and ports, and most of the time goes to
// starting processes and opening the embedded database: run them side by side.
t.jobs = 3

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url))
// the launcher production starts (scripts/start, the Dockerfile): serve tests go through it
const LAUNCHER = fileURLToPath(new URL('../bin/kalends', import.meta.url))
const onPostgres = (process.env.KALENDS_TEST_DATABASE_URL ?? '') !== ''

type Run = { code: number | null; stdout: string; stderr: string }

/** Runs the CLI in an empty folder with only the environment given (no stray .env or DATABASE_URL). */
function cli (args: string[], env: Record<string, string>, cwd?: string): Promise<Run> {
  const folder = cwd ?? mkdtempSync(join(tmpdir(), 'kalends-cwd-'))
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: folder,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', c => { stdout += c })
  child.stderr.on('data', c => { stderr += c })
  return new Promise(resolve => child.on('close', code => {
    if (cwd === undefined) rmSync(folder, { recursive: true, force: true })
    resolve({ code, stdout, stderr })
  }))
}

// Creating an embedded database takes seconds (initdb), so it is done once
// and each test starts from a copy of that migrated, empty data folder.
let template: Promise<string> | undefined
function embeddedTemplate (): Promise<string> {
  template ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kalends-template-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const r = await cli(['migrate'], { KALENDS_DATA_DIR: dir })
    if (r.code !== 0) throw new Error(`migrate failed: ${r.stderr}`)
    return dir
  })()
  return template
}

/** A database of its own for one test: env pointing the CLI at it. */
async function database (t: Test): Promise<{ env: Record<string, string>; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kalends-cli-'))
  const db = await testDatabase()
  if (!('url' in db.target)) cpSync(await embeddedTemplate(), dataDir, { recursive: true })
  t.teardown(async () => { rmSync(dataDir, { recursive: true, force: true }); await db.drop() })
  return { env: 'url' in db.target ? { DATABASE_URL: db.target.url } : { KALENDS_DATA_DIR: dataDir }, dataDir }
}

const json = (r: Run) => {
  try { return JSON.parse(r.stdout) } catch { throw new Error(`not JSON on stdout (exit ${r.code}):\n${r.stdout}\n${r.stderr}`) }
}

type Serve = { child: ChildProcess; url: string; output (): string; exited: Promise<number | null>; stop (): Promise<number | null> }

/** `kalends <command>` through the launcher, returned once its output matches ready. */
async function launch (t: Test, command: 'serve' | 'worker', env: Record<string, string>, ready: RegExp): Promise<Serve> {
  const port = await freePort()
  const child = spawn(LAUNCHER, [command], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(port), KALENDS_ADMIN_PASSWORD: 'admin-password-1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout!.on('data', c => { out += c })
  child.stderr!.on('data', c => { out += c })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let gone = false
  void exited.then(() => { gone = true })
  for (;;) {
    if (gone) throw new Error(`${command} exited before it was ready:\n${out}`)
    if (ready.test(out)) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return {
    child, url: `http://127.0.0.1:${port}`, output: () => out, exited,
    stop: () => { child.kill('SIGTERM'); return exited }
  }
}

const serve = (t: Test, env: Record<string, string>) => launch(t, 'serve', env, /Kalends is listening/)

const basic = (login: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` })
const signIn = async (url: string, login: string, password: string) => (await fetch(`${url}/api/v1/me`, { headers: basic(login, password) })).status

t.test('help prints the usage', async t => {
  const r = await cli(['help'], {})
  t.equal(r.code, 0)
  t.match(r.stdout, /Usage: kalends <command>/)
  t.match(r.stdout, /user add <login> --password <pw>/)
  t.equal(r.stderr, '')
})

t.test('user add, then user list shows the user', async t => {
  const { env } = await database(t)
  const added = await cli(['user', 'add', 'carol', '--password', 'carol-pass-1', '--admin', '--name', 'Carol Crm', '--email', 'carol@example.com'], env)
  t.equal(added.code, 0, added.stderr)
  t.match(json(added), { login: 'carol', name: 'Carol Crm', email: 'carol@example.com', role: 'admin', disabled: false })
  const plain = await cli(['user', 'add', 'dave', '--password', 'dave-pass-1'], env)
  t.equal(plain.code, 0, plain.stderr)
  t.match(json(plain), { login: 'dave', name: 'dave', email: null, role: 'user' })
  t.equal(json(plain).org, json(added).org, 'both in the one organisation, created on demand')

  const list = await cli(['user', 'list'], env)
  t.equal(list.code, 0, list.stderr)
  t.same(json(list).map((u: { login: string; role: string }) => [u.login, u.role]), [['carol', 'admin'], ['dave', 'user']])
  t.notMatch(list.stdout, /password|hash|\$argon2/i, 'no password material is printed')
})

t.test('errors exit non-zero with a clear message on stderr', async t => {
  const { env } = await database(t)
  t.equal((await cli(['user', 'add', 'erin', '--password', 'erin-pass-1'], env)).code, 0)

  type Case = [string, string[], number, RegExp]
  const check = (t: Test, [label, , code, message]: Case, r: Run) => {
    t.equal(r.code, code, `${label}: exit ${code}`)
    t.match(r.stderr, message, `${label}: says why`)
    t.notMatch(r.stderr, /^\s+at /m, `${label}: no stack trace`)
    t.equal(r.stdout, '', `${label}: nothing on stdout`)
  }
  // refused before the database is opened, so these may run side by side
  const usage: Case[] = [
    ['missing --password', ['user', 'add', 'frank'], 2, /^kalends: user add needs --password\n[\s\S]*Usage: kalends/],
    ['missing login', ['user', 'add'], 2, /^kalends: user add needs a login\n/],
    ['unknown option', ['user', 'add', 'frank', '--password', 'long-enough-1', '--sudo'], 2, /kalends: .*--sudo[\s\S]*Usage: kalends/],
    ['unknown command', ['frobnicate'], 2, /^kalends: unknown command "frobnicate"\n[\s\S]*Usage: kalends/],
    ['unknown user subcommand', ['user', 'delete', 'erin'], 2, /^kalends: unknown user command "delete"\n/],
    ['passwd without --password', ['user', 'passwd', 'erin'], 2, /^kalends: user passwd needs a login and --password\n/]
  ]
  const results = await Promise.all(usage.map(c => cli(c[1], env)))
  usage.forEach((c, i) => check(t, c, results[i]!))
  // refused by the domain: one at a time, the embedded database has one user
  const domain: Case[] = [
    ['duplicate login', ['user', 'add', 'erin', '--password', 'other-pass-1'], 1, /^kalends: login: the login "erin" cannot be used; choose another\n$/],
    ['duplicate login in another case', ['user', 'add', 'ERIN', '--password', 'other-pass-1'], 1, /login "ERIN" cannot be used/],
    ['short password', ['user', 'add', 'frank', '--password', 'short'], 1, /^kalends: password: must be at least 8 characters\n$/],
    ['unknown user for passwd', ['user', 'passwd', 'nobody', '--password', 'long-enough-1'], 1, /^kalends: user "nobody" not found\n$/],
    ['bad e-mail', ['user', 'add', 'gina', '--password', 'long-enough-1', '--email', 'not-an-address'], 1, /^kalends: email: is not an e-mail address\n$/]
  ]
  for (const c of domain) check(t, c, await cli(c[1], env))
  const list = json(await cli(['user', 'list'], env))
  t.same(list.map((u: { login: string }) => u.login), ['erin'], 'none of the failed commands created a user')
})

t.test('migrate applies the migrations, then says the database is up to date', async t => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kalends-cli-'))
  const db = await testDatabase()
  t.teardown(async () => { rmSync(dataDir, { recursive: true, force: true }); await db.drop() })
  const env: Record<string, string> = 'url' in db.target ? { DATABASE_URL: db.target.url } : { KALENDS_DATA_DIR: dataDir }
  const first = await cli(['migrate'], env)
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, /^applied 0001_[\w-]+\.sql/)
  const second = await cli(['migrate'], env)
  t.equal(second.code, 0, second.stderr)
  t.equal(second.stdout, 'database is up to date\n')
})

t.test('user passwd changes the password a running server accepts', async t => {
  const { env } = await database(t)
  t.equal((await cli(['user', 'add', 'ivan', '--password', 'old-password-1'], env)).code, 0)
  const s = await serve(t, env)
  t.equal(await signIn(s.url, 'ivan', 'old-password-1'), 200, 'the old password works before')
  // the launcher execs node itself (so signals reach the server) with the heap and WebAssembly settings of docs/performance.md
  t.same(readFileSync(`/proc/${s.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean), ['node', '--max-semi-space-size=8', '--heap-growing-percent=50', '--liftoff-only', realpathSync(CLI), 'serve'])

  const r = await cli(['user', 'passwd', 'ivan', '--password', 'new-password-2'], env)
  t.equal(r.code, 0, r.stderr)
  t.match(json(r), { login: 'ivan' })
  t.equal(await signIn(s.url, 'ivan', 'new-password-2'), 200, 'the new password works at once')
  // The server remembers verified passwords for a minute; a change made by
  // another process (the CLI on PostgreSQL) has to end that too.
  t.equal(await signIn(s.url, 'ivan', 'old-password-1'), 401, 'the old password no longer works')
  t.equal(await s.stop(), 0)
})

t.test('embedded database: while serve runs, user commands go through its admin socket', { skip: onPostgres ? 'the admin socket exists only with the embedded database' : false }, async t => {
  const { env, dataDir } = await database(t)
  const s = await serve(t, env)
  t.ok(existsSync(join(dataDir, 'kalends.sock')), 'the server listens on <data dir>/kalends.sock')

  const added = await cli(['user', 'add', 'judy', '--password', 'judy-pass-1', '--name', 'Judy J'], env)
  t.equal(added.code, 0, added.stderr)
  t.match(json(added), { login: 'judy', name: 'Judy J' })
  t.equal(await signIn(s.url, 'judy', 'judy-pass-1'), 200, 'the new user signs in over HTTP at once')

  const dup = await cli(['user', 'add', 'judy', '--password', 'judy-pass-1'], env)
  t.equal(dup.code, 1, 'errors come back through the socket')
  t.match(dup.stderr, /^kalends: login: the login "judy" cannot be used; choose another\n$/)
  for (const [label, args, message] of [
    ['unknown user for passwd', ['user', 'passwd', 'nobody', '--password', 'long-enough-1'], /^kalends: user "nobody" not found\n$/],
    ['bad login', ['user', 'add', 'no spaces', '--password', 'long-enough-1'], /^kalends: login: must start with a letter or digit/],
    ['short password', ['user', 'add', 'kim', '--password', 'short'], /^kalends: password: must be at least 8 characters\n$/],
    ['passwd with a short password', ['user', 'passwd', 'judy', '--password', 'tiny'], /^kalends: password: must be at least 8 characters\n$/],
    ['unknown organisation', ['user', 'add', 'hank', '--password', 'long-enough-1', '--org', 'Nowhere Ltd'], /^kalends: org: no organisation "Nowhere Ltd"/]
  ] as const) {
    const r = await cli([...args], env)
    t.equal(r.code, 1, `${label}: exit 1`)
    t.match(r.stderr, message, `${label}: the server's reason, on stderr`)
  }

  const pw = await cli(['user', 'passwd', 'judy', '--password', 'judy-pass-2'], env)
  t.equal(pw.code, 0, pw.stderr)
  t.equal(await signIn(s.url, 'judy', 'judy-pass-1'), 401, 'the old password stops working at once, though it was remembered')
  t.equal(await signIn(s.url, 'judy', 'judy-pass-2'), 200)

  const list = json(await cli(['user', 'list'], env))
  t.same(list.map((u: { login: string }) => u.login), ['admin', 'judy'], 'user list sees what the server sees')

  t.equal(await s.stop(), 0)
  t.notOk(existsSync(join(dataDir, 'kalends.sock')), 'the socket is gone after a clean stop')
  const after = await cli(['user', 'list'], env)
  t.equal(after.code, 0, after.stderr)
  t.same(json(after).map((u: { login: string }) => u.login), ['admin', 'judy'], 'with the server stopped the CLI opens the data folder itself and finds the users')
})

t.test('embedded database: a second process never opens a data folder a server holds', { skip: onPostgres ? 'embedded database only' : false }, async t => {
  const { env, dataDir } = await database(t)
  const s = await serve(t, env)
  t.ok(existsSync(join(dataDir, 'kalends.lock')), 'the server holds <data dir>/kalends.lock')
  const second = await cli(['serve'], { ...env, PORT: '0' })
  t.equal(second.code, 1, 'a second server on the same folder stops')
  t.match(second.stderr, /in use by process \d+/, 'and says which process holds it')
  t.equal(await signIn(s.url, 'admin', 'admin-password-1'), 200, 'the first server is unharmed')
  t.equal(await s.stop(), 0)
  t.notOk(existsSync(join(dataDir, 'kalends.lock')), 'a clean stop releases the folder')
})

t.test('embedded database: a socket left by a killed server does not block the CLI', { skip: onPostgres ? 'embedded database only' : false }, async t => {
  const { env, dataDir } = await database(t)
  const s = await serve(t, env)
  s.child.kill('SIGKILL')
  await s.exited
  t.ok(existsSync(join(dataDir, 'kalends.sock')), 'the killed server left its socket behind')
  const r = await cli(['user', 'add', 'kate', '--password', 'kate-pass-1'], env)
  t.equal(r.code, 0, r.stderr)
  t.same(json(await cli(['user', 'list'], env)).map((u: { login: string }) => u.login), ['admin', 'kate'])
})

t.test('serve logs readable lines when asked (a terminal does the same), JSON lines otherwise', async t => {
  const { env } = await database(t)
  const s = await serve(t, { ...env, KALENDS_LOG_FORMAT: 'pretty' })
  t.match(s.output(), /^\d\d:\d\d:\d\d\.\d{3} INFO {2}Kalends is listening {2}database=\w+ publicUrl=/m, 'time, level, message, fields')
  await fetch(`${s.url}/healthz`)
  for (let i = 0; i < 40 && !/→ \d{3} in [\d.]+ ms/.test(s.output()); i++) await new Promise(resolve => setTimeout(resolve, 50))
  t.match(s.output(), /INFO {2}GET \/healthz {2}req=/, 'a request as a person reads it')
  t.match(s.output(), /INFO {2}→ 200 in [\d.]+ ms/)
  t.notMatch(s.output(), /^\{"level"/m, 'no JSON lines')
  await s.stop()
  const j = await serve(t, env)
  t.match(j.output(), /^\{"level":30,"time":\d+,.*"msg":"Kalends is listening"/m, 'not a terminal: JSON lines')
  await j.stop()
  const bad = await cli(['serve'], { ...env, KALENDS_LOG_FORMAT: 'fancy' })
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^kalends: configuration error: KALENDS_LOG_FORMAT: must be pretty or json\n$/)
})

t.test('configuration errors exit 2 naming the variable', async t => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'abc' }, /^kalends: configuration error: PORT: must be a whole number from 0 to 65535, got "abc"\n$/],
    [{ PORT: '70000' }, /^kalends: configuration error: PORT: /],
    [{ DATABASE_URL: 'mysql://x' }, /^kalends: configuration error: DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL\n$/],
    [{ NODE_ENV: 'production' }, /^kalends: configuration error: KALENDS_SECRET_KEY: is required in production/],
    [{ NODE_ENV: 'staging' }, /^kalends: configuration error: NODE_ENV: /],
    [{ KALENDS_SECRET_KEY: Buffer.alloc(16).toString('base64') }, /^kalends: configuration error: KALENDS_SECRET_KEY: must be 32 bytes/],
    [{ LOG_LEVEL: 'loud' }, /^kalends: configuration error: LOG_LEVEL: /],
    [{ KALENDS_PUBLIC_URL: 'ftp://example.com' }, /^kalends: configuration error: KALENDS_PUBLIC_URL: /],
    [{ KALENDS_MAX_BODY_BYTES: '10' }, /^kalends: configuration error: KALENDS_MAX_BODY_BYTES: /],
    [{ KALENDS_LOGIN_FAILURES_PER_ACCOUNT: '0' }, /^kalends: configuration error: KALENDS_LOGIN_FAILURES_PER_ACCOUNT: /]
  ]
  const dataDir = mkdtempSync(join(tmpdir(), 'kalends-cfg-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  // refused before anything is opened, so they may run side by side
  const runs = cases.flatMap(([env, message]) => ['migrate', 'serve'].map(command => ({ command, env, message })))
  const results = await Promise.all(runs.map(({ command, env }) => cli([command], { KALENDS_DATA_DIR: dataDir, ...env })))
  runs.forEach(({ command, env, message }, i) => {
    t.equal(results[i]!.code, 2, `${command} with ${JSON.stringify(env)}: exit 2`)
    t.match(results[i]!.stderr, message, `${command} with ${JSON.stringify(env)}: names the variable`)
  })
  t.notOk(existsSync(join(dataDir, 'pg')), 'nothing was opened')
  cpSync(await embeddedTemplate(), join(dataDir, 'prod'), { recursive: true })
  const ok = await cli(['migrate'], { KALENDS_DATA_DIR: join(dataDir, 'prod'), NODE_ENV: 'production', KALENDS_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') })
  t.equal(ok.code, 0, `production with a 32-byte key starts: ${ok.stderr}`)
})

t.test('a .env file in the working folder is read, and the environment wins over it', async t => {
  const folder = mkdtempSync(join(tmpdir(), 'kalends-dotenv-'))
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  writeFileSync(join(folder, '.env'), 'PORT=abc\nKALENDS_DATA_DIR=./from-dotenv\n')
  const bad = await cli(['migrate'], {}, folder)
  t.equal(bad.code, 2)
  t.match(bad.stderr, /configuration error: PORT: /, 'the bad PORT came from .env')
  // PORT=8099 in the environment wins over PORT=abc in .env
  cpSync(await embeddedTemplate(), join(folder, 'from-dotenv'), { recursive: true })
  const good = await cli(['user', 'list'], { PORT: '8099' }, folder)
  t.equal(good.code, 0, good.stderr)
  t.same(JSON.parse(good.stdout), [], 'KALENDS_DATA_DIR from .env was used: the copied, empty database')
  t.notOk(existsSync(join(folder, 'data')), 'not the default ./data')
})

t.test('three servers and a worker started at once on an empty PostgreSQL database all serve, with one first administrator', { skip: onPostgres ? false : 'PostgreSQL only: an embedded database is opened by one process at a time' }, async t => {
  const db = await testDatabase()
  t.teardown(() => db.drop())
  // several processes share one key, as they must to read each other's sealed secrets
  const env = { DATABASE_URL: (db.target as { url: string }).url, KALENDS_SECRET_KEY: Buffer.alloc(32, 3).toString('base64'), KALENDS_ADMIN_PASSWORD: '' }
  const [a, b, c, worker] = await Promise.all([
    serve(t, env), serve(t, env), serve(t, env),
    launch(t, 'worker', { ...env, KALENDS_SYNC_WORKERS: '1' }, /sync worker started/)
  ])
  const servers = [a!, b!, c!]
  for (const s of servers) t.equal((await fetch(`${s.url}/healthz`)).status, 200, `${s.url} serves`)

  const passwords = servers.flatMap(s => [...s.output().matchAll(/password: +(\S+) +\(shown once: write it down\)/g)].map(m => m[1]!))
  t.equal(passwords.length, 1, 'exactly one password printed')
  t.equal(servers.filter(s => /created the first administrator/.test(s.output())).length, 1, 'by exactly one server')
  t.equal(servers.filter(s => /an administrator already exists/i.test(s.output())).length, 2, 'the others say an administrator exists')
  const users = json(await cli(['user', 'list'], env))
  t.same(users.map((u: { login: string; role: string }) => [u.login, u.role]), [['admin', 'admin']], 'exactly one administrator in the database')

  const web = new WebClient(a!)
  const signedIn = await web.signIn('admin', passwords[0]!)
  t.equal(signedIn.status, 303, 'the printed password signs in through the web form')
  const other = await fetch(`${b!.url}/week`, { headers: { cookie: web.cookieHeader }, redirect: 'manual' })
  t.equal(other.status, 200, 'the session made on one server is valid on another')
  t.match(await other.text(), /Signed in as Administrator/)
  t.same(await Promise.all([...servers, worker!].map(s => s.stop())), [0, 0, 0, 0], 'all four stop cleanly')
})

t.test('a busy address stops serve before the first administrator is made or printed', async t => {
  const { env } = await database(t)
  const taken = createServer()
  await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { taken.close() })
  const port = (taken.address() as AddressInfo).port
  const r = await cli(['serve'], { ...env, HOST: '127.0.0.1', PORT: String(port), KALENDS_ADMIN_PASSWORD: '' })
  t.equal(r.code, 1, 'exits non-zero')
  t.equal(r.stderr, `kalends: cannot listen on 127.0.0.1:${port}: the address is in use (is another server running? set HOST or PORT)\n`, 'one line naming the address')
  t.notMatch(r.stdout, /administrator|password/, 'no password printed')
  t.same(json(await cli(['user', 'list'], env)), [], 'no administrator was created')
})

t.test('user and org commands refuse a folder with no database and create nothing', async t => {
  const folder = mkdtempSync(join(tmpdir(), 'kalends-cwd-'))
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  const missing = join(realpathSync(folder), 'data')
  const commands = [['user', 'list'], ['user', 'add', 'lena', '--password', 'lena-pass-1'], ['user', 'passwd', 'lena', '--password', 'lena-pass-2'], ['org', 'add', 'Acme'], ['org', 'list']]
  for (const args of commands) {
    const r = await cli(args, {}, folder)
    t.equal(r.code, 1, `${args.join(' ')}: exit 1`)
    t.equal(r.stdout, '', `${args.join(' ')}: prints no result`)
    t.equal(r.stderr, `kalends: no database in ${missing}; point KALENDS_DATA_DIR at the server's data folder, or DATABASE_URL at its PostgreSQL database (\`kalends migrate\` creates a new one)\n`, `${args.join(' ')}: names the folder and the way to the right one`)
  }
  t.same(readdirSync(folder), [], 'no ./data created')
  // an empty folder named on purpose is no database either
  const empty = join(folder, 'empty')
  mkdirSync(empty)
  const r = await cli(['user', 'list'], { KALENDS_DATA_DIR: empty }, folder)
  t.equal(r.code, 1)
  t.match(r.stderr, `no database in ${empty};`)
  t.same(readdirSync(empty), [], 'nothing written into it')
})
