import type { FastifyReply } from 'fastify'
import { dav, kalends } from '../dav/xml/index.ts'
import { checkPreconditions } from '../domain/calendar-objects.ts'
import type { DavCalendar } from './backend.ts'
import { destinationOf } from './destination.ts'
import { DavError, notFoundError } from './errors.ts'
import { visibleBody } from './parts.ts'
import { namingUidConflict } from './put.ts'
import { etagList } from './respond.ts'
import { calendarBySegment, resolve, type Ctx } from './resources.ts'

/**
 * COPY of a calendar object (RFC 4918 §9.8): a new CRM item at the
 * Destination with the source's body as the user sees it (a private item
 * in a read-only share stays redacted), as a PUT of it there would make.
 * The UID may repeat across calendars but not inside one (RFC 4791
 * §5.3.2.1, 403 no-uid-conflict). 201 created, 204 overwritten. A whole
 * calendar is not copied: its items would need new identities in the CRM.
 */
export async function copy (ctx: Ctx, path: string, reply: FastifyReply) {
  const res = await resolve(ctx, path, { withBody: true })
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  if (res.kind !== 'object') throw new DavError(403, 'only calendar objects can be copied; make a calendar with MKCALENDAR and copy its objects into it', kalends('collection-copy'))
  // If-Match / If-None-Match are about the request's resource, the source (RFC 9110 §13.1)
  checkPreconditions(res.obj, conditions(ctx))
  const { cal, name, overwrite } = await objectDestination(ctx)
  if (cal.id === res.cal.id && name === res.obj.name) throw new DavError(403, 'source and destination are the same')
  const result = await namingUidConflict(ctx, cal, () => ctx.backend.copy(ctx.actor, { uid: res.obj.uid, body: visibleBody(res.cal, res.obj.ical!) }, { calendar: cal, name, overwrite }))
  return reply.code(result.created ? 201 : 204).send()
}

export function conditions (ctx: Ctx) {
  return { ifMatch: etagList(ctx.request.headers['if-match']), ifNoneMatch: etagList(ctx.request.headers['if-none-match']) }
}

/** The Destination of an object's COPY or MOVE: a name in a calendar of the user's home they may write. */
export async function objectDestination (ctx: Ctx): Promise<{ cal: DavCalendar; name: string; overwrite: boolean }> {
  const { path, overwrite } = destinationOf(ctx)
  if (path.kind !== 'object') throw new DavError(403, 'calendar objects go inside a calendar: name one in the Destination')
  const cal = await calendarBySegment(ctx, path.calendar)
  // RFC 4918 §9.8.5: 409 when the destination's parent collection does not exist
  if (cal === null) throw new DavError(409, `there is no calendar ${path.calendar}`)
  if (cal.access === 'read') throw new DavError(403, 'that calendar is shared with you read-only', dav('need-privileges'))
  return { cal, name: path.object, overwrite }
}
