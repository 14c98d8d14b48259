import { randomBytes } from 'node:crypto'
import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import { sha256 } from '../auth/api-tokens.ts'
import { feedDb, type CalendarUserPrefs, type Feed, type FeedScope } from '../feeds/tables.ts'
import { calendarAccess, requireCalendar, visibleCalendars, type VisibleCalendar } from './access.ts'
import type { Actor } from './actor.ts'
import { DomainError, invalid, notFound } from './errors.ts'
import { record } from './journal.ts'
import { text } from './values.ts'

/**
 * iCal feeds: secret links that calendar apps subscribe to, read-only. A feed
 * belongs to a user and shows what that user may see (access.ts decides),
 * limited by the "allow export" switches: a calendar shared by somebody else
 * is exported only when its owner allows it.
 */

export type ExportState = {
  /** the owner (an admin, for the company calendar) lets the people it is shared with publish it */
  ownerAllows: boolean
  /** the user's own switch, or its default when never set */
  allowExport: boolean
  /** a feed may show this calendar */
  exportable: boolean
  favourite: boolean
  shareesMayExport: boolean
}

export type FeedCalendar = VisibleCalendar & ExportState

type Policy = { calendar_id: number; sharees_may_export: boolean }

export function exportState (cal: VisibleCalendar, pref: Pick<CalendarUserPrefs, 'favourite' | 'allow_export'> | undefined, policy: Policy | undefined): ExportState {
  const shareesMayExport = policy?.sharees_may_export ?? false
  const ownerAllows = cal.access === 'owner' || shareesMayExport
  const allowExport = pref?.allow_export ?? ownerAllows
  return { ownerAllows, allowExport, exportable: ownerAllows && allowExport, favourite: pref?.favourite ?? false, shareesMayExport }
}

/** The user's visible calendars (or the one asked for) with their favourite and export state. */
export async function feedCalendars (db: Db, user: User, only?: number): Promise<FeedCalendar[]> {
  const fdb = feedDb(db)
  let cals: VisibleCalendar[]
  if (only === undefined) cals = await visibleCalendars(db, user)
  else {
    const one = await calendarAccess(db, user, only)
    cals = one === null ? [] : [one]
  }
  if (cals.length === 0) return []
  const ids = cals.map(c => c.id)
  const [prefs, policies] = await Promise.all([
    fdb.selectFrom('calendar_user_prefs').select(['calendar_id', 'favourite', 'allow_export']).where('user_id', '=', user.id).where('calendar_id', 'in', ids).execute(),
    fdb.selectFrom('calendar_export_policy').select(['calendar_id', 'sharees_may_export']).where('calendar_id', 'in', ids).execute()
  ])
  const prefOf = new Map(prefs.map(p => [p.calendar_id, p]))
  const policyOf = new Map(policies.map(p => [p.calendar_id, p]))
  return cals.map(c => ({ ...c, ...exportState(c, prefOf.get(c.id), policyOf.get(c.id)) }))
}

export type CalendarPrefsInput = { favourite?: boolean; allowExport?: boolean | null; shareesMayExport?: boolean }

export async function setCalendarPrefs (db: Db, actor: Actor, calendarId: number, input: CalendarPrefsInput): Promise<FeedCalendar> {
  for (const key of ['favourite', 'shareesMayExport'] as const) {
    if (input[key] !== undefined && typeof input[key] !== 'boolean') throw invalid(key, 'must be true or false')
  }
  if (input.allowExport !== undefined && input.allowExport !== null && typeof input.allowExport !== 'boolean') throw invalid('allowExport', 'must be true, false or null (the default)')
  await db.transaction().execute(async tx => {
    const ftx = feedDb(tx)
    const cal = await requireCalendar(tx, actor.user, calendarId, 'read')
    const now = new Date()
    if (input.shareesMayExport !== undefined) {
      if (cal.access !== 'owner') throw new DomainError('forbidden', 'only the calendar\'s owner decides whether others may export it', { rule: 'need-privileges', field: 'shareesMayExport' })
      await ftx.insertInto('calendar_export_policy').values({ calendar_id: calendarId, sharees_may_export: input.shareesMayExport, updated_at: now })
        .onConflict(oc => oc.column('calendar_id').doUpdateSet({ sharees_may_export: input.shareesMayExport, updated_at: now })).execute()
    }
    if (input.allowExport === true && cal.access !== 'owner') {
      const policy = await ftx.selectFrom('calendar_export_policy').select('sharees_may_export').where('calendar_id', '=', calendarId).executeTakeFirst()
      if (policy?.sharees_may_export !== true) throw new DomainError('forbidden', 'the calendar\'s owner does not allow exporting it', { rule: 'export-not-allowed', field: 'allowExport' })
    }
    if (input.favourite !== undefined || input.allowExport !== undefined) {
      const set = {
        ...(input.favourite === undefined ? {} : { favourite: input.favourite }),
        ...(input.allowExport === undefined ? {} : { allow_export: input.allowExport }),
        updated_at: now
      }
      await ftx.insertInto('calendar_user_prefs').values({ calendar_id: calendarId, user_id: actor.user.id, ...set })
        .onConflict(oc => oc.columns(['calendar_id', 'user_id']).doUpdateSet(set)).execute()
    }
    await record(tx, [{
      org_id: actor.user.org_id, entity: 'calendar_pref', entity_id: calendarId, op: 'update', origin: actor.origin, actor_id: actor.user.id,
      detail: { userId: actor.user.id, favourite: input.favourite, allowExport: input.allowExport, shareesMayExport: input.shareesMayExport }
    }])
  })
  return (await feedCalendars(db, actor.user, calendarId))[0]!
}

export type FeedInput = { calendarId?: number; favourites?: boolean; busyOnly?: boolean; name?: string }
export type NewSecret = { feed: Feed; token: string }

function newToken (): { token: string; hash: string; hint: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: sha256(token), hint: token.slice(0, 4) }
}

export async function createFeed (db: Db, actor: Actor, input: FeedInput): Promise<NewSecret> {
  const favourites = input.favourites === true
  if (favourites === (input.calendarId !== undefined)) throw invalid(favourites ? 'favourites' : 'calendarId', 'give either a calendarId or favourites: true')
  const name = input.name === undefined ? '' : text('name', input.name, { max: 100 })
  const scope: FeedScope = favourites ? 'favourites' : 'calendar'
  return db.transaction().execute(async tx => {
    if (input.calendarId !== undefined) {
      const [cal] = await feedCalendars(tx, actor.user, input.calendarId)
      if (cal === undefined) throw notFound('calendar')
      if (!cal.exportable) {
        throw new DomainError('forbidden', cal.ownerAllows ? 'export is switched off for this calendar; switch "allow export" on first' : 'the calendar\'s owner does not allow exporting it', { rule: 'export-not-allowed', field: 'calendarId' })
      }
    }
    const { token, hash, hint } = newToken()
    const feed = await feedDb(tx).insertInto('feeds').values({
      org_id: actor.user.org_id, user_id: actor.user.id, scope, calendar_id: input.calendarId ?? null,
      busy_only: input.busyOnly === true, name, token_sha256: hash, token_hint: hint
    }).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: feed.org_id, entity: 'feed', entity_id: feed.id, op: 'create', origin: actor.origin, actor_id: actor.user.id, detail: { scope, calendarId: feed.calendar_id, busyOnly: feed.busy_only } }])
    return { feed, token }
  })
}

async function ownFeed (tx: Db, actor: Actor, id: number): Promise<Feed> {
  const feed = await feedDb(tx).selectFrom('feeds').selectAll().where('id', '=', id).where('user_id', '=', actor.user.id).executeTakeFirst()
  if (feed === undefined || feed.revoked_at !== null) throw notFound('feed')
  return feed
}

/** A new secret for the feed; the old link stops working in the same transaction. */
export async function rotateFeed (db: Db, actor: Actor, id: number): Promise<NewSecret> {
  return db.transaction().execute(async tx => {
    const before = await ownFeed(tx, actor, id)
    const { token, hash, hint } = newToken()
    const feed = await feedDb(tx).updateTable('feeds').set({ token_sha256: hash, token_hint: hint, generation: before.generation + 1, rotated_at: new Date() })
      .where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: feed.org_id, entity: 'feed', entity_id: id, op: 'update', origin: actor.origin, actor_id: actor.user.id, detail: { rotated: feed.generation } }])
    return { feed, token }
  })
}

export async function revokeFeed (db: Db, actor: Actor, id: number): Promise<void> {
  await db.transaction().execute(async tx => {
    await ownFeed(tx, actor, id)
    await feedDb(tx).updateTable('feeds').set({ revoked_at: new Date() }).where('id', '=', id).execute()
    await record(tx, [{ org_id: actor.user.org_id, entity: 'feed', entity_id: id, op: 'delete', origin: actor.origin, actor_id: actor.user.id }])
  })
}

export type FeedClient = { feed_id: number; user_agent: string; first_seen: Date; last_seen: Date; fetches: number }

/** The user's feeds, newest first, with who polls them; revoked ones too, so the owner sees they are gone. */
export async function listFeeds (db: Db, user: User, opts: { includeRevoked?: boolean } = {}): Promise<(Feed & { clients: FeedClient[] })[]> {
  const fdb = feedDb(db)
  let q = fdb.selectFrom('feeds').selectAll().where('user_id', '=', user.id)
  if (opts.includeRevoked !== true) q = q.where('revoked_at', 'is', null)
  const feeds = await q.orderBy('id', 'desc').execute()
  if (feeds.length === 0) return []
  const clients = await fdb.selectFrom('feed_clients').selectAll().where('feed_id', 'in', feeds.map(f => f.id)).orderBy('last_seen', 'desc').execute()
  return feeds.map(f => ({ ...f, clients: clients.filter(c => c.feed_id === f.id) }))
}

export type ResolvedFeed = { feed: Feed; user: User; calendars: FeedCalendar[] }

/**
 * What a feed link shows right now, or null when it shows nothing: unknown,
 * rotated or revoked secret, disabled user, a calendar no longer visible or
 * exportable. Callers answer all of these alike.
 */
export async function resolveFeed (db: Db, tokenHash: string): Promise<ResolvedFeed | null> {
  const fdb = feedDb(db)
  const feed = await fdb.selectFrom('feeds').selectAll().where('token_sha256', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst()
  if (feed === undefined) return null
  const user = await db.selectFrom('users').selectAll().where('id', '=', feed.user_id).executeTakeFirst()
  if (user === undefined || user.disabled || user.org_id !== feed.org_id) return null
  const all = await feedCalendars(db, user, feed.calendar_id ?? undefined)
  const calendars = feed.scope === 'calendar' ? all.filter(c => c.exportable) : all.filter(c => c.favourite && c.exportable)
  if (feed.scope === 'calendar' && calendars.length === 0) return null
  return { feed, user, calendars }
}

export type FeedAccess = { feedId: number; at: Date; userAgent: string; fetches: number }

/**
 * Who polled: the last fetch and user agent per feed, and one row per user
 * agent. This is telemetry, not a change of anything a client syncs, so it
 * is not journaled (a journal entry per poll would invalidate every cache).
 */
export async function recordFeedAccess (db: Db, entries: FeedAccess[]): Promise<void> {
  if (entries.length === 0) return
  // one transaction: the feed's count and its clients' rows are read together, so they agree
  await db.transaction().execute(async trx => {
    const fdb = feedDb(trx)
    for (const e of entries) {
      const ua = e.userAgent.slice(0, 300)
      await fdb.updateTable('feeds').set(eb => ({ last_fetched_at: e.at, last_user_agent: ua, fetch_count: eb('fetch_count', '+', e.fetches) }))
        .where('id', '=', e.feedId).execute()
      await fdb.insertInto('feed_clients').values({ feed_id: e.feedId, user_agent: ua, first_seen: e.at, last_seen: e.at, fetches: e.fetches })
        .onConflict(oc => oc.columns(['feed_id', 'user_agent']).doUpdateSet(eb => ({ last_seen: e.at, fetches: eb('feed_clients.fetches', '+', e.fetches) }))).execute()
    }
  })
}
