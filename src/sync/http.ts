import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Kalends } from '../app.ts'
import { sha256 } from '../auth/api-tokens.ts'
import { syncDb } from './tables.ts'

/**
 * Google's push notifications: no payload, only "something changed in the
 * calendar behind channel X". The channel's token (stored hashed) proves the
 * notification comes from the channel we made; the answer is a sync run soon.
 * Unknown or forged channels get 404 and change nothing.
 */
export default async function syncHttp (app: FastifyInstance, opts: { k: Kalends }): Promise<void> {
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
