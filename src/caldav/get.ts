import type { FastifyReply } from 'fastify'
import { checkPreconditions } from '../domain/calendar-objects.ts'
import { notFoundError } from './errors.ts'
import { etagList } from './respond.ts'
import { visibleBody } from './parts.ts'
import { resolve, type Ctx } from './resources.ts'

/** GET/HEAD of a calendar object: the exact stored body with its strong ETag. */
export async function get (ctx: Ctx, path: string, reply: FastifyReply, head: boolean) {
  const res = await resolve(ctx, path, { withBody: true })
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  if (res.kind !== 'object') {
    const text = `Kalends CalDAV ${res.kind} ${res.path}\n`
    return reply.code(200).header('content-type', 'text/plain; charset=utf-8').send(head ? undefined : text)
  }
  const { obj } = res
  const headers = {
    etag: obj.etag,
    'last-modified': new Date(obj.updated_at).toUTCString(),
    'content-type': `text/calendar; charset=utf-8; component=${obj.component.toLowerCase()}`
  }
  // RFC 9110 §13.2.2: If-Match first (a GET must not answer 200 when it fails), then If-None-Match
  checkPreconditions(obj, { ifMatch: etagList(ctx.request.headers['if-match']) })
  const inm = etagList(ctx.request.headers['if-none-match'])
  if (inm !== undefined && (inm === '*' || inm.includes(obj.etag))) return reply.code(304).headers(headers).send()
  const body = visibleBody(res.cal, obj.ical!)
  if (head) return reply.code(200).headers({ ...headers, 'content-length': String(Buffer.byteLength(body)) }).send()
  return reply.code(200).headers(headers).send(body)
}
