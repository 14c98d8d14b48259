// Outlook calendars and events on Graph v1.0: list, get, create (with
// transactionId dedupe), update (If-Match), delete, occurrences of series,
// extended properties. microsoft-graph-docs-contrib: api-reference/v1.0/
// resources/event.md, api/user-list-calendars.md, api/calendar-post-events.md,
// api/event-get.md, api/event-update.md, api/event-delete.md, api/event-list-instances.md,
// api/singlevaluelegacyextendedproperty-get.md, api/singlevaluelegacyextendedproperty-post-singlevalueextendedproperties.md.
import { createHash } from 'node:crypto';
import type { Call } from './context.ts';
import { idOf, need } from './context.ts';
import { GraphError, graphErrors } from './errors.ts';
import type { Calendar, Fields, StoredEvent } from './mailbox.ts';
import { newChangeKey, occurrenceId, parseOccurrenceId } from './mailbox.ts';
import type { PatternedRecurrence } from './series.ts';
import { patternChanged, seriesStarts } from './series.ts';
import { parseDateTimeTimeZone, renderDate, renderDateTime } from './zones.ts';

const READ = ['Calendars.Read', 'Calendars.ReadWrite'];
const WRITE = ['Calendars.ReadWrite'];
const NEVER = '0001-01-01T00:00:00Z';

/** One thing a calendar view shows: a single event, an exception, or an occurrence computed from its master. */
export type Instance = { ev: StoredEvent; originalStartMs?: number };

export function calendarOf(call: Call, calendarId: string | undefined): Calendar {
  if (calendarId === undefined) return call.s.mail.defaultCalendar(call.user.id);
  const c = call.s.mail.calendars.get(calendarId);
  if (!c || c.userId !== call.user.id) throw graphErrors.notFound();
  return c;
}

export function renderCalendar(call: Call, c: Calendar): Record<string, unknown> {
  return {
    '@odata.etag': `W/"${c.changeKey}"`,
    id: c.id, name: c.name, color: 'auto', hexColor: '', isDefaultCalendar: c.isDefault, changeKey: c.changeKey,
    canShare: true, canViewPrivateItems: true, canEdit: true, allowedOnlineMeetingProviders: ['teamsForBusiness'], defaultOnlineMeetingProvider: 'teamsForBusiness',
    isTallyingResponses: true, isRemovable: !c.isDefault, owner: { name: call.user.displayName, address: call.user.upn },
  };
}

function dt(call: Call, ms: number, allDay: boolean) {
  return allDay ? renderDate(new Date(ms).toISOString().slice(0, 10), call.prefs.timeZone) : renderDateTime(ms, call.prefs.timeZone);
}

/** The $expand=singleValueExtendedProperties($filter=id eq '…') ids, lower-cased (ids compare case-insensitively). */
function expandedPropertyIds(call: Call): string[] | undefined {
  const expand = call.query.get('$expand');
  const m = expand ? /singleValueExtendedProperties\(\$filter=(.+)\)/i.exec(expand) : null;
  if (!m) return undefined;
  return [...m[1]!.matchAll(/id eq '([^']+)'/gi)].map((x) => x[1]!.toLowerCase());
}

export function renderEvent(call: Call, inst: Instance): Record<string, unknown> {
  const { ev } = inst;
  const master = ev.type === 'exception' ? call.s.mail.event(ev.masterId!) : undefined;
  const occurrence = inst.originalStartMs !== undefined;
  const f = ev.f;
  const shift = occurrence ? inst.originalStartMs! - f.start.ms : 0;
  const type = occurrence ? 'occurrence' : ev.type;
  const id = occurrence ? occurrenceId(idOf(call, ev.immutableId, ev.restId), inst.originalStartMs!) : idOf(call, ev.immutableId, ev.restId);
  const seriesMaster = occurrence ? ev : master;
  const out: Record<string, unknown> = {
    '@odata.etag': `W/"${ev.changeKey}"`,
    id,
    createdDateTime: new Date(ev.createdMs).toISOString().replace('Z', '0000Z'),
    lastModifiedDateTime: new Date(ev.modifiedMs).toISOString().replace('Z', '0000Z'),
    changeKey: ev.changeKey,
    categories: f.categories,
    originalStartTimeZone: f.start.tz,
    originalEndTimeZone: f.end.tz,
    iCalUId: ev.iCalUId,
    reminderMinutesBeforeStart: f.reminderMinutesBeforeStart,
    isReminderOn: f.isReminderOn,
    hasAttachments: false,
    subject: f.subject,
    bodyPreview: f.body.content.replace(/<[^>]*>/g, '').slice(0, 255),
    importance: f.importance,
    sensitivity: f.sensitivity,
    isAllDay: f.isAllDay,
    isCancelled: false,
    isOrganizer: true,
    responseRequested: true,
    seriesMasterId: seriesMaster ? idOf(call, seriesMaster.immutableId, seriesMaster.restId) : null,
    showAs: f.showAs,
    type,
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(id)}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null,
    isOnlineMeeting: false,
    onlineMeetingProvider: 'unknown',
    allowNewTimeProposals: true,
    isDraft: false,
    hideAttendees: false,
    recurrence: ev.type === 'seriesMaster' && !occurrence ? f.recurrence : null,
    onlineMeeting: null,
    responseStatus: { response: 'organizer', time: NEVER },
    body: f.body,
    start: dt(call, f.start.ms + shift, f.isAllDay),
    end: dt(call, f.end.ms + shift, f.isAllDay),
    location: { displayName: f.location.displayName, locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} },
    locations: f.location.displayName ? [{ displayName: f.location.displayName, locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} }] : [],
    attendees: f.attendees.map((a) => ({ type: a.type, status: { response: 'none', time: NEVER }, emailAddress: a.emailAddress })),
    organizer: { emailAddress: { name: call.user.displayName, address: call.user.upn } },
  };
  // transactionId "is only returned in a response payload if an app has set it" (resources/event.md).
  if (ev.transactionId !== undefined && !occurrence) out.transactionId = ev.transactionId;
  if (occurrence || ev.type === 'exception') out.originalStart = new Date(occurrence ? inst.originalStartMs! : ev.originalStartMs!).toISOString();
  if (ev.type === 'seriesMaster' && !occurrence)
    out.cancelledOccurrences = ev.cancelledStarts.map((ms) => `OID.${idOf(call, ev.immutableId, ev.restId)}.${new Date(ms).toISOString().slice(0, 10)}`);
  const wanted = expandedPropertyIds(call);
  if (wanted) {
    const props = [...ev.ext].filter(([k]) => wanted.includes(k.toLowerCase())).map(([pid, value]) => ({ id: pid, value }));
    if (props.length) out.singleValueExtendedProperties = props;
  }
  return out;
}

/** Instances whose span meets [fromMs, toMs): singles and exceptions as stored, occurrences computed. */
export function instancesIn(call: Call, calendarId: string, fromMs: number, toMs: number): Instance[] {
  const out: Instance[] = [];
  const events = call.s.mail.eventsOf(calendarId);
  for (const ev of events) {
    const f = ev.f;
    const duration = f.end.ms - f.start.ms;
    if (ev.type === 'seriesMaster') {
      const exceptions = new Set(events.filter((x) => x.masterId === ev.immutableId).map((x) => x.originalStartMs));
      for (const start of seriesStarts(f.recurrence!, { ms: f.start.ms, tz: f.start.tz, allDay: f.isAllDay }, fromMs - duration, toMs))
        if (start + duration > fromMs && !exceptions.has(start) && !ev.cancelledStarts.includes(start)) out.push({ ev, originalStartMs: start });
    } else if (f.start.ms < toMs && f.end.ms > fromMs) out.push({ ev });
  }
  return out;
}

/**
 * What a delta round compares for an instance of the view. A stored event
 * (single, exception) changes with its changeKey. An occurrence is not an
 * item of its own: it changes when what it shows changes (the master's
 * fields, its start), not when the master's changeKey moves for something it
 * does not show, such as a sibling occurrence deleted. Delta returns "those
 * events that have changed in the calendar view" (concepts/delta-query-events.md),
 * and a deleted occurrence is an event "within the date range ... deleted since
 * the previous delta call", returned under `@removed` with the reason `deleted`
 * (api/event-delta.md, Response); neither page says the other occurrences of
 * its series come again, nor that the master does (calendarView never shows
 * masters). So the round that follows "delete this occurrence" in Outlook holds
 * that occurrence's id under `@removed` and nothing else of the series.
 */
export function instanceVersion(inst: Instance): string {
  if (inst.originalStartMs === undefined) return inst.ev.changeKey;
  return createHash('sha256').update(JSON.stringify([{ ...inst.ev.f, recurrence: null }, inst.originalStartMs])).digest('base64url');
}

/** An event id, an occurrence id (resolved to its exception when there is one), else 404. */
export function findInstance(call: Call, id: string, calendarId?: string): Instance {
  const occ = parseOccurrenceId(id);
  if (occ) {
    const master = call.s.mail.event(occ.masterId);
    if (!master || master.userId !== call.user.id || (calendarId && master.calendarId !== calendarId)) throw graphErrors.notFound();
    const exception = [...call.s.mail.events.values()].find((e) => e.masterId === master.immutableId && e.originalStartMs === occ.originalStartMs);
    if (exception) return { ev: exception };
    if (master.cancelledStarts.includes(occ.originalStartMs)) throw graphErrors.notFound();
    // an occurrence id names an occurrence of the series as it is now (one of a pattern since changed is gone)
    const f = master.f;
    if (!f.recurrence || !seriesStarts(f.recurrence, { ms: f.start.ms, tz: f.start.tz, allDay: f.isAllDay }, occ.originalStartMs, occ.originalStartMs + 1).includes(occ.originalStartMs)) throw graphErrors.notFound();
    return { ev: master, originalStartMs: occ.originalStartMs };
  }
  const ev = call.s.mail.event(id);
  if (!ev || ev.userId !== call.user.id || (calendarId && ev.calendarId !== calendarId)) throw graphErrors.notFound();
  return { ev };
}

function str(v: unknown, dflt: string): string {
  return typeof v === 'string' ? v : dflt;
}

/** Applies a create/update body onto fields; 400 for what Graph refuses. */
function applyBody(body: Record<string, unknown>, base: Fields): Fields {
  const f: Fields = structuredClone(base);
  if ('subject' in body) f.subject = str(body.subject, '');
  if ('body' in body) {
    const b = body.body as { contentType?: string; content?: string } | null;
    f.body = { contentType: b?.contentType === 'html' ? 'html' : 'text', content: b?.content ?? '' };
  }
  if ('start' in body) {
    const p = parseDateTimeTimeZone(body.start, 'start');
    f.start = { ms: p.ms, tz: p.tz };
  }
  if ('end' in body) {
    const p = parseDateTimeTimeZone(body.end, 'end');
    f.end = { ms: p.ms, tz: p.tz };
  }
  if ('isAllDay' in body) f.isAllDay = body.isAllDay === true;
  if ('location' in body) f.location = { displayName: str((body.location as { displayName?: unknown } | null)?.displayName, '') };
  if ('attendees' in body) {
    if (!Array.isArray(body.attendees)) throw graphErrors.badBody('Cannot convert the literal to the expected type \'Collection(microsoft.graph.attendee)\'.');
    f.attendees = (body.attendees as { type?: string; emailAddress?: { name?: string; address?: string } }[]).map((a) => ({ type: a.type ?? 'required', emailAddress: { ...(a.emailAddress?.name ? { name: a.emailAddress.name } : {}), address: String(a.emailAddress?.address ?? '') } }));
  }
  if ('categories' in body) f.categories = Array.isArray(body.categories) ? body.categories.map(String) : [];
  for (const k of ['showAs', 'sensitivity', 'importance'] as const) if (k in body) f[k] = str(body[k], f[k]);
  if ('isReminderOn' in body) f.isReminderOn = body.isReminderOn === true;
  if ('reminderMinutesBeforeStart' in body && Number.isInteger(body.reminderMinutesBeforeStart)) f.reminderMinutesBeforeStart = body.reminderMinutesBeforeStart as number;
  if ('recurrence' in body) f.recurrence = (body.recurrence as PatternedRecurrence | null) ?? null;
  if (f.end.ms < f.start.ms) throw new GraphError(400, 'ErrorInvalidRequest', 'Your request can\'t be completed. The end time must be after the start time.');
  if (f.isAllDay) {
    // An all-day event is midnight to midnight (resources/event.md, isAllDay): the dates are kept as UTC midnights.
    // A time kept from an all-day event is such a UTC midnight already, whatever zone it was given in: a PATCH of the subject alone stays valid.
    const zoneOf = (side: 'start' | 'end') => (side in body || !base.isAllDay ? f[side].tz : 'UTC');
    const midnight = (side: 'start' | 'end') => renderDateTime(f[side].ms, zoneOf(side)).dateTime.endsWith('T00:00:00.0000000');
    if (!midnight('start') || !midnight('end') || f.end.ms === f.start.ms)
      throw new GraphError(400, 'ErrorInvalidRequest', 'Your request can\'t be completed. If isAllDay is true, the start and end times must be set to midnight.');
    const date = (side: 'start' | 'end') => Date.parse(`${renderDateTime(f[side].ms, zoneOf(side)).dateTime.slice(0, 10)}T00:00:00Z`);
    f.start = { ms: date('start'), tz: f.start.tz };
    f.end = { ms: date('end'), tz: f.end.tz };
  }
  if (f.recurrence) seriesStarts(f.recurrence, { ms: f.start.ms, tz: f.start.tz, allDay: f.isAllDay }, f.start.ms, f.start.ms + 1); // validates
  return f;
}

function applyExtendedProperties(ev: StoredEvent, body: Record<string, unknown>): void {
  const props = body.singleValueExtendedProperties;
  if (props === undefined) return;
  if (!Array.isArray(props)) throw graphErrors.badBody();
  for (const p of props as { id?: unknown; value?: unknown }[]) {
    if (typeof p.id !== 'string') throw graphErrors.badBody('The extended property id is missing.');
    const existing = [...ev.ext.keys()].find((k) => k.toLowerCase() === (p.id as string).toLowerCase());
    ev.ext.set(existing ?? p.id, String(p.value ?? ''));
  }
}

const blank = (): Fields => ({
  subject: '', body: { contentType: 'html', content: '' }, start: { ms: 0, tz: 'UTC' }, end: { ms: 0, tz: 'UTC' }, isAllDay: false,
  location: { displayName: '' }, attendees: [], categories: [], showAs: 'busy', sensitivity: 'normal', importance: 'normal',
  isReminderOn: true, reminderMinutesBeforeStart: 15, recurrence: null,
});

/** The mail Exchange sends the organizer's attendees; recorded, never sent (tests assert on it). */
function mailAttendees(call: Call, kind: 'invitation' | 'update' | 'cancellation', ev: StoredEvent, id: string): void {
  const to = ev.f.attendees.map((a) => a.emailAddress.address);
  if (to.length) call.s.sentMail.push({ kind, eventId: id, subject: ev.f.subject, to });
}

function touched(call: Call, ev: StoredEvent, changeType: 'created' | 'updated' | 'deleted'): void {
  call.s.changed({ userId: ev.userId, container: ev.calendarId, kind: 'event', immutableId: ev.immutableId, restId: ev.restId, changeType, etag: `W/"${ev.changeKey}"` });
}

export function createEvent(call: Call, calendarId?: string): { status: number; body: unknown } {
  need(call, ...WRITE);
  const cal = calendarOf(call, calendarId);
  const body = call.body();
  if (typeof body.transactionId === 'string') {
    // "A custom identifier specified by a client app for the server to avoid redundant POST operations in case of client retries" (resources/event.md).
    const prior = [...call.s.mail.events.values()].find((e) => e.userId === call.user.id && e.transactionId === body.transactionId);
    if (prior) return { status: 201, body: renderEvent(call, { ev: prior }) };
  }
  if (!('start' in body) || !('end' in body)) throw new GraphError(400, 'ErrorInvalidRequest', 'Your request can\'t be completed. The start and end times must be specified.');
  const f = applyBody(body, blank());
  const now = call.s.clock.now();
  const ev = call.s.mail.insertEvent({
    userId: call.user.id, calendarId: cal.id, changeKey: newChangeKey(), createdMs: now, modifiedMs: now,
    type: f.recurrence ? 'seriesMaster' : 'singleInstance', cancelledStarts: [], ext: new Map(), f,
    ...(typeof body.transactionId === 'string' ? { transactionId: body.transactionId } : {}),
  });
  applyExtendedProperties(ev, body);
  mailAttendees(call, 'invitation', ev, ev.immutableId);
  touched(call, ev, 'created');
  return { status: 201, body: renderEvent(call, { ev }) };
}

function checkIfMatch(call: Call, ev: StoredEvent): void {
  const ifMatch = call.headers['if-match'];
  if (typeof ifMatch !== 'string' || ifMatch === '*') return;
  const tag = ifMatch.replace(/^W\//, '').replace(/^"|"$/g, '');
  if (tag !== ev.changeKey)
    throw new GraphError(412, 'ErrorIrresolvableConflict', 'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.');
}

export function updateEvent(call: Call, id: string, calendarId?: string): { status: number; body: unknown } {
  need(call, ...WRITE);
  let inst = findInstance(call, id, calendarId);
  const body = call.body();
  if ('transactionId' in body && body.transactionId !== inst.ev.transactionId)
    throw new GraphError(400, 'ErrorInvalidPropertyUpdateSentAsPatch', 'transactionId cannot be changed once set.');
  if (inst.originalStartMs !== undefined) {
    // Updating an occurrence makes it an exception of its series, kept under the occurrence's id.
    checkIfMatch(call, inst.ev);
    const master = inst.ev;
    const shift = inst.originalStartMs - master.f.start.ms;
    const f: Fields = { ...structuredClone(master.f), recurrence: null, start: { ...master.f.start, ms: master.f.start.ms + shift }, end: { ...master.f.end, ms: master.f.end.ms + shift } };
    const now = call.s.clock.now();
    const ev = call.s.mail.insertEvent({
      immutableId: occurrenceId(master.immutableId, inst.originalStartMs), restId: occurrenceId(master.restId, inst.originalStartMs), iCalUId: master.iCalUId,
      userId: master.userId, calendarId: master.calendarId, changeKey: newChangeKey(), createdMs: now, modifiedMs: now, type: 'exception',
      masterId: master.immutableId, originalStartMs: inst.originalStartMs, cancelledStarts: [], ext: new Map(master.ext), f,
    });
    inst = { ev };
  } else checkIfMatch(call, inst.ev);
  const ev = inst.ev;
  if ('recurrence' in body && ev.type === 'exception') throw new GraphError(400, 'ErrorInvalidRequest', 'Your request can\'t be completed. An exception cannot have a recurrence.');
  const before = ev.f;
  ev.f = applyBody(body, ev.f);
  if (ev.type === 'seriesMaster' && patternChanged(before, ev.f)) {
    // a new pattern drops the series' edited and cancelled occurrences (series.ts, patternChanged)
    for (const x of [...call.s.mail.events.values()]) if (x.masterId === ev.immutableId) call.s.mail.removeEvent(x);
    ev.cancelledStarts = [];
  }
  if (ev.type !== 'exception') ev.type = ev.f.recurrence ? 'seriesMaster' : 'singleInstance';
  applyExtendedProperties(ev, body);
  ev.changeKey = newChangeKey();
  ev.modifiedMs = call.s.clock.now();
  mailAttendees(call, 'update', ev, ev.immutableId);
  touched(call, ev, 'updated');
  return { status: 200, body: renderEvent(call, { ev }) };
}

export function deleteEvent(call: Call, id: string, calendarId?: string): { status: number } {
  need(call, ...WRITE);
  const inst = findInstance(call, id, calendarId);
  checkIfMatch(call, inst.ev);
  const { ev } = inst;
  const mail = call.s.mail;
  if (inst.originalStartMs !== undefined || ev.type === 'exception') {
    const master = inst.originalStartMs !== undefined ? ev : mail.event(ev.masterId!)!;
    const start = inst.originalStartMs ?? ev.originalStartMs!;
    if (ev.type === 'exception') mail.removeEvent(ev);
    master.cancelledStarts.push(start);
    master.changeKey = newChangeKey();
    master.modifiedMs = call.s.clock.now();
    mailAttendees(call, 'cancellation', master, occurrenceId(master.immutableId, start));
    touched(call, master, 'updated');
    return { status: 204 };
  }
  for (const x of [...mail.events.values()]) if (x.masterId === ev.immutableId) mail.removeEvent(x);
  mail.removeEvent(ev);
  // "deleting the event on the organizer's calendar sends a cancellation message to the meeting attendees" (api/event-delete.md).
  mailAttendees(call, 'cancellation', ev, ev.immutableId);
  touched(call, ev, 'deleted');
  return { status: 204 };
}

/**
 * $filter=singleValueExtendedProperties/Any(ep: ep/id eq '…' and ep/value eq '…'), the documented way to find an item by a property,
 * or $filter=iCalUId eq '…' (the id every attendee's copy of a meeting shares, resources/event.md; filterable on /events in v1.0,
 * microsoftgraph/microsoft-graph-docs#6247; quotes doubled inside the literal as OData writes them).
 */
function matchesFilter(call: Call, ev: StoredEvent): boolean {
  const filter = call.query.get('$filter');
  if (!filter) return true;
  const uid = /^\s*iCalUId\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
  if (uid) return ev.iCalUId === uid[1]!.replace(/''/g, "'");
  const m = /singleValueExtendedProperties\/any\(\s*(\w+)\s*:\s*\1\/id eq '([^']+)'\s+and\s+\1\/value eq '([^']*)'\s*\)/i.exec(filter);
  if (!m) throw new GraphError(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
  return [...ev.ext].some(([k, v]) => k.toLowerCase() === m[2]!.toLowerCase() && v === m[3]);
}

/** /events lists singles and series masters, not occurrences (api/user-list-events.md). */
export function listEvents(call: Call, calendarId?: string): { status: number; body: unknown } {
  need(call, ...READ);
  const cal = calendarOf(call, calendarId);
  const value = call.s.mail.eventsOf(cal.id).filter((e) => e.type !== 'exception' && matchesFilter(call, e)).map((ev) => renderEvent(call, { ev }));
  return { status: 200, body: { '@odata.context': `${call.s.baseUrl()}/v1.0/$metadata#users('${call.user.id}')/events`, value } };
}

export function getEvent(call: Call, id: string, calendarId?: string): { status: number; body: unknown } {
  need(call, ...READ);
  return { status: 200, body: renderEvent(call, findInstance(call, id, calendarId)) };
}

export function windowOf(query: URLSearchParams): { fromMs: number; toMs: number } {
  const s = Date.parse(query.get('startDateTime') ?? query.get('startdatetime') ?? '');
  const e = Date.parse(query.get('endDateTime') ?? query.get('enddatetime') ?? '');
  if (Number.isNaN(s) || Number.isNaN(e))
    throw new GraphError(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
  return { fromMs: s, toMs: e };
}

export function listInstances(call: Call, id: string): { status: number; body: unknown } {
  need(call, ...READ);
  const { fromMs, toMs } = windowOf(call.query);
  const inst = findInstance(call, id);
  if (inst.ev.type !== 'seriesMaster') throw graphErrors.notFound();
  const value = instancesIn(call, inst.ev.calendarId, fromMs, toMs)
    .filter((i) => i.ev.immutableId === inst.ev.immutableId || i.ev.masterId === inst.ev.immutableId)
    .map((i) => renderEvent(call, i));
  return { status: 200, body: { value } };
}

export function calendarView(call: Call, calendarId?: string): { status: number; body: unknown } {
  need(call, ...READ);
  const { fromMs, toMs } = windowOf(call.query);
  const cal = calendarOf(call, calendarId);
  return { status: 200, body: { value: instancesIn(call, cal.id, fromMs, toMs).map((i) => renderEvent(call, i)) } };
}
