import {
  caldav, calendarDataProp, charsetOf, type CalendarDataRequest, type CompSelection, type MultistatusResponse, type MultistatusWriter, type PropfindRequest
} from '../dav/xml/index.ts'
import type { MemberRow, ObjectRow } from '../domain/calendar-objects.ts'
import { IcalError } from '../ical/errors.ts'
import { expandObject, limitRecurrenceSet } from '../ical/expand.ts'
import { parseObject, type CalendarObject } from '../ical/parse.ts'
import type { DavCalendar } from './backend.ts'
import { DavError } from './errors.ts'
import { encodedCollection, memberHref, memberPlan, memberXml, type MemberFields, type MemberPlan } from './member-xml.ts'
import { selectParts, visibleBody } from './parts.ts'
import { propertiesOf } from './properties.ts'
import { propResponse } from './respond.ts'
import { calendarHref, objectHref, type Ctx, type Resource } from './resources.ts'

// US-ASCII text is UTF-8 as it stands
const UTF_8 = new Set(['utf-8', 'utf8', 'us-ascii'])
// a BOM is kept: the body is stored exactly as sent
const STRICT_UTF_8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * A PUT body as text. iCalendar is UTF-8 (RFC 5545 §3.1.4, and the default
 * charset of text/calendar, §8.1), so a body labelled with another charset is
 * not calendar data Kalends takes (415), and bytes that are not UTF-8 are not
 * valid calendar data (403): never stored with U+FFFD in their place.
 */
export function calendarText (bytes: Uint8Array, contentType: string | undefined): string {
  const charset = charsetOf(contentType)
  if (charset !== undefined && !UTF_8.has(charset)) throw new DavError(415, `calendar data must be UTF-8 (RFC 5545 §3.1.4), not ${charset}`, caldav('supported-calendar-data'))
  try {
    return STRICT_UTF_8.decode(bytes)
  } catch (e) {
    throw new IcalError('valid-calendar-data', 'the calendar data is not valid UTF-8 (RFC 5545 §3.1.4)', { cause: e })
  }
}

/** The calendar-data a report returns: the stored body, or its expansion or limited recurrence set. */
export function calendarData (cal: DavCalendar, body: string, cd: CalendarDataRequest | undefined, parsed?: CalendarObject): string {
  if (cd === undefined) return body
  let text = body
  if (cd.expand !== undefined || cd.limitRecurrenceSet !== undefined) {
    const obj = parsed ?? parseObject(body, { unknownTimezone: 'floating' })
    const opts = { floatingTimezone: cal.timezone }
    text = cd.expand !== undefined
      ? expandObject(obj, cd.expand.start, cd.expand.end, opts)
      : limitRecurrenceSet(obj, cd.limitRecurrenceSet!.start, cd.limitRecurrenceSet!.end, opts)
  }
  return cd.comp === undefined ? text : selectParts(text, cd.comp)
}

/** One object's response with the requested properties; calendar-data shaped as asked. */
export async function objectResponse (ctx: Ctx, cal: DavCalendar, obj: ObjectRow, props: PropfindRequest, cd: CalendarDataRequest | undefined, parsed?: CalendarObject): Promise<MultistatusResponse> {
  const res: Resource = { kind: 'object', path: objectHref(ctx, cal, obj.name), cal, obj }
  const { found, missing } = await propertiesOf(ctx, res, props)
  if (obj.ical !== undefined) {
    const i = found.findIndex(p => p.ns === 'urn:ietf:params:xml:ns:caldav' && p.name === 'calendar-data')
    const shown = visibleBody(cal, obj.ical)
    if (i >= 0 && (cd !== undefined || shown !== obj.ical)) found[i] = calendarDataProp(calendarData(cal, shown, cd, shown === obj.ical ? parsed : undefined))
  }
  return propResponse(res.path, found, missing)
}


/**
 * objectResponse added to a multistatus: written straight as text when the
 * selection allows it (member-xml.ts), else through the element tree.
 * `plan` is memberPlan(props), worked out once for a whole answer.
 */
export async function writeObject (w: MultistatusWriter, ctx: Ctx, cal: DavCalendar, obj: ObjectRow, props: PropfindRequest, cd: CalendarDataRequest | undefined, plan: MemberPlan | null = memberPlan(props)): Promise<void> {
  const text = plan === null ? null : memberText(cal, encodedCollection(calendarHref(ctx, cal)), obj, plan, cd)
  if (text !== null) return w.addWritten(text, plan!.namespaces)
  w.add(await objectResponse(ctx, cal, obj, props, cd))
}

/**
 * A member's response as text (member-xml.ts), its calendar-data as the viewer sees it and
 * shaped as asked; `base` is the calendar's encodedCollection. Null when the row does not
 * make it (memberXml): the caller answers through the element tree.
 */
function memberText (cal: DavCalendar, base: string, obj: MemberFields & { name: string; ical?: string | null }, plan: MemberPlan, cd: CalendarDataRequest | undefined): string | null {
  const shown = obj.ical === undefined || obj.ical === null ? undefined : visibleBody(cal, obj.ical)
  const data = shown === undefined || cd === undefined ? shown : calendarData(cal, shown, cd)
  return memberXml(memberHref(base, obj.name), plan, obj, data)
}

/**
 * A listing's members written as text from their MemberRows (memberText); a row that
 * does not make it is read whole and handed to `whole`, the caller's general path.
 */
export async function writeMemberRows (w: MultistatusWriter, ctx: Ctx, cal: DavCalendar, rows: MemberRow[], plan: MemberPlan, cd: CalendarDataRequest | undefined, withBody: boolean, whole: (obj: ObjectRow) => Promise<void>): Promise<void> {
  const base = encodedCollection(calendarHref(ctx, cal))
  for (const row of rows) {
    const text = memberText(cal, base, row, plan, cd)
    if (text !== null) { w.addWritten(text, plan.namespaces); continue }
    const obj = await ctx.backend.object(ctx.user, cal, row.name, withBody)
    if (obj !== null) await whole(obj)
  }
}
