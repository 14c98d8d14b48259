import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Kalends } from '../app.ts'
import { charsetOf, decodeXml } from '../dav/xml/index.ts'
import { domainBackend, type CalDavBackend } from './backend.ts'
import { calendarText } from './calendar-data.ts'
import { copy } from './copy.ts'
import { del } from './delete.ts'
import { DavError, sendError } from './errors.ts'
import { get } from './get.ts'
import { mkcalendar } from './mkcalendar.ts'
import { move } from './move.ts'
import { ALLOW, DAV_CLASSES, options } from './options.ts'
import { ADDRESSBOOKS, ROOT, requestPath } from './paths.ts'
import { vcardText } from './address-data.ts'
import { propfind } from './propfind.ts'
import { proppatch } from './proppatch.ts'
import { put } from './put.ts'
import { report } from './report.ts'
import { targetOf, type Ctx } from './resources.ts'

const BODY_METHODS = ['PROPFIND', 'PROPPATCH', 'REPORT', 'MKCALENDAR', 'MKCOL']
const METHODS = ['OPTIONS', 'GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'COPY', 'MOVE', ...BODY_METHODS]

/**
 * The request body as text: the one place its bytes are decoded, after
 * sign-in, fatally (XML 1.0 §4.3.3, RFC 5545 §3.1.4), so invalid bytes are
 * refused instead of read as U+FFFD. PUT carries iCalendar, the others XML.
 */
function bodyText (request: FastifyRequest): string | undefined {
  if (!Buffer.isBuffer(request.body)) return undefined
  const type = request.headers['content-type']
  if (request.method === 'PUT') return request.url.startsWith(ADDRESSBOOKS) ? vcardText(request.body, type) : calendarText(request.body, type)
  return BODY_METHODS.includes(request.method) ? decodeXml(request.body, charsetOf(type)) : undefined
}

/**
 * The CalDAV server, as a Fastify plugin: /.well-known/caldav, and
 * everything under /dav/ (layout in paths.ts). Request bodies are read as
 * bytes in this scope only; every error answers with a DAV:error body.
 */
export async function caldav (app: FastifyInstance, k: Kalends, backend: CalDavBackend = domainBackend(k)): Promise<void> {
  for (const m of BODY_METHODS) if (!app.supportedMethods.includes(m)) app.addHttpMethod(m, { hasBody: true })
  for (const m of ['COPY', 'MOVE']) if (!app.supportedMethods.includes(m)) app.addHttpMethod(m)
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: k.config.maxBodyBytes }, (_req, body, done) => done(null, body))
  app.setErrorHandler(async (err, request, reply) => sendError(reply, request, err))

  const wellKnown = async (_request: FastifyRequest, reply: FastifyReply) => reply.code(301).header('location', ROOT).header('cache-control', 'no-cache').send()
  app.route({ method: METHODS, url: '/.well-known/caldav', handler: wellKnown, exposeHeadRoute: false })
  // RFC 6352 §11: the same principal carries both homes, so CardDAV discovery starts at the same root
  app.route({ method: METHODS, url: '/.well-known/carddav', handler: wellKnown, exposeHeadRoute: false })

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = requestPath(request.url)
    reply.header('dav', DAV_CLASSES)
    if (request.method === 'OPTIONS') return options(reply)
    const signed = await backend.authenticate(request, targetOf(request.method, path))
    if (signed === null) throw new DavError(401, 'sign in with your user name and an app password', undefined, { 'www-authenticate': 'Basic realm="Kalends", charset="UTF-8"' })
    const { user, along } = signed
    const ctx: Ctx = { backend, user, actor: { user, origin: 'caldav' }, request, maxResourceSize: k.config.maxBodyBytes, syncPage: k.config.syncPageSize, publicUrl: k.config.publicUrl, versions: new Map(), ...(along === undefined ? {} : { along }) }
    const body = bodyText(request)
    switch (request.method) {
      case 'PROPFIND': return propfind(ctx, path, body, reply)
      case 'PROPPATCH': return proppatch(ctx, path, body, reply)
      case 'REPORT': return report(ctx, path, body, reply)
      case 'GET': return get(ctx, path, reply, false)
      case 'HEAD': return get(ctx, path, reply, true)
      case 'PUT': return put(ctx, path, body, reply)
      case 'DELETE': return del(ctx, path, reply)
      case 'MKCALENDAR': return mkcalendar(ctx, path, body, reply, 'MKCALENDAR')
      case 'MKCOL': return mkcalendar(ctx, path, body, reply, 'MKCOL')
      case 'COPY': return copy(ctx, path, reply)
      case 'MOVE': return move(ctx, path, reply)
      default: throw new DavError(405, `${request.method} is not supported here`, undefined, { allow: ALLOW })
    }
  }
  app.route({ method: 'PROPFIND', url: '/', handler })
  app.route({ method: METHODS, url: '/dav', handler, exposeHeadRoute: false })
  app.route({ method: METHODS, url: '/dav/*', handler, exposeHeadRoute: false })
}
