import type { SecretBox } from '../../auth/secrets.ts'
import type { Db } from '../../db/connect.ts'
import { optionsOf } from '../options.ts'
import { AuthFailed, ChannelLost, Transient, type Choice, type Provider, type ProviderContext, type ProviderSession, type RemoteCollection } from '../provider.ts'
import type { Connection } from '../tables.ts'
import { child, childrenOf, el, NS, textOf, tv } from '../microsoft/ews-xml.ts'
import { EwsClient, fetchStreamTransport, type ClientOptions, type EwsAuth, type StreamTransport, type Transport } from './client.ts'
import { ewsFolder, type FolderRef } from './folder.ts'
import { DomainError } from '../../domain/errors.ts'
import { AUTODISCOVER_CANDIDATES, discoverEwsUrl } from './autodiscover.ts'
import { loadExchangeIntegration, type ExchangeIntegration } from './integration.ts'
import { foldersKey, isEwsChannel, listen, subscribe, unsubscribe, type PullState } from './notifications.ts'
import { transportFor } from './transport.ts'
import { runHeaders, type CallHeaders } from '../run-header.ts'

/**
 * Exchange Server over EWS as a sync provider. A connection acts either
 * with the user's own login (auth_kind 'password', sealed in the connection)
 * or through the organisation's service account impersonating the user's
 * mailbox (auth_kind 'delegation'), over Basic, NTLM (transport.ts) or a
 * Bearer token for hybrid set-ups, as the integration says.
 */
export type ExchangeDeps = {
  db: Db
  secrets: SecretBox
  /** the HTTP exchange for a login (tests, or an NTLM transport) */
  transport?: (auth: EwsAuth) => Transport
  /** the same for answers read as they arrive (streaming notifications) */
  streamTransport?: (auth: EwsAuth) => StreamTransport
  client?: ClientOptions
  /** where Autodiscover looks, `{domain}` replaced (autodiscover.ts); Microsoft's two by default */
  autodiscover?: readonly string[]
  /** how often a pull subscription (where streaming is refused) asks for events; 10 s unless set */
  pullIntervalMs?: number
  /** EWS URLs Autodiscover found for mailboxes (the organisation set none), remembered for this process */
  discovered?: Map<string, string>
}

/** A user's own Exchange login as the connection stores it (sealed). */
export type UserLogin = { username: string; password: string } | { token: string }

export function parseLogin (plain: string | null): UserLogin | null {
  if (plain === null) return null
  try {
    const v = JSON.parse(plain) as Partial<{ username: string; password: string; token: string }>
    if (typeof v.token === 'string') return { token: v.token }
    if (typeof v.username === 'string' && typeof v.password === 'string') return { username: v.username, password: v.password }
  } catch {}
  return null
}

export async function integrationOf (deps: ExchangeDeps, userId: number): Promise<ExchangeIntegration> {
  const user = await deps.db.selectFrom('users').select('org_id').where('id', '=', userId).executeTakeFirstOrThrow()
  const integration = await loadExchangeIntegration(deps.db, deps.secrets, user.org_id)
  if (integration === null || !integration.enabled) throw new AuthFailed('the Exchange integration is switched off for this organisation; ask an admin')
  return integration
}

/** How a client for `account` signs in: with its own login, or as the service account impersonating it. */
function authFor (integration: ExchangeIntegration, account: string, login: UserLogin | null): { auth: EwsAuth; impersonate: string | null } {
  const password = integration.auth === 'ntlm' ? 'ntlm' : 'basic'
  if (login !== null) return { auth: 'token' in login ? { kind: 'bearer', token: login.token } : { kind: password, ...login }, impersonate: null }
  if (integration.mode !== 'service' || integration.serviceAccount === null) throw new AuthFailed('the organisation no longer connects mailboxes through an Exchange service account; connect with your own login')
  return { auth: { kind: password, ...integration.serviceAccount }, impersonate: account }
}

/**
 * The integration with the EWS URL for `account`: the organisation's, or,
 * where it set none, the one Autodiscover (SOAP, then POX) finds for the
 * mailbox with the same login, remembered for this process.
 */
export async function ewsUrlFor (deps: ExchangeDeps, integration: ExchangeIntegration, account: string, login: UserLogin | null): Promise<ExchangeIntegration> {
  if (integration.ewsUrl !== '') return integration
  const key = account.toLowerCase()
  const known = deps.discovered?.get(key)
  if (known !== undefined) return { ...integration, ewsUrl: known }
  const { auth } = authFor(integration, account, login)
  let found
  try {
    found = await discoverEwsUrl(key, (deps.transport ?? transportFor)(auth), deps.autodiscover ?? AUTODISCOVER_CANDIDATES)
  } catch (e) {
    // no run will do better until someone acts; a connect or a test says it as it is
    if (e instanceof DomainError && e.rule === 'exchange-autodiscover') throw new Transient(e.message)
    throw e
  }
  ;(deps.discovered ??= new Map()).set(key, found.ewsUrl)
  return { ...integration, ewsUrl: found.ewsUrl }
}

/** A client acting for `account`: with its own login, or as the service account impersonating it. */
export function clientFor (deps: ExchangeDeps, integration: ExchangeIntegration, account: string, login: UserLogin | null, headers: CallHeaders = {}): EwsClient {
  const { auth, impersonate } = authFor(integration, account, login)
  const transport = (deps.transport ?? transportFor)(auth)
  // NTLM authenticates one kept-alive connection; a stream would be another, so NTLM logins pull (notifications.ts)
  const stream = auth.kind === 'ntlm' && deps.streamTransport === undefined ? undefined : (deps.streamTransport ?? fetchStreamTransport)(auth)
  return new EwsClient({ url: integration.ewsUrl, version: integration.version, impersonate }, transport, { ...deps.client, headers, ...(stream === undefined ? {} : { stream }) })
}

/** A client for the connection; its calls carry the run's id (run-header.ts) unless it only listens, which is no run. */
async function clientOf (deps: ExchangeDeps, conn: Connection, ctx: ProviderContext, run = true): Promise<EwsClient> {
  const integration = await integrationOf(deps, conn.user_id)
  const headers = run ? runHeaders(conn, ctx) : {}
  const login = conn.auth_kind === 'delegation' ? null : parseLogin(ctx.credentials)
  if (conn.auth_kind !== 'delegation' && login === null) throw new AuthFailed('no Exchange login stored; connect the account again')
  return clientFor(deps, await ewsUrlFor(deps, integration, conn.account, login), conn.account, login, headers)
}

/** FolderIds are base64, whose '/' a connection's options refuse (ids travel in URLs): they are offered as base64url. */
const choiceId = (folderId: string): string => folderId.replace(/\+/g, '-').replace(/\//g, '_')
const folderId = (choice: string): string => choice.replace(/-/g, '+').replace(/_/g, '/')
const calendarRef = (id: string): FolderRef => id === 'primary' ? { distinguished: 'calendar' } : { id: folderId(id) }
const tasksRef = (id: string): FolderRef => id === '@default' ? { distinguished: 'tasks' } : { id: folderId(id) }

/** The folders the connection syncs, which its subscription watches. */
function watchedFolders (conn: Connection): FolderRef[] {
  const o = optionsOf(conn.options)
  return [...(o.appointments ? [calendarRef(o.calendarId)] : []), ...(o.tasks ? [tasksRef(o.taskListId)] : [])]
}

export function exchangeProvider (deps: ExchangeDeps): Provider {
  const pull: PullState = { marks: new Map(), get intervalMs () { return deps.pullIntervalMs ?? 10_000 } }
  return {
    name: 'exchange',

    async open (conn, ctx): Promise<ProviderSession> {
      const client = await clientOf(deps, conn, ctx)
      const user = await deps.db.selectFrom('users').select('timezone').where('id', '=', conn.user_id).executeTakeFirstOrThrow()
      const o = optionsOf(conn.options)
      const collections: RemoteCollection[] = []
      if (o.appointments) collections.push(ewsFolder(client, 'appointment', calendarRef(o.calendarId), user.timezone))
      if (o.tasks) collections.push(ewsFolder(client, 'task', tasksRef(o.taskListId), user.timezone))
      return { collections }
    },

    /**
     * A streaming subscription (pull where the server refuses streaming) to the synced folders, kept while it watches
     * the folders the options name; the worker holds its stream open
     * (listen). A changed choice of folders replaces it.
     */
    async watch (conn, ctx, previous) {
      const folders = watchedFolders(conn)
      if (isEwsChannel(previous) && previous.folders === foldersKey(folders)) return previous
      const client = await clientOf(deps, conn, ctx)
      if (isEwsChannel(previous)) await unsubscribe(client, previous.id).catch(() => {})
      if (folders.length === 0) return null
      try {
        return await subscribe(client, folders)
      } catch (err) {
        // after a long first import the kept-alive connection may have been closed by the server (ECONNRESET):
        // once more, since a subscription made twice costs nothing (the unused one lapses in 30 minutes)
        if (!(err instanceof Transient)) throw err
        return await subscribe(client, folders)
      }
    },

    async unwatch (conn, ctx, channel) {
      if (isEwsChannel(channel)) await unsubscribe(await clientOf(deps, conn, ctx), channel.id)
    },

    async listen (conn, ctx, channel, signal, on) {
      if (!isEwsChannel(channel)) throw new ChannelLost('not an Exchange subscription')
      await listen(await clientOf(deps, conn, ctx, false), channel, signal, on, pull)
    },

    /** The default folders and every folder of their kind below them (FindFolder Deep; web-service-reference/findfolder-operation.md). */
    async choices (conn, ctx) {
      const client = await clientOf(deps, conn, ctx)
      const shape = el('m:FolderShape', {}, tv('BaseShape', 'Default'))
      const [calendars, tasks] = await client.call('FindFolder', el('m:FindFolder', { Traversal: 'Deep' }, shape,
        el('m:ParentFolderIds', {}, el('t:DistinguishedFolderId', { Id: 'calendar' }), el('t:DistinguishedFolderId', { Id: 'tasks' }))))
      // Exchange answers each folder as the element of its class (folders-ex15websvcsotherref.md)
      const below = (m: typeof calendars, element: string): Choice[] => childrenOf(child(child(m?.el, NS.m, 'RootFolder'), NS.t, 'Folders'), NS.t, element)
        .map(f => ({ id: choiceId(child(f, NS.t, 'FolderId')?.attrs.Id ?? ''), name: textOf(f, NS.t, 'DisplayName') ?? '' }))
      return {
        calendars: [{ id: 'primary', name: 'Calendar' }, ...below(calendars, 'CalendarFolder')],
        taskLists: [{ id: '@default', name: 'Tasks' }, ...below(tasks, 'TasksFolder')]
      }
    }
  }
}
