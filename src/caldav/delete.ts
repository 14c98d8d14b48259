import type { FastifyReply } from 'fastify'
import { DavError, notFoundError } from './errors.ts'
import { etagList } from './respond.ts'
import { resolve, type Ctx } from './resources.ts'
import { dav } from '../dav/xml/index.ts'

/**
 * DELETE of an object: the owner's delete removes the appointment for
 * everyone, a participant's only their copy (they leave); of a calendar:
 * the calendar and everything homed in it.
 */
export async function del (ctx: Ctx, path: string, reply: FastifyReply) {
  const res = await resolve(ctx, path)
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  const ifMatch = etagList(ctx.request.headers['if-match'])
  if (res.kind === 'object') {
    if (res.cal.access === 'read') throw new DavError(403, 'this calendar is shared with you read-only', dav('need-privileges'))
    await ctx.backend.remove(ctx.actor, res.cal, res.obj.name, { ifMatch })
    return reply.code(204).send()
  }
  if (res.kind === 'card') {
    if (res.book.access === 'read') throw new DavError(403, 'this address book is shared with you read-only', dav('need-privileges'))
    await ctx.backend.removeCard(ctx.actor, res.book, res.card.name, { ifMatch })
    return reply.code(204).send()
  }
  if (res.kind === 'addressbook') throw new DavError(403, 'address books are managed in Kalends, not from a contacts app', dav('need-privileges'))
  if (res.kind === 'calendar') {
    if (ifMatch !== undefined && ifMatch !== '*') throw new DavError(412, 'calendars have no ETag to match')
    if (res.cal.access !== 'owner') throw new DavError(403, 'only the calendar\'s owner may delete it', dav('need-privileges'))
    // one swipe on an administrator's phone must not empty everyone's company calendar
    if (res.cal.kind === 'company') throw new DavError(403, 'company calendars are deleted in Kalends, not from a calendar app', dav('need-privileges'))
    await ctx.backend.deleteCalendar(ctx.actor, res.cal.id)
    return reply.code(204).send()
  }
  throw new DavError(403, `${res.kind} collections cannot be deleted`, dav('need-privileges'))
}
