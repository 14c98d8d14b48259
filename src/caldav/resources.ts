import type { FastifyRequest } from 'fastify'
import type { User } from '../db/schema.ts'
import type { Actor } from '../domain/actor.ts'
import type { ListOptions, MemberColumns, MemberRow, ObjectRow } from '../domain/calendar-objects.ts'
import type { CardRow } from '../domain/address-book-cards.ts'
import type { CalDavBackend, DavAddressBook, DavCalendar, ReadAlong, Target } from './backend.ts'
import { ADDRESSBOOKS, CALENDARS, PRINCIPALS, ROOT, abHomePath, addressBookPath, calendarPath, cardPath, homePath, objectPath, parsePath, principalPath, type DavPath } from './paths.ts'

/** One DAV request: who asks, through which backend, with per-request caches. */
export type Ctx = {
  backend: CalDavBackend
  user: User
  actor: Actor
  request: FastifyRequest
  maxResourceSize: number
  /** most members a sync-collection answer carries (KALENDS_SYNC_PAGE_SIZE) */
  syncPage: number
  /** the address users reach the server at; a COPY/MOVE Destination there is this server */
  publicUrl: string
  /** calendar id → journal position, so one request asks at most once */
  versions: Map<number, Promise<number>>
  calendars?: Promise<DavCalendar[]>
  /** set once preloadVersions has asked for every calendar's version */
  preloaded?: Promise<void>
  addressBooks?: Promise<DavAddressBook[]>
  /** address book id → journal position, all asked at once */
  bookVersions?: Promise<Map<number, number>>
  /** what the sign-in check read for the request's target (backend.authenticate) */
  along?: ReadAlong
}

/**
 * What a request will read first, for the sign-in check to read along
 * (backend.authenticate): a GET's object, a REPORT's or PROPFIND's calendar
 * version. Named from the path alone, before anyone is signed in; a path
 * that does not parse has none (it is refused after the sign-in, as before).
 */
export function targetOf (method: string, path: string): Target | undefined {
  let p: DavPath
  try { p = parsePath(path) } catch { return undefined }
  if ((method === 'GET' || method === 'HEAD') && p.kind === 'object') return { calendar: p.calendar, object: p.object }
  if ((method === 'REPORT' || method === 'PROPFIND') && p.kind === 'calendar') return { calendar: p.calendar }
  return undefined
}

export type Resource =
  | { kind: 'root'; path: string }
  | { kind: 'principals'; path: string }
  | { kind: 'principal'; path: string; principal: User }
  | { kind: 'calendars'; path: string }
  | { kind: 'home'; path: string; owner: User }
  | { kind: 'calendar'; path: string; cal: DavCalendar }
  | { kind: 'object'; path: string; cal: DavCalendar; obj: ObjectRow }
  | { kind: 'addressbooks'; path: string }
  | { kind: 'abhome'; path: string; owner: User }
  | { kind: 'addressbook'; path: string; book: DavAddressBook }
  | { kind: 'card'; path: string; book: DavAddressBook; card: CardRow }

/** A path inside a calendar that does not exist yet (a PUT target). */
export type Missing = { kind: 'missing'; path: string; cal: DavCalendar; name: string }

export function calendarsOf (ctx: Ctx): Promise<DavCalendar[]> {
  ctx.calendars ??= ctx.backend.calendars(ctx.user)
  return ctx.calendars
}

export async function calendarBySegment (ctx: Ctx, segment: string): Promise<DavCalendar | null> {
  return (await calendarsOf(ctx)).find(c => c.segment === segment) ?? null
}

export function versionOf (ctx: Ctx, cal: DavCalendar): Promise<number> {
  let v = ctx.versions.get(cal.id)
  if (v === undefined) {
    const along = ctx.along
    v = along !== undefined && along.calendar === cal && along.object === undefined && along.version !== undefined ? Promise.resolve(along.version) : ctx.backend.calendarVersion(ctx.user, cal)
    ctx.versions.set(cal.id, v)
  }
  return v
}

/** Versions of every calendar in the home with one query, for listings of the home; once per request. */
export function preloadVersions (ctx: Ctx): Promise<void> {
  ctx.preloaded ??= (async () => {
    const cals = await calendarsOf(ctx)
    const all = ctx.backend.homeVersions(ctx.user, cals)
    for (const cal of cals) {
      if (!ctx.versions.has(cal.id)) ctx.versions.set(cal.id, all.then(m => m.get(cal.id) ?? 0))
    }
    await all
  })()
  return ctx.preloaded
}

export function addressBooksOf (ctx: Ctx): Promise<DavAddressBook[]> {
  ctx.addressBooks ??= ctx.backend.addressBooks(ctx.user)
  return ctx.addressBooks
}

export async function addressBookBySegment (ctx: Ctx, segment: string): Promise<DavAddressBook | null> {
  return (await addressBooksOf(ctx)).find(b => b.segment === segment) ?? null
}

/** The address book's journal position (ctag, sync token); every book of the home asked at once, once a request. */
export async function bookVersionOf (ctx: Ctx, book: DavAddressBook): Promise<number> {
  ctx.bookVersions ??= addressBooksOf(ctx).then(books => ctx.backend.addressBookVersions(books))
  return (await ctx.bookVersions).get(book.id) ?? (await ctx.backend.addressBookVersions([book])).get(book.id) ?? 0
}

export const addressBookHref = (ctx: Ctx, book: DavAddressBook) => addressBookPath(ctx.user.login, book.segment)
export const cardHref = (ctx: Ctx, book: DavAddressBook, name: string) => cardPath(ctx.user.login, book.segment, name)

const own = (ctx: Ctx, login: string) => login.toLowerCase() === ctx.user.login.toLowerCase()

/**
 * The resource at a path, or null when there is none the user may see:
 * other people's homes and calendars answer 404 like things that do not exist.
 */
export async function resolve (ctx: Ctx, rawPath: string, opts: { withBody?: boolean; allowMissing?: boolean } = {}): Promise<Resource | Missing | null> {
  // the bare server address answers like the DAV root, for clients that start there
  if (rawPath === '/') return { kind: 'root', path: '/' }
  const p = parsePath(rawPath)
  switch (p.kind) {
    case 'root': return { kind: 'root', path: ROOT }
    case 'principals': return { kind: 'principals', path: PRINCIPALS }
    case 'calendars': return { kind: 'calendars', path: CALENDARS }
    case 'principal': {
      const principal = await ctx.backend.user(ctx.user, p.login)
      return principal === null ? null : { kind: 'principal', path: principalPath(principal.login), principal }
    }
    case 'home':
      return own(ctx, p.login) ? { kind: 'home', path: homePath(ctx.user.login), owner: ctx.user } : null
    case 'calendar': {
      if (!own(ctx, p.login)) return null
      const cal = await calendarBySegment(ctx, p.calendar)
      return cal === null ? null : { kind: 'calendar', path: calendarPath(ctx.user.login, cal.segment), cal }
    }
    case 'object': {
      if (!own(ctx, p.login)) return null
      const cal = await calendarBySegment(ctx, p.calendar)
      if (cal === null) return null
      const along = ctx.along
      // a GET's object was read with the sign-in check, body and all
      const obj = along !== undefined && along.calendar === cal && along.object === p.object && opts.withBody === true
        ? along.row
        : await ctx.backend.object(ctx.user, cal, p.object, opts.withBody ?? false)
      if (obj === null) return opts.allowMissing === true ? { kind: 'missing', path: objectPath(ctx.user.login, cal.segment, p.object), cal, name: p.object } : null
      return { kind: 'object', path: objectPath(ctx.user.login, cal.segment, obj.name), cal, obj }
    }
    case 'addressbooks': return { kind: 'addressbooks', path: ADDRESSBOOKS }
    case 'abhome':
      return own(ctx, p.login) ? { kind: 'abhome', path: abHomePath(ctx.user.login), owner: ctx.user } : null
    case 'addressbook': {
      const book = own(ctx, p.login) ? await addressBookBySegment(ctx, p.book) : null
      return book === null ? null : { kind: 'addressbook', path: addressBookHref(ctx, book), book }
    }
    case 'card': {
      const book = own(ctx, p.login) ? await addressBookBySegment(ctx, p.book) : null
      const card = book === null ? null : await ctx.backend.card(book, p.card, opts.withBody ?? false)
      return book === null || card === null ? null : { kind: 'card', path: cardHref(ctx, book, card.name), book, card }
    }
    default: return null
  }
}

export function calendarHref (ctx: Ctx, cal: DavCalendar): string {
  return calendarPath(ctx.user.login, cal.segment)
}

export function objectHref (ctx: Ctx, cal: DavCalendar, name: string): string {
  return objectPath(ctx.user.login, cal.segment, name)
}

/**
 * Rows a listing reads at a time, so a large calendar is never held whole
 * (tests make it small); rows without bodies are small, so more at a time
 * (a PROPFIND Depth: 1 of 10,000 ETags in one statement, not ten).
 */
export const listing = { page: 1000, pageWithoutBodies: 10_000 }

/** Rows `read` gives a page of `limit` at a time, in id order, each page after the last one's id. */
async function * inPages<R extends { id: number }> (withBody: boolean, read: (page: { afterId?: number; limit: number }) => Promise<R[]>): AsyncGenerator<R[]> {
  let afterId: number | undefined
  for (;;) {
    const limit = withBody ? listing.page : listing.pageWithoutBodies
    const rows = await read({ limit, ...(afterId === undefined ? {} : { afterId }) })
    if (rows.length > 0) yield rows
    if (rows.length < limit) return
    afterId = rows.at(-1)!.id
  }
}

/** The address book's cards a page at a time, in id order. */
export function cardPages (ctx: Ctx, book: DavAddressBook, withBody: boolean): AsyncGenerator<CardRow[]> {
  return inPages(withBody, page => ctx.backend.listCards(book, { withBody, ...page }))
}

/** The calendar's objects (as backend.list selects them) a page at a time, in id order. */
export function objectPages (ctx: Ctx, cal: DavCalendar, opts: ListOptions = {}): AsyncGenerator<ObjectRow[]> {
  return inPages(opts.withBody === true, page => ctx.backend.list(ctx.user, cal, { ...opts, ...page }))
}

/** Every object of the calendar as the text of its member needs it (backend.members), a page at a time. */
export function memberPages (ctx: Ctx, cal: DavCalendar, cols: MemberColumns): AsyncGenerator<MemberRow[]> {
  return inPages(cols.withBody, page => ctx.backend.members(ctx.user, cal, cols, page))
}
