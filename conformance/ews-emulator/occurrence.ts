import { fromEwsRecurrence } from '../../src/sync/microsoft/ews-recurrence.ts'
import { child, NS, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'
import { occurrences } from '../../src/sync/microsoft/occurrences.ts'
import { allDayInstant, zoneOfDefinition } from '../../src/sync/microsoft/zones.ts'
import { resolveItem, type OpContext } from './context.ts'
import { ItemError } from './soap.ts'
import type { Item, Store } from './store.ts'

/**
 * t:OccurrenceItemId (RecurringMasterId + 1-based InstanceIndex;
 * web-service-reference/occurrenceitemid.md): the occurrence of a master,
 * found by expanding its Recurrence in its zone as Exchange does; an index
 * past the series is ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange, a
 * deleted one ErrorCalendarOccurrenceIsDeletedFromRecurrence
 * (web-service-reference/responsecode.md).
 */

export const stamp = (iso: string): string => new Date(iso).toISOString().replace(/\.000Z$/, 'Z')

/** The zone a calendar item's local times are in: its StartTimeZone, else the request's TimeZoneContext, else UTC. */
export function zoneOf (ctx: OpContext, props: Map<string, XmlElement>): string {
  const def = props.get('StartTimeZone') ?? child(ctx.timeZoneContext, NS.t, 'TimeZoneDefinition')
  return def === undefined || def === null ? 'UTC' : zoneOfDefinition(def).iana
}

export function resolveOccurrence (ctx: OpContext, ref: XmlElement): { master: Item; originalStart: string; exception: Item | null } {
  const master = resolveItem(ctx, { ...ref, name: 'ItemId', attrs: { Id: ref.attrs.RecurringMasterId ?? '' } })
  const recurrence = master.props.get('Recurrence')
  const rec = recurrence === undefined ? null : fromEwsRecurrence(recurrence)
  const start = master.props.get('Start')?.text
  if (rec === null || start === undefined) throw new ItemError('ErrorItemNotFound', 'The specified object was not found in the store.')
  const zone = zoneOf(ctx, master.props)
  const allDay = master.props.get('IsAllDayEvent')?.text === 'true'
  const index = Number(ref.attrs.InstanceIndex)
  const list = occurrences(rec, { start: allDay ? start.slice(0, 10) : start, timezone: zone, allDay }, { max: index })
  const at = list[index - 1]
  if (!Number.isInteger(index) || index < 1 || at === undefined) {
    throw new ItemError('ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange', 'Occurrence index is out of recurrence range.')
  }
  const originalStart = stamp(allDay ? allDayInstant(at, zone) : at)
  if (master.deletedOccurrences.some(d => stamp(d) === originalStart)) {
    throw new ItemError('ErrorCalendarOccurrenceIsDeletedFromRecurrence', 'Occurrence with this index was previously deleted from the recurrence.')
  }
  const exception = master.exceptions.map(id => ctx.store.items.get(id)).find(e => e?.master !== null && e?.master !== undefined && stamp(e.master.originalStart) === originalStart) ?? null
  return { master, originalStart, exception }
}

/** The properties an exception starts from: the master's, moved to the occurrence's time, without the pattern. */
export function occurrenceProps (found: ReturnType<typeof resolveOccurrence>): Map<string, XmlElement> {
  if (found.exception !== null) return new Map(found.exception.props)
  const { master, originalStart } = found
  const duration = Date.parse(master.props.get('End')?.text ?? '') - Date.parse(master.props.get('Start')?.text ?? '')
  const props = new Map([...master.props].filter(([k]) => k !== 'Recurrence'))
  const at = (name: string, iso: string) => props.set(name, { ns: NS.t, name, attrs: {}, children: [], text: iso })
  at('Start', originalStart)
  at('End', stamp(new Date(Date.parse(originalStart) + (Number.isNaN(duration) ? 0 : duration)).toISOString()))
  return props
}

/** Stores a new exception of the master (Exchange keeps it as an embedded item of the master). */
export function insertException (ctx: OpContext, found: ReturnType<typeof resolveOccurrence>, props: Map<string, XmlElement>, extended: Item['extended']): Item {
  const { master, originalStart } = found
  const ex = ctx.store.insert({ mailbox: master.mailbox, folderId: master.folderId, kind: 'CalendarItem', props, extended, uid: master.uid, master: { id: master.id, originalStart } })
  master.exceptions.push(ex.id)
  return ex
}

/**
 * A master whose pattern changed loses its exceptions, modified and deleted:
 * "If the recurrence pattern has changed, the client ... removes every
 * exception from the PidLidAppointmentRecur property and every Exception
 * Attachment object" (MS-OXOCAL 3.1.4.7.3.5, Updating a Recurring Series;
 * Outlook: "Any exceptions associated with this recurring appointment will be
 * lost"). The pattern is the series' start (time and first day), all-day, and
 * the rule without its end: a series only extended or shortened keeps them (an
 * EWS client extending a daily series did not get its deleted occurrence
 * back: OfficeDev/ews-managed-api#235).
 */
export function dropExceptionsOnNewPattern (store: Store, master: Item, before: Map<string, XmlElement>): void {
  if (master.master !== null || (master.exceptions.length === 0 && master.deletedOccurrences.length === 0)) return
  const key = (props: Map<string, XmlElement>) => {
    const r = props.get('Recurrence')
    const rec = r === undefined ? null : fromEwsRecurrence(r)
    return JSON.stringify([Date.parse(props.get('Start')?.text ?? ''), props.get('IsAllDayEvent')?.text === 'true', rec?.pattern ?? null, r !== undefined])
  }
  if (key(before) === key(master.props)) return
  for (const id of master.exceptions) store.items.delete(id)
  master.exceptions = []
  master.deletedOccurrences = []
}
