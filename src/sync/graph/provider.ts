import { randomBytes } from 'node:crypto'
import { sha256 } from '../../auth/api-tokens.ts'
import type { SecretBox } from '../../auth/secrets.ts'
import type { Db } from '../../db/connect.ts'
import { optionsOf } from '../options.ts'
import { AuthFailed, type Provider, type ProviderContext, type ProviderSession, type RemoteCollection } from '../provider.ts'
import type { Connection } from '../tables.ts'
import { GraphClient, GraphRefused, type GraphEndpoints } from './client.ts'
import { graphEvents } from './events.ts'
import { appTokens, delegatedTokens } from './identity.ts'
import { loadGraphIntegration, type GraphIntegration } from './integration.ts'
import { graphTasks } from './tasks.ts'
import { runHeaders } from '../run-header.ts'

export type GraphDeps = {
  db: Db
  secrets: SecretBox
  readonly endpoints: GraphEndpoints
  readonly publicUrl: string
  /** waits out a Retry-After (tests count them instead of sleeping) */
  sleep?: (seconds: number) => Promise<void>
}

/**
 * Subscriptions live at most 10,080 minutes for events and 4,230 for To Do
 * tasks (resources/subscription.md): ask for two days and renew when less
 * than a day is left, so a day of outage still finds them alive.
 */
const SUBSCRIPTION_TTL_MS = 48 * 3_600_000
const SUBSCRIPTION_RENEW_MS = 24 * 3_600_000

/** The notification and lifecycle addresses Graph posts to, each followed by the channel's id (src/sync/http.ts). */
export const notifyPath = '/sync/graph/notify'
export const lifecyclePath = '/sync/graph/lifecycle'

type Sub = { id: string; kind: 'appointment' | 'task'; resource: string; expiration: number }

export async function integrationOf (deps: Pick<GraphDeps, 'db' | 'secrets'>, userId: number): Promise<GraphIntegration> {
  const user = await deps.db.selectFrom('users').select('org_id').where('id', '=', userId).executeTakeFirstOrThrow()
  const integration = await loadGraphIntegration(deps.db, deps.secrets, user.org_id)
  if (integration === null || !integration.enabled) throw new AuthFailed('the Microsoft 365 integration is switched off for this organisation; ask an admin')
  return integration
}

/** Whose calendar a connection reaches: its own (/me) when the user signed in, else the user's mailbox with the app's permissions. */
export const userPathOf = (conn: Pick<Connection, 'auth_kind' | 'account'>): string => conn.auth_kind === 'delegation' ? `/users/${encodeURIComponent(conn.account)}` : '/me'

/**
 * Microsoft 365 over Graph as a sync provider: an Outlook calendar and a
 * To Do list per connection, change notifications (subscriptions) when the
 * organisation set a public address, polling otherwise.
 */
export function graphProvider (deps: GraphDeps): Provider {
  const clients = new WeakMap<ProviderContext, Promise<GraphClient>>()

  function clientFor (conn: Connection, ctx: ProviderContext): Promise<GraphClient> {
    let client = clients.get(ctx)
    if (client === undefined) {
      client = (async () => {
        const integration = await integrationOf(deps, conn.user_id)
        if (conn.auth_kind === 'delegation' && !integration.orgWide) throw new AuthFailed('the organisation-wide Microsoft 365 set-up was switched off by an admin; connect with your own sign-in')
        const tokens = conn.auth_kind === 'delegation' ? appTokens(deps.endpoints, integration, ctx) : delegatedTokens(deps.endpoints, integration, ctx)
        return new GraphClient(deps.endpoints, tokens, runHeaders(conn, ctx), deps.sleep)
      })()
      clients.set(ctx, client)
      client.catch(() => clients.delete(ctx))
    }
    return client
  }

  /** The chosen list, or the user's default To Do list ("@default", wellknownListName defaultList). */
  function listIdOf (client: GraphClient, userPath: string, chosen: string): () => Promise<string> {
    let found: Promise<string> | null = null
    return () => {
      if (chosen !== '@default') return Promise.resolve(chosen)
      found ??= client.pages<{ id: string; wellknownListName?: string }>('list task lists', `${userPath}/todo/lists`).then(({ items }) => {
        const list = items.find(l => l.wellknownListName === 'defaultList') ?? items[0]
        if (list === undefined) throw new GraphRefused('Microsoft To Do has no task list for this account', 404, 'ErrorItemNotFound')
        return list.id
      })
      return found
    }
  }

  function resources (conn: Connection, userPath: string, calendarId: string, listId: string | null): { kind: Sub['kind']; resource: string }[] {
    const base = userPath.replace(/^\//, '')
    const out: { kind: Sub['kind']; resource: string }[] = []
    const o = optionsOf(conn.options)
    if (o.appointments) out.push({ kind: 'appointment', resource: calendarId === 'primary' ? `${base}/events` : `${base}/calendars/${calendarId}/events` })
    if (listId !== null) out.push({ kind: 'task', resource: `${base}/todo/lists/${listId}/tasks` })
    return out
  }

  async function removeSubscriptions (client: GraphClient, subs: Sub[]): Promise<void> {
    for (const s of subs) {
      await client.call('delete subscription', { method: 'DELETE', path: `/subscriptions/${encodeURIComponent(s.id)}` }).catch((e: unknown) => {
        if (!(e instanceof GraphRefused && e.status === 404)) throw e
      })
    }
  }

  return {
    name: 'graph',

    async open (conn, ctx): Promise<ProviderSession> {
      const client = await clientFor(conn, ctx)
      const o = optionsOf(conn.options)
      const userPath = userPathOf(conn)
      const collections: RemoteCollection[] = []
      if (o.appointments) collections.push(graphEvents(client, userPath, o.calendarId))
      // To Do has no application permission: an organisation-wide connection syncs calendars only
      if (o.tasks && conn.auth_kind !== 'delegation') collections.push(graphTasks(client, userPath, listIdOf(client, userPath, o.taskListId)))
      return { collections }
    },

    async choices (conn, ctx) {
      const client = await clientFor(conn, ctx)
      const userPath = userPathOf(conn)
      const { items: calendars } = await client.pages<{ id: string; name?: string; isDefaultCalendar?: boolean; canEdit?: boolean }>('list calendars', `${userPath}/calendars`)
      const lists = conn.auth_kind === 'delegation' ? [] : (await client.pages<{ id: string; displayName?: string }>('list task lists', `${userPath}/todo/lists`)).items
      return {
        calendars: calendars.filter(c => c.canEdit !== false).map(c => ({ id: c.isDefaultCalendar === true ? 'primary' : c.id, name: c.name ?? c.id })),
        taskLists: lists.map(l => ({ id: l.id, name: l.displayName ?? l.id }))
      }
    },

    /**
     * Subscriptions for the calendar and the To Do list. A new channel is
     * stored before Graph is asked (Graph validates the address, then may
     * notify at once); clientState is a secret per channel, kept hashed and
     * checked on every notification. Renewed when less than a day is left,
     * or at once when Graph asked for reauthorization or removed one.
     */
    async watch (conn, ctx, previous, store) {
      const integration = await integrationOf(deps, conn.user_id)
      const o = optionsOf(conn.options)
      const client = await clientFor(conn, ctx)
      const old = (previous?.subs ?? []) as Sub[]
      if (integration.pushAddress === null) {
        if (old.length > 0) await removeSubscriptions(client, old).catch(() => {})
        return null
      }
      const userPath = userPathOf(conn)
      const listId = o.tasks && conn.auth_kind !== 'delegation' ? await listIdOf(client, userPath, o.taskListId)() : null
      const wanted = resources(conn, userPath, o.calendarId, listId)
      const sameSet = wanted.length === old.length && wanted.every(w => old.some(s => s.resource === w.resource))
      const now = Date.now()
      if (previous !== null && previous.address === integration.pushAddress && sameSet && previous.renew !== true) {
        if (old.every(s => s.expiration - now > SUBSCRIPTION_RENEW_MS)) return previous
        // renew in place (subscription-update.md); one Graph no longer knows is made again below
        const renewed: Sub[] = []
        for (const s of old) {
          const expiration = now + SUBSCRIPTION_TTL_MS
          try {
            await client.call('renew subscription', { method: 'PATCH', path: `/subscriptions/${encodeURIComponent(s.id)}`, body: { expirationDateTime: new Date(expiration).toISOString() } })
            renewed.push({ ...s, expiration })
          } catch (e) {
            if (!(e instanceof GraphRefused && e.status === 404)) throw e
          }
        }
        if (renewed.length === old.length) return { ...previous, subs: renewed, expiration: Math.min(...renewed.map(s => s.expiration)) }
      }
      const secret = randomBytes(24).toString('base64url')
      const id = randomBytes(12).toString('hex')
      const base = integration.pushAddress.replace(/\/+$/, '')
      const asked = { id, address: integration.pushAddress, stateSha256: sha256(secret), since: now, expiration: now + SUBSCRIPTION_TTL_MS, subs: [] as Sub[] }
      await store(asked)
      const subs: Sub[] = []
      try {
        for (const w of wanted) {
          const expiration = now + SUBSCRIPTION_TTL_MS
          const made = await client.call<{ id: string; expirationDateTime?: string }>('create subscription', {
            method: 'POST',
            path: '/subscriptions',
            body: {
              changeType: 'created,updated,deleted',
              notificationUrl: `${base}${notifyPath}/${id}`,
              lifecycleNotificationUrl: `${base}${lifecyclePath}/${id}`,
              resource: w.resource,
              expirationDateTime: new Date(expiration).toISOString(),
              clientState: `${id}.${secret}`
            }
          })
          subs.push({ id: made.body.id, kind: w.kind, resource: w.resource, expiration: Date.parse(made.body.expirationDateTime ?? '') || expiration })
        }
      } catch (e) {
        await removeSubscriptions(client, subs).catch(() => {})
        throw e
      }
      if (old.length > 0) await removeSubscriptions(client, old).catch(() => {})
      return { ...asked, subs, expiration: Math.min(...subs.map(s => s.expiration), asked.expiration) }
    },

    async unwatch (conn, ctx, channel) {
      await removeSubscriptions(await clientFor(conn, ctx), (channel.subs ?? []) as Sub[])
    }
  }
}
