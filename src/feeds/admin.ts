import { parseArgs } from 'node:util'
import type { Kalends } from '../app.ts'
import type { Actor } from '../domain/actor.ts'
import { createFeed, feedCalendars, listFeeds, revokeFeed, rotateFeed, setCalendarPrefs } from '../domain/feeds.ts'
import { notFound } from '../domain/errors.ts'
import { findUserByLogin } from '../domain/users.ts'
import { feedUrls } from './http.ts'
import { feedDb, type Feed } from './tables.ts'

/** `kalends feed …`: the admin acts as the feed's user, through the same domain operations as the API. */
export type FeedCommand =
  | { cmd: 'feed-list'; login: string }
  | { cmd: 'feed-create'; login: string; calendarId?: number; favourites?: boolean; busyOnly?: boolean; name?: string }
  | { cmd: 'feed-rotate'; id: number }
  | { cmd: 'feed-revoke'; id: number }
  | { cmd: 'feed-calendars'; login: string }
  | { cmd: 'feed-calendar'; login: string; calendarId: number; favourite?: boolean; allowExport?: boolean | null; shareesMayExport?: boolean }

async function actorFor (k: Kalends, login: string): Promise<Actor> {
  const user = await findUserByLogin(k.db, login)
  if (user === undefined) throw notFound(`user "${login}"`)
  return { user, origin: 'cli' }
}

async function actorOfFeed (k: Kalends, id: number): Promise<Actor> {
  const row = await feedDb(k.db).selectFrom('feeds').innerJoin('users', 'users.id', 'feeds.user_id').select('users.login').where('feeds.id', '=', id).executeTakeFirst()
  if (row === undefined) throw notFound('feed')
  return actorFor(k, row.login)
}

const summary = (f: Feed) => ({
  id: f.id, scope: f.scope, calendarId: f.calendar_id, busyOnly: f.busy_only, name: f.name, secretHint: `${f.token_hint}…`,
  createdAt: f.created_at, rotatedAt: f.rotated_at, revokedAt: f.revoked_at, lastFetchedAt: f.last_fetched_at, lastUserAgent: f.last_user_agent, fetchCount: f.fetch_count
})

export async function runFeedCommand (k: Kalends, c: FeedCommand): Promise<unknown> {
  const shown = (s: { feed: Feed; token: string }) => ({ ...summary(s.feed), ...feedUrls(k.config.publicUrl, s.token) })
  switch (c.cmd) {
    case 'feed-list': {
      const { user } = await actorFor(k, c.login)
      return (await listFeeds(k.db, user, { includeRevoked: true })).map(f => ({ ...summary(f), clients: f.clients.map(x => ({ userAgent: x.user_agent, lastSeen: x.last_seen, fetches: x.fetches })) }))
    }
    case 'feed-create':
      return shown(await createFeed(k.db, await actorFor(k, c.login), c))
    case 'feed-rotate':
      return shown(await rotateFeed(k.db, await actorOfFeed(k, c.id), c.id))
    case 'feed-revoke':
      await revokeFeed(k.db, await actorOfFeed(k, c.id), c.id)
      return { id: c.id, revoked: true }
    case 'feed-calendars': {
      const { user } = await actorFor(k, c.login)
      return (await feedCalendars(k.db, user)).map(x => ({ calendarId: x.id, name: x.name, access: x.access, favourite: x.favourite, allowExport: x.allowExport, exportable: x.exportable }))
    }
    case 'feed-calendar': {
      const x = await setCalendarPrefs(k.db, await actorFor(k, c.login), c.calendarId, c)
      return { calendarId: x.id, name: x.name, favourite: x.favourite, allowExport: x.allowExport, exportable: x.exportable, shareesMayExport: x.shareesMayExport }
    }
  }
}

export const FEED_USAGE = `  feed list <login>              a user's feed links, with who polls them
  feed create <login> (--calendar <id> | --favourites) [--busy] [--name <label>]
  feed rotate <feed id>          a new secret link; the old one stops at once
  feed revoke <feed id>
  feed calendars <login>         favourite and allow-export switches per calendar
  feed calendar <login> <calendar id> [--favourite on|off] [--export on|off|default] [--sharees-may-export on|off]`

function usage (message: string): never {
  throw Object.assign(new Error(message), { code: 'ERR_PARSE_ARGS_FEED' })
}

function onOff (name: string, v: string | undefined, allowDefault = false): boolean | null | undefined {
  if (v === undefined) return undefined
  if (v === 'on') return true
  if (v === 'off') return false
  if (allowDefault && v === 'default') return null
  return usage(`--${name} takes on${allowDefault ? ', off or default' : ' or off'}`)
}

function id (v: string | undefined, what: string): number {
  const n = Number(v)
  if (v === undefined || !Number.isInteger(n) || n < 1) usage(`feed: ${what} must be a number`)
  return n
}

/** The command line after `kalends feed`. */
export function parseFeedArgs (sub: string | undefined, args: string[]): FeedCommand {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      calendar: { type: 'string' }, favourites: { type: 'boolean' }, busy: { type: 'boolean' }, name: { type: 'string' },
      favourite: { type: 'string' }, export: { type: 'string' }, 'sharees-may-export': { type: 'string' }
    }
  })
  const [first, second] = positionals
  const login = () => first ?? usage(`feed ${sub}: give a login`)
  switch (sub) {
    case 'list': return { cmd: 'feed-list', login: login() }
    case 'create':
      if ((values.calendar === undefined) === (values.favourites !== true)) usage('feed create: give --calendar <id> or --favourites')
      return { cmd: 'feed-create', login: login(), calendarId: values.calendar === undefined ? undefined : id(values.calendar, '--calendar'), favourites: values.favourites, busyOnly: values.busy, name: values.name }
    case 'rotate': return { cmd: 'feed-rotate', id: id(first, 'the feed id') }
    case 'revoke': return { cmd: 'feed-revoke', id: id(first, 'the feed id') }
    case 'calendars': return { cmd: 'feed-calendars', login: login() }
    case 'calendar': {
      const favourite = onOff('favourite', values.favourite)
      const shareesMayExport = onOff('sharees-may-export', values['sharees-may-export'])
      return {
        cmd: 'feed-calendar', login: login(), calendarId: id(second, 'the calendar id'),
        ...(favourite === undefined || favourite === null ? {} : { favourite }),
        allowExport: onOff('export', values.export, true),
        ...(shareesMayExport === undefined || shareesMayExport === null ? {} : { shareesMayExport })
      }
    }
    default: return usage(`unknown feed command "${sub ?? ''}"`)
  }
}
