import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Kalends } from '../../app.ts'
import type { Actor } from '../../domain/actor.ts'
import { createFeed, feedCalendars, listFeeds, revokeFeed, rotateFeed, setCalendarPrefs, type FeedCalendar, type FeedClient } from '../../domain/feeds.ts'
import { notFound } from '../../domain/errors.ts'
import { feedUrls } from '../../feeds/http.ts'
import type { Feed } from '../../feeds/tables.ts'

/**
 * /api/v1/feeds: the signed-in user's feed links, and per calendar the
 * favourite and "allow export" switches they depend on. A secret is shown
 * once, when it is made (create, rotate); only its hash is kept.
 */

const Id = Type.Integer({ minimum: 1 })
const FeedCreate = Type.Object({
  calendarId: Type.Optional(Id),
  favourites: Type.Optional(Type.Boolean({ description: 'one feed of all the user\'s favourite calendars' })),
  busyOnly: Type.Optional(Type.Boolean({ description: 'times only: every title "Busy", no description, location, attendees or alarms' })),
  name: Type.Optional(Type.String({ maxLength: 100 }))
}, { additionalProperties: false })
const SettingsPatch = Type.Object({
  favourite: Type.Optional(Type.Boolean()),
  // a type list, not anyOf: with type coercion on, anyOf would turn null into false
  allowExport: Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'], description: 'null: back to the default' })),
  shareesMayExport: Type.Optional(Type.Boolean({ description: 'owner only: people the calendar is shared with may export it' }))
}, { additionalProperties: false })
const IdParams = Type.Object({ id: Id })

const iso = (d: Date | null) => d?.toISOString() ?? null

const feedView = (f: Feed & { clients?: FeedClient[] }) => ({
  id: f.id, scope: f.scope, calendarId: f.calendar_id, busyOnly: f.busy_only, name: f.name,
  secretHint: `${f.token_hint}…`, createdAt: iso(f.created_at), rotatedAt: iso(f.rotated_at), revokedAt: iso(f.revoked_at),
  lastFetchedAt: iso(f.last_fetched_at), lastUserAgent: f.last_user_agent, fetchCount: f.fetch_count,
  ...(f.clients === undefined ? {} : { clients: f.clients.map(c => ({ userAgent: c.user_agent, firstSeen: iso(c.first_seen), lastSeen: iso(c.last_seen), fetches: c.fetches })) })
})

const settingsView = (c: FeedCalendar) => ({
  calendarId: c.id, name: c.name, access: c.access, favourite: c.favourite, allowExport: c.allowExport,
  ownerAllowsExport: c.ownerAllows, exportable: c.exportable, ...(c.access === 'owner' ? { shareesMayExport: c.shareesMayExport } : {})
})

export async function feedApi (app: FastifyInstance, k: Kalends): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const db = k.db
  const actorOf = (request: FastifyRequest): Actor => ({ user: request.user!, origin: 'api' })
  const withSecret = (s: { feed: Feed; token: string }) => ({ ...feedView(s.feed), secret: s.token, ...feedUrls(k.config.publicUrl, s.token) })

  api.get('/feeds', { schema: { tags: ['feeds'], querystring: Type.Object({ includeRevoked: Type.Optional(Type.Boolean()) }, { additionalProperties: false }) } },
    async request => (await listFeeds(db, request.user!, { includeRevoked: request.query.includeRevoked })).map(feedView))
  api.post('/feeds', { schema: { tags: ['feeds'], body: FeedCreate } }, async (request, reply) => reply.code(201).send(withSecret(await createFeed(db, actorOf(request), request.body))))
  api.get('/feeds/:id', { schema: { tags: ['feeds'], params: IdParams } }, async request => {
    const feed = (await listFeeds(db, request.user!, { includeRevoked: true })).find(f => f.id === request.params.id)
    if (feed === undefined) throw notFound('feed')
    return feedView(feed)
  })
  api.post('/feeds/:id/rotate', { schema: { tags: ['feeds'], params: IdParams } }, async request => withSecret(await rotateFeed(db, actorOf(request), request.params.id)))
  api.delete('/feeds/:id', { schema: { tags: ['feeds'], params: IdParams } }, async (request, reply) => {
    await revokeFeed(db, actorOf(request), request.params.id)
    return reply.code(204).send()
  })
  api.get('/feeds/calendars', { schema: { tags: ['feeds'] } }, async request => (await feedCalendars(db, request.user!)).map(settingsView))
  api.patch('/feeds/calendars/:id', { schema: { tags: ['feeds'], params: IdParams, body: SettingsPatch } },
    async request => settingsView(await setCalendarPrefs(db, actorOf(request), request.params.id, request.body)))
}

/** As a Fastify plugin inside the signed-in API: `app.register(import('./feeds.ts'), { k })`. */
export default async function feedApiPlugin (app: FastifyInstance, opts: { k: Kalends }): Promise<void> {
  await feedApi(app, opts.k)
}
