import { createHash } from 'node:crypto'
import type { ItemKind } from '../../db/schema.ts'
import { withExtras, withoutExtras } from '../description.ts'
import type { EventData, TaskData } from '../items.ts'
import type { Override } from '../overrides.ts'
import type { ItemRef, RemoteItem } from '../provider.ts'
import { fromGraphRecurrence, toGraphRecurrence, type GraphRecurrence } from '../microsoft/graph-recurrence.ts'
import { occurrences } from '../microsoft/occurrences.ts'
import type { MsRecurrence } from '../microsoft/recurrence.ts'
import { REF_PROPERTY_NAME, REF_PROPERTY_SET } from '../microsoft/ref-property.ts'
import { fromMsSeries } from '../microsoft/series.ts'
import { allDayDate, ianaFromWindows, toGraphDateTime, windowsFromIana } from '../microsoft/zones.ts'

/**
 * Outlook events and To Do tasks on Graph <-> the engine's item data.
 * Every call asks for UTC (Prefer: outlook.timezone="UTC"), so times read
 * are UTC wall clocks; an event's own zone is originalStartTimeZone. The CRM
 * item a copy stands for rides in a single-value extended property
 * (singlevaluelegacyextendedproperty: "String {guid} Name KalendsItem",
 * the property set EWS writes, so both Microsoft bridges recognise the
 * same copies), read only when a request expands it. No attendee is ever
 * written: Exchange mails attendees of what an organizer creates or changes.
 */

export const REF_PROPERTY = `String {${REF_PROPERTY_SET}} Name ${REF_PROPERTY_NAME}`
/** `$expand` that returns the reference property (it is never sent unasked). */
export const EXPAND_REF = `$expand=singleValueExtendedProperties($filter=id eq '${REF_PROPERTY}')`

export type GraphDateTime = { dateTime: string; timeZone?: string | null }

export type GraphEvent = {
  id: string
  '@odata.etag'?: string
  '@removed'?: { reason?: string }
  type?: 'singleInstance' | 'occurrence' | 'exception' | 'seriesMaster'
  seriesMasterId?: string | null
  iCalUId?: string | null
  subject?: string | null
  body?: { contentType?: string; content?: string } | null
  start?: GraphDateTime | null
  end?: GraphDateTime | null
  originalStart?: string | null
  originalStartTimeZone?: string | null
  isAllDay?: boolean
  showAs?: string
  sensitivity?: string
  location?: { displayName?: string | null } | null
  recurrence?: Partial<GraphRecurrence> | null
  cancelledOccurrences?: string[] | null
  attendees?: { emailAddress?: { address?: string } }[]
  lastModifiedDateTime?: string
  singleValueExtendedProperties?: { id: string; value: string }[]
}

export type GraphTask = {
  id: string
  '@odata.etag'?: string
  '@removed'?: { reason?: string }
  title?: string
  body?: { content?: string; contentType?: string } | null
  status?: string
  dueDateTime?: GraphDateTime | null
  completedDateTime?: GraphDateTime | null
  lastModifiedDateTime?: string
}

/** Graph's transactionId for the CRM item's first copy: a retried create finds the first one (resources/event.md). */
export const transactionIdFor = (ref: ItemRef): string => `kalends-${createHash('sha256').update(`${ref.kind}:${ref.uid}`).digest('hex').slice(0, 40)}`

export const refValue = (ref: Pick<ItemRef, 'kind' | 'id'>): string => `${ref.kind}:${ref.id}`

function refOf (ev: GraphEvent): { kind: ItemKind; id: number } | null {
  const p = ev.singleValueExtendedProperties?.find(x => x.id.toLowerCase() === REF_PROPERTY.toLowerCase())
  const m = /^(appointment|task):(\d+)$/.exec(p?.value ?? '')
  return m === null ? null : { kind: m[1] as ItemKind, id: Number(m[2]) }
}

/** A UTC dateTime Graph wrote (7 decimals, no Z) as an ISO instant. */
const utc = (v: GraphDateTime | null | undefined): string => v == null ? '' : new Date(`${v.dateTime.slice(0, 23)}Z`).toISOString()
const dateOf = (v: GraphDateTime | null | undefined): string => v == null ? '' : v.dateTime.slice(0, 10)
/** The event's zone (IANA) from its originalStartTimeZone, Windows or IANA; UTC when unknown. */
const zoneOf = (ev: GraphEvent): string => ev.originalStartTimeZone == null ? 'UTC' : (ianaFromWindows(ev.originalStartTimeZone) ?? 'UTC')
const text = (b: GraphEvent['body']): string => {
  const content = b?.content ?? ''
  return b?.contentType === 'html' ? content.replace(/<br\s*\/?>/gi, '\n').replace(/<[^>]*>/g, '').replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').trim() : content
}

/** A Graph dateTimeTimeZone for a CRM time: the zone's wall clock for timed events, the date's midnight for all-day ones. */
function when (v: string, allDay: boolean, zone: string | null): { dateTime: string; timeZone: string } {
  if (allDay) return { dateTime: `${v.slice(0, 10)}T00:00:00.0000000`, timeZone: 'UTC' }
  return toGraphDateTime(v, zone ?? 'UTC')
}

/** The body of a create or update: no attendees, ever; the reference property; the recurrence when a series. */
export function toGraphEvent (e: EventData, ref: ItemRef, extras: string[], recurrence: MsRecurrence | null): Record<string, unknown> {
  const zone = e.allDay ? null : (e.timezone ?? 'UTC')
  return {
    subject: e.title,
    body: { contentType: 'text', content: withExtras(e.description, extras) },
    start: when(e.start, e.allDay, zone),
    end: when(e.end, e.allDay, zone),
    isAllDay: e.allDay,
    location: { displayName: e.location },
    showAs: e.status === 'tentative' ? 'tentative' : e.busy ? 'busy' : 'free',
    sensitivity: e.private ? 'private' : 'normal',
    isReminderOn: false,
    recurrence: recurrence === null ? null : toGraphRecurrence(recurrence, e.allDay ? 'UTC' : (windowsFromIana(zone ?? 'UTC') ?? 'UTC')),
    singleValueExtendedProperties: [{ id: REF_PROPERTY, value: refValue(ref) }]
  }
}

/** An edited occurrence's own fields, as an update of that occurrence (it becomes an exception of its series). */
export function toGraphOccurrence (o: Override, allDay: boolean, zone: string | null): Record<string, unknown> {
  return {
    subject: o.title,
    body: { contentType: 'text', content: o.description },
    start: when(o.start, allDay, zone),
    end: when(o.end, allDay, zone),
    location: { displayName: o.location }
  }
}

/** An occurrence's original start as ItemData names it: an instant, or a date when all-day. */
export function originalStartOf (inst: GraphEvent, allDay: boolean): string {
  const at = new Date(inst.originalStart ?? utc(inst.start)).toISOString()
  return allDay ? at.slice(0, 10) : at
}

function overrideOf (ex: GraphEvent, allDay: boolean): Override {
  return {
    recurrenceId: originalStartOf(ex, allDay),
    title: ex.subject ?? '',
    start: allDay ? dateOf(ex.start) : utc(ex.start),
    end: allDay ? dateOf(ex.end) : utc(ex.end),
    location: ex.location?.displayName ?? '',
    description: withoutExtras(text(ex.body))
  }
}

/**
 * Graph names a cancelled occurrence "OID.{masterId}.{date}" (event.md,
 * cancelledOccurrences): the date is matched to the series' occurrence on
 * that day, in UTC or on the series' wall clock.
 */
function cancelledStarts (ev: GraphEvent, recurrence: MsRecurrence, start: string, zone: string, allDay: boolean): string[] {
  const dates = (ev.cancelledOccurrences ?? []).map(c => /(\d{4}-\d{2}-\d{2})$/.exec(c)?.[1]).filter((d): d is string => d !== undefined)
  if (dates.length === 0) return []
  const all = occurrences(recurrence, { start, timezone: allDay ? null : zone, allDay }, { through: addDay(dates.slice().sort().at(-1) as string) })
  return dates.map(d => all.find(o => o.slice(0, 10) === d || (!allDay && allDayDate(o, zone) === d))).filter((o): o is string => o !== undefined)
}

const addDay = (d: string): string => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)

/** A single event or a series master (with its exception instances) as remote item data. */
export function fromGraphEvent (ev: GraphEvent, exceptions: GraphEvent[] = []): RemoteItem {
  const allDay = ev.isAllDay === true
  const zone = zoneOf(ev)
  const start = allDay ? dateOf(ev.start) : utc(ev.start)
  const end = allDay ? dateOf(ev.end) : utc(ev.end)
  const recurrence = ev.type === 'seriesMaster' ? fromGraphRecurrence(ev.recurrence) : null
  let series: Pick<EventData, 'rrule' | 'exdates' | 'overrides'> = { rrule: null, exdates: [], overrides: [] }
  if (recurrence !== null) {
    series = fromMsSeries(recurrence, { start, timezone: allDay ? null : zone, allDay }, cancelledStarts(ev, recurrence, start, zone, allDay), exceptions.map(x => overrideOf(x, allDay)))
  }
  const data: EventData = {
    title: ev.subject ?? '',
    description: withoutExtras(text(ev.body)),
    location: ev.location?.displayName ?? '',
    allDay,
    start,
    end,
    timezone: allDay ? null : zone,
    ...series,
    status: ev.showAs === 'tentative' ? 'tentative' : 'confirmed',
    private: ev.sensitivity === 'private' || ev.sensitivity === 'confidential',
    busy: ev.showAs !== 'free'
  }
  return {
    remoteId: ev.id,
    etag: ev['@odata.etag'] ?? null,
    deleted: false,
    data,
    ref: refOf(ev),
    uid: ev.iCalUId ?? null,
    attendees: (ev.attendees ?? []).map(a => a.emailAddress?.address).filter((a): a is string => typeof a === 'string' && a !== ''),
    updated: ev.lastModifiedDateTime === undefined ? null : new Date(ev.lastModifiedDateTime)
  }
}

export const removed = (remoteId: string): RemoteItem => ({ remoteId, etag: null, deleted: true, data: null, ref: null, uid: null, attendees: [], updated: null })

const TASK_REF = /^kalends:task:(\d+)$/m

/** A To Do task: the due day at midnight UTC (To Do keeps only the day), the CRM reference as a line below the marker. */
export function toGraphTask (x: TaskData, ref: ItemRef, extras: string[]): Record<string, unknown> {
  return {
    title: x.title,
    body: { contentType: 'text', content: withExtras(x.notes, [...extras, `kalends:task:${ref.id}`]) },
    dueDateTime: x.due === null ? null : { dateTime: `${x.due}T00:00:00.0000000`, timeZone: 'UTC' },
    status: x.completed === null ? 'notStarted' : 'completed',
    ...(x.completed === null ? {} : { completedDateTime: { dateTime: x.completed.replace('Z', ''), timeZone: 'UTC' } })
  }
}

export function fromGraphTask (t: GraphTask): RemoteItem {
  const body = text(t.body)
  const m = TASK_REF.exec(body)
  const done = t.status === 'completed'
  const data: TaskData = {
    title: t.title ?? '',
    notes: withoutExtras(body),
    due: t.dueDateTime == null ? null : dateOf(t.dueDateTime),
    completed: done ? (t.completedDateTime == null ? new Date(t.lastModifiedDateTime ?? Date.now()).toISOString() : utc(t.completedDateTime)) : null
  }
  return {
    remoteId: t.id,
    etag: t['@odata.etag'] ?? null,
    deleted: false,
    data,
    ref: m === null ? null : { kind: 'task', id: Number(m[1]) },
    uid: null,
    attendees: [],
    updated: t.lastModifiedDateTime === undefined ? null : new Date(t.lastModifiedDateTime)
  }
}
