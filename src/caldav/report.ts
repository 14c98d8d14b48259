import type { FastifyReply } from 'fastify'
import {
  caldav, calendarDataProp, dav, parseReport,
  MultistatusWriter, type CalendarDataRequest, type RenderedResponse, type CalendarMultigetReport, type CalendarQueryReport, type FreeBusyQueryReport,
  type MultistatusResponse, type PropfindRequest
} from '../dav/xml/index.ts'
import type { ObjectRow } from '../domain/calendar-objects.ts'
import { expandObject, limitRecurrenceSet } from '../ical/expand.ts'
import { coarseRange, matches, spanProvesMatch, type CompFilter } from '../ical/filter.ts'
import { freeBusy } from '../ical/freebusy.ts'
import { isRecurring } from '../ical/instances.ts'
import { parseObject, type CalendarObject } from '../ical/parse.ts'
import { timezoneCalendarTzid } from '../ical/timezones.ts'
import type { DavCalendar } from './backend.ts'
import { DavError, notFoundError } from './errors.ts'
import { parsePath } from './paths.ts'
import { propertiesOf } from './properties.ts'
import { expandProperty, principalMatch, principalPropertySearch, principalSearchPropertySet, calendarServerPrincipalSearch } from './report-principals.ts'
import { depthOf, propResponse, sendMultistatus, sendWritten } from './respond.ts'
import { calendarBySegment, objectHref, objectPages, resolve, type Ctx, type Resource } from './resources.ts'
import { syncCollection } from './report-sync.ts'
import { addressbookMultiget, addressbookQuery } from './report-cards.ts'
import { objectResponse, writeObject } from './calendar-data.ts'
import { memberPlan } from './member-xml.ts'
import { visibleBody } from './parts.ts'
import { addAndRemember, cachedResponse, requestKey, responseKey } from './response-cache.ts'
import { answerKey, keptAnswer, sendAndKeep, sendAnswer } from './answer-cache.ts'

/** REPORT: parse the body (src/dav/xml), dispatch on the report. */
export async function report (ctx: Ctx, path: string, body: string | undefined, reply: FastifyReply) {
  const key = answerKey(ctx, path, body)
  const kept = keptAnswer(key)
  if (kept !== undefined) return sendAnswer(reply, kept)
  const req = parseReport(body ?? '')
  const res = await resolve(ctx, path)
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  switch (req.type) {
    case 'addressbook-multiget': return sendMultistatus(reply, await addressbookMultiget(ctx, res, req))
    case 'addressbook-query': return sendWritten(reply, await addressbookQuery(ctx, res, req))
    case 'calendar-multiget': {
      const { w, within } = await multiget(ctx, res, req)
      return sendAndKeep(reply, w, key, within)
    }
    case 'calendar-query': return sendAndKeep(reply, await calendarQuery(ctx, res, req), key, res.kind === 'calendar' ? res.cal : undefined)
    case 'sync-collection': return syncCollection(ctx, res, req, reply, key)
    case 'free-busy-query': return freeBusyQuery(ctx, res, req, reply)
    case 'expand-property': return sendMultistatus(reply, await expandProperty(ctx, res, req))
    case 'principal-property-search': return sendMultistatus(reply, await principalPropertySearch(ctx, req))
    case 'principal-search-property-set': return principalSearchPropertySet(reply)
    case 'calendarserver-principal-search': return sendMultistatus(reply, await calendarServerPrincipalSearch(ctx, req))
    case 'principal-match': return sendMultistatus(reply, await principalMatch(ctx, req))
    case 'acl-principal-prop-set': return sendMultistatus(reply, [])
  }
}

function wantsData (props: PropfindRequest): boolean {
  return props.kind === 'prop' && props.props.includes(caldav('calendar-data'))
}

/** The answer, and the calendar every href named when that is the target calendar (its answer drew on nothing else). */
async function multiget (ctx: Ctx, target: Resource, req: CalendarMultigetReport): Promise<{ w: MultistatusWriter; within: DavCalendar | undefined }> {
  if (target.kind !== 'calendar' && target.kind !== 'object' && target.kind !== 'home') throw new DavError(403, 'calendar-multiget applies to calendars', dav('supported-report'))
  const withBody = wantsData(req.props)
  // group the hrefs by calendar, one query per calendar
  const groups = new Map<string, string[]>()
  const wanted = req.hrefs.map(href => {
    const p = parsePath(href)
    if (p.kind !== 'object' || p.login.toLowerCase() !== ctx.user.login.toLowerCase()) return { href }
    const names = groups.get(p.calendar) ?? []
    names.push(p.object)
    groups.set(p.calendar, names)
    return { href, segment: p.calendar, name: p.object }
  })
  const found = new Map<string, { cal: DavCalendar; rows: Map<string, ObjectRow> }>()
  for (const [segment, names] of groups) {
    const cal = await calendarBySegment(ctx, segment)
    if (cal !== null) found.set(segment, { cal, rows: new Map((await ctx.backend.objects(ctx.user, cal, names, withBody)).map(r => [r.name, r])) })
  }
  const w = new MultistatusWriter()
  const plan = memberPlan(req.props)
  for (const { href, segment, name } of wanted) {
    const group = segment === undefined ? undefined : found.get(segment)
    const row = group?.rows.get(name!)
    if (group === undefined || row === undefined) w.add({ href, status: 404 })
    else await writeObject(w, ctx, group.cal, row, req.props, req.calendarData, plan)
  }
  const within = target.kind === 'calendar' && wanted.every(h => h.segment === target.cal.segment) ? target.cal : undefined
  return { w, within }
}

/** The component a query is about, when its filter names exactly one (for the SQL prefilter). */
function queriedComponent (filter: CompFilter): 'VEVENT' | 'VTODO' | undefined {
  const named = filter.compFilters.filter(c => !c.isNotDefined).map(c => c.name.toUpperCase())
  return named.length === 1 && (named[0] === 'VEVENT' || named[0] === 'VTODO') ? named[0] : undefined
}

async function calendarQuery (ctx: Ctx, target: Resource, req: CalendarQueryReport): Promise<MultistatusWriter> {
  // RFC 4791 §7.8: a timezone that is not one VTIMEZONE is refused (valid-calendar-data)
  if (req.timezone !== undefined) timezoneCalendarTzid(req.timezone)
  const filter = req.filter as CompFilter
  const w = new MultistatusWriter()
  if (target.kind === 'object') {
    const row = await ctx.backend.object(ctx.user, target.cal, target.obj.name, true)
    if (row === null) return w
    const parsed = parseObject(visibleBody(target.cal, row.ical!), { unknownTimezone: 'floating' })
    if (matches(parsed, filter, { floatingTimezone: target.cal.timezone })) w.add(await objectResponse(ctx, target.cal, row, req.props, req.calendarData, parsed))
    return w
  }
  if (target.kind !== 'calendar') throw new DavError(403, 'calendar-query applies to a calendar or a calendar object', dav('supported-report'))
  // Windows sends Depth: 0 on the calendar and means its members, as sabre assumes
  depthOf(ctx.request.headers.depth, '1')
  const range = coarseRange(filter) ?? undefined
  const component = queriedComponent(filter)
  const filterKey = JSON.stringify(filter)
  const cal = target.cal
  const request = requestKey(ctx, cal, req.props, req.calendarData)
  // a private item in a read-only share is matched as the user sees it, so a filter cannot probe its hidden text
  const verdictKey = (row: ObjectRow) => `${row.etag}\0${cal.access === 'read'}\0${cal.timezone ?? ''}\0${filterKey}`
  // candidates without their bodies: most are decided by their span or a remembered verdict, and
  // answered from remembered responses; only the rest are read again with their bodies
  for await (const rows of objectPages(ctx, cal, { withBody: false, withSpan: true, ...(component === undefined ? {} : { component }), ...(range === undefined ? {} : { range }) })) {
    const plan: { row: ObjectRow; verdict: boolean | undefined; hit: RenderedResponse | undefined }[] = []
    const unread: string[] = []
    for (const row of rows) {
      // an object whose every instance lies inside a plain time-range matches without being parsed
      const verdict = spanProvesMatch(filter, row.component, row.first_start, row.last_end) ? true : verdicts.get(verdictKey(row))
      if (verdict === false) continue
      const hit = verdict === true ? cachedResponse(responseKey(ctx, cal, request, row)) : undefined
      if (hit === undefined) unread.push(row.name)
      plan.push({ row, verdict, hit })
    }
    const bodies = unread.length === 0 ? new Map<string, ObjectRow>() : new Map((await ctx.backend.objects(ctx.user, cal, unread, true)).map(r => [r.name, r]))
    for (const p of plan) {
      if (p.hit !== undefined) { w.addRendered(p.hit); continue }
      const row = bodies.get(p.row.name)
      if (row === undefined) continue // deleted since the listing
      // changed since the listing: decided again, as it is now
      let verdict = row.etag === p.row.etag ? p.verdict : verdicts.get(verdictKey(row))
      let parsed: CalendarObject | undefined
      if (verdict === undefined) {
        parsed = parsedBody(cal, row)
        verdict = matches(parsed, filter, { floatingTimezone: cal.timezone })
        remember(verdictKey(row), verdict)
      }
      // an expansion's parse, when the verdict did not need one
      if (verdict && parsed === undefined && req.calendarData !== undefined && (req.calendarData.expand !== undefined || req.calendarData.limitRecurrenceSet !== undefined)) parsed = parsedBody(cal, row)
      if (verdict) addAndRemember(w, responseKey(ctx, cal, request, row), await objectResponse(ctx, cal, row, req.props, req.calendarData, parsed))
    }
  }
  return w
}

/**
 * Parsed recurring objects by what their parse is made of (the stored body,
 * whose hash is the ETag, and whether the viewer sees it redacted). A parsed
 * object keeps the walk of its rules (src/ical/instances.ts), so a series
 * with a long history is walked from DTSTART once, and each later window,
 * of this query or the next, costs its own occurrences. Single events are
 * cheap to parse and not kept. Least recently used dropped first.
 */
const series = new Map<string, CalendarObject>()
const MAX_SERIES = 500

function parsedBody (cal: DavCalendar, row: ObjectRow): CalendarObject {
  const key = `${row.etag}\0${cal.access === 'read'}`
  const kept = series.get(key)
  if (kept !== undefined) {
    series.delete(key)
    series.set(key, kept)
    return kept
  }
  const parsed = parseObject(visibleBody(cal, row.ical!), { unknownTimezone: 'floating' })
  if (isRecurring(parsed)) {
    if (series.size >= MAX_SERIES) series.delete(series.keys().next().value!)
    series.set(key, parsed)
  }
  return parsed
}

/**
 * Verdicts of the exact filter test, by what decides them: the stored body
 * (its ETag is a hash of it), whether the viewer sees it redacted, the
 * calendar's zone for floating times, and the filter. Clients ask for the
 * same range again and again (a month view after each change); only objects
 * whose body changed are parsed and walked again. Least recently stored
 * dropped first.
 */
const verdicts = new Map<string, boolean>()
const MAX_VERDICTS = 20_000

function remember (key: string, verdict: boolean) {
  if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!)
  verdicts.set(key, verdict)
}

async function freeBusyQuery (ctx: Ctx, target: Resource, req: FreeBusyQueryReport, reply: FastifyReply) {
  if (target.kind !== 'calendar') throw new DavError(403, 'free-busy-query applies to a calendar', dav('supported-report'))
  const { start, end } = req.timeRange
  if (start === undefined || end === undefined) throw new DavError(400, 'free-busy-query needs a time-range with start and end', caldav('valid-filter'))
  const rows = await ctx.backend.list(ctx.user, target.cal, { withBody: true, component: 'VEVENT', range: { start, end } })
  const objects = rows.map(r => parseObject(r.ical!, { unknownTimezone: 'floating' }))
  const body = freeBusy(objects, start, end, { floatingTimezone: target.cal.timezone })
  return reply.code(200).header('content-type', 'text/calendar; charset=utf-8').send(body)
}
