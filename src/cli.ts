import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { resolve as absolutePath } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { openKalends, type Kalends } from './app.ts'
import { ConfigError, readConfig, type Config } from './config.ts'
import { hasEmbeddedDatabase } from './db/connect.ts'
import { DataDirLocked } from './db/data-dir-lock.ts'
import { DomainError } from './domain/errors.ts'
import { createFirstAdmin } from './domain/users.ts'
import { runAdminCommand, orgFor, type AdminCommand } from './ops/admin-commands.ts'
import { FEED_USAGE, parseFeedArgs } from './feeds/admin.ts'
import { listenAdminSocket, sendAdminCommand } from './ops/admin-socket.ts'
import { buildServer } from './server.ts'
import { lineLogger, logFormat, LogFormatError, logStream } from './ops/log-format.ts'

const USAGE = `Usage: kalends <command>

  serve                          start the server (creates the first admin on an empty database)
  worker                         run sync jobs only (more processes beside the servers, PostgreSQL only)
  migrate                        apply database migrations and exit
  user add <login> --password <pw> [--admin] [--name "Full Name"] [--email addr] [--org name]
  user passwd <login> --password <pw>
  user list
  org add <name>
  org list
${FEED_USAGE}

Configuration comes from environment variables (and ./.env): HOST, PORT,
KALENDS_DATA_DIR, DATABASE_URL, KALENDS_PUBLIC_URL, KALENDS_SECRET_KEY, LOG_LEVEL, KALENDS_LOG_FORMAT (pretty|json),
KALENDS_SYNC_WORKERS (sync runs at once per process; 0 = none here).`

class UsageError extends Error {}

function fail (message: string, code = 1): never {
  process.stderr.write(`kalends: ${message}\n`)
  process.exit(code)
}

async function main (argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const config = readConfig()
  switch (command) {
    case 'serve': return serve(config)
    case 'worker': return worker(config)
    case 'migrate': {
      const k = await openKalends(config)
      process.stdout.write(k.migrations.applied.length === 0 ? 'database is up to date\n' : `applied ${k.migrations.applied.join(', ')}\n`)
      return k.close()
    }
    case 'user': return print(await admin(config, userCommand(sub, rest)))
    case 'org': return print(await admin(config, orgCommand(sub, rest)))
    case 'feed': return print(await admin(config, parseFeedArgs(sub, rest)))
    default: throw new UsageError(`unknown command "${command}"`)
  }
}

function userCommand (sub: string | undefined, args: string[]): AdminCommand {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { password: { type: 'string' }, admin: { type: 'boolean' }, name: { type: 'string' }, email: { type: 'string' }, org: { type: 'string' } }
  })
  const login = positionals[0]
  switch (sub) {
    case 'add':
      if (login === undefined) throw new UsageError('user add needs a login')
      if (values.password === undefined) throw new UsageError('user add needs --password')
      return { cmd: 'user-add', login, password: values.password, admin: values.admin, name: values.name, email: values.email, org: values.org }
    case 'passwd':
      if (login === undefined || values.password === undefined) throw new UsageError('user passwd needs a login and --password')
      return { cmd: 'user-passwd', login, password: values.password }
    case 'list': return { cmd: 'user-list' }
    default: throw new UsageError(`unknown user command "${sub ?? ''}"`)
  }
}

function orgCommand (sub: string | undefined, args: string[]): AdminCommand {
  if (sub === 'list') return { cmd: 'org-list' }
  if (sub === 'add' && args[0] !== undefined) return { cmd: 'org-add', name: args[0] }
  throw new UsageError('org add <name> | org list')
}

/**
 * Through the running server when it owns the embedded database; otherwise
 * directly. A server still starting holds the folder's lock before its socket
 * is up, so the CLI waits for the socket rather than give up.
 */
async function admin (config: Config, command: AdminCommand): Promise<unknown> {
  // opening a folder without a database would create one: an empty one, when
  // the operator only forgot to say where the server's is (issue 17)
  if (config.databaseUrl === null && !hasEmbeddedDatabase(config.dataDir)) {
    fail(`no database in ${absolutePath(config.dataDir)}; point KALENDS_DATA_DIR at the server's data folder, or DATABASE_URL at its PostgreSQL database (\`kalends migrate\` creates a new one)`)
  }
  const deadline = Date.now() + 20_000
  for (;;) {
    if (config.databaseUrl === null) {
      const viaServer = sendAdminCommand(config.dataDir, command)
      if (viaServer !== null) {
        try {
          return await viaServer
        } catch (err) {
          // ESOCKET: a socket left behind by a server that died, or not answering yet
          if ((err as { code?: string }).code !== 'ESOCKET') throw err
        }
      }
    }
    let k: Kalends
    try {
      k = await openKalends(config)
    } catch (err) {
      if (!(err instanceof DataDirLocked) || Date.now() > deadline) throw err
      await new Promise(resolve => setTimeout(resolve, 250))
      continue
    }
    try { return await runAdminCommand(k, command) } finally { await k.close() }
  }
}

function print (result: unknown): void {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
}

/** The administrator of an empty database, its password printed by the one process that made it; false when there are users. */
async function firstAdmin (k: Kalends): Promise<boolean> {
  const given = process.env.KALENDS_ADMIN_PASSWORD || null
  const password = given ?? randomBytes(12).toString('base64url')
  if (await createFirstAdmin(k.db, password, tx => orgFor(tx, undefined)) === null) return false
  const url = k.config.publicUrl
  process.stdout.write([
    '',
    'Kalends created the first administrator:',
    `  user name: admin`,
    `  password:  ${password}${given !== null ? ' (from KALENDS_ADMIN_PASSWORD)' : '   (shown once: write it down)'}`,
    `Sign in at ${url}/ ; CalDAV clients use the server address ${url}/`,
    `Add colleagues with: npx kalends user add <login> --password <password>`,
    ''
  ].join('\n') + '\n')
  return true
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is in use (is another server running? set HOST or PORT)',
  EADDRNOTAVAIL: 'this machine has no such address (set HOST)',
  EACCES: 'permission denied (ports below 1024 need privileges; set PORT)'
}

/** JSON lines for collectors, readable lines on a terminal (ops/log-format.ts): the same for serve and worker. */
function logOutput () {
  try {
    return logStream(logFormat(process.env.KALENDS_LOG_FORMAT, process.stdout.isTTY === true), process.stdout)
  } catch (err) {
    if (err instanceof LogFormatError) throw new ConfigError('KALENDS_LOG_FORMAT', 'must be pretty or json')
    throw err
  }
}

async function serve (config: Config): Promise<void> {
  const logStream = logOutput()
  const k = await openKalends(config)
  const app = await buildServer(k, { logStream })
  for (const warning of k.handle.warnings) app.log.warn(warning)
  let adminSocket: FastifyInstance | null = null
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down: finishing requests in flight')
    const force = setTimeout(() => { app.log.error('shutdown took over 25 s; exiting'); process.exit(1) }, 25_000)
    force.unref()
    await app.close()
    await adminSocket?.close()
    await k.close()
    app.log.info('stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => { void stop('SIGTERM') })
  process.on('SIGINT', () => { void stop('SIGINT') })
  // The address first: a start that cannot serve must not make the first
  // administrator and print a password nobody's server accepts (issue 17).
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    const reason = LISTEN_ERRORS[(err as NodeJS.ErrnoException).code ?? '']
    if (reason === undefined) throw err
    await app.close()
    await k.close()
    fail(`cannot listen on ${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}: ${reason}`)
  }
  if (!await firstAdmin(k)) app.log.info('an administrator already exists: none made')
  if (config.databaseUrl === null) adminSocket = await listenAdminSocket(k)
  app.log.info({ database: k.handle.kind, publicUrl: config.publicUrl, migrations: k.migrations.applied }, 'Kalends is listening')
  k.sync.engine.log = (msg, fields) => app.log.info(fields ?? {}, msg)
  if (config.syncWorkers > 0) {
    await k.sync.jobs.start()
    app.log.info({ concurrency: config.syncWorkers }, 'sync workers started')
  }
}

/** Sync jobs without HTTP: more of these scale sync out; they coordinate through PostgreSQL. */
async function worker (config: Config): Promise<void> {
  if (config.databaseUrl === null) throw new ConfigError('DATABASE_URL', 'a separate worker needs PostgreSQL; with the embedded database, `kalends serve` runs the sync jobs itself')
  if (config.syncWorkers === 0) throw new ConfigError('KALENDS_SYNC_WORKERS', 'must be at least 1 for a worker')
  const log = lineLogger(config.logLevel, logOutput())
  const k = await openKalends(config)
  k.sync.engine.log = (msg, fields) => log.info(msg, fields)
  await k.sync.jobs.start()
  log.info('sync worker started', { concurrency: config.syncWorkers })
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info('sync worker stopping: finishing runs in flight', { signal })
    await k.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => { void stop('SIGTERM') })
  process.on('SIGINT', () => { void stop('SIGINT') })
}

main(process.argv.slice(2)).catch(err => {
  if (err instanceof ConfigError) fail(`configuration error: ${err.message}`, 2)
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail(`${(err as Error).message}\n\n${USAGE}`, 2)
  if (err instanceof DomainError) fail(`${err.field === undefined ? '' : `${err.field}: `}${err.message}`)
  if (err instanceof DataDirLocked) fail(`${err.message}; stop it first or wait until it has started`)
  fail((err as Error).stack ?? String(err))
})
