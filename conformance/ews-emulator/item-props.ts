import { wallToUtc } from '../../src/domain/ical-mapping.ts'
import type { OpContext } from './context.ts'
import { attendeeAddresses, COMPUTED, hasAttendees, ORDER } from './items.ts'
import { ItemError } from './soap.ts'
import type { ExtendedProp, Item, ItemKind, SentMail } from './store.ts'
import { child, childrenOf, NS, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/** What CreateItem and UpdateItem share: reading properties and extended properties, times, and the mail log. */

export const KINDS: ItemKind[] = ['CalendarItem', 'Task', 'Message']

export function extendedOf (e: XmlElement): ExtendedProp {
  const uri = child(e, NS.t, 'ExtendedFieldURI')?.attrs ?? {}
  const values = child(e, NS.t, 'Values')
  return {
    uri,
    value: values === null ? (child(e, NS.t, 'Value')?.text ?? '') : null,
    values: values === null ? null : childrenOf(values, NS.t, 'Value').map(v => v.text)
  }
}

/** A time as Exchange stores it: UTC; one without offset is a wall time in `zone` (exchange-web-services/time-zones-and-ews-in-exchange.md). */
function utc (value: string, zone: string): string {
  const ms = /[zZ]|[+-]\d{2}:\d{2}$/.test(value) ? Date.parse(value) : (Number.isNaN(Date.parse(`${value}Z`)) ? NaN : wallToUtc(value, zone).getTime())
  if (Number.isNaN(ms)) throw new ItemError('ErrorInvalidValueForProperty', `The value '${value}' is not valid.`)
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

const TIMES = new Set(['Start', 'End', 'DueDate', 'StartDate', 'CompleteDate', 'ReminderDueBy'])

/** One property element as the client sent it; computed ones are refused (ErrorInvalidPropertySet). */
export function propertyOf (kind: ItemKind, e: XmlElement): XmlElement {
  if (COMPUTED.has(e.name) || !ORDER[kind].includes(e.name)) {
    throw new ItemError('ErrorInvalidPropertySet', `The property ${e.name} can't be set on a ${kind}.`)
  }
  return e
}

/** The item's times in UTC, local ones read in `zone`. */
export function normaliseTimes (item: Pick<Item, 'props'>, zone: string): void {
  for (const [name, e] of item.props) if (TIMES.has(name)) item.props.set(name, { ...e, text: utc(e.text, zone) })
}

/** End not before Start (ErrorCalendarEndDateIsEarlierThanStartDate, web-service-reference/responsecode.md). */
export function checkTimes (item: Pick<Item, 'kind' | 'props'>): void {
  if (item.kind !== 'CalendarItem') return
  const start = item.props.get('Start')?.text
  const end = item.props.get('End')?.text
  if (start !== undefined && end !== undefined && Date.parse(end) < Date.parse(start)) {
    throw new ItemError('ErrorCalendarEndDateIsEarlierThanStartDate', 'EndDate is earlier than StartDate')
  }
}

/** The request's TimeZoneContext as the item's zones when it names none (web-service-reference/timezonecontext.md). */
export function defaultZones (ctx: OpContext, item: Pick<Item, 'kind' | 'props'>): void {
  if (item.kind !== 'CalendarItem' || ctx.timeZoneContext === null || item.props.has('StartTimeZone') || item.props.has('MeetingTimeZone')) return
  const def = child(ctx.timeZoneContext, NS.t, 'TimeZoneDefinition')
  if (def === null) return
  item.props.set('StartTimeZone', { ...def, name: 'StartTimeZone' })
  item.props.set('EndTimeZone', { ...def, name: 'EndTimeZone' })
}

const SENDS = new Set(['SendOnlyToAll', 'SendToAllAndSaveCopy', 'SendOnlyToChanged', 'SendToChangedAndSaveCopy'])

/** Records the mail Exchange would send for a meeting (any SendTo* but SendToNone, with attendees). */
export function mailFor (ctx: OpContext, item: Item, operation: SentMail['operation'], setting: string | undefined, kind: SentMail['kind']): void {
  if (item.kind !== 'CalendarItem' || setting === undefined || !SENDS.has(setting) || !hasAttendees(item)) return
  ctx.store.mail.push({ operation, itemId: item.id, subject: item.props.get('Subject')?.text ?? '', setting, kind, recipients: attendeeAddresses(item), at: new Date() })
}
