import type { FastifyReply } from 'fastify'
import { caldav, carddav, dav, element, hrefElement } from '../dav/xml/index.ts'
import { DomainError } from '../domain/errors.ts'
import type { DavCalendar } from './backend.ts'
import { DavError, notFoundError } from './errors.ts'
import { CALENDAR_ALLOW } from './options.ts'
import { etagList } from './respond.ts'
import { parsePath, type DavPath } from './paths.ts'
import { addressBookBySegment, calendarBySegment, objectHref, resolve, type Ctx } from './resources.ts'

/**
 * PUT of a calendar object: becomes the CRM create/update (business rules,
 * journal); the body is kept exactly as sent. 201 on create, 204 on replace,
 * with the ETag only when the stored body is the one sent. It writes only
 * this href's item: the same UID in another calendar is another item
 * (RFC 4791 §5.3.2.1 scopes UIDs to one calendar collection).
 */
export async function put (ctx: Ctx, path: string, body: string | undefined, reply: FastifyReply) {
  // the domain reads the current object itself: only the calendar is looked up here
  const p = parsePath(path)
  if (p.kind === 'card') return putCard(ctx, p, path, body, reply)
  if (p.kind !== 'object') {
    if (await resolve(ctx, path) === null) throw notFoundError(`nothing at ${path}`)
    throw new DavError(405, 'only calendar objects can be PUT; create calendars with MKCALENDAR', undefined, { allow: CALENDAR_ALLOW })
  }
  const cal = p.login.toLowerCase() === ctx.user.login.toLowerCase() ? await calendarBySegment(ctx, p.calendar) : null
  if (cal === null) throw notFoundError(`nothing at ${path}`)
  const res = { cal, name: p.object }
  if (res.cal.access === 'read') throw new DavError(403, 'this calendar is shared with you read-only', dav('need-privileges'))
  const type = String(ctx.request.headers['content-type'] ?? 'text/calendar').split(';')[0]!.trim().toLowerCase()
  if (type !== 'text/calendar' && type !== 'application/octet-stream' && type !== '') {
    throw new DavError(415, `calendar objects must be text/calendar, not ${type}`, caldav('supported-calendar-data'))
  }
  const text = body ?? ''
  if (Buffer.byteLength(text) > ctx.maxResourceSize) throw new DavError(413, `the object is larger than ${ctx.maxResourceSize} bytes`, caldav('max-resource-size'))
  const result = await namingUidConflict(ctx, res.cal, () => ctx.backend.put(ctx.actor, res.cal, res.name, text, {
    ifMatch: etagList(ctx.request.headers['if-match']),
    ifNoneMatch: etagList(ctx.request.headers['if-none-match'])
  }))
  if (result.body === text) reply.header('etag', result.etag)
  return reply.code(result.created ? 201 : 204).send()
}

/**
 * A write into `cal` (PUT, COPY, MOVE); RFC 4791 §5.3.2.1: its no-uid-conflict
 * names the object that holds the UID, when it is one the user can see.
 */
export async function namingUidConflict<T> (ctx: Ctx, cal: DavCalendar, write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (err) {
    if (err instanceof DomainError && err.rule === 'no-uid-conflict' && err.field !== undefined && err.field !== 'uid') {
      throw new DavError(403, err.message, element(caldav('no-uid-conflict'), [hrefElement(objectHref(ctx, cal, err.field))]))
    }
    throw err
  }
}

/**
 * PUT of a card (RFC 6352 §6.3.2): the contact's create or update; the body
 * kept exactly as sent, refused whole (CARDDAV:valid-address-data) when it is
 * not one vCard 3.0 or 4.0.
 */
async function putCard (ctx: Ctx, p: Extract<DavPath, { kind: 'card' }>, path: string, body: string | undefined, reply: FastifyReply) {
  const book = p.login.toLowerCase() === ctx.user.login.toLowerCase() ? await addressBookBySegment(ctx, p.book) : null
  if (book === null) throw notFoundError(`nothing at ${path}`)
  if (book.access === 'read') throw new DavError(403, 'this address book is shared with you read-only', dav('need-privileges'))
  const type = String(ctx.request.headers['content-type'] ?? 'text/vcard').split(';')[0]!.trim().toLowerCase()
  if (type !== 'text/vcard' && type !== 'text/x-vcard' && type !== 'text/directory' && type !== 'application/octet-stream' && type !== '') {
    throw new DavError(415, `address objects must be text/vcard, not ${type}`, carddav('supported-address-data'))
  }
  const text = body ?? ''
  const result = await ctx.backend.putCard(ctx.actor, book, p.card, text, {
    ifMatch: etagList(ctx.request.headers['if-match']),
    ifNoneMatch: etagList(ctx.request.headers['if-none-match'])
  })
  reply.header('etag', result.etag)
  return reply.code(result.created ? 201 : 204).send()
}
