import type { FastifyRequest } from 'fastify'
import type { Kalends } from '../app.ts'
import type { User } from '../db/schema.ts'
import type { VisibleAddressBook, VisibleCalendar } from '../domain/access.ts'
import { addressBookVersions, cardChanges, deleteCard, getCard, getCards, listCards, putCard, type CardChanges, type CardPutResult, type CardRow } from '../domain/address-book-cards.ts'
import { addressBooksFor, updateAddressBook } from '../domain/contacts.ts'
import type { Actor } from '../domain/actor.ts'
import { createCalendar, deleteCalendar, renameCalendar, updateCalendar, type CalendarInput } from '../domain/calendars.ts'
import { copyObject, moveObject, type Destination } from '../domain/copy-move.ts'
import {
  calendarsFor, calendarVersion, calendarVersionAlong, decidedAgain, calendarVersionsOf, deleteObject, getObject, getObjects, listMembers, listObjects, memberRowChanges, loginsOf, objectAlong, objectChanges,
  objectFromAlong, putObject, versionFromAlong,
  type CalendarRef, type ChangeOptions, type ListOptions, type MemberColumns, type MemberRow, type ObjectChanges, type ObjectJson, type ObjectRow, type Preconditions, type PutResult, type VersionJson
} from '../domain/calendar-objects.ts'
import type { MemberChanges } from '../domain/journal.ts'
import { findUserByLogin, listUsers } from '../domain/users.ts'
import { signedIn } from '../http/authenticate.ts'
import { calendarSegment } from './paths.ts'

/** A calendar as it appears in the requesting user's home. */
export type DavCalendar = VisibleCalendar & { segment: string; ownerLogin: string | null }
/** An address book as it appears in the requesting user's address book home. */
export type DavAddressBook = VisibleAddressBook & { segment: string; ownerLogin: string | null }

/** A request's target in the user's own home, named before sign-in: a calendar's segment, and an object's name in it. */
export type Target = { calendar: string; object?: string }

/**
 * What was read with the request's sign-in check for its target (one round
 * trip for both): the calendar as calendars() gives it, and the object's row
 * (null: none by that name) or the calendar's version (calendarVersion;
 * undefined when it could not be read exactly that way).
 */
export type ReadAlong = { calendar: DavCalendar } & ({ object: string; row: ObjectRow | null } | { object?: undefined; version: number | undefined })

/**
 * What the CalDAV handlers need from the store. Handlers never touch the
 * database: every read and write goes through this, and every write through
 * the domain layer (business rules, journal).
 */
export interface CalDavBackend {
  /** The signed-in user (null: no credentials), and what was read for `target` along with the check, when it could be. */
  authenticate (request: FastifyRequest, target?: Target): Promise<{ user: User; along?: ReadAlong } | null>
  /** A user of the viewer's organisation by login; null when there is none. */
  user (viewer: User, login: string): Promise<User | null>
  users (viewer: User): Promise<User[]>
  calendars (viewer: User): Promise<DavCalendar[]>
  calendar (viewer: User, segment: string): Promise<DavCalendar | null>
  /** The calendar's journal position: the base of its ctag and sync token. */
  calendarVersion (viewer: User, calendar: CalendarRef): Promise<number>
  /** The same for every calendar of the viewer's home at once, as calendars() gave them. */
  homeVersions (viewer: User, calendars: DavCalendar[]): Promise<Map<number, number>>
  // A calendar is passed as this backend's calendars() gave it (its access is decided
  // already, so the domain does not ask again) or by id (then it checks).
  object (viewer: User, calendar: CalendarRef, name: string, withBody?: boolean): Promise<ObjectRow | null>
  objects (viewer: User, calendar: CalendarRef, names: string[], withBody?: boolean): Promise<ObjectRow[]>
  list (viewer: User, calendar: CalendarRef, opts?: ListOptions): Promise<ObjectRow[]>
  /** `at`: the calendar's version read along with this request's sign-in (ReadAlong), else asked for */
  changes (viewer: User, calendar: CalendarRef, since: number, opts?: ChangeOptions & { withBody?: boolean }): Promise<ObjectChanges>
  /** list and changes as the text of a listing's members needs them (member-xml.ts): fewer columns to read and parse */
  members (viewer: User, calendar: CalendarRef, cols: MemberColumns, page: { afterId?: number; limit?: number }): Promise<MemberRow[]>
  memberChanges (viewer: User, calendar: CalendarRef, since: number, cols: MemberColumns, opts?: ChangeOptions): Promise<MemberChanges<MemberRow>>
  put (actor: Actor, calendar: CalendarRef, name: string, body: string, cond: Preconditions): Promise<PutResult>
  remove (actor: Actor, calendar: CalendarRef, name: string, cond: Preconditions): Promise<'deleted' | 'left'>
  /** A new item at the destination from the source's body as the user sees it. */
  copy (actor: Actor, source: { uid: string; body: string }, to: Destination): Promise<{ created: boolean }>
  /** The same item under another name or in another calendar. */
  move (actor: Actor, from: CalendarRef, name: string, to: Destination, cond: Preconditions): Promise<{ created: boolean }>
  createCalendar (actor: Actor, input: CalendarInput): Promise<void>
  updateCalendar (actor: Actor, calendarId: number, input: CalendarInput & { deadProps?: Record<string, string | null> }): Promise<void>
  deleteCalendar (actor: Actor, calendarId: number): Promise<void>
  renameCalendar (actor: Actor, calendarId: number, slug: string, opts: { replace: boolean }): Promise<{ replaced: boolean }>
  // CardDAV: address books as addressBooks() gave them (access decided by access.ts)
  addressBooks (viewer: User): Promise<DavAddressBook[]>
  addressBookVersions (books: DavAddressBook[]): Promise<Map<number, number>>
  card (book: DavAddressBook, name: string, withBody?: boolean): Promise<CardRow | null>
  cards (book: DavAddressBook, names: string[], withBody?: boolean): Promise<CardRow[]>
  listCards (book: DavAddressBook, opts: { withBody?: boolean; afterId?: number; limit?: number }): Promise<CardRow[]>
  cardChanges (book: DavAddressBook, since: number, opts?: { limit?: number; withBody?: boolean }): Promise<CardChanges>
  putCard (actor: Actor, book: DavAddressBook, name: string, body: string, cond: Preconditions): Promise<CardPutResult>
  removeCard (actor: Actor, book: DavAddressBook, name: string, cond: Preconditions): Promise<void>
  updateAddressBook (actor: Actor, bookId: number, input: { name?: string; description?: string; deadProps?: Record<string, string | null> }): Promise<void>
}

/** The backend over Kalends' domain layer. */
export function domainBackend (k: Kalends): CalDavBackend {
  const db = k.db
  /**
   * Each user's visible calendars and address books, as access.ts decided
   * them, kept under the access version their sign-in check read (see
   * SignIn.accessVersion): a client's every request would otherwise ask
   * again. Any change to users, shares, calendars or address books moves
   * the version, so the next request of any process decides afresh.
   */
  const kept = new Map<number, { version: number; calendars?: Promise<DavCalendar[]>; settled?: DavCalendar[]; books?: Promise<DavAddressBook[]> }>()
  function keptFor (viewer: User) {
    const version = k.signIn.accessVersion(viewer)
    if (version === undefined) return null
    let entry = kept.get(viewer.id)
    if (entry === undefined || entry.version !== version) {
      if (kept.size >= 10_000) kept.clear()
      entry = { version }
      kept.set(viewer.id, entry)
    }
    return entry
  }
  async function calendars (viewer: User): Promise<DavCalendar[]> {
    const entry = keptFor(viewer)
    if (entry === null) return decideCalendars(viewer)
    if (entry.calendars === undefined) {
      const list = entry.calendars = decideCalendars(viewer)
      list.then(l => { entry.settled = l }, () => { if (entry.calendars === list) entry.calendars = undefined })
    }
    return decidedAgain(await entry.calendars, viewer) as DavCalendar[]
  }
  /**
   * The sign-in check, with the target's read in the same statement when
   * this user's calendars are kept: the calendar's id comes from the kept
   * list, and what was read is used only if the access version the check
   * read is the one that list was kept under (so the decision stands, in
   * the same snapshot as the read) and the sign-in holds.
   */
  async function authenticate (request: FastifyRequest, target?: Target): Promise<{ user: User; along?: ReadAlong } | null> {
    let asked: { userId: number; version: number; calendar: DavCalendar } | undefined
    const along = target === undefined
      ? undefined
      : (userId: number) => {
          const entry = kept.get(userId)
          const calendar = entry?.settled?.find(c => c.segment === target.calendar)
          if (entry === undefined || calendar === undefined) return undefined
          asked = { userId, version: entry.version, calendar }
          return target.object === undefined ? calendarVersionAlong(calendar.id) : objectAlong(db, calendar.id, target.object)
        }
    const signed = await signedIn<ObjectJson | VersionJson | null>(db, k.signIn, request, along)
    if (signed === null) return null
    const user = signed.user
    if (asked === undefined || target === undefined || !('along' in signed) || user.id !== asked.userId || k.signIn.accessVersion(user) !== asked.version) return { user }
    const calendar = (await calendars(user)).find(c => c.segment === target.calendar)
    if (calendar !== asked.calendar) return { user }
    const read = signed.along ?? null
    return {
      user,
      along: target.object === undefined
        ? { calendar, version: await versionFromAlong(db, user, calendar, read as VersionJson | null) }
        : { calendar, object: target.object, row: await objectFromAlong(db, user, calendar, read as ObjectJson | null) }
    }
  }
  async function addressBooks (viewer: User): Promise<DavAddressBook[]> {
    const entry = keptFor(viewer)
    if (entry === null) return decideAddressBooks(viewer)
    const list = entry.books ??= decideAddressBooks(viewer)
    list.catch(() => { if (entry.books === list) entry.books = undefined })
    return list
  }
  async function decideCalendars (viewer: User): Promise<DavCalendar[]> {
    const visible = await calendarsFor(db, viewer)
    const owners = [...new Set(visible.flatMap(c => c.owner_id !== null && c.owner_id !== viewer.id ? [c.owner_id] : []))]
    const logins = await loginsOf(db, viewer, owners)
    return visible.map(c => {
      const ownerLogin = c.owner_id === null ? null : c.owner_id === viewer.id ? viewer.login : logins.get(c.owner_id) ?? null
      // the same object, so the domain recognises the calendar it decided on
      return Object.assign(c, { ownerLogin, segment: calendarSegment(c, viewer.id, ownerLogin) })
    })
  }
  async function decideAddressBooks (viewer: User): Promise<DavAddressBook[]> {
    const visible = await addressBooksFor(db, viewer)
    const owners = [...new Set(visible.flatMap(b => b.owner_id !== null && b.owner_id !== viewer.id ? [b.owner_id] : []))]
    const logins = await loginsOf(db, viewer, owners)
    return visible.map(b => {
      const ownerLogin = b.owner_id === null ? null : b.owner_id === viewer.id ? viewer.login : logins.get(b.owner_id) ?? null
      return { ...b, ownerLogin, segment: calendarSegment(b, viewer.id, ownerLogin) }
    })
  }
  return {
    addressBooks,
    addressBookVersions: books => addressBookVersions(db, books.map(b => b.id)),
    card: (book, name, withBody = true) => getCard(db, book, name, withBody),
    cards: (book, names, withBody = true) => getCards(db, book, names, withBody),
    listCards: (book, opts) => listCards(db, book, opts),
    cardChanges: (book, since, opts) => cardChanges(db, book, since, opts),
    putCard: (actor, book, name, body, cond) => putCard(db, actor, book.id, name, body, cond),
    removeCard: (actor, book, name, cond) => deleteCard(db, actor, book.id, name, cond),
    async updateAddressBook (actor, id, input) { await updateAddressBook(db, actor, id, input) },
    authenticate,
    async user (viewer, login) {
      if (login.toLowerCase() === viewer.login.toLowerCase()) return viewer
      const u = await findUserByLogin(db, login)
      return u === undefined || u.org_id !== viewer.org_id ? null : u
    },
    users: viewer => listUsers(db, viewer),
    calendars,
    async calendar (viewer, segment) {
      return (await calendars(viewer)).find(c => c.segment === segment) ?? null
    },
    calendarVersion: (viewer, id) => calendarVersion(db, viewer, id),
    homeVersions: (_viewer, cals) => calendarVersionsOf(db, cals.map(c => c.id)),
    object: (viewer, id, name, withBody = true) => getObject(db, viewer, id, name, withBody),
    objects: (viewer, id, names, withBody = true) => getObjects(db, viewer, id, names, withBody),
    list: (viewer, id, opts) => listObjects(db, viewer, id, opts),
    changes: (viewer, id, since, opts) => objectChanges(db, viewer, id, since, opts),
    members: (viewer, id, cols, page) => listMembers(db, viewer, id, cols, page),
    memberChanges: (viewer, id, since, cols, opts) => memberRowChanges(db, viewer, id, since, cols, opts),
    put: (actor, id, name, body, cond) => putObject(db, actor, id, name, body, cond),
    remove: (actor, id, name, cond) => deleteObject(db, actor, id, name, cond),
    copy: (actor, source, to) => copyObject(db, actor, source, to),
    move: (actor, from, name, to, cond) => moveObject(db, actor, from, name, to, cond),
    async createCalendar (actor, input) { await createCalendar(db, actor, input) },
    async updateCalendar (actor, id, input) { await updateCalendar(db, actor, id, input) },
    async deleteCalendar (actor, id) { await deleteCalendar(db, actor, id) },
    renameCalendar: (actor, id, slug, opts) => renameCalendar(db, actor, id, slug, opts)
  }
}
