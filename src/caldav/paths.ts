import { DavXmlError, decodeHref } from '../dav/xml/index.ts'

/**
 * The URL layout of the CalDAV server:
 *
 *   /dav/                                          root (discovery answers here too)
 *   /dav/principals/                               principal collection
 *   /dav/principals/<login>/                       a user's principal
 *   /dav/calendars/<login>/                        the user's calendar home
 *   /dav/calendars/<login>/<calendar>/             a calendar in the home
 *   /dav/calendars/<login>/<calendar>/<object>     a calendar object resource
 *   /dav/addressbooks/                             CardDAV (RFC 6352): address book homes
 *   /dav/addressbooks/<login>/                     the user's address book home
 *   /dav/addressbooks/<login>/<book>/              an address book (named like calendars)
 *   /dav/addressbooks/<login>/<book>/<card>.vcf    an address object resource
 *
 * Calendar names in a home: the user's own calendars by their slug
 * ("calendar", "tasks", ...); the organisation's company calendars as
 * "company~<slug>"; calendars colleagues share as "shared~<login>~<slug>".
 * Slugs and logins never contain "~", so the three kinds cannot collide, and
 * the names stay the same as long as the calendar exists.
 */
export const ROOT = '/dav/'
export const PRINCIPALS = '/dav/principals/'
export const CALENDARS = '/dav/calendars/'
export const ADDRESSBOOKS = '/dav/addressbooks/'

export type DavPath =
  | { kind: 'root' }
  | { kind: 'principals' }
  | { kind: 'principal'; login: string }
  | { kind: 'calendars' }
  | { kind: 'home'; login: string }
  | { kind: 'calendar'; login: string; calendar: string }
  | { kind: 'object'; login: string; calendar: string; object: string }
  | { kind: 'addressbooks' }
  | { kind: 'abhome'; login: string }
  | { kind: 'addressbook'; login: string; book: string }
  | { kind: 'card'; login: string; book: string; card: string }
  | { kind: 'unknown' }

/** Parses a request path or an href (percent-encoded); throws DavXmlError (400) on malformed escapes. */
export function parsePath (raw: string): DavPath {
  const decoded = decodeHref(raw)
  const path = decoded.startsWith('/') ? decoded : `/${decoded}`
  const parts = path.split('/').filter(p => p !== '')
  if (parts[0] !== 'dav') return { kind: 'unknown' }
  const [, area, login, calendar, object, ...rest] = parts
  if (rest.length > 0) return { kind: 'unknown' }
  if (area === undefined) return { kind: 'root' }
  if (area === 'principals') {
    if (login === undefined) return { kind: 'principals' }
    return calendar === undefined ? { kind: 'principal', login } : { kind: 'unknown' }
  }
  if (area === 'calendars') {
    if (login === undefined) return { kind: 'calendars' }
    if (calendar === undefined) return { kind: 'home', login }
    if (object === undefined) return { kind: 'calendar', login, calendar }
    return { kind: 'object', login, calendar, object }
  }
  if (area === 'addressbooks') {
    if (login === undefined) return { kind: 'addressbooks' }
    if (calendar === undefined) return { kind: 'abhome', login }
    if (object === undefined) return { kind: 'addressbook', login, book: calendar }
    return { kind: 'card', login, book: calendar, card: object }
  }
  return { kind: 'unknown' }
}

/** The path part of a request URL, without the query. */
export function requestPath (url: string): string {
  const q = url.search(/[?#]/)
  const p = q < 0 ? url : url.slice(0, q)
  if (p.length > 4096) throw new DavXmlError('the request path is too long', { status: 414 })
  return p
}

export const principalPath = (login: string) => `${PRINCIPALS}${login}/`
export const homePath = (login: string) => `${CALENDARS}${login}/`
export const calendarPath = (login: string, calendar: string) => `${CALENDARS}${login}/${calendar}/`
export const objectPath = (login: string, calendar: string, object: string) => `${CALENDARS}${login}/${calendar}/${object}`
export const abHomePath = (login: string) => `${ADDRESSBOOKS}${login}/`
export const addressBookPath = (login: string, book: string) => `${ADDRESSBOOKS}${login}/${book}/`
export const cardPath = (login: string, book: string, card: string) => `${ADDRESSBOOKS}${login}/${book}/${card}`

/** The name a calendar (or an address book) has in a user's home (see the layout above). */
export function calendarSegment (cal: { kind: string; slug: string; owner_id: number | null }, viewerId: number, ownerLogin: string | null): string {
  if (cal.owner_id === null || cal.kind === 'company') return `company~${cal.slug}`
  if (cal.owner_id === viewerId) return cal.slug
  return `shared~${ownerLogin ?? cal.owner_id}~${cal.slug}`
}

/** What a calendar name in a home refers to. */
export function parseCalendarSegment (segment: string): { kind: 'own'; slug: string } | { kind: 'company'; slug: string } | { kind: 'shared'; ownerLogin: string; slug: string } | null {
  const parts = segment.split('~')
  if (parts.length === 1) return { kind: 'own', slug: segment }
  if (parts.length === 2 && parts[0] === 'company') return { kind: 'company', slug: parts[1]! }
  if (parts.length === 3 && parts[0] === 'shared') return { kind: 'shared', ownerLogin: parts[1]!, slug: parts[2]! }
  return null
}
