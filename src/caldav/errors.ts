import type { FastifyReply, FastifyRequest } from 'fastify'
import { DomainError, asDomainError } from '../domain/errors.ts'
import { IcalError } from '../ical/errors.ts'
import { DavXmlError, caldav, carddav, dav, davError, element, kalends, serializeXml, type QName, type XmlElement } from '../dav/xml/index.ts'
import { ADDRESSBOOKS } from './paths.ts'

/**
 * Every CalDAV error answers with a DAV:error body (RFC 4918 §16) naming the
 * precondition and, in <k:reason>, why, so a user can see what the CRM
 * refused. Business rules become 403 with the rule as the precondition.
 */
export class DavError extends Error {
  readonly status: number
  readonly precondition: QName | XmlElement | undefined
  readonly headers: Record<string, string>

  constructor (status: number, message: string, precondition?: QName | XmlElement, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.precondition = precondition
    this.headers = headers
  }
}

export type Rendered = { status: number; precondition?: QName | XmlElement; reason: string; headers: Record<string, string> }

const ICAL_PRECONDITION: Record<string, QName> = {
  'valid-calendar-data': caldav('valid-calendar-data'),
  'valid-calendar-object-resource': caldav('valid-calendar-object-resource'),
  'supported-calendar-component': caldav('supported-calendar-component'),
  'too-many-instances': caldav('max-instances')
}

/** What an error thrown anywhere under a DAV handler answers with. */
export function renderError (thrown: unknown, context: { method: string; path: string }): Rendered {
  const err = asDomainError(thrown)
  if (err instanceof DavError) return { status: err.status, precondition: err.precondition, reason: err.message, headers: err.headers }
  if (err instanceof DavXmlError) return { status: err.status, precondition: err.precondition, reason: err.message, headers: {} }
  if (err instanceof IcalError) return { status: 403, precondition: ICAL_PRECONDITION[err.code] ?? caldav('valid-calendar-data'), reason: err.message, headers: {} }
  if (err instanceof DomainError) return context.path.startsWith(ADDRESSBOOKS) ? fromDomainCard(err, context) : fromDomain(err, context)
  const fe = err as { statusCode?: number; code?: string; message?: string }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe.statusCode === 413) {
    return { status: 413, precondition: caldav('max-resource-size'), reason: 'the request body is larger than this server accepts', headers: {} }
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, reason: fe.message ?? 'bad request', headers: {} }
  }
  return { status: 500, reason: 'internal error', headers: {} }
}

function fromDomain (err: DomainError, context: { method: string }): Rendered {
  const reason = err.message
  const writing = context.method === 'PUT'
  switch (err.kind) {
    case 'not-found': return { status: 404, reason, headers: {} }
    case 'unauthorized': return { status: 401, reason, headers: { 'www-authenticate': 'Basic realm="Kalends", charset="UTF-8"' } }
    case 'precondition-failed': return { status: 412, reason, headers: {} }
    case 'too-large': return { status: 413, precondition: caldav('max-resource-size'), reason, headers: {} }
    case 'too-many-requests': return { status: 429, reason, headers: err.retryAfterSeconds === undefined ? {} : { 'retry-after': String(err.retryAfterSeconds) } }
    case 'forbidden':
      if (err.rule === 'need-privileges' || err.rule === undefined) return { status: 403, precondition: dav('need-privileges'), reason, headers: {} }
      if (err.rule === 'supported-calendar-component') return { status: 403, precondition: caldav('supported-calendar-component'), reason, headers: {} }
      return { status: 403, precondition: kalends(err.rule), reason, headers: {} }
    case 'rule': return { status: 403, precondition: kalends(err.rule ?? 'business-rule'), reason, headers: {} }
    case 'conflict':
      if (err.rule === 'no-uid-conflict') return { status: 403, precondition: caldav('no-uid-conflict'), reason, headers: {} }
      if (err.rule === 'resource-must-be-null') return { status: 405, precondition: dav('resource-must-be-null'), reason, headers: {} }
      return { status: 409, reason, headers: {} }
    case 'invalid':
      // a PUT whose data the CRM cannot take is invalid calendar data for the client
      if (writing) return { status: 403, precondition: caldav('valid-calendar-data'), reason: err.field === undefined ? reason : `${err.field}: ${reason}`, headers: {} }
      return { status: 400, reason: err.field === undefined ? reason : `${err.field}: ${reason}`, headers: {} }
  }
  return { status: 500, reason: 'internal error', headers: {} }
}

/** Under /dav/addressbooks/ the same refusals name CardDAV's preconditions (RFC 6352 §6.3.2.1). */
function fromDomainCard (err: DomainError, context: { method: string }): Rendered {
  const reason = err.field === undefined ? err.message : `${err.field}: ${err.message}`
  if (err.rule === 'valid-address-data' || err.rule === 'supported-address-data') return { status: 403, precondition: carddav(err.rule), reason, headers: {} }
  if (err.kind === 'too-large') return { status: 413, precondition: carddav('max-resource-size'), reason, headers: {} }
  if (err.kind === 'conflict' && err.rule === 'no-uid-conflict') return { status: 403, precondition: carddav('no-uid-conflict'), reason, headers: {} }
  if (err.kind === 'invalid' && context.method === 'PUT') return { status: 403, precondition: carddav('valid-address-data'), reason, headers: {} }
  return fromDomain(err, context)
}

export function sendError (reply: FastifyReply, request: FastifyRequest, err: unknown) {
  const r = renderError(err, { method: request.method, path: request.url })
  if (r.status >= 500) request.log.error({ err }, 'DAV request failed')
  const body = r.precondition !== undefined
    ? davError(r.precondition, r.reason)
    : element(dav('error'), [element(kalends('reason'), r.reason)])
  return reply.code(r.status).headers(r.headers).header('content-type', 'application/xml; charset=utf-8')
    .send(request.method === 'HEAD' ? undefined : serializeXml(body))
}

export const notFoundError = (what = 'nothing here') => new DavError(404, what)
export const forbidden = (precondition: QName, reason: string) => new DavError(403, reason, precondition)
