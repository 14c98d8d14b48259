import type { FastifyReply } from 'fastify'
import { dav } from '../dav/xml/index.ts'
import { DavError, notFoundError } from './errors.ts'
import { parsePath } from './paths.ts'
import { calendarBySegment, resolve, type Ctx } from './resources.ts'

/**
 * MOVE of a calendar object into another of the user's calendars (macOS
 * Calendar moves events this way): the CRM item changes calendar, keeping
 * its id, history and participants. Collections are not moved.
 */
export async function move (ctx: Ctx, path: string, reply: FastifyReply) {
  const res = await resolve(ctx, path, { withBody: true })
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  if (res.kind !== 'object') throw new DavError(403, 'only calendar objects can be moved', dav('need-privileges'))
  const header = ctx.request.headers.destination
  const destination = Array.isArray(header) ? header[0] : header
  if (destination === undefined || destination === '') throw new DavError(400, 'MOVE needs a Destination header')
  let target
  try {
    target = parsePath(new URL(destination, `http://${ctx.request.headers.host ?? 'localhost'}`).pathname)
  } catch {
    throw new DavError(400, 'the Destination header is not a URL')
  }
  if (target.kind !== 'object' || target.login.toLowerCase() !== ctx.user.login.toLowerCase()) throw new DavError(403, 'objects can only be moved into your own calendars', dav('need-privileges'))
  const cal = await calendarBySegment(ctx, target.calendar)
  if (cal === null) throw new DavError(409, `there is no calendar ${target.calendar}`)
  if (cal.id === res.cal.id) {
    if (target.object === res.obj.name) throw new DavError(403, 'source and destination are the same')
    throw new DavError(403, 'renaming an object inside its calendar is not supported', dav('need-privileges'))
  }
  if (res.cal.access === 'read' || cal.access === 'read') throw new DavError(403, 'a calendar shared with you read-only', dav('need-privileges'))
  const overwrite = String(ctx.request.headers.overwrite ?? 'T').toUpperCase() !== 'F'
  const result = await ctx.backend.put(ctx.actor, cal, target.object, res.obj.ical!, overwrite ? {} : { ifNoneMatch: '*' })
  if (await ctx.backend.object(ctx.user, res.cal, res.obj.name, false) !== null) {
    // the source is a copy the user cannot move (a meeting someone else owns): undo
    await ctx.backend.remove(ctx.actor, cal, target.object, {})
    throw new DavError(403, 'this appointment belongs to someone else; it stays in the calendar it is in', dav('need-privileges'))
  }
  return reply.code(result.created ? 201 : 204).send()
}
