import type { FastifyReply } from 'fastify'
import type { CalendarInput } from '../domain/calendars.ts'
import { IcalError } from '../ical/errors.ts'
import { canonicalTzid, timezoneCalendarTzid } from '../ical/timezones.ts'
import {
  caldav, carddav, dav, davError, emptyProp, ical, parseProppatch, serializeXml,
  type PropPatchOp, type QName, type XmlElement
} from '../dav/xml/index.ts'
import { DavError, notFoundError } from './errors.ts'
import { PROTECTED } from './properties.ts'
import { sendMultistatus } from './respond.ts'
import { resolve, type Ctx, type Resource } from './resources.ts'

export type CalendarChanges = CalendarInput & { deadProps: Record<string, string | null> }
type Failure = { status: number; precondition?: QName; reason: string }

const COLOR = /^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$/

/** Applies one set/remove to the calendar input; returns why it cannot be, or null. */
export function applyProp (input: CalendarChanges, op: PropPatchOp): Failure | null {
  const value = op.op === 'set' ? op.value.text : ''
  if (PROTECTED.has(op.name)) return { status: 403, precondition: dav('cannot-modify-protected-property'), reason: `${op.name} is computed by the server` }
  switch (op.name) {
    case dav('displayname'):
      if (op.op === 'set' && value.trim() !== '') input.name = value
      return null
    case caldav('calendar-description'):
      input.description = value
      return null
    case ical('calendar-color'):
      if (op.op === 'remove' || value.trim() === '') { input.color = null; return null }
      if (!COLOR.test(value.trim())) return { status: 409, reason: 'calendar-color must be #RRGGBB or #RRGGBBAA' }
      input.color = value.trim()
      return null
    case ical('calendar-order'):
      if (op.op === 'remove') { input.order = 0; return null }
      if (!/^-?\d{1,9}$/.test(value.trim())) return { status: 409, reason: 'calendar-order must be a whole number' }
      input.order = Number(value.trim())
      return null
    case caldav('calendar-timezone'):
    case caldav('calendar-timezone-id'): {
      if (op.op === 'remove') { input.timezone = null; return null }
      let tzid = value.trim()
      if (op.name === caldav('calendar-timezone')) {
        try {
          tzid = timezoneCalendarTzid(value)
        } catch (e) {
          if (e instanceof IcalError) return { status: 403, precondition: caldav('valid-calendar-data'), reason: e.message }
          throw e
        }
      }
      const tz = canonicalTzid(tzid)
      if (tz === null) return { status: 403, precondition: caldav('valid-calendar-data'), reason: 'the time zone is not one Kalends knows (use an IANA zone such as Europe/Warsaw)' }
      input.timezone = tz
      return null
    }
    default:
      input.deadProps[op.name] = op.op === 'set' ? serializeXml(op.value, { declaration: false }) : null
      return null
  }
}

/** PROPPATCH: all or nothing (RFC 4918 §9.2); only a calendar's owner may change it. */
export async function proppatch (ctx: Ctx, path: string, body: string | undefined, reply: FastifyReply) {
  const ops = parseProppatch(body ?? '')
  const res = await resolve(ctx, path)
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  if (res.kind === 'addressbook') return proppatchAddressBook(ctx, res, ops, reply)
  if (res.kind !== 'calendar') {
    return sendMultistatus(reply, [{ href: res.path, propstats: [{ status: 403, props: ops.map(o => emptyProp(o.name)), error: davError(dav('cannot-modify-protected-property'), `properties of this ${res.kind} cannot be changed`) }] }])
  }
  if (res.cal.access !== 'owner') throw new DavError(403, 'only the calendar\'s owner may change its properties', dav('need-privileges'))
  const input: CalendarChanges = { deadProps: {} }
  const failures = new Map<QName, Failure>()
  for (const op of ops) {
    const failed = applyProp(input, op)
    if (failed !== null) failures.set(op.name, failed)
  }
  const names = [...new Set(ops.map(o => o.name))]
  if (failures.size > 0) {
    const propstats = []
    for (const [name, f] of failures) {
      propstats.push({ status: f.status, props: [emptyProp(name)], responseDescription: f.reason, ...(f.precondition === undefined ? {} : { error: davError(f.precondition, f.reason) }) })
    }
    const rest = names.filter(n => !failures.has(n))
    if (rest.length > 0) propstats.push({ status: 424, props: rest.map(emptyProp) as XmlElement[] })
    return sendMultistatus(reply, [{ href: res.path, propstats }])
  }
  await ctx.backend.updateCalendar(ctx.actor, res.cal.id, input)
  return sendMultistatus(reply, [{ href: res.path, propstats: [{ status: 200, props: names.map(emptyProp) }] }])
}

/** PROPPATCH of an address book: its name, description and dead properties; only its owner. */
async function proppatchAddressBook (ctx: Ctx, res: Extract<Resource, { kind: 'addressbook' }>, ops: PropPatchOp[], reply: FastifyReply) {
  if (res.book.access !== 'owner') throw new DavError(403, 'only the address book\'s owner may change its properties', dav('need-privileges'))
  const input: { name?: string; description?: string; deadProps: Record<string, string | null> } = { deadProps: {} }
  const refused = ops.filter(op => PROTECTED.has(op.name))
  const names = [...new Set(ops.map(o => o.name))]
  if (refused.length > 0) {
    const rest = names.filter(n => !refused.some(r => r.name === n))
    return sendMultistatus(reply, [{
      href: res.path,
      propstats: [
        { status: 403, props: refused.map(o => emptyProp(o.name)), error: davError(dav('cannot-modify-protected-property'), 'computed by the server') },
        ...(rest.length > 0 ? [{ status: 424, props: rest.map(emptyProp) as XmlElement[] }] : [])
      ]
    }])
  }
  for (const op of ops) {
    const value = op.op === 'set' ? op.value.text : ''
    if (op.name === dav('displayname')) { if (op.op === 'set' && value.trim() !== '') input.name = value } else if (op.name === carddav('addressbook-description')) input.description = value
    else input.deadProps[op.name] = op.op === 'set' ? serializeXml(op.value, { declaration: false }) : null
  }
  await ctx.backend.updateAddressBook(ctx.actor, res.book.id, input)
  return sendMultistatus(reply, [{ href: res.path, propstats: [{ status: 200, props: names.map(emptyProp) }] }])
}
