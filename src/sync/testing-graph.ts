import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCheckedEmulator } from '../../conformance/graph-emulator/test-helpers.ts'
import type { GraphEmulator } from '../../conformance/graph-emulator/server.ts'
import { startServer, type TestServer } from '../testing/harness.ts'
import { updateOptions } from './connections.ts'
import { syncConnection, type RunOptions, type RunResult } from './engine.ts'
import { send, type GraphEndpoints } from './graph/client.ts'
import { completeGraphConsent, graphCallbackUrl, graphConsentUrl } from './graph/consent.ts'
import { saveGraphIntegration, type GraphIntegrationInput } from './graph/integration.ts'
import { syncDb, type Connection } from './tables.ts'

export const GRAPH_CLIENT_ID = '11112222-bbbb-3333-cccc-4444dddd5555'
export const GRAPH_CLIENT_SECRET = 'kalends-graph-test-secret'

/**
 * A Kalends server and the Graph emulator (over TLS, every body checked
 * against Graph's CSDL: close() fails on a violation) side by side, as
 * testing.ts has it for Google: users alice, bob, carol (and admin) with
 * <login>@contoso.com mailboxes in one tenant, the organisation's Microsoft
 * 365 integration pointing at the emulator. The server's MSAL and Graph
 * calls go to the emulator by configuration; the test plays the user in
 * Outlook with a token of its own.
 */
export type GraphWorld = {
  s: TestServer
  g: GraphEmulator
  tenantId: string
  email (login: string): string
  /** signs in through the authorize redirect, as the user would; returns the connection */
  connect (login: string, options?: Record<string, unknown>): Promise<Connection>
  run (login: string, opts?: RunOptions): Promise<RunResult>
  connection (login: string): Promise<Connection>
  /** Graph as the user's Outlook: path below /v1.0 */
  api (login: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Record<string, string> }>
  /** the user's events (singles and masters) in the default calendar, with the reference property */
  events (login: string): Promise<any[]>
  todo (login: string): Promise<any[]>
  /** the Graph requests the emulator answered (direct ones and whole $batches), as "METHOD /template" */
  calls: string[]
  /** the emulator's CA certificate file, for a worker process (graphEnv) */
  caFile: string
  close (): Promise<void>
}

/** The emulator's addresses as a Kalends process is configured with them (KALENDS_GRAPH_*), Graph's reached at `baseUrl` (a proxy in front of it) when given. */
export function graphEnv (g: GraphEmulator, caFile: string, baseUrl = g.graphUrl): Record<string, string> {
  return { KALENDS_GRAPH_AUTHORITY_HOST: g.url, KALENDS_GRAPH_BASE_URL: baseUrl, KALENDS_GRAPH_CA_FILE: caFile }
}

/**
 * `server`: a test server of the caller's (a Google sync world's, for both
 * providers at once; the users keep its <login>@example.com addresses, so
 * meetings name the same people on both sides), which close() leaves
 * running; `graphUrl`: where Kalends reaches Graph (a proxy in front of it).
 */
export async function startGraphWorld (opts: { users?: string[]; integration?: GraphIntegrationInput; env?: Record<string, string>; server?: TestServer; graphUrl?: (g: GraphEmulator) => string } = {}): Promise<GraphWorld> {
  const calls: string[] = []
  const g = await startCheckedEmulator({ tls: true, onExchange: e => { if (e.status !== 0) calls.push(`${e.method} ${e.template}`) } })
  const dir = mkdtempSync(join(tmpdir(), 'kalends-graph-'))
  const caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, g.caCertificate ?? '')
  const env = graphEnv(g, caFile, opts.graphUrl?.(g))
  const own = opts.server === undefined
  const s = opts.server ?? await startServer({ users: opts.users, env: { ...opts.env, ...env } })
  if (own) {
    s.k.config.publicUrl = s.url
    if (process.env.KALENDS_SYNC_DEBUG === '1') s.k.sync.engine.log = (msg, fields) => process.stderr.write(`${msg} ${JSON.stringify(fields ?? {})}\n`)
  } else {
    // the server's Graph endpoints are read at their first use (service.ts), which comes after this
    s.k.config.graph = { authorityHost: env.KALENDS_GRAPH_AUTHORITY_HOST!, baseUrl: env.KALENDS_GRAPH_BASE_URL!, caFile }
  }
  const ep: GraphEndpoints = s.k.sync.graph.endpoints
  const email = (login: string) => own ? `${login}@contoso.com` : `${login}@example.com`
  let tenantId = ''
  for (const login of Object.keys(s.users)) {
    await s.k.db.updateTable('users').set({ email: email(login) }).where('id', '=', s.users[login]!.id).execute()
    s.users[login] = { ...s.users[login]!, email: email(login) }
    tenantId = g.addUser(email(login), { displayName: login, timeZone: 'Central European Standard Time' }).tenantId
  }
  g.registerApp({ clientId: GRAPH_CLIENT_ID, clientSecret: GRAPH_CLIENT_SECRET, redirectUris: [graphCallbackUrl(s.url)], name: 'Kalends' })
  await saveGraphIntegration(s.k.db, s.k.secrets, s.orgId, { tenant: tenantId, clientId: GRAPH_CLIENT_ID, clientSecret: GRAPH_CLIENT_SECRET, ...opts.integration })
  const connection = async (login: string) => syncDb(s.k.db).selectFrom('sync_connections').selectAll()
    .where('user_id', '=', s.users[login]!.id).where('provider', '=', 'graph').executeTakeFirstOrThrow()
  const tokens = new Map<string, string>()
  const api: GraphWorld['api'] = async (login, method, path, body, headers = {}) => {
    let token = tokens.get(login)
    if (token === undefined) {
      token = g.issueAccessToken(email(login), GRAPH_CLIENT_ID, ['Calendars.ReadWrite', 'Tasks.ReadWrite'])
      tokens.set(login, token)
    }
    const res = await send(ep, method, path.startsWith('http') ? path : `${g.graphUrl}${path}`, {
      authorization: `Bearer ${token}`, prefer: 'IdType="ImmutableId", outlook.timezone="UTC"', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers
    }, body === undefined ? undefined : JSON.stringify(body))
    return { status: res.status, headers: res.headers, body: res.text === '' ? undefined : JSON.parse(res.text) }
  }
  return {
    s,
    g,
    tenantId,
    email,
    async connect (login, options) {
      const user = s.users[login]!
      g.consent({ autoApprove: email(login) })
      const res = await send(ep, 'GET', await graphConsentUrl(s.k.sync.graph, user, { loginHint: email(login) }), {})
      if (res.status !== 302) throw new Error(`authorize answered ${res.status}: ${res.text.slice(0, 300)}`)
      const back = new URL(res.headers.location ?? '')
      const q = Object.fromEntries(back.searchParams) as Record<string, string>
      const { connection: conn } = await completeGraphConsent(s.k.sync.graph, user, q)
      if (options !== undefined) await updateOptions(s.k.db, user, conn.id, options)
      return connection(login)
    },
    async run (login, o = { force: true }) {
      return syncConnection(s.k.sync.engine, (await connection(login)).id, o)
    },
    connection,
    api,
    calls,
    caFile,
    async events (login) {
      const res = await api(login, 'GET', `/me/events?$expand=singleValueExtendedProperties($filter=id eq 'String {c11ff724-aa03-4555-9952-8fa248a11c3e} Name KalendsItem')`)
      return res.body.value
    },
    async todo (login) {
      const lists = (await api(login, 'GET', '/me/todo/lists')).body.value as { id: string; wellknownListName: string }[]
      const list = lists.find(l => l.wellknownListName === 'defaultList')!
      return (await api(login, 'GET', `/me/todo/lists/${list.id}/tasks`)).body.value
    },
    async close () {
      if (own) await s.close()
      await g.close()
    }
  }
}
