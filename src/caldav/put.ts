import type { FastifyReply } from 'fastify'
import { caldav, dav } from '../dav/xml/index.ts'
import { DavError, notFoundError } from './errors.ts'
import { etagList } from './respond.ts'
import { resolve, type Ctx } from './resources.ts'

/**
 * PUT of a calendar object: becomes the CRM create/update (business rules,
 * journal); the body is kept exactly as sent. 201 on create, 204 on replace,
 * with the ETag only when the stored body is the one sent.
 */
export async function put (ctx: Ctx, path: string, body: string | undefined, reply: FastifyReply) {
  const res = await resolve(ctx, path, { allowMissing: true })
  if (res === null) throw notFoundError(`nothing at ${path}`)
  if (res.kind !== 'object' && res.kind !== 'missing') {
    throw new DavError(405, 'only calendar objects can be PUT; create calendars with MKCALENDAR', undefined, { allow: 'OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT, DELETE' })
  }
  if (res.cal.access === 'read') throw new DavError(403, 'this calendar is shared with you read-only', dav('need-privileges'))
  const type = String(ctx.request.headers['content-type'] ?? 'text/calendar').split(';')[0]!.trim().toLowerCase()
  if (type !== 'text/calendar' && type !== 'application/octet-stream' && type !== '') {
    throw new DavError(415, `calendar objects must be text/calendar, not ${type}`, caldav('supported-calendar-data'))
  }
  const text = body ?? ''
  if (Buffer.byteLength(text) > ctx.maxResourceSize) throw new DavError(413, `the object is larger than ${ctx.maxResourceSize} bytes`, caldav('max-resource-size'))
  const name = res.kind === 'object' ? res.obj.name : res.name
  const result = await ctx.backend.put(ctx.actor, res.cal.id, name, text, {
    ifMatch: etagList(ctx.request.headers['if-match']),
    ifNoneMatch: etagList(ctx.request.headers['if-none-match'])
  })
  if (result.body === text) reply.header('etag', result.etag)
  return reply.code(result.created ? 201 : 204).send()
}
