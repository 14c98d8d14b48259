import type { FastifyReply } from 'fastify'
import { caldav, dav } from '../dav/xml/index.ts'
import { conditions, objectDestination } from './copy.ts'
import { destinationOf } from './destination.ts'
import { DavError, notFoundError } from './errors.ts'
import { parseCalendarSegment } from './paths.ts'
import { namingUidConflict } from './put.ts'
import { resolve, type Ctx, type Resource } from './resources.ts'

/**
 * MOVE (RFC 4918 §9.9) keeps the CRM item: of an object inside its
 * calendar only its name changes (the item, its participants' copies and
 * sync links stay); into another calendar of the user the item changes
 * its home calendar (macOS Calendar moves events this way), which a
 * participant's copy cannot. Of one of the user's own calendars: a new
 * name, with everything in it. 201 created, 204 overwritten; sync-collection
 * of both calendars reports the object gone and come.
 */
export async function move (ctx: Ctx, path: string, reply: FastifyReply) {
  const res = await resolve(ctx, path)
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  if (res.kind === 'calendar') return moveCalendar(ctx, res, reply)
  if (res.kind !== 'object') throw new DavError(403, `a ${res.kind} cannot be moved`, dav('need-privileges'))
  const { cal, name, overwrite } = await objectDestination(ctx)
  if (cal.id === res.cal.id && name === res.obj.name) throw new DavError(403, 'source and destination are the same')
  if (res.cal.access === 'read') throw new DavError(403, 'this calendar is shared with you read-only', dav('need-privileges'))
  const result = await namingUidConflict(ctx, cal, () => ctx.backend.move(ctx.actor, res.cal, res.obj.name, { calendar: cal, name, overwrite }, conditions(ctx)))
  return reply.code(result.created ? 201 : 204).send()
}

async function moveCalendar (ctx: Ctx, res: Resource & { kind: 'calendar' }, reply: FastifyReply) {
  const depth = ctx.request.headers.depth
  // RFC 4918 §9.9.2: a collection moves as a whole
  if (depth !== undefined && String(depth).trim().toLowerCase() !== 'infinity') throw new DavError(400, 'a calendar moves with Depth: infinity')
  const { path, overwrite } = destinationOf(ctx)
  if (path.kind !== 'calendar') throw new DavError(403, 'a calendar moves to another name in your calendar home', caldav('calendar-collection-location-ok'))
  if (path.calendar === res.cal.segment) throw new DavError(403, 'source and destination are the same')
  if (res.cal.owner_id !== ctx.user.id) throw new DavError(403, 'only your own calendars can be moved', dav('need-privileges'))
  if (parseCalendarSegment(path.calendar)?.kind !== 'own') throw new DavError(403, 'a calendar of yours is named with letters, digits, dot, dash or underscore', caldav('calendar-collection-location-ok'))
  const { replaced } = await ctx.backend.renameCalendar(ctx.actor, res.cal.id, path.calendar, { replace: overwrite })
  return reply.code(replaced ? 204 : 201).send()
}
