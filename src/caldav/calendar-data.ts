import {
  calendarDataProp, type CalendarDataRequest, type CompSelection, type MultistatusResponse, type PropfindRequest
} from '../dav/xml/index.ts'
import type { ObjectRow } from '../domain/calendar-objects.ts'
import { expandObject, limitRecurrenceSet } from '../ical/expand.ts'
import { parseObject, type CalendarObject } from '../ical/parse.ts'
import type { DavCalendar } from './backend.ts'
import { selectParts, visibleBody } from './parts.ts'
import { propertiesOf } from './properties.ts'
import { propResponse } from './respond.ts'
import { objectHref, type Ctx, type Resource } from './resources.ts'

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

