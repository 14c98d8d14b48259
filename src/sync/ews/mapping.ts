import type { ItemKind } from '../../db/schema.ts'
import { withExtras, withoutExtras } from '../description.ts'
import type { EventData, TaskData } from '../items.ts'
import type { Override } from '../overrides.ts'
import type { ItemRef, RemoteItem } from '../provider.ts'
import { fromEwsRecurrence, toEwsRecurrence } from '../microsoft/ews-recurrence.ts'
import { child, childrenOf, el, esc, isTrue, NS, textOf, tv, type XmlElement } from '../microsoft/ews-xml.ts'
import type { MsRecurrence } from '../microsoft/recurrence.ts'
import { REF_PROPERTY_NAME, REF_PROPERTY_SET } from '../microsoft/ref-property.ts'
import { fromMsSeries } from '../microsoft/series.ts'
import { allDayDate, allDayInstant, ewsZoneElement, zoneOfDefinition } from '../microsoft/zones.ts'

/**
 * EWS CalendarItem and Task <-> the engine's item data. The CRM item a copy
 * stands for rides in a named extended property of Kalends' own property set
 * (web-service-reference/extendedfielduri.md), which Exchange returns only
 * when a request names it. Properties go out in the order of types.xsd
 * (ItemType, then CalendarItemType / TaskType: schema sequences).
 */

export const REF_URI = el('t:ExtendedFieldURI', { PropertySetId: REF_PROPERTY_SET, PropertyName: REF_PROPERTY_NAME, PropertyType: 'String' })

export const refValue = (ref: Pick<ItemRef, 'kind' | 'id'>): string => `${ref.kind}:${ref.id}`

/** One property to write: its FieldURI (or the extended one) and the element, or null to delete it. */
export type Field = { path: string; xml: string | null }

const field = (uri: string, xml: string | null): Field => ({ path: el('t:FieldURI', { FieldURI: uri }), xml })
const refField = (ref: ItemRef): Field => ({ path: REF_URI, xml: el('t:ExtendedProperty', {}, REF_URI, tv('Value', refValue(ref))) })
const body = (text: string): string => el('t:Body', { BodyType: 'Text' }, esc(text))
/** xs:dateTime in UTC without milliseconds, as Exchange writes them. */
const utc = (iso: string): string => new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z')

/**
 * A calendar item's properties. All-day items are midnight to midnight in
 * `zone` with IsAllDayEvent (exchange-web-services/time-zones-and-ews-in-exchange.md);
 * timed ones are UTC instants with the event's zone as StartTimeZone/EndTimeZone,
 * which places recurrence on the wall clock. `recurrence` is the series
 * already checked expressible (microsoft/series.ts).
 */
export function calendarFields (e: EventData, ref: ItemRef, extras: string[], recurrence: MsRecurrence | null, zone: string): Field[] {
  const itemZone = e.allDay ? zone : (e.timezone ?? 'UTC')
  const start = e.allDay ? allDayInstant(e.start, zone) : e.start
  const end = e.allDay ? allDayInstant(e.end, zone) : e.end
  return [
    field('item:Subject', tv('Subject', e.title)),
    field('item:Sensitivity', tv('Sensitivity', e.private ? 'Private' : 'Normal')),
    field('item:Body', body(withExtras(e.description, extras))),
    refField(ref),
    field('calendar:Start', tv('Start', utc(start))),
    field('calendar:End', tv('End', utc(end))),
    field('calendar:IsAllDayEvent', tv('IsAllDayEvent', e.allDay)),
    field('calendar:LegacyFreeBusyStatus', tv('LegacyFreeBusyStatus', e.status === 'tentative' ? 'Tentative' : e.busy ? 'Busy' : 'Free')),
    field('calendar:Location', tv('Location', e.location)),
    field('calendar:Recurrence', recurrence === null ? null : toEwsRecurrence(recurrence)),
    field('calendar:StartTimeZone', ewsZoneElement('StartTimeZone', itemZone)),
    field('calendar:EndTimeZone', ewsZoneElement('EndTimeZone', itemZone))
  ]
}

/** The properties of one edited occurrence (an exception of the series). */
export function occurrenceFields (o: Override, allDay: boolean, zone: string): Field[] {
  const at = (v: string) => utc(allDay ? allDayInstant(v.slice(0, 10), zone) : v)
  return [
    field('item:Subject', tv('Subject', o.title)),
    field('item:Body', body(o.description)),
    field('calendar:Start', tv('Start', at(o.start))),
    field('calendar:End', tv('End', at(o.end))),
    field('calendar:Location', tv('Location', o.location))
  ]
}

/** A task's properties; the due date is midnight UTC of the day, the one thing compared (TaskData keeps a date). */
export function taskFields (x: TaskData, ref: ItemRef, extras: string[]): Field[] {
  return [
    field('item:Subject', tv('Subject', x.title)),
    field('item:Body', body(withExtras(x.notes, extras))),
    refField(ref),
    field('task:CompleteDate', x.completed === null ? null : tv('CompleteDate', utc(x.completed))),
    field('task:DueDate', x.due === null ? null : tv('DueDate', `${x.due}T00:00:00Z`)),
    field('task:Status', tv('Status', x.completed === null ? 'NotStarted' : 'Completed'))
  ]
}

/** The fields as a new item's content (deleted ones are simply absent). */
export const asNew = (kind: 'CalendarItem' | 'Task', fields: Field[], uid?: string): string => {
  const xml = fields.map(f => f.xml).filter((x): x is string => x !== null)
  // UID comes first among CalendarItemType's own elements, after ItemType's (ExtendedProperty the last we write)
  if (uid !== undefined) xml.splice(xml.findIndex(x => x.startsWith('<t:Start>')), 0, tv('UID', uid))
  return el(`t:${kind}`, {}, ...xml)
}

/** The fields as UpdateItem changes: one SetItemField or DeleteItemField each (web-service-reference/updates-item.md). */
export const asUpdates = (kind: 'CalendarItem' | 'Task', fields: Field[]): string =>
  el('t:Updates', {}, ...fields.map(f => f.xml === null
    ? el('t:DeleteItemField', {}, f.path)
    : el('t:SetItemField', {}, f.path, el(`t:${kind}`, {}, f.xml))))

/** The properties GetItem has to name for the mapping (the extended one is never sent unasked). */
export const CALENDAR_SHAPE = el('m:ItemShape', {}, tv('BaseShape', 'AllProperties'), tv('BodyType', 'Text'),
  el('t:AdditionalProperties', {}, ...['calendar:UID', 'calendar:Recurrence', 'calendar:ModifiedOccurrences', 'calendar:DeletedOccurrences', 'calendar:StartTimeZone', 'calendar:IsAllDayEvent'].map(u => el('t:FieldURI', { FieldURI: u })), REF_URI))
export const TASK_SHAPE = el('m:ItemShape', {}, tv('BaseShape', 'AllProperties'), tv('BodyType', 'Text'), el('t:AdditionalProperties', {}, REF_URI))

const T = NS.t

function refOf (item: XmlElement): { kind: ItemKind; id: number } | null {
  for (const p of childrenOf(item, T, 'ExtendedProperty')) {
    const uri = child(p, T, 'ExtendedFieldURI')
    if (uri?.attrs.PropertyName !== REF_PROPERTY_NAME || uri.attrs.PropertySetId?.toLowerCase() !== REF_PROPERTY_SET) continue
    const m = /^(appointment|task):(\d+)$/.exec(textOf(p, T, 'Value') ?? '')
    if (m !== null) return { kind: m[1] as ItemKind, id: Number(m[2]) }
  }
  return null
}

const iso = (v: string | null): string => v === null ? '' : new Date(v).toISOString()

/** The item's zone (IANA) from its StartTimeZone, UTC when it has none. */
export function zoneOfItem (item: XmlElement): string {
  const def = child(item, T, 'StartTimeZone') ?? child(item, T, 'MeetingTimeZone')
  return def === null ? 'UTC' : zoneOfDefinition(def).iana
}

function base (item: XmlElement): Omit<RemoteItem, 'data'> {
  const id = child(item, T, 'ItemId')
  const modified = textOf(item, T, 'LastModifiedTime')
  return {
    remoteId: id?.attrs.Id ?? '',
    etag: id?.attrs.ChangeKey ?? null,
    deleted: false,
    ref: refOf(item),
    uid: textOf(item, T, 'UID'),
    attendees: ['RequiredAttendees', 'OptionalAttendees'].flatMap(n => childrenOf(child(item, T, n), T, 'Attendee'))
      .map(a => textOf(child(a, T, 'Mailbox'), T, 'EmailAddress')).filter((a): a is string => a !== null),
    updated: modified === null ? null : new Date(modified)
  }
}

/** An exception's fields as an override of the series, named by its original start. */
function overrideOf (ex: XmlElement, allDay: boolean, zone: string): Override | null {
  const original = textOf(ex, T, 'OriginalStart') ?? textOf(ex, T, 'RecurrenceId')
  if (original === null) return null
  const at = (v: string | null) => allDay ? allDayDate(iso(v), zone) : iso(v)
  return {
    recurrenceId: at(original),
    title: textOf(ex, T, 'Subject') ?? '',
    start: at(textOf(ex, T, 'Start')),
    end: at(textOf(ex, T, 'End')),
    location: textOf(ex, T, 'Location') ?? '',
    description: withoutExtras(textOf(ex, T, 'Body') ?? '')
  }
}

/** The exception item ids a master lists in ModifiedOccurrences (web-service-reference/modifiedoccurrences.md). */
export const exceptionIds = (item: XmlElement): string[] =>
  childrenOf(child(item, T, 'ModifiedOccurrences'), T, 'Occurrence').map(o => child(o, T, 'ItemId')?.attrs.Id).filter((x): x is string => x !== undefined)

/** A calendar item (with its exceptions, read separately) as remote item data. */
export function fromCalendarItem (item: XmlElement, exceptions: XmlElement[]): RemoteItem {
  const allDay = isTrue(textOf(item, T, 'IsAllDayEvent'))
  const zone = zoneOfItem(item)
  const start = allDay ? allDayDate(iso(textOf(item, T, 'Start')), zone) : iso(textOf(item, T, 'Start'))
  const end = allDay ? allDayDate(iso(textOf(item, T, 'End')), zone) : iso(textOf(item, T, 'End'))
  const freeBusy = textOf(item, T, 'LegacyFreeBusyStatus') ?? 'Busy'
  const recurrenceEl = child(item, T, 'Recurrence')
  const recurrence = recurrenceEl === null ? null : fromEwsRecurrence(recurrenceEl)
  let series: Pick<EventData, 'rrule' | 'exdates' | 'overrides'> = { rrule: null, exdates: [], overrides: [] }
  if (recurrence !== null) {
    const deleted = childrenOf(child(item, T, 'DeletedOccurrences'), T, 'DeletedOccurrence')
      .map(d => allDay ? allDayDate(iso(textOf(d, T, 'Start')), zone) : iso(textOf(d, T, 'Start')))
    const modified = exceptions.map(ex => overrideOf(ex, allDay, zone)).filter((o): o is Override => o !== null)
    series = fromMsSeries(recurrence, { start, timezone: allDay ? null : zone, allDay }, deleted, modified)
  }
  const data: EventData = {
    title: textOf(item, T, 'Subject') ?? '',
    description: withoutExtras(textOf(item, T, 'Body') ?? ''),
    location: textOf(item, T, 'Location') ?? '',
    allDay,
    start,
    end,
    timezone: allDay ? null : zone,
    ...series,
    status: freeBusy === 'Tentative' ? 'tentative' : 'confirmed',
    private: ['Private', 'Confidential'].includes(textOf(item, T, 'Sensitivity') ?? ''),
    busy: freeBusy !== 'Free'
  }
  return { ...base(item), data }
}

/**
 * A task as remote item data. A due date is a day: Outlook stores it as the
 * day's midnight in the user's zone, in UTC, so the day is the one nearest
 * to the instant (any zone within ±12 h of UTC).
 */
export function fromTask (item: XmlElement): RemoteItem {
  const due = textOf(item, T, 'DueDate')
  const completed = textOf(item, T, 'Status') === 'Completed'
  const data: TaskData = {
    title: textOf(item, T, 'Subject') ?? '',
    notes: withoutExtras(textOf(item, T, 'Body') ?? ''),
    due: due === null ? null : new Date(Date.parse(due) + 12 * 3_600_000).toISOString().slice(0, 10),
    completed: completed ? iso(textOf(item, T, 'CompleteDate') ?? textOf(item, T, 'LastModifiedTime') ?? new Date().toISOString()) : null
  }
  return { ...base(item), uid: null, data }
}
