import type { FastifyReply } from 'fastify'
import {
  caldav, calendarDataProp, dav, parseReport,
  type CalendarDataRequest, type CalendarMultigetReport, type CalendarQueryReport, type FreeBusyQueryReport,
  type MultistatusResponse, type PropfindRequest
} from '../dav/xml/index.ts'
import type { ObjectRow } from '../domain/calendar-objects.ts'
import { expandObject, limitRecurrenceSet } from '../ical/expand.ts'
import { coarseRange, matches, type CompFilter } from '../ical/filter.ts'
import { freeBusy } from '../ical/freebusy.ts'
import { parseObject, type CalendarObject } from '../ical/parse.ts'
import type { DavCalendar } from './backend.ts'
import { DavError, notFoundError } from './errors.ts'
import { parsePath } from './paths.ts'
import { propertiesOf } from './properties.ts'
import { expandProperty, principalMatch, principalPropertySearch, principalSearchPropertySet, calendarServerPrincipalSearch } from './report-principals.ts'
import { depthOf, propResponse, sendMultistatus } from './respond.ts'
import { calendarBySegment, objectHref, resolve, type Ctx, type Resource } from './resources.ts'
import { syncCollection } from './report-sync.ts'
import { objectResponse } from './calendar-data.ts'
import { visibleBody } from './parts.ts'

/** REPORT: parse the body (src/dav/xml), dispatch on the report. */
export async function report (ctx: Ctx, path: string, body: string | undefined, reply: FastifyReply) {
  const req = parseReport(body ?? '')
  const res = await resolve(ctx, path)
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  switch (req.type) {
    case 'calendar-multiget': return sendMultistatus(reply, await multiget(ctx, res, req))
    case 'calendar-query': return sendMultistatus(reply, await calendarQuery(ctx, res, req))
    case 'sync-collection': return syncCollection(ctx, res, req, reply)
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

async function multiget (ctx: Ctx, target: Resource, req: CalendarMultigetReport): Promise<MultistatusResponse[]> {
  if (target.kind !== 'calendar' && target.kind !== 'object' && target.kind !== 'home') throw new DavError(403, 'calendar-multiget applies to calendars', dav('supported-report'))
  const withBody = wantsData(req.props)
  // group the hrefs by calendar, one query per calendar
  const groups = new Map<string, { names: string[] }>()
  const out = new Map<string, MultistatusResponse>()
  const order: string[] = []
  for (const href of req.hrefs) {
    order.push(href)
    const p = parsePath(href)
    if (p.kind !== 'object' || p.login.toLowerCase() !== ctx.user.login.toLowerCase()) { out.set(href, { href, status: 404 }); continue }
    const g = groups.get(p.calendar) ?? { names: [] }
    g.names.push(p.object)
    groups.set(p.calendar, g)
  }
  for (const [segment, g] of groups) {
    const cal = await calendarBySegment(ctx, segment)
    const rows = cal === null ? [] : await ctx.backend.objects(ctx.user, cal.id, g.names, withBody)
    const byName = new Map(rows.map(r => [r.name, r]))
    for (const href of order) {
      const p = parsePath(href)
      if (p.kind !== 'object' || p.calendar !== segment) continue
      const row = byName.get(p.object)
      out.set(href, row === undefined || cal === null ? { href, status: 404 } : await objectResponse(ctx, cal, row, req.props, req.calendarData))
    }
  }
  return order.map(h => out.get(h)!)
}

/** The component a query is about, when its filter names exactly one (for the SQL prefilter). */
function queriedComponent (filter: CompFilter): 'VEVENT' | 'VTODO' | undefined {
  const named = filter.compFilters.filter(c => !c.isNotDefined).map(c => c.name.toUpperCase())
  return named.length === 1 && (named[0] === 'VEVENT' || named[0] === 'VTODO') ? named[0] : undefined
}

async function calendarQuery (ctx: Ctx, target: Resource, req: CalendarQueryReport): Promise<MultistatusResponse[]> {
  const filter = req.filter as CompFilter
  if (target.kind === 'object') {
    const row = await ctx.backend.object(ctx.user, target.cal.id, target.obj.name, true)
    if (row === null) return []
    const parsed = parseObject(visibleBody(target.cal, row.ical!), { unknownTimezone: 'floating' })
    return matches(parsed, filter, { floatingTimezone: target.cal.timezone }) ? [await objectResponse(ctx, target.cal, row, req.props, req.calendarData, parsed)] : []
  }
  if (target.kind !== 'calendar') throw new DavError(403, 'calendar-query applies to a calendar or a calendar object', dav('supported-report'))
  // Windows sends Depth: 0 on the calendar and means its members, as sabre assumes
  depthOf(ctx.request.headers.depth, '1')
  const range = coarseRange(filter) ?? undefined
  const component = queriedComponent(filter)
  const rows = await ctx.backend.list(ctx.user, target.cal.id, { withBody: true, ...(component === undefined ? {} : { component }), ...(range === undefined ? {} : { range }) })
  const out: MultistatusResponse[] = []
  for (const row of rows) {
    // a private item in a read-only share is matched as the user sees it, so a filter cannot probe its hidden text
    const parsed = parseObject(visibleBody(target.cal, row.ical!), { unknownTimezone: 'floating' })
    if (!matches(parsed, filter, { floatingTimezone: target.cal.timezone })) continue
    out.push(await objectResponse(ctx, target.cal, row, req.props, req.calendarData, parsed))
  }
  return out
}

async function freeBusyQuery (ctx: Ctx, target: Resource, req: FreeBusyQueryReport, reply: FastifyReply) {
  if (target.kind !== 'calendar') throw new DavError(403, 'free-busy-query applies to a calendar', dav('supported-report'))
  const { start, end } = req.timeRange
  if (start === undefined || end === undefined) throw new DavError(400, 'free-busy-query needs a time-range with start and end', caldav('valid-filter'))
  const rows = await ctx.backend.list(ctx.user, target.cal.id, { withBody: true, component: 'VEVENT', range: { start, end } })
  const objects = rows.map(r => parseObject(r.ical!, { unknownTimezone: 'floating' }))
  const body = freeBusy(objects, start, end, { floatingTimezone: target.cal.timezone })
  return reply.code(200).header('content-type', 'text/calendar; charset=utf-8').send(body)
}
