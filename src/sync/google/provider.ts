import { randomBytes, randomUUID } from 'node:crypto'
import { sha256 } from '../../auth/api-tokens.ts'
import type { OAuth2Client } from 'google-auth-library'
import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js'
import { optionsOf } from '../options.ts'
import { AuthFailed, type Provider, type ProviderContext, type ProviderSession, type RemoteCollection } from '../provider.ts'
import type { Connection } from '../tables.ts'
import { calendarClient, call, classify, delegatedClient, peopleClient, statusOf, tasksClient, withKeptAccess } from './client.ts'
import { ContactsPush } from './contacts-push.ts'
import { googleEvents } from './events.ts'
import { loadGoogleIntegration, type GoogleIntegration } from './integration.ts'
import { googleTasks } from './tasks.ts'
import { runHeaders } from '../run-header.ts'
import { appClient, type ConsentDeps } from './consent.ts'

/** Channels live a week at most; ask for a day and renew when less than six hours are left. */
const CHANNEL_TTL_MS = 24 * 3_600_000
const CHANNEL_RENEW_MS = 6 * 3_600_000

export function googleProvider (deps: ConsentDeps): Provider {
  const ep = deps.endpoints

  async function integrationFor (conn: Connection): Promise<GoogleIntegration> {
    const user = await deps.db.selectFrom('users').select('org_id').where('id', '=', conn.user_id).executeTakeFirstOrThrow()
    const integration = await loadGoogleIntegration(deps.db, deps.secrets, user.org_id, deps.defaults)
    if (integration === null || !integration.enabled) throw new AuthFailed('the Google integration is switched off for this organisation; ask an admin')
    return integration
  }

  /**
   * One client per context: a run that opens, lists and renews its channel with the same
   * context keeps a refresh token Google rotated meanwhile (the context still holds the old
   * one, which then no longer works). The access token is the one kept in the connection
   * (by any process) while it lives, so runs within its hour ask Google for none.
   */
  const clients = new WeakMap<ProviderContext, Promise<OAuth2Client>>()

  function authFor (conn: Connection, ctx: ProviderContext, integration?: GoogleIntegration): Promise<OAuth2Client> {
    let client = clients.get(ctx)
    if (client === undefined) {
      client = makeAuth(conn, ctx, integration)
      clients.set(ctx, client)
      client.catch(() => clients.delete(ctx))
    }
    return client
  }

  async function makeAuth (conn: Connection, ctx: ProviderContext, known?: GoogleIntegration): Promise<OAuth2Client> {
    const integration = known ?? await integrationFor(conn)
    if (conn.auth_kind === 'delegation') {
      if (integration.serviceAccount === null) throw new AuthFailed('the Workspace service account was removed by an admin')
      const client = delegatedClient(ep, integration.serviceAccount, conn.account, ctx, integration.delegateContacts)
      client.setCredentials(withKeptAccess(null, ctx))
      return client
    }
    if (ctx.credentials === null) throw new AuthFailed('no Google authorisation stored; reconnect the account')
    const client = appClient(deps, integration, ctx)
    client.setCredentials(withKeptAccess(ctx.credentials, ctx))
    client.on('tokens', t => {
      // Google may hand out a new refresh token; the old one then stops working
      if (t.refresh_token != null && t.refresh_token !== ctx.credentials) {
        // an event handler: a failed save must not become an unhandled rejection (the process would exit)
        ctx.saveCredentials(t.refresh_token).catch(err => { console.error('sync: could not store the refreshed Google token', err) })
      }
    })
    return client
  }

  return {
    name: 'google',

    async open (conn, ctx): Promise<ProviderSession> {
      const auth = await authFor(conn, ctx)
      const o = optionsOf(conn.options)
      const calendar = calendarClient(ep, auth, runHeaders(conn, ctx))
      const collections: RemoteCollection[] = []
      if (o.appointments) collections.push(googleEvents(calendar, o.calendarId))
      if (o.tasks) collections.push(googleTasks(tasksClient(ep, auth, runHeaders(conn, ctx)), o.taskListId))
      return { collections }
    },

    async choices (conn, ctx) {
      const auth = await authFor(conn, ctx)
      const calendars = await call('list calendars', () => calendarClient(ep, auth).calendarList.list({ minAccessRole: 'writer' }))
      const lists = await call('list task lists', () => tasksClient(ep, auth).tasklists.list({ maxResults: 100 }))
      return {
        calendars: (calendars.items ?? []).map(c => ({ id: c.primary === true ? 'primary' : String(c.id), name: c.summaryOverride ?? c.summary ?? String(c.id) })),
        taskLists: (lists.items ?? []).map(l => ({ id: String(l.id), name: l.title ?? String(l.id) }))
      }
    },

    async watch (conn, ctx, previous, store) {
      const integration = await integrationFor(conn)
      const o = optionsOf(conn.options)
      if (integration.pushAddress === null || !o.appointments) return null
      const expiration = Number(previous?.expiration ?? 0)
      if (previous !== null && previous.address === integration.pushAddress && expiration - Date.now() > CHANNEL_RENEW_MS) return previous
      const calendar = calendarClient(ep, await authFor(conn, ctx, integration), runHeaders(conn, ctx))
      const token = randomBytes(24).toString('base64url')
      const address = `${integration.pushAddress.replace(/\/+$/, '')}/sync/google/push`
      const asked = { id: randomUUID(), address: integration.pushAddress, tokenSha256: sha256(token), since: Date.now(), expiration: Date.now() + CHANNEL_TTL_MS }
      // Google sends the channel's sync message at once, maybe before it answers
      await store(asked)
      const channel = await call('watch events', () => calendar.events.watch({
        calendarId: o.calendarId,
        requestBody: { id: asked.id, type: 'web_hook', address, token, expiration: String(asked.expiration) }
      }))
      if (previous !== null) await stopChannel(calendar, previous).catch(() => {})
      return { ...asked, resourceId: channel.resourceId, expiration: Number(channel.expiration ?? asked.expiration) }
    },

    async unwatch (conn, ctx, channel) {
      await stopChannel(calendarClient(ep, await authFor(conn, ctx), runHeaders(conn, ctx)), channel)
    },

    async pushContacts (conn, ctx, desired, remembered) {
      if (conn.auth_kind === 'delegation' && !(await integrationFor(conn)).delegateContacts) {
        throw new Error('the Workspace set-up does not let the service account write contacts; an admin can allow it on the Google integration page')
      }
      return new ContactsPush(deps.db, conn.id, peopleClient(ep, await authFor(conn, ctx), runHeaders(conn, ctx))).run(desired, remembered)
    },

    async removeContacts (conn, ctx) {
      return new ContactsPush(deps.db, conn.id, peopleClient(ep, await authFor(conn, ctx), runHeaders(conn, ctx))).removeAll()
    }
  }
}

async function stopChannel (calendar: calendar_v3.Calendar, channel: Record<string, unknown>): Promise<void> {
  try {
    await calendar.channels.stop({ requestBody: { id: String(channel.id), resourceId: String(channel.resourceId) } })
  } catch (e) {
    // a channel Google no longer knows is stopped already
    if (statusOf(e) !== 404) throw classify(e, 'stop channel')
  }
}
