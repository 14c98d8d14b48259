import type { FastifyReply } from 'fastify'
import { checkPreconditions } from '../domain/calendar-objects.ts'
import { notFoundError } from './errors.ts'
import { etagList } from './respond.ts'
import { visibleBody } from './parts.ts'
import { resolve, type Ctx, type Resource } from './resources.ts'
import { etagsOf, representation, vcardContentType, versionFromAccept } from './address-data.ts'

/** GET/HEAD of a calendar object: the exact stored body with its strong ETag. */
export async function get (ctx: Ctx, path: string, reply: FastifyReply, head: boolean) {
  const res = await resolve(ctx, path, { withBody: true })
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  if (res.kind === 'card') return getCard(ctx, res, reply, head)
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

/** GET/HEAD of a card: as stored, or in the vCard version Accept asks for, with that representation's ETag. */
function getCard (ctx: Ctx, res: Extract<Resource, { kind: 'card' }>, reply: FastifyReply, head: boolean) {
  const accept = ctx.request.headers.accept
  const rep = representation(res.card, versionFromAccept(Array.isArray(accept) ? accept.join(',') : accept))
  const headers = { etag: rep.etag, 'last-modified': new Date(res.card.updated_at).toUTCString(), 'content-type': vcardContentType(rep.version), vary: 'Accept' }
  const ifMatch = etagList(ctx.request.headers['if-match'])
  checkPreconditions({ etag: rep.etag }, { ifMatch: ifMatch === undefined || ifMatch === '*' ? ifMatch : ifMatch.some(t => etagsOf(res.card).includes(t)) ? [rep.etag] : ifMatch })
  const inm = etagList(ctx.request.headers['if-none-match'])
  if (inm !== undefined && (inm === '*' || inm.includes(rep.etag))) return reply.code(304).headers(headers).send()
  if (head) return reply.code(200).headers({ ...headers, 'content-length': String(Buffer.byteLength(rep.body)) }).send()
  return reply.code(200).headers(headers).send(rep.body)
}
