import {
  caldav, calendarDataProp, carddav, cs, currentUserPrivilegeSetProp, dav, element, emptyProp, hrefProp, ical,
  parseXml, resourceTypeProp, supportedCalendarComponentSetProp, supportedCollationSetProp, supportedReportSetProp,
  type QName, type XmlElement
} from '../dav/xml/index.ts'
import { timezoneCalendar } from '../ical/timezones.ts'
import { MAX_VCARD_BYTES } from '../domain/contacts.ts'
import type { DavCalendar } from './backend.ts'
import { visibleBody } from './parts.ts'
import { ADDRESSBOOKS, CALENDARS, PRINCIPALS, ROOT, abHomePath, homePath, principalPath } from './paths.ts'
import { addressBooksOf, bookVersionOf, calendarsOf, preloadVersions, versionOf, type Ctx, type Resource } from './resources.ts'

/**
 * Live properties per kind of resource (the sabre propFind pattern): a getter
 * per property name; undefined means "not here" (404 in the propstat).
 * `allprop` marks the ones an allprop PROPFIND returns (RFC 4918 §9.1 keeps
 * that to the cheap, RFC 4918-defined ones; dead properties come too).
 */
type Value = XmlElement | undefined
type Getter<R> = (ctx: Ctx, res: R) => Value | Promise<Value>
type Def<R> = { get: Getter<R>; allprop?: boolean }
type Of<K extends Resource['kind']> = Extract<Resource, { kind: K }>
type Table<K extends Resource['kind']> = Map<QName, Def<Of<K>>>

export const SYNC_PREFIX = 'urn:kalends:sync:'

export function calendarToken (calendarId: number, seq: number): string {
  return `${SYNC_PREFIX}${calendarId}-${seq}`
}

const text = (name: QName, value: string) => element(name, value)

const READ: QName[] = [dav('read'), dav('read-current-user-privilege-set'), caldav('read-free-busy')]
const WRITE_CONTENT: QName[] = [dav('write-content'), dav('bind'), dav('unbind')]
const OWNER: QName[] = [dav('all'), dav('write'), dav('write-properties'), ...WRITE_CONTENT, dav('read-acl')]

/** What the user may do with a calendar: read shares have no write privileges at all. */
export function privileges (access: DavCalendar['access']): QName[] {
  if (access === 'owner') return [...READ, ...OWNER]
  if (access === 'write') return [...READ, ...WRITE_CONTENT]
  return READ
}

const CALENDAR_REPORTS = [caldav('calendar-query'), caldav('calendar-multiget'), caldav('free-busy-query'), dav('sync-collection'), dav('expand-property')]
const HOME_REPORTS = [dav('sync-collection'), dav('expand-property'), dav('principal-property-search'), dav('principal-search-property-set')]
const PRINCIPAL_REPORTS = [dav('expand-property'), dav('principal-property-search'), dav('principal-search-property-set')]
const OBJECT_REPORTS = [caldav('calendar-query'), caldav('calendar-multiget'), dav('expand-property')]

const common = {
  currentUserPrincipal: { get: (ctx: Ctx) => hrefProp(dav('current-user-principal'), principalPath(ctx.user.login)) },
  principalCollectionSet: { get: () => hrefProp(dav('principal-collection-set'), PRINCIPALS) }
}

function table<K extends Resource['kind']> (entries: [QName, Def<Of<K>>][]): Table<K> {
  return new Map(entries)
}

const collection = resourceTypeProp([dav('collection')])

const ROOTS = table<'root' | 'principals' | 'calendars' | 'addressbooks'>([
  [dav('resourcetype'), { get: () => collection, allprop: true }],
  [dav('displayname'), { get: (_c, r) => text(dav('displayname'), r.kind === 'principals' ? 'Principals' : r.kind === 'calendars' ? 'Calendars' : r.kind === 'addressbooks' ? 'Address books' : 'Kalends'), allprop: true }],
  [carddav('addressbook-home-set'), { get: ctx => hrefProp(carddav('addressbook-home-set'), abHomePath(ctx.user.login)) }],
  [dav('current-user-principal'), common.currentUserPrincipal],
  [dav('principal-collection-set'), common.principalCollectionSet],
  [dav('current-user-privilege-set'), { get: () => currentUserPrivilegeSetProp(READ) }],
  [dav('supported-report-set'), { get: () => supportedReportSetProp(PRINCIPAL_REPORTS) }],
  [caldav('calendar-home-set'), { get: ctx => hrefProp(caldav('calendar-home-set'), homePath(ctx.user.login)) }]
])

function addresses (u: Of<'principal'>['principal']): string[] {
  return [...(u.email === null ? [] : [`mailto:${u.email}`]), principalPath(u.login)]
}

const PRINCIPAL = table<'principal'>([
  [dav('resourcetype'), { get: () => resourceTypeProp([dav('collection'), dav('principal')]), allprop: true }],
  [dav('displayname'), { get: (_c, r) => text(dav('displayname'), r.principal.name), allprop: true }],
  [dav('current-user-principal'), common.currentUserPrincipal],
  [dav('principal-collection-set'), common.principalCollectionSet],
  [dav('principal-URL'), { get: (_c, r) => hrefProp(dav('principal-URL'), principalPath(r.principal.login)) }],
  [dav('owner'), { get: (_c, r) => hrefProp(dav('owner'), principalPath(r.principal.login)) }],
  [dav('alternate-URI-set'), { get: (_c, r) => hrefProp(dav('alternate-URI-set'), r.principal.email === null ? [] : [`mailto:${r.principal.email}`]) }],
  [dav('group-membership'), { get: () => element(dav('group-membership')) }],
  [dav('group-member-set'), { get: () => element(dav('group-member-set')) }],
  [dav('current-user-privilege-set'), { get: () => currentUserPrivilegeSetProp(READ) }],
  [dav('supported-report-set'), { get: () => supportedReportSetProp(PRINCIPAL_REPORTS) }],
  [caldav('calendar-home-set'), { get: (ctx, r) => r.principal.id === ctx.user.id ? hrefProp(caldav('calendar-home-set'), homePath(r.principal.login)) : undefined }],
  [carddav('addressbook-home-set'), { get: (ctx, r) => r.principal.id === ctx.user.id ? hrefProp(carddav('addressbook-home-set'), abHomePath(r.principal.login)) : undefined }],
  [carddav('principal-address'), { get: () => undefined }],
  [caldav('calendar-user-address-set'), { get: (_c, r) => hrefProp(caldav('calendar-user-address-set'), addresses(r.principal)) }],
  [caldav('calendar-user-type'), { get: () => text(caldav('calendar-user-type'), 'INDIVIDUAL') }],
  [cs('email-address-set'), { get: (_c, r) => r.principal.email === null ? undefined : element(cs('email-address-set'), [text(cs('email-address'), r.principal.email)]) }],
  [cs('calendar-proxy-read-for'), { get: () => element(cs('calendar-proxy-read-for')) }],
  [cs('calendar-proxy-write-for'), { get: () => element(cs('calendar-proxy-write-for')) }]
])

/** The home's sync token moves when any of its calendars changes, or the set of calendars does. */
export async function homeToken (ctx: Ctx): Promise<string> {
  await preloadVersions(ctx)
  const cals = await calendarsOf(ctx)
  let max = 0
  for (const c of cals) max = Math.max(max, await versionOf(ctx, c))
  let h = 0
  for (const c of cals) for (const ch of `${c.id}:${c.segment}:${c.access};`) h = (h * 31 + ch.charCodeAt(0)) >>> 0
  return `${SYNC_PREFIX}home-${max}-${h.toString(36)}`
}

const HOME = table<'home'>([
  [dav('resourcetype'), { get: () => collection, allprop: true }],
  [dav('displayname'), { get: (_c, r) => text(dav('displayname'), `${r.owner.name}'s calendars`), allprop: true }],
  [dav('current-user-principal'), common.currentUserPrincipal],
  [dav('principal-collection-set'), common.principalCollectionSet],
  [dav('owner'), { get: (_c, r) => hrefProp(dav('owner'), principalPath(r.owner.login)) }],
  [dav('current-user-privilege-set'), { get: () => currentUserPrivilegeSetProp([...READ, dav('bind'), dav('unbind'), dav('write-content')]) }],
  [dav('supported-report-set'), { get: () => supportedReportSetProp(HOME_REPORTS) }],
  [dav('sync-token'), { get: async ctx => text(dav('sync-token'), await homeToken(ctx)) }],
  [cs('getctag'), { get: async ctx => text(cs('getctag'), await homeToken(ctx)) }]
])

const calendarVersionToken = async (ctx: Ctx, r: Of<'calendar'>) => calendarToken(r.cal.id, await versionOf(ctx, r.cal))

const CALENDAR = table<'calendar'>([
  [dav('resourcetype'), { get: () => resourceTypeProp([dav('collection'), caldav('calendar')]), allprop: true }],
  [dav('displayname'), { get: (_c, r) => text(dav('displayname'), r.cal.name), allprop: true }],
  [dav('current-user-principal'), common.currentUserPrincipal],
  [dav('principal-collection-set'), common.principalCollectionSet],
  [dav('owner'), { get: (_c, r) => r.cal.ownerLogin === null ? undefined : hrefProp(dav('owner'), principalPath(r.cal.ownerLogin)) }],
  [dav('current-user-privilege-set'), { get: (_c, r) => currentUserPrivilegeSetProp(privileges(r.cal.access)) }],
  [dav('supported-report-set'), { get: () => supportedReportSetProp(CALENDAR_REPORTS) }],
  [dav('sync-token'), { get: async (ctx, r) => text(dav('sync-token'), await calendarVersionToken(ctx, r)) }],
  [cs('getctag'), { get: async (ctx, r) => text(cs('getctag'), await calendarVersionToken(ctx, r)) }],
  [caldav('calendar-description'), { get: (_c, r) => text(caldav('calendar-description'), r.cal.description) }],
  [caldav('supported-calendar-component-set'), { get: (_c, r) => supportedCalendarComponentSetProp(r.cal.components) }],
  [caldav('supported-calendar-data'), { get: () => element(caldav('supported-calendar-data'), [element(caldav('calendar-data'), null, { 'content-type': 'text/calendar', version: '2.0' })]) }],
  [caldav('supported-collation-set'), { get: () => supportedCollationSetProp() }],
  [caldav('max-resource-size'), { get: ctx => text(caldav('max-resource-size'), String(ctx.maxResourceSize)) }],
  [caldav('max-instances'), { get: () => text(caldav('max-instances'), '10000') }],
  [caldav('calendar-timezone'), { get: (_c, r) => { const v = r.cal.timezone === null ? null : timezoneCalendar(r.cal.timezone); return v === null ? undefined : text(caldav('calendar-timezone'), v) } }],
  [caldav('calendar-timezone-id'), { get: (_c, r) => r.cal.timezone === null ? undefined : text(caldav('calendar-timezone-id'), r.cal.timezone) }],
  [ical('calendar-color'), { get: (_c, r) => r.cal.color === null ? undefined : text(ical('calendar-color'), r.cal.color) }],
  [ical('calendar-order'), { get: (_c, r) => text(ical('calendar-order'), String(r.cal.sort_order)) }],
  [cs('read-only'), { get: (_c, r) => r.cal.access === 'read' ? element(cs('read-only')) : undefined }]
])

/** The address book home's token moves when any of its books changes, or the set of books does. */
export async function abHomeToken (ctx: Ctx): Promise<string> {
  const books = await addressBooksOf(ctx)
  let max = 0
  for (const b of books) max = Math.max(max, await bookVersionOf(ctx, b))
  let h = 0
  for (const b of books) for (const ch of `${b.id}:${b.segment}:${b.access};`) h = (h * 31 + ch.charCodeAt(0)) >>> 0
  return `${SYNC_PREFIX}abhome-${max}-${h.toString(36)}`
}

export function addressBookToken (bookId: number, seq: number): string {
  return `${SYNC_PREFIX}ab${bookId}-${seq}`
}

const ADDRESSBOOK_REPORTS = [carddav('addressbook-query'), carddav('addressbook-multiget'), dav('sync-collection'), dav('expand-property')]
const CARD_REPORTS = [carddav('addressbook-query'), carddav('addressbook-multiget'), dav('expand-property')]

const ABHOME = table<'abhome'>([
  [dav('resourcetype'), { get: () => collection, allprop: true }],
  [dav('displayname'), { get: (_c, r) => text(dav('displayname'), `${r.owner.name}'s address books`), allprop: true }],
  [dav('current-user-principal'), common.currentUserPrincipal],
  [dav('principal-collection-set'), common.principalCollectionSet],
  [dav('owner'), { get: (_c, r) => hrefProp(dav('owner'), principalPath(r.owner.login)) }],
  [dav('current-user-privilege-set'), { get: () => currentUserPrivilegeSetProp(READ) }],
  [dav('supported-report-set'), { get: () => supportedReportSetProp([dav('expand-property')]) }],
  [dav('sync-token'), { get: async ctx => text(dav('sync-token'), await abHomeToken(ctx)) }],
  [cs('getctag'), { get: async ctx => text(cs('getctag'), await abHomeToken(ctx)) }]
])

const bookToken = async (ctx: Ctx, r: Of<'addressbook'>) => addressBookToken(r.book.id, await bookVersionOf(ctx, r.book))

const ADDRESSBOOK = table<'addressbook'>([
  [dav('resourcetype'), { get: () => resourceTypeProp([dav('collection'), carddav('addressbook')]), allprop: true }],
  [dav('displayname'), { get: (_c, r) => text(dav('displayname'), r.book.name), allprop: true }],
  [dav('current-user-principal'), common.currentUserPrincipal],
  [dav('principal-collection-set'), common.principalCollectionSet],
  [dav('owner'), { get: (_c, r) => r.book.ownerLogin === null ? undefined : hrefProp(dav('owner'), principalPath(r.book.ownerLogin)) }],
  [dav('current-user-privilege-set'), { get: (_c, r) => currentUserPrivilegeSetProp(privileges(r.book.access)) }],
  [dav('supported-report-set'), { get: () => supportedReportSetProp(ADDRESSBOOK_REPORTS) }],
  [dav('sync-token'), { get: async (ctx, r) => text(dav('sync-token'), await bookToken(ctx, r)) }],
  [cs('getctag'), { get: async (ctx, r) => text(cs('getctag'), await bookToken(ctx, r)) }],
  [carddav('addressbook-description'), { get: (_c, r) => text(carddav('addressbook-description'), r.book.description) }],
  [carddav('supported-address-data'), {
    get: () => element(carddav('supported-address-data'), [
      element(carddav('address-data-type'), null, { 'content-type': 'text/vcard', version: '3.0' }),
      element(carddav('address-data-type'), null, { 'content-type': 'text/vcard', version: '4.0' })
    ])
  }],
  [carddav('supported-collation-set'), { get: () => element(carddav('supported-collation-set'), ['i;ascii-casemap', 'i;octet', 'i;unicode-casemap'].map(c => text(carddav('supported-collation'), c))) }],
  [carddav('max-resource-size'), { get: ctx => text(carddav('max-resource-size'), String(Math.min(ctx.maxResourceSize, MAX_VCARD_BYTES))) }],
  [cs('read-only'), { get: (_c, r) => r.book.access === 'read' ? element(cs('read-only')) : undefined }]
])

const CARD = table<'card'>([
  [dav('resourcetype'), { get: () => resourceTypeProp([]), allprop: true }],
  [dav('getetag'), { get: (_c, r) => text(dav('getetag'), r.card.etag), allprop: true }],
  [dav('getcontenttype'), { get: (_c, r) => text(dav('getcontenttype'), `text/vcard; charset=utf-8; version=${r.card.vcard_version}`), allprop: true }],
  [dav('getcontentlength'), { get: (_c, r) => text(dav('getcontentlength'), String(r.card.size)), allprop: true }],
  [dav('getlastmodified'), { get: (_c, r) => text(dav('getlastmodified'), new Date(r.card.updated_at).toUTCString()), allprop: true }],
  [dav('current-user-principal'), common.currentUserPrincipal],
  [dav('owner'), { get: (_c, r) => r.book.ownerLogin === null ? undefined : hrefProp(dav('owner'), principalPath(r.book.ownerLogin)) }],
  [dav('current-user-privilege-set'), { get: (_c, r) => currentUserPrivilegeSetProp(privileges(r.book.access)) }],
  [dav('supported-report-set'), { get: () => supportedReportSetProp(CARD_REPORTS) }],
  [carddav('address-data'), { get: (_c, r) => r.card.vcard === undefined ? undefined : element(carddav('address-data'), r.card.vcard) }]
])

function contentType (component: string): string {
  return `text/calendar; charset=utf-8; component=${component.toLowerCase()}`
}

const OBJECT = table<'object'>([
  [dav('resourcetype'), { get: () => resourceTypeProp([]), allprop: true }],
  [dav('getetag'), { get: (_c, r) => text(dav('getetag'), r.obj.etag), allprop: true }],
  [dav('getcontenttype'), { get: (_c, r) => text(dav('getcontenttype'), contentType(r.obj.component)), allprop: true }],
  [dav('getcontentlength'), { get: (_c, r) => text(dav('getcontentlength'), String(r.obj.size)), allprop: true }],
  [dav('getlastmodified'), { get: (_c, r) => text(dav('getlastmodified'), new Date(r.obj.updated_at).toUTCString()), allprop: true }],
  [dav('current-user-principal'), common.currentUserPrincipal],
  [dav('owner'), { get: (_c, r) => r.cal.ownerLogin === null ? undefined : hrefProp(dav('owner'), principalPath(r.cal.ownerLogin)) }],
  [dav('current-user-privilege-set'), { get: (_c, r) => currentUserPrivilegeSetProp(privileges(r.cal.access)) }],
  [dav('supported-report-set'), { get: () => supportedReportSetProp(OBJECT_REPORTS) }],
  [caldav('calendar-data'), { get: (_c, r) => r.obj.ical === undefined ? undefined : calendarDataProp(visibleBody(r.cal, r.obj.ical)) }]
])

function tableOf (res: Resource): Table<Resource['kind']> {
  switch (res.kind) {
    case 'root': case 'principals': case 'calendars': case 'addressbooks': return ROOTS as Table<Resource['kind']>
    case 'abhome': return ABHOME as Table<Resource['kind']>
    case 'addressbook': return ADDRESSBOOK as Table<Resource['kind']>
    case 'card': return CARD as Table<Resource['kind']>
    case 'principal': return PRINCIPAL as Table<Resource['kind']>
    case 'home': return HOME as Table<Resource['kind']>
    case 'calendar': return CALENDAR as Table<Resource['kind']>
    case 'object': return OBJECT as Table<Resource['kind']>
  }
}

/** Dead properties kept for a calendar: {"{ns}name": "<serialized element>"}. */
export function deadProps (res: Resource): Map<QName, XmlElement> {
  const out = new Map<QName, XmlElement>()
  const stored = res.kind === 'calendar' ? res.cal.dead_props : res.kind === 'addressbook' ? res.book.dead_props : null
  if (stored === null) return out
  for (const [name, xml] of Object.entries((stored ?? {}) as Record<string, string>)) {
    try { out.set(name as QName, parseXml(xml)) } catch { /* a stored value that no longer parses is skipped */ }
  }
  return out
}

export function isLive (res: Resource, name: QName): boolean {
  return tableOf(res).has(name)
}

/** Properties whose value the server computes; PROPPATCH may not set them. */
export const PROTECTED = new Set<QName>([
  dav('resourcetype'), dav('getetag'), dav('getcontenttype'), dav('getcontentlength'), dav('getlastmodified'),
  dav('current-user-principal'), dav('principal-collection-set'), dav('owner'), dav('current-user-privilege-set'),
  dav('supported-report-set'), dav('sync-token'), cs('getctag'), caldav('supported-calendar-component-set'),
  caldav('supported-calendar-data'), caldav('supported-collation-set'), caldav('max-resource-size'), caldav('max-instances'),
  caldav('calendar-home-set'), caldav('calendar-user-address-set'), dav('principal-URL'), dav('creationdate'), dav('lockdiscovery'), dav('supportedlock'),
  caldav('calendar-data'), carddav('addressbook-home-set'), carddav('supported-address-data'), carddav('max-resource-size'),
  carddav('supported-collation-set'), carddav('address-data')
])

export type PropSelection = { kind: 'allprop'; include: QName[] } | { kind: 'propname' } | { kind: 'prop'; props: QName[] }

/** Found and missing properties of one resource, for a propstat pair. */
export async function propertiesOf (ctx: Ctx, res: Resource, sel: PropSelection): Promise<{ found: XmlElement[]; missing: XmlElement[] }> {
  const live = tableOf(res)
  const dead = deadProps(res)
  const found: XmlElement[] = []
  const missing: XmlElement[] = []
  if (sel.kind === 'propname') {
    for (const name of live.keys()) found.push(emptyProp(name))
    for (const name of dead.keys()) if (!live.has(name)) found.push(emptyProp(name))
    return { found, missing }
  }
  const names: QName[] = sel.kind === 'prop'
    ? sel.props
    : [...[...live].filter(([, d]) => d.allprop === true).map(([n]) => n), ...dead.keys(), ...sel.include]
  const seen = new Set<QName>()
  for (const name of names) {
    if (seen.has(name)) continue
    seen.add(name)
    const def = live.get(name)
    const value = def !== undefined ? await def.get(ctx, res as never) : dead.get(name)
    if (value !== undefined) found.push(value)
    else if (sel.kind === 'prop') missing.push(emptyProp(name))
  }
  return { found, missing }
}

export { ROOT, CALENDARS, ADDRESSBOOKS }
