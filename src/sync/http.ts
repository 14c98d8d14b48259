import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Kalends } from '../app.ts'
import { sha256 } from '../auth/api-tokens.ts'
import { syncDb, type Connection } from './tables.ts'

/**
 * Google's push notifications: no payload, only "something changed in the
 * calendar behind channel X". The channel's token (stored hashed) proves the
 * notification comes from the channel we made; the answer is a sync run soon.
 * Unknown or forged channels get 404 and change nothing.
 */
export default async function syncHttp (app: FastifyInstance, opts: { k: Kalends }): Promise<void> {
  await app.register(googlePush, opts)
  await app.register(graphNotifications, opts)
}

async function googlePush (app: FastifyInstance, opts: { k: Kalends }): Promise<void> {
  const { k } = opts
  // Google posts `Content-Type: application/json; utf-8` with `Content-Length: 0`
  // (https://developers.google.com/calendar/api/guides/push, "Receiving
  // notifications"): the JSON parser refuses that empty body with 400 before the
  // route runs. Everything is in the headers, so in this plugin (and only here)
  // any body of any type is read and dropped.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_request, _body, done) => { done(null, undefined) })

  app.post('/sync/google/push', { schema: { hide: true } }, async (request, reply) => {
    const channelId = String(request.headers['x-goog-channel-id'] ?? '')
    const token = String(request.headers['x-goog-channel-token'] ?? '')
    const state = String(request.headers['x-goog-resource-state'] ?? '')
    if (channelId === '' || channelId.length > 200) return reply.code(400).send()
    const sdb = syncDb(k.db)
    const conn = await sdb.selectFrom('sync_connections').select(['id', 'channel'])
      .where(eb => eb(eb.ref('channel', '->>').key('id' as never), '=', channelId)).where('disconnected_at', 'is', null).executeTakeFirst()
    const expected = (conn?.channel as { tokenSha256?: string } | null | undefined)?.tokenSha256
    const given = Buffer.from(sha256(token), 'hex')
    if (conn === undefined || expected === undefined || expected.length !== 64 || !timingSafeEqual(given, Buffer.from(expected, 'hex'))) {
      return reply.code(404).send()
    }
    // what tells a live channel from a silent one (pushStatus in connections.ts)
    await sdb.updateTable('sync_connections').set({ push_seen_at: new Date(), push_seen_channel: channelId }).where('id', '=', conn.id).execute()
    if (state !== 'sync') await k.sync.jobs.request(conn.id)
    return reply.code(204).send()
  })
}

type GraphNotice = { subscriptionId?: string; clientState?: string; lifecycleEvent?: string }

/**
 * Microsoft Graph's change and lifecycle notifications
 * (change-notifications-delivery-webhooks.md, change-notifications-lifecycle-events.md).
 * A subscription's address ends in the connection's channel id; Graph first
 * proves it with a validation request (echo the token as text/plain within
 * 10 s), which also counts as the channel's first message. Each notification
 * carries the clientState we gave: `<channel>.<secret>`, the secret stored
 * hashed; one that does not match is dropped (403) and starts nothing.
 * Lifecycle events: reauthorizationRequired and subscriptionRemoved make the
 * next run renew or remake the subscriptions; missed forgets the delta
 * tokens, so the run lists everything again (links keep duplicates away).
 */
async function graphNotifications (app: FastifyInstance, opts: { k: Kalends }): Promise<void> {
  const { k } = opts
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) => { done(null, body) })

  async function channelConnection (channelId: string): Promise<Pick<Connection, 'id' | 'channel' | 'cursors'> | undefined> {
    if (channelId === '' || channelId.length > 200) return undefined
    return syncDb(k.db).selectFrom('sync_connections').select(['id', 'channel', 'cursors'])
      .where(eb => eb(eb.ref('channel', '->>').key('id' as never), '=', channelId)).where('disconnected_at', 'is', null).where('provider', '=', 'graph').executeTakeFirst()
  }
  const seen = (id: number, channelId: string) => syncDb(k.db).updateTable('sync_connections').set({ push_seen_at: new Date(), push_seen_channel: channelId }).where('id', '=', id).execute()

  function genuine (conn: Pick<Connection, 'channel'>, channelId: string, n: GraphNotice): boolean {
    const expected = (conn.channel as { stateSha256?: string } | null)?.stateSha256
    const [named, secret] = String(n.clientState ?? '').split('.')
    if (expected === undefined || expected.length !== 64 || named !== channelId || secret === undefined) return false
    const subs = ((conn.channel as { subs?: { id: string }[] }).subs ?? []).map(s => s.id)
    return subs.includes(String(n.subscriptionId)) && timingSafeEqual(Buffer.from(sha256(secret), 'hex'), Buffer.from(expected, 'hex'))
  }

  async function receive (lifecycle: boolean, request: { query: unknown; params: unknown; body: unknown }, reply: import('fastify').FastifyReply) {
    const q = request.query as { validationToken?: string }
    const channelId = String((request.params as { channel?: string }).channel ?? '')
    if (typeof q.validationToken === 'string') {
      const conn = await channelConnection(channelId)
      if (conn === undefined) return reply.code(404).send()
      await seen(conn.id, channelId)
      return reply.code(200).type('text/plain; charset=utf-8').send(q.validationToken)
    }
    let notices: GraphNotice[]
    try {
      notices = (JSON.parse(String(request.body ?? '')) as { value?: GraphNotice[] }).value ?? []
      if (!Array.isArray(notices)) throw new Error('not a list')
    } catch {
      return reply.code(400).send()
    }
    const conn = await channelConnection(channelId)
    if (conn === undefined) return reply.code(404).send()
    const valid = notices.filter(n => genuine(conn, channelId, n))
    if (valid.length === 0) return reply.code(403).send()
    await seen(conn.id, channelId)
    if (lifecycle) {
      const events = new Set(valid.map(n => n.lifecycleEvent))
      const channel = { ...conn.channel, ...(events.has('reauthorizationRequired') || events.has('subscriptionRemoved') ? { renew: true } : {}) }
      const cursors = { ...conn.cursors }
      // resetAt: a run under way keeps the reset (keepResets in engine.ts)
      if (events.has('missed')) { delete cursors.events; delete cursors.tasks; cursors.resetAt = new Date().toISOString() }
      await syncDb(k.db).updateTable('sync_connections').set({ channel: JSON.stringify(channel), cursors: JSON.stringify(cursors) }).where('id', '=', conn.id).execute()
    }
    await k.sync.jobs.request(conn.id, lifecycle ? { force: true } : {})
    return reply.code(202).send()
  }

  app.post('/sync/graph/notify/:channel', { schema: { hide: true } }, async (request, reply) => receive(false, request, reply))
  app.post('/sync/graph/lifecycle/:channel', { schema: { hide: true } }, async (request, reply) => receive(true, request, reply))
}
