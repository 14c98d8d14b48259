import type { FastifyReply } from 'fastify'

/**
 * The DAV classes Kalends really implements: WebDAV class 1 (no locks, so not
 * 2) and 3, CalDAV access, CardDAV (addressbook, RFC 6352 §6.1), extended MKCOL. No calendar-auto-schedule: the
 * server sends no invitations, so clients must not think it does.
 */
export const DAV_CLASSES = '1, 3, calendar-access, addressbook, extended-mkcol'
export const ALLOW = 'OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR, MKCOL, COPY, MOVE'
/** What a calendar that exists takes (a 405's Allow): no PUT, COPY or MKCALENDAR on it. */
export const CALENDAR_ALLOW = 'OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT, DELETE, MOVE'

export function options (reply: FastifyReply) {
  return reply.code(200).headers({ dav: DAV_CLASSES, allow: ALLOW, 'content-length': '0' }).send()
}
