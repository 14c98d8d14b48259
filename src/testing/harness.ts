import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import pg from 'pg'
import type { FastifyInstance } from 'fastify'
import { openKalends, type Kalends } from '../app.ts'
import { readConfig } from '../config.ts'
import type { DbTarget, PGliteThread } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import { createOrg, createUser } from '../domain/users.ts'
import { buildServer } from '../server.ts'

/**
 * A real server on 127.0.0.1 with its own database: PGlite in memory, or a
 * fresh PostgreSQL database when KALENDS_TEST_DATABASE_URL names a server.
 * Tests talk to it over HTTP like any client.
 */
export type TestServer = {
  url: string
  k: Kalends
  app: FastifyInstance
  orgId: number
  users: Record<string, User>
  password: string
  /** fetch as a user (Basic with their password) or anonymously (null) */
  as (login: string | null): Client
  close (): Promise<void>
}

export type Client = (path: string, init?: RequestInit & { json?: unknown }) => Promise<Response & { body_: unknown }>

export const PASSWORD = 'correct horse battery'

/** A port nobody listens on right now, for a server started as its own process. */
export async function freePort (): Promise<number> {
  const s = createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise(resolve => s.close(resolve))
  return port
}

/**
 * thread: where PGlite runs (db/connect.ts); a test of the worker asks for it,
 * and KALENDS_TEST_PGLITE_THREAD=worker runs every test's database there.
 */
export async function testDatabase (opts: { thread?: PGliteThread } = {}): Promise<{ target: DbTarget; drop (): Promise<void> }> {
  const admin = process.env.KALENDS_TEST_DATABASE_URL
  const thread = opts.thread ?? (process.env.KALENDS_TEST_PGLITE_THREAD === 'worker' ? 'worker' : 'main')
  if (admin === undefined || admin === '') return { target: { memory: true, thread }, drop: async () => {} }
  const name = `kalends_t_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  await client.query(`CREATE DATABASE ${name}`)
  await client.end()
  const url = new URL(admin)
  url.pathname = `/${name}`
  return {
    target: { url: url.toString() },
    async drop () {
      const c = new pg.Client({ connectionString: admin })
      await c.connect()
      try {
        // ends an autovacuum worker inside too: scripts/pg-test-db.sh grants the role pg_signal_backend
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await c.end()
      }
    }
  }
}

export async function startServer (opts: { users?: string[]; env?: Record<string, string>; logStream?: { write (line: string): void }; thread?: PGliteThread } = {}): Promise<TestServer> {
  const { target, drop } = await testDatabase({ thread: opts.thread })
  const config = readConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', ...opts.env })
  const k = await openKalends(config, target)
  const org = await createOrg(k.db, 'Test Org', 'system')
  const users: Record<string, User> = {}
  for (const login of ['admin', ...(opts.users ?? ['alice', 'bob', 'carol'])]) {
    users[login] = await createUser(k.db, null, org.id, { login, name: login[0]!.toUpperCase() + login.slice(1), password: PASSWORD, role: login === 'admin' ? 'admin' : 'user', timezone: 'Europe/Warsaw' })
  }
  const app = await buildServer(k, { logStream: opts.logStream })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  const as = (login: string | null): Client => async (path, init = {}) => {
    const headers = new Headers(init.headers)
    if (login !== null && !headers.has('authorization')) headers.set('authorization', `Basic ${Buffer.from(`${login}:${PASSWORD}`).toString('base64')}`)
    let body = init.body
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json')
      body = JSON.stringify(init.json)
    }
    const res = await fetch(url + path, { ...init, headers, body })
    const text = await res.text()
    const type = res.headers.get('content-type') ?? ''
    const parsed = /json/.test(type) && text !== '' ? JSON.parse(text) : text
    return Object.assign(res, { body_: parsed })
  }
  return {
    url, k, app, orgId: org.id, users, password: PASSWORD, as,
    async close () {
      await app.close()
      await k.close()
      await drop()
    }
  }
}
