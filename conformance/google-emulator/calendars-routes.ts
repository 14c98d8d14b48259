// Calendar v3 calendarList.list/get and calendars.get/insert/update/patch/
// delete/clear. Every calendar has one owner, who sees it in calendarList.
import type { calendar_v3 } from 'googleapis';
import type { ApiContext } from './context.ts';
import { authorize, calendarFor, cancelEvent, scopes } from './context.ts';
import { errors } from './errors.ts';
import { mergePatch } from './event-resource.ts';
import type { Req, Route } from './http.ts';
import { jsonBody, route } from './http.ts';
import type { Calendar } from './store.ts';
import { isValidZone } from './tz.ts';

const CONFERENCE = { allowedConferenceSolutionTypes: ['hangoutsMeet'] };
const NOTIFICATIONS = ['eventCreation', 'eventChange', 'eventCancellation', 'eventResponse'].map((type) => ({ type, method: 'email' }));

/** The fields calendars.get and calendarList entries share, in Google's order. */
function calendarIdentity(cal: Calendar) {
  return {
    etag: cal.etag,
    id: cal.id,
    summary: cal.summary,
    ...(cal.description ? { description: cal.description } : {}),
    ...(cal.location ? { location: cal.location } : {}),
    timeZone: cal.timeZone,
  };
}

function calendarListEntry(cal: Calendar): calendar_v3.Schema$CalendarListEntry {
  return {
    kind: 'calendar#calendarListEntry',
    ...calendarIdentity(cal),
    colorId: cal.primary ? '14' : '7',
    backgroundColor: cal.primary ? '#9fe1e7' : '#42d692',
    foregroundColor: '#000000',
    selected: true,
    accessRole: 'owner',
    defaultReminders: cal.defaultReminders,
    ...(cal.primary ? { notificationSettings: { notifications: NOTIFICATIONS }, primary: true } : {}),
    conferenceProperties: CONFERENCE,
  };
}

function calendarResource(cal: Calendar): calendar_v3.Schema$Calendar {
  return { kind: 'calendar#calendar', ...calendarIdentity(cal), conferenceProperties: CONFERENCE };
}

/** Applies writable calendar fields (summary, description, location, timeZone). */
function applyCalendarFields(ctx: ApiContext, cal: Calendar, body: Record<string, unknown>): void {
  if (typeof body.summary !== 'string' || !body.summary) throw errors.required('Missing title.');
  if (body.timeZone != null && (typeof body.timeZone !== 'string' || !isValidZone(body.timeZone))) throw errors.invalid('Invalid time zone.');
  cal.summary = body.summary;
  cal.description = typeof body.description === 'string' && body.description ? body.description : undefined;
  cal.location = typeof body.location === 'string' && body.location ? body.location : undefined;
  if (typeof body.timeZone === 'string') cal.timeZone = body.timeZone;
  cal.etag = `"${ctx.store.stamp().micros}"`;
}

function writable(cal: Calendar): Record<string, unknown> {
  return { summary: cal.summary, description: cal.description, location: cal.location, timeZone: cal.timeZone };
}

export function calendarsRoutes(ctx: ApiContext): Route[] {
  const { store } = ctx;
  const C = '/calendar/v3/calendars/{calendarId}';
  const replace = (patch: boolean) => (req: Req) => {
    const cal = calendarFor(ctx, req, scopes.calendarWrite);
    const body = jsonBody(req);
    applyCalendarFields(ctx, cal, patch ? mergePatch(writable(cal), body) : body);
    return { status: 200, body: calendarResource(cal) };
  };

  return [
    route('GET', '/calendar/v3/users/me/calendarList', (req) => {
      const auth = authorize(ctx, req, scopes.calendarListRead);
      const items = store.account(auth.email).calendarIds.map((id) => calendarListEntry(store.calendars.get(id)!));
      const body: calendar_v3.Schema$CalendarList = {
        kind: 'calendar#calendarList',
        etag: `"p${store.currentSeq().toString(32)}"`,
        nextSyncToken: `CL${Buffer.from(String(items.length)).toString('base64url')}`,
        items,
      };
      return { status: 200, body };
    }),
    route('GET', '/calendar/v3/users/me/calendarList/{calendarId}', (req) => ({ status: 200, body: calendarListEntry(calendarFor(ctx, req, scopes.calendarListRead)) })),
    route('GET', C, (req) => ({ status: 200, body: calendarResource(calendarFor(ctx, req, scopes.calendarRead)) })),
    route('POST', '/calendar/v3/calendars', (req) => {
      const auth = authorize(ctx, req, scopes.calendarWrite);
      const body = jsonBody(req);
      if (typeof body.summary !== 'string' || !body.summary) throw errors.required('Missing title.');
      const cal = store.addCalendar(auth.email, body.summary);
      applyCalendarFields(ctx, cal, body);
      return { status: 200, body: calendarResource(cal) };
    }),
    route('PUT', C, replace(false)),
    route('PATCH', C, replace(true)),
    route('DELETE', C, (req) => {
      const cal = calendarFor(ctx, req, scopes.calendarWrite);
      if (cal.primary) throw errors.badRequest('Cannot delete primary calendar.', 'cannotDeletePrimaryCalendar');
      store.removeCalendar(cal.id);
      return { status: 204 };
    }),
    route('POST', `${C}/clear`, (req) => {
      const cal = calendarFor(ctx, req, scopes.calendarWrite);
      for (const stored of [...cal.events.values()]) if (stored.data.status !== 'cancelled') cancelEvent(ctx, cal, stored);
      return { status: 204 };
    }),
  ];
}
