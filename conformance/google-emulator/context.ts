// What the API route modules share: the store, token checks, channels, and
// the per-call records tests assert on (sendUpdates values).
import { errors } from './errors.ts';
import type { Req } from './http.ts';
import type { Auth, OAuth } from './oauth.ts';
import type { Invitations } from './invitations.ts';
import type { calendar_v3 } from 'googleapis';
import type { Calendar, StoredEvent, Store } from './store.ts';

/** What a write asked Google to mail attendees: `sendUpdates`, or the deprecated `sendNotifications`. */
export type SendUpdatesRecord = { call: string; calendarId: string; eventId?: string; sendUpdates: string | null; sendNotifications: string | null };

export type Notifier = { changed(calendarId: string): void };

export type ApiContext = {
  store: Store;
  oauth: OAuth;
  notifier: Notifier;
  invitations?: Invitations;
  sendUpdates: SendUpdatesRecord[];
  baseUrl(): string;
};

const SCOPE = 'https://www.googleapis.com/auth/';

export const scopes = {
  calendarRead: ['calendar', 'calendar.readonly'].map((s) => SCOPE + s),
  calendarWrite: [SCOPE + 'calendar'],
  calendarListRead: ['calendar', 'calendar.readonly', 'calendar.calendarlist', 'calendar.calendarlist.readonly'].map((s) => SCOPE + s),
  eventsRead: ['calendar', 'calendar.readonly', 'calendar.events', 'calendar.events.readonly'].map((s) => SCOPE + s),
  eventsWrite: ['calendar', 'calendar.events'].map((s) => SCOPE + s),
  tasksRead: ['tasks', 'tasks.readonly'].map((s) => SCOPE + s),
  tasksWrite: [SCOPE + 'tasks'],
};

/** The caller, after checking the bearer token and that it carries one of the scopes. */
export function authorize(ctx: ApiContext, req: Req, accepted: string[]): Auth {
  const auth = ctx.oauth.authenticate(req);
  if (!accepted.some((s) => auth.scopes.has(s))) throw errors.insufficientPermissions();
  return auth;
}

/** If-Match: a stale etag answers 412 conditionNotMet. */
export function checkIfMatch(req: Req, etag: string | null | undefined): void {
  const want = req.headers['if-match'];
  if (want === undefined || want === '*') return;
  if (!want.split(',').map((s) => s.trim()).includes(etag ?? '')) throw errors.conditionNotMet();
}

/** If-None-Match on a read: the unchanged resource answers 304. */
export function notModified(req: Req, etag: string | null | undefined): boolean {
  const want = req.headers['if-none-match'];
  return want !== undefined && want.split(',').map((s) => s.trim()).includes(etag ?? '');
}

/** The calendar a route's {calendarId} names ('primary' included), if the caller owns it; else 404. */
export function calendarFor(ctx: ApiContext, req: Req, accepted: string[]): Calendar {
  const auth = authorize(ctx, req, accepted);
  const cal = ctx.store.calendarFor(auth.email, req.params.calendarId!);
  if (!cal) throw errors.notFound();
  return cal;
}

/** Stores an event write: a new change number for sync tokens, and push notifications. */
export function saveEvent(ctx: ApiContext, cal: Calendar, data: calendar_v3.Schema$Event, previous?: StoredEvent): StoredEvent {
  const stored: StoredEvent = { ord: previous?.ord ?? ctx.store.nextOrd(), seq: ctx.store.nextSeq(), data };
  cal.events.set(data.id!, stored);
  ctx.notifier.changed(cal.id);
  ctx.invitations?.propagate(cal, data);
  return stored;
}

/** Turns a stored event into a tombstone (status cancelled, new etag). */
export function cancelEvent(ctx: ApiContext, cal: Calendar, stored: StoredEvent): void {
  const stamp = ctx.store.stamp();
  saveEvent(ctx, cal, { ...stored.data, status: 'cancelled', etag: `"${stamp.micros}"`, updated: stamp.iso }, stored);
}
