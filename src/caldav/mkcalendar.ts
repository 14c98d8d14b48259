import type { FastifyReply } from 'fastify'
import { caldav, dav, parseMkcalendar, parseMkcol, type PropSet } from '../dav/xml/index.ts'
import { DavError } from './errors.ts'
import { CALENDAR_ALLOW } from './options.ts'
import { parsePath } from './paths.ts'
import { applyProp, type CalendarChanges } from './proppatch.ts'
import { calendarBySegment, type Ctx } from './resources.ts'

const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/** MKCALENDAR, and extended MKCOL with a calendar resourcetype (RFC 5689): a new calendar in the user's home. */
export async function mkcalendar (ctx: Ctx, path: string, body: string | undefined, reply: FastifyReply, method: 'MKCALENDAR' | 'MKCOL') {
  const type = String(ctx.request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (body !== undefined && body.trim() !== '' && type !== '' && !/[/+]xml$/.test(type)) {
    throw new DavError(415, `${method} takes an XML body, not ${type}`)
  }
  const p = parsePath(path)
  if (p.kind === 'object' && p.login.toLowerCase() === ctx.user.login.toLowerCase() && await calendarBySegment(ctx, p.calendar) !== null) {
    // RFC 4918 §9.3.1: a location that takes no collections is 403; 409 is for a missing parent
    throw new DavError(403, 'calendars hold calendar objects, not collections', caldav('calendar-collection-location-ok'))
  }
  if (p.kind === 'object' || p.kind === 'unknown') throw new DavError(409, 'calendars can only be created directly in your calendar home')
  let props: PropSet[]
  if (method === 'MKCOL') {
    const req = parseMkcol(body)
    const nonCalendar = req.resourceType.filter(t => t !== dav('collection') && t !== caldav('calendar'))
    if (nonCalendar.length > 0 || (req.resourceType.length > 0 && !req.resourceType.includes(caldav('calendar')))) {
      throw new DavError(403, 'only calendars can be created here', dav('valid-resourcetype'))
    }
    props = req.props
  } else {
    props = parseMkcalendar(body).props
  }
  if (p.kind !== 'calendar' || p.login.toLowerCase() !== ctx.user.login.toLowerCase()) {
    throw new DavError(403, 'calendars can only be created directly in your calendar home', caldav('calendar-collection-location-ok'))
  }
  if (await calendarBySegment(ctx, p.calendar) !== null) throw new DavError(405, `${p.calendar} already exists`, dav('resource-must-be-null'), { allow: CALENDAR_ALLOW })
  if (!SLUG.test(p.calendar)) throw new DavError(403, 'a calendar name uses letters, digits, dot, dash or underscore and starts with a letter or digit', caldav('calendar-collection-location-ok'))
  const input: CalendarChanges = { deadProps: {}, slug: p.calendar }
  for (const prop of props) {
    if (prop.name === caldav('supported-calendar-component-set')) {
      const comps = prop.value.children.filter(c => c.name === 'comp').map(c => (c.attrs.name ?? '').toUpperCase())
      const bad = comps.filter(c => c !== 'VEVENT' && c !== 'VTODO')
      if (comps.length === 0 || bad.length > 0) throw new DavError(403, `Kalends calendars hold VEVENT and VTODO, not ${bad.join(', ') || 'nothing'}`, caldav('supported-calendar-component'))
      input.components = comps as ('VEVENT' | 'VTODO')[]
      continue
    }
    const failed = applyProp(input, { op: 'set', name: prop.name, value: prop.value })
    if (failed !== null) throw new DavError(failed.status === 424 ? 403 : failed.status, failed.reason, failed.precondition)
  }
  const { deadProps, ...create } = input
  input.name ??= p.calendar
  await ctx.backend.createCalendar(ctx.actor, { ...create, name: input.name, components: input.components ?? ['VEVENT', 'VTODO'] })
  if (Object.keys(deadProps).length > 0) {
    const cal = await ctx.backend.calendar(ctx.user, p.calendar)
    if (cal !== null) await ctx.backend.updateCalendar(ctx.actor, cal.id, { deadProps })
  }
  return reply.code(201).header('cache-control', 'no-cache').send()
}
