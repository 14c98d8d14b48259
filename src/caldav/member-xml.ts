import { NS_CALDAV, NS_DAV, caldav, dav, encodeHref, encodePathSegment, escapeText, type PropfindRequest, type QName } from '../dav/xml/index.ts'
import type { MemberColumns, ObjectRow } from '../domain/calendar-objects.ts'

/**
 * A calendar object's response written straight as text, for the answers
 * that list many of them (PROPFIND Depth: 1, sync-collection, multiget):
 * building an element tree per member and walking it again cost most of a
 * 10,000-member PROPFIND. Only properties read off the row qualify, so the
 * text is the one MultistatusWriter.add() writes for the same response
 * (member-xml.test.ts holds them to that); any other selection takes the
 * general path.
 */
type Field = 'resourcetype' | 'getetag' | 'getcontenttype' | 'getcontentlength' | 'getlastmodified' | 'calendar-data'

const FIELDS = new Map<QName, Field>([
  [dav('resourcetype'), 'resourcetype'], [dav('getetag'), 'getetag'], [dav('getcontenttype'), 'getcontenttype'],
  [dav('getcontentlength'), 'getcontentlength'], [dav('getlastmodified'), 'getlastmodified'], [caldav('calendar-data'), 'calendar-data']
])

export type MemberPlan = { fields: Field[]; namespaces: string[] }

/** What a member's text is made of, from an ObjectRow or a MemberRow (calendar-objects.ts). */
export type MemberFields = Pick<ObjectRow, 'etag' | 'component' | 'size'> & { updated_at?: Date | null }

/** The columns a member's text needs besides its name, ETag, component and size. */
export const columnsFor = (plan: MemberPlan, withBody: boolean): MemberColumns => ({ withBody, lastModified: plan.fields.includes('getlastmodified') })

/** The plan for a selection whose every property comes off an object's row; null when one does not. */
export function memberPlan (props: PropfindRequest): MemberPlan | null {
  if (props.kind !== 'prop') return null
  const fields: Field[] = []
  for (const name of props.props) {
    const f = FIELDS.get(name)
    if (f === undefined) return null
    if (!fields.includes(f)) fields.push(f)
  }
  return { fields, namespaces: fields.includes('calendar-data') ? [NS_DAV, NS_CALDAV] : [NS_DAV] }
}

const el = (tag: string, text: string) => text === '' ? `<${tag}/>` : `<${tag}>${escapeText(text)}</${tag}>`

/** A member's href as encodeHref writes it, from its collection's encoded once for all members. */
export const memberHref = (encodedCollection: string, name: string) => encodedCollection + encodePathSegment(name)

export const encodedCollection = (collectionPath: string) => encodeHref(collectionPath)

/**
 * The member's response (`href` encoded already, memberHref); `data` is the calendar-data shown (the stored body
 * unless the caller shapes it). Null when calendar-data is asked for and
 * there is none to show, or getlastmodified and the row has no updated_at
 * (a MemberRow read without it): the general path answers that.
 */
export function memberXml (encodedHref: string, plan: MemberPlan, obj: MemberFields, data: string | undefined): string | null {
  let props = ''
  for (const f of plan.fields) {
    switch (f) {
      case 'resourcetype': props += '<d:resourcetype/>'; break
      case 'getetag': props += el('d:getetag', obj.etag); break
      case 'getcontenttype': props += el('d:getcontenttype', `text/calendar; charset=utf-8; component=${obj.component.toLowerCase()}`); break
      case 'getcontentlength': props += el('d:getcontentlength', String(obj.size)); break
      case 'getlastmodified':
        if (obj.updated_at === undefined || obj.updated_at === null) return null
        props += el('d:getlastmodified', new Date(obj.updated_at).toUTCString())
        break
      case 'calendar-data':
        if (data === undefined) return null
        props += el('c:calendar-data', data)
    }
  }
  return `<d:response><d:href>${escapeText(encodedHref)}</d:href><d:propstat>${props === '' ? '<d:prop/>' : `<d:prop>${props}</d:prop>`}<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`
}
