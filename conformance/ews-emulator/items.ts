import type { Item, ItemKind, Store } from './store.ts'
import { child, childrenOf, el, esc, NS, serialize, tv, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * Items as GetItem/SyncFolderItems answer them, in the element order of
 * types.xsd (ItemType, then CalendarItemType or TaskType: a schema sequence).
 */

const ITEM_ORDER = ['MimeContent', 'ItemId', 'ParentFolderId', 'ItemClass', 'Subject', 'Sensitivity', 'Body', 'Attachments', 'DateTimeReceived', 'Size', 'Categories', 'Importance', 'InReplyTo', 'IsSubmitted', 'IsDraft', 'IsFromMe', 'IsResend', 'IsUnmodified', 'InternetMessageHeaders', 'DateTimeSent', 'DateTimeCreated', 'ResponseObjects', 'ReminderDueBy', 'ReminderIsSet', 'ReminderNextTime', 'ReminderMinutesBeforeStart', 'DisplayCc', 'DisplayTo', 'DisplayBcc', 'HasAttachments', 'ExtendedProperty', 'Culture', 'EffectiveRights', 'LastModifiedName', 'LastModifiedTime']

const CALENDAR_ORDER = ['UID', 'RecurrenceId', 'DateTimeStamp', 'Start', 'End', 'OriginalStart', 'IsAllDayEvent', 'LegacyFreeBusyStatus', 'Location', 'When', 'IsMeeting', 'IsCancelled', 'IsRecurring', 'MeetingRequestWasSent', 'IsResponseRequested', 'CalendarItemType', 'MyResponseType', 'Organizer', 'RequiredAttendees', 'OptionalAttendees', 'Resources', 'InboxReminders', 'ConflictingMeetingCount', 'AdjacentMeetingCount', 'ConflictingMeetings', 'AdjacentMeetings', 'Duration', 'TimeZone', 'AppointmentReplyTime', 'AppointmentSequenceNumber', 'AppointmentState', 'Recurrence', 'FirstOccurrence', 'LastOccurrence', 'ModifiedOccurrences', 'DeletedOccurrences', 'MeetingTimeZone', 'StartTimeZone', 'EndTimeZone', 'ConferenceType', 'AllowNewTimeProposal', 'IsOnlineMeeting', 'MeetingWorkspaceUrl', 'NetShowUrl', 'EnhancedLocation', 'StartWallClock', 'EndWallClock', 'StartTimeZoneId', 'EndTimeZoneId', 'IntendedFreeBusyStatus', 'JoinOnlineMeetingUrl', 'OnlineMeetingSettings', 'IsOrganizer']

const TASK_ORDER = ['ActualWork', 'AssignedTime', 'BillingInformation', 'ChangeCount', 'Companies', 'CompleteDate', 'Contacts', 'DelegationState', 'Delegator', 'DueDate', 'IsAssignmentEditable', 'IsComplete', 'IsRecurring', 'IsTeamTask', 'Mileage', 'Owner', 'PercentComplete', 'Recurrence', 'StartDate', 'Status', 'StatusDescription', 'TotalWork']

export const ORDER: Record<ItemKind, string[]> = {
  CalendarItem: [...ITEM_ORDER, ...CALENDAR_ORDER],
  Task: [...ITEM_ORDER, ...TASK_ORDER],
  Message: ITEM_ORDER
}

/** Properties the server computes: a client may not set them (CreateItem answers ErrorInvalidPropertySet). */
export const COMPUTED = new Set(['ItemId', 'ParentFolderId', 'DateTimeCreated', 'LastModifiedTime', 'CalendarItemType', 'IsRecurring', 'IsMeeting', 'Organizer', 'MyResponseType', 'ModifiedOccurrences', 'DeletedOccurrences', 'IsOrganizer', 'IsComplete', 'Size', 'HasAttachments', 'DateTimeReceived'])

/**
 * BaseShape Default of a calendar item / task: what the responses in
 * web-service-reference/getitem-operation-calendar-item.md and
 * getitem-operation-task.md carry beyond the id.
 */
const DEFAULT: Record<ItemKind, string[]> = {
  CalendarItem: ['ItemId', 'Subject', 'Attachments', 'ResponseObjects', 'HasAttachments', 'IsAssociated', 'Start', 'End', 'LegacyFreeBusyStatus', 'Location', 'CalendarItemType', 'Organizer', 'RequiredAttendees', 'OptionalAttendees', 'Resources'],
  Task: ['ItemId', 'Subject', 'Attachments', 'HasAttachments', 'DueDate', 'PercentComplete', 'StartDate', 'Status'],
  Message: ['ItemId', 'Subject']
}

export type Shape = {
  base: 'IdOnly' | 'Default' | 'AllProperties'
  /** element names asked for by FieldURI */
  fields: Set<string>
  /** ExtendedFieldURI attribute sets asked for */
  extended: Record<string, string>[]
  bodyType: string | null
}

/** ItemShape (web-service-reference/itemshape.md, additionalproperties.md, fielduri.md). */
export function shapeOf (e: XmlElement | null): Shape {
  const base = (child(e, NS.t, 'BaseShape')?.text ?? 'Default') as Shape['base']
  const additional = child(e, NS.t, 'AdditionalProperties')
  const fields = new Set(childrenOf(additional, NS.t, 'FieldURI').map(f => fieldName(f.attrs.FieldURI ?? '')))
  const extended = childrenOf(additional, NS.t, 'ExtendedFieldURI').map(f => f.attrs)
  return { base, fields, extended, bodyType: child(e, NS.t, 'BodyType')?.text ?? null }
}

/** FieldURI "calendar:Start" names the element Start (web-service-reference/fielduri.md). */
export const fieldName = (uri: string): string => uri.slice(uri.indexOf(':') + 1)

/** Two ExtendedFieldURIs name the same property (PropertyType aside, which only types the value). */
export function sameExtended (a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = ['DistinguishedPropertySetId', 'PropertySetId', 'PropertyTag', 'PropertyName', 'PropertyId']
  const norm = (r: Record<string, string>, k: string) => k === 'PropertySetId' ? r[k]?.toLowerCase() : (k === 'PropertyTag' && r[k] !== undefined ? Number(r[k]).toString() : r[k])
  return keys.every(k => norm(a, k) === norm(b, k))
}

const itemIdXml = (item: Item) => el('t:ItemId', { Id: item.id, ChangeKey: item.changeKey })

function organizer (store: Store, item: Item): string {
  const mb = store.mailboxes.get(item.mailbox)
  return el('t:Organizer', {}, el('t:Mailbox', {}, tv('Name', mb?.name ?? item.mailbox), tv('EmailAddress', item.mailbox), tv('RoutingType', 'SMTP')))
}

export const hasAttendees = (item: Item): boolean => ['RequiredAttendees', 'OptionalAttendees', 'Resources'].some(n => item.props.has(n))

export function attendeeAddresses (item: Item): string[] {
  const out: string[] = []
  for (const n of ['RequiredAttendees', 'OptionalAttendees', 'Resources']) {
    for (const a of childrenOf(item.props.get(n), NS.t, 'Attendee')) {
      const address = child(child(a, NS.t, 'Mailbox'), NS.t, 'EmailAddress')?.text
      if (address !== undefined) out.push(address)
    }
  }
  return out
}

/** The computed value of a property, or null when the stored one (or none) applies. */
function computed (store: Store, item: Item, name: string): string | null {
  switch (name) {
    case 'ItemId': return itemIdXml(item)
    case 'ParentFolderId': return el('t:ParentFolderId', { Id: item.folderId, ChangeKey: store.folders.get(item.folderId)?.changeKey })
    case 'ItemClass': return item.props.has('ItemClass') ? null : tv('ItemClass', item.kind === 'CalendarItem' ? 'IPM.Appointment' : item.kind === 'Task' ? 'IPM.Task' : 'IPM.Note')
    case 'DateTimeCreated': return tv(name, item.created.toISOString().replace(/\.\d{3}Z$/, 'Z'))
    case 'LastModifiedTime': return tv(name, item.modified.toISOString().replace(/\.\d{3}Z$/, 'Z'))
    case 'HasAttachments': return tv(name, false)
    case 'Sensitivity': return item.props.has(name) ? null : tv(name, 'Normal')
    case 'Importance': return item.props.has(name) ? null : tv(name, 'Normal')
  }
  if (item.kind === 'Task') {
    switch (name) {
      case 'IsComplete': return tv(name, item.props.get('Status')?.text === 'Completed')
      case 'Status': return item.props.has(name) ? null : tv(name, 'NotStarted')
      case 'PercentComplete': return item.props.has(name) ? null : tv(name, item.props.get('Status')?.text === 'Completed' ? 100 : 0)
      case 'IsRecurring': return tv(name, item.props.has('Recurrence'))
    }
    return null
  }
  if (item.kind !== 'CalendarItem') return null
  const recurring = item.props.has('Recurrence')
  switch (name) {
    case 'UID': return item.master === null ? tv(name, item.uid) : null
    case 'RecurrenceId': return item.master === null ? null : tv(name, item.master.originalStart)
    case 'OriginalStart': return item.master === null ? null : tv(name, item.master.originalStart)
    case 'IsAllDayEvent': return item.props.has(name) ? null : tv(name, false)
    case 'LegacyFreeBusyStatus': return item.props.has(name) ? null : tv(name, 'Busy')
    case 'IsMeeting': return tv(name, hasAttendees(item))
    case 'IsRecurring': return tv(name, item.master !== null || recurring)
    case 'CalendarItemType': return tv(name, item.master !== null ? 'Exception' : recurring ? 'RecurringMaster' : 'Single')
    case 'MyResponseType': return tv(name, 'Organizer')
    case 'Organizer': return organizer(store, item)
    case 'IsOrganizer': return tv(name, true)
    case 'ModifiedOccurrences': return modifiedOccurrences(store, item)
    case 'DeletedOccurrences': return item.deletedOccurrences.length === 0 ? null : el('t:DeletedOccurrences', {}, ...[...item.deletedOccurrences].sort().map(s => el('t:DeletedOccurrence', {}, tv('Start', s))))
  }
  return null
}

/** OccurrenceInfoType per exception (web-service-reference/modifiedoccurrences.md). */
function modifiedOccurrences (store: Store, master: Item): string | null {
  const ex = master.exceptions.map(id => store.items.get(id)).filter(e => e !== undefined).sort((a, b) => (a.master?.originalStart ?? '').localeCompare(b.master?.originalStart ?? ''))
  if (ex.length === 0) return null
  return el('t:ModifiedOccurrences', {}, ...ex.map(e => el('t:Occurrence', {}, itemIdXml(e), tv('Start', e.props.get('Start')?.text ?? ''), tv('End', e.props.get('End')?.text ?? ''), tv('OriginalStart', e.master?.originalStart ?? ''))))
}

function extendedXml (item: Item, asked: Record<string, string>[]): string[] {
  return item.extended.filter(p => asked.some(a => sameExtended(a, p.uri))).map(p => el('t:ExtendedProperty', {},
    el('t:ExtendedFieldURI', p.uri),
    p.values === null ? tv('Value', p.value ?? '') : el('t:Values', {}, ...p.values.map(v => tv('Value', v)))))
}

function bodyXml (body: XmlElement, wanted: string | null): string {
  const type = wanted === null || wanted === 'Best' ? (body.attrs.BodyType ?? 'Text') : wanted
  return el('t:Body', { BodyType: type }, esc(body.text))
}

/** One item in a shape: IdOnly gives the ItemId alone; extended properties only when asked (additionalproperties.md). */
export function renderItem (store: Store, item: Item, shape: Shape): string {
  const wanted = (name: string): boolean => {
    if (name === 'ItemId' || shape.fields.has(name)) return true
    if (shape.base === 'IdOnly') return false
    if (shape.base === 'Default') return DEFAULT[item.kind].includes(name)
    return name !== 'MimeContent'
  }
  const parts: string[] = []
  for (const name of ORDER[item.kind]) {
    if (name === 'ExtendedProperty') {
      parts.push(...extendedXml(item, shape.extended))
      continue
    }
    if (!wanted(name)) continue
    const value = computed(store, item, name)
    if (value !== null) {
      parts.push(value)
      continue
    }
    const stored = item.props.get(name)
    if (stored === undefined) continue
    parts.push(name === 'Body' ? bodyXml(stored, shape.bodyType) : serialize(stored))
  }
  return el(`t:${item.kind}`, {}, ...parts)
}

export const idOnly: Shape = { base: 'IdOnly', fields: new Set(), extended: [], bodyType: null }
