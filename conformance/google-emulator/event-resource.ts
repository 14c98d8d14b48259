// Builds Calendar v3 Event resources from what a client sends (insert,
// import, update, patch) with Google's validation errors and normalisation:
// default fields omitted, times rendered in the event's or calendar's zone.
import type { calendar_v3 } from 'googleapis';
import { errors } from './errors.ts';
import { isValidRecurrence } from './recurrence.ts';
import type { Calendar, Store } from './store.ts';
import { randomBase32hex } from './store.ts';
import { formatDateTime, hasOffset, isDate, isValidZone, localToUtc, parseLocal } from './tz.ts';

type Event = calendar_v3.Schema$Event;
type EventDateTime = calendar_v3.Schema$EventDateTime;

export type WriteMode = 'insert' | 'import' | 'update';

export const EVENT_ID = /^[a-v0-9]{5,1024}$/;

/** Fields a client may write; the rest are kept from the stored event or set by the server. */
const WRITABLE = [
  'summary', 'description', 'location', 'colorId', 'start', 'end', 'endTimeUnspecified', 'recurrence', 'originalStartTime',
  'transparency', 'visibility', 'sequence', 'attendees', 'attendeesOmitted', 'extendedProperties', 'reminders', 'status',
  'guestsCanInviteOthers', 'guestsCanModify', 'guestsCanSeeOtherGuests', 'anyoneCanAddSelf', 'source', 'attachments',
  'conferenceData', 'gadget', 'privateCopy', 'locked', 'hangoutLink',
] as const;

const ENUMS: Record<string, string[]> = {
  status: ['confirmed', 'tentative', 'cancelled'],
  transparency: ['opaque', 'transparent'],
  visibility: ['default', 'public', 'private', 'confidential'],
};
/** Values Google leaves out of its answers because they are the defaults. */
const DEFAULTS: Record<string, unknown> = {
  transparency: 'opaque',
  visibility: 'default',
  guestsCanInviteOthers: true,
  guestsCanSeeOtherGuests: true,
  guestsCanModify: false,
  anyoneCanAddSelf: false,
  endTimeUnspecified: false,
  attendeesOmitted: false,
  privateCopy: false,
  locked: false,
};

export type Times = { startMs: number; endMs: number; allDay: boolean; tz: string };

/** Instants of a stored event's start/end (all-day dates at midnight in the calendar's zone). */
export function eventTimes(ev: Event, calTz: string): Times {
  const allDay = Boolean(ev.start?.date);
  const tz = ev.start?.timeZone ?? calTz;
  const at = (t: EventDateTime | undefined) => (t?.date ? localToUtc(parseLocal(t.date)!, calTz) : Date.parse(t?.dateTime ?? ''));
  return { startMs: at(ev.start), endMs: at(ev.end), allDay, tz };
}

function normalizeTime(input: unknown, which: 'start' | 'end', calTz: string): { data: EventDateTime; ms: number; allDay: boolean } {
  if (!input || typeof input !== 'object') throw errors.required(`Missing ${which} time.`);
  const t = input as EventDateTime;
  if (t.timeZone != null && !isValidZone(t.timeZone)) throw errors.invalid(`Invalid time zone definition for ${which} time.`);
  if (t.date != null) {
    if (!isDate(t.date)) throw errors.invalid(`Invalid ${which} time.`);
    const data: EventDateTime = { date: t.date };
    if (t.timeZone) data.timeZone = t.timeZone;
    return { data, ms: localToUtc(parseLocal(t.date)!, calTz), allDay: true };
  }
  if (t.dateTime == null) throw errors.required(`Missing ${which} time.`);
  let ms: number;
  if (hasOffset(t.dateTime)) ms = Date.parse(t.dateTime);
  else {
    if (!t.timeZone) throw errors.required(`Missing time zone definition for ${which} time.`);
    const local = parseLocal(t.dateTime);
    ms = local ? localToUtc(local, t.timeZone) : NaN;
  }
  if (Number.isNaN(ms)) throw errors.invalid(`Invalid ${which} time.`);
  const data: EventDateTime = { dateTime: formatDateTime(ms, t.timeZone ?? calTz) };
  if (t.timeZone) data.timeZone = t.timeZone;
  return { data, ms, allDay: false };
}

function checkEnum(name: string, value: unknown): void {
  const allowed = ENUMS[name];
  if (allowed && value != null && !allowed.includes(value as string)) throw errors.invalid(`Invalid value for: ${name}`);
}

function normalizeAttendees(list: unknown, owner: string): calendar_v3.Schema$EventAttendee[] | undefined {
  if (list == null) return undefined;
  if (!Array.isArray(list)) throw errors.invalid('Invalid attendees.');
  return list.map((a: calendar_v3.Schema$EventAttendee) => {
    if (!a || typeof a.email !== 'string' || !a.email.includes('@')) throw errors.invalid('Invalid attendee email.');
    const out: calendar_v3.Schema$EventAttendee = { email: a.email.toLowerCase() };
    if (a.displayName) out.displayName = a.displayName;
    if (a.organizer) out.organizer = true;
    if (out.email === owner) out.self = true;
    if (a.optional) out.optional = true;
    if (a.resource) out.resource = true;
    out.responseStatus = a.responseStatus ?? 'needsAction';
    if (a.comment) out.comment = a.comment;
    if (a.additionalGuests) out.additionalGuests = a.additionalGuests;
    return out;
  });
}

function normalizeReminders(r: unknown): calendar_v3.Schema$Event['reminders'] {
  if (r == null) return { useDefault: true };
  const rem = r as NonNullable<Event['reminders']>;
  if (rem.useDefault && rem.overrides?.length) {
    throw errors.badRequest('Cannot specify both default reminders and overrides at the same time.', 'cannotUseDefaultRemindersAndSpecifyOverride');
  }
  const out: NonNullable<Event['reminders']> = { useDefault: Boolean(rem.useDefault) };
  if (rem.overrides?.length) out.overrides = rem.overrides.map((o) => ({ method: o.method, minutes: o.minutes }));
  return out;
}

function normalizeExtended(x: unknown): Event['extendedProperties'] | undefined {
  if (x == null) return undefined;
  const ext = x as NonNullable<Event['extendedProperties']>;
  const out: NonNullable<Event['extendedProperties']> = {};
  for (const scope of ['private', 'shared'] as const) {
    const props = ext[scope];
    if (props == null) continue;
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(props)) {
      if (v == null) continue;
      if (typeof v !== 'string') throw errors.invalid(`Invalid value for: extendedProperties.${scope}.${k}`);
      clean[k] = v;
    }
    if (Object.keys(clean).length) out[scope] = clean;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Google's patch: objects merge key by key (null removes), arrays and scalars replace. */
export function mergePatch(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const old = out[k];
    if (v === null) delete out[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && old && typeof old === 'object' && !Array.isArray(old) && k !== 'start' && k !== 'end') {
      out[k] = mergePatch(old as Record<string, unknown>, v as Record<string, unknown>);
    } else out[k] = v;
  }
  return out;
}

export function htmlLink(id: string, calendarId: string): string {
  return `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${calendarId}`).toString('base64url')}`;
}

export function newEventId(): string {
  return randomBase32hex(26);
}

/**
 * The stored resource after a write. `existing` is the stored event for
 * update/patch (the patch already merged into `input`) and for import's upsert.
 */
export function buildEvent(store: Store, cal: Calendar, input: Record<string, unknown>, mode: WriteMode, existing?: Event, fixedId?: string): Event {
  for (const name of Object.keys(ENUMS)) checkEnum(name, input[name]);
  const start = normalizeTime(input.start, 'start', cal.timeZone);
  const end = normalizeTime(input.end, 'end', cal.timeZone);
  if (start.allDay !== end.allDay) throw errors.invalid('Start and end times must either both be date or both be dateTime.');
  if (end.ms < start.ms || (start.allDay && end.ms === start.ms)) throw errors.timeRangeEmpty();
  const recurrence = input.recurrence as string[] | undefined;
  if (recurrence != null && (recurrence as unknown[]).length) {
    if (!isValidRecurrence(recurrence)) throw errors.invalid('Invalid recurrence rule.');
    if (!start.allDay && !start.data.timeZone) throw errors.required('Missing time zone definition for start time.');
  }
  const sequence = input.sequence as number | undefined;
  if (existing && sequence != null && sequence < (existing.sequence ?? 0)) {
    throw errors.invalid('Invalid sequence value. The specified sequence number is below the current sequence number of the resource.');
  }
  const id = existing?.id ?? fixedId ?? newEventId();
  const stamp = store.stamp();
  const owner = { email: cal.id, self: true, ...(cal.primary ? {} : { displayName: cal.summary }) };
  const timesChanged =
    existing !== undefined &&
    (JSON.stringify(existing.start) !== JSON.stringify(start.data) ||
      JSON.stringify(existing.end) !== JSON.stringify(end.data) ||
      JSON.stringify(existing.recurrence ?? []) !== JSON.stringify(recurrence ?? []));
  const baseSequence = Math.max(sequence ?? 0, existing?.sequence ?? 0);

  const ev: Event = {
    kind: 'calendar#event',
    etag: `"${stamp.micros}"`,
    id,
    status: (input.status as string | undefined) ?? 'confirmed',
    htmlLink: htmlLink(id, cal.id),
    created: existing?.created ?? stamp.iso,
    updated: stamp.iso,
  };
  for (const k of ['summary', 'description', 'location', 'colorId'] as const) {
    if (input[k] != null && input[k] !== '') ev[k] = String(input[k]);
  }
  const organizer = mode === 'import' && input.organizer && typeof input.organizer === 'object' ? (input.organizer as Event['organizer']) : existing?.organizer;
  ev.creator = existing?.creator ?? owner;
  ev.organizer = organizer ?? owner;
  if (ev.organizer && ev.organizer.email === cal.id) ev.organizer = { ...ev.organizer, self: true };
  ev.start = start.data;
  ev.end = end.data;
  if (input.endTimeUnspecified) ev.endTimeUnspecified = true;
  if (recurrence?.length) ev.recurrence = [...recurrence];
  if (existing?.recurringEventId) {
    ev.recurringEventId = existing.recurringEventId;
    ev.originalStartTime = existing.originalStartTime;
  } else if (mode === 'import' && input.recurringEventId && input.originalStartTime) {
    ev.recurringEventId = String(input.recurringEventId);
    ev.originalStartTime = normalizeTime(input.originalStartTime, 'start', cal.timeZone).data;
  }
  for (const k of ['transparency', 'visibility'] as const) if (input[k] != null && input[k] !== DEFAULTS[k]) ev[k] = input[k] as string;
  ev.iCalUID = existing?.iCalUID ?? (typeof input.iCalUID === 'string' && input.iCalUID ? input.iCalUID : `${id}@google.com`);
  ev.sequence = timesChanged ? baseSequence + 1 : baseSequence;
  const attendees = normalizeAttendees(input.attendees, cal.id);
  if (attendees?.length) ev.attendees = attendees;
  for (const k of ['guestsCanInviteOthers', 'guestsCanModify', 'guestsCanSeeOtherGuests', 'anyoneCanAddSelf', 'attendeesOmitted', 'privateCopy', 'locked'] as const) {
    if (input[k] != null && input[k] !== DEFAULTS[k]) ev[k] = Boolean(input[k]);
  }
  const ext = normalizeExtended(input.extendedProperties);
  if (ext) ev.extendedProperties = ext;
  ev.reminders = normalizeReminders(input.reminders);
  if (input.source && typeof input.source === 'object') ev.source = input.source as Event['source'];
  if (Array.isArray(input.attachments) && input.attachments.length) ev.attachments = input.attachments as Event['attachments'];
  ev.eventType = existing?.eventType ?? (typeof input.eventType === 'string' ? input.eventType : 'default');
  return ev;
}

/** The writable part of a stored event, as a patch base. */
export function writableFields(ev: Event): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const src = ev as Record<string, unknown>;
  for (const k of WRITABLE) if (src[k] !== undefined) out[k] = structuredClone(src[k]);
  return out;
}

/** How a cancelled event appears in lists and sync answers: only what identifies it. */
export function tombstone(ev: Event): Event {
  const t: Event = { kind: 'calendar#event', etag: ev.etag, id: ev.id, status: 'cancelled' };
  if (ev.recurringEventId) {
    t.recurringEventId = ev.recurringEventId;
    t.originalStartTime = ev.originalStartTime;
  }
  return t;
}

/** The `timeZone` query parameter: date-times rendered in that zone (their own `timeZone` field stays). */
export function inZone(ev: Event, tz: string | null): Event {
  if (!tz) return ev;
  const render = (t: EventDateTime | undefined) => (t?.dateTime ? { ...t, dateTime: formatDateTime(Date.parse(t.dateTime), tz) } : t);
  const out: Event = { ...ev };
  for (const k of ['start', 'end', 'originalStartTime'] as const) if (out[k]) out[k] = render(out[k]);
  return out;
}

export function checkZoneParam(query: URLSearchParams): string | null {
  const tz = query.get('timeZone');
  if (tz !== null && !isValidZone(tz)) throw errors.invalid('Invalid time zone definition.');
  return tz;
}
