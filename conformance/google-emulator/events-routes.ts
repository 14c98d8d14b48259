// Calendar v3 events endpoints (list/get/insert/import/update/patch/delete/
// instances/move/watch) and channels.stop.
import type { calendar_v3 } from 'googleapis';
import type { ApiContext } from './context.ts';
import { authorize, calendarFor, cancelEvent, checkIfMatch, notModified, saveEvent, scopes } from './context.ts';
import { errors } from './errors.ts';
import { buildEvent, checkZoneParam, EVENT_ID, htmlLink, inZone, mergePatch, writableFields } from './event-resource.ts';
import { listEvents, listInstances } from './events-list.ts';
import type { Reply, Req, Route } from './http.ts';
import { jsonBody, route } from './http.ts';
import type { Channels } from './channels.ts';
import { exceptionsOf, findEvent } from './series.ts';
import type { Calendar, StoredEvent } from './store.ts';

type Event = calendar_v3.Schema$Event;
const E = '/calendar/v3/calendars/{calendarId}/events';

export function eventsRoutes(ctx: ApiContext, channels: Channels): Route[] {
  const { store } = ctx;

  const calendarOf = (req: Req, accepted: string[]) => calendarFor(ctx, req, accepted);
  const save = (cal: Calendar, data: Event, previous?: StoredEvent) => saveEvent(ctx, cal, data, previous);

  function recordSendUpdates(req: Req, call: string, cal: Calendar, eventId?: string): void {
    ctx.sendUpdates.push({ call, calendarId: cal.id, eventId, sendUpdates: req.query.get('sendUpdates'), sendNotifications: req.query.get('sendNotifications') });
  }

  const cancel = (cal: Calendar, stored: StoredEvent) => cancelEvent(ctx, cal, stored);

  /** The stored event or virtual instance an id names, 404 otherwise. */
  function target(cal: Calendar, eventId: string): { stored?: StoredEvent; base: Event } {
    const found = findEvent(cal, eventId);
    if (!found) throw errors.notFound();
    return { stored: found.stored, base: found.stored?.data ?? found.virtual! };
  }

  const replace = (patch: boolean) => (req: Req): Reply => {
    const cal = calendarOf(req, scopes.eventsWrite);
    const { stored, base } = target(cal, req.params.eventId!);
    checkIfMatch(req, base.etag);
    const body = jsonBody(req);
    const input = patch ? mergePatch(writableFields(base), body) : body;
    const ev = buildEvent(store, cal, input, 'update', base);
    save(cal, ev, stored);
    recordSendUpdates(req, patch ? 'events.patch' : 'events.update', cal, ev.id!);
    return { status: 200, body: ev };
  };

  return [
    route('GET', E, (req) => ({ status: 200, body: listEvents(store, calendarOf(req, scopes.eventsRead), req.query) })),
    route('POST', E, (req) => {
      const cal = calendarOf(req, scopes.eventsWrite);
      const body = jsonBody(req);
      if (body.id != null) {
        if (typeof body.id !== 'string' || !EVENT_ID.test(body.id)) throw errors.invalid('Invalid resource id value.');
        if (cal.events.has(body.id)) throw errors.duplicate();
      }
      if (typeof body.iCalUID === 'string' && [...cal.events.values()].some((e) => e.data.iCalUID === body.iCalUID && !e.data.recurringEventId)) {
        throw errors.duplicate();
      }
      const ev = buildEvent(store, cal, body, 'insert', undefined, body.id as string | undefined);
      save(cal, ev);
      recordSendUpdates(req, 'events.insert', cal, ev.id!);
      return { status: 200, body: ev };
    }),
    route('POST', `${E}/import`, (req) => {
      const cal = calendarOf(req, scopes.eventsWrite);
      const body = jsonBody(req);
      if (typeof body.iCalUID !== 'string' || !body.iCalUID) throw errors.required('Missing iCalUID.');
      const existing = [...cal.events.values()].find((e) => e.data.iCalUID === body.iCalUID && !e.data.recurringEventId);
      if (!existing && body.id != null) {
        if (typeof body.id !== 'string' || !EVENT_ID.test(body.id)) throw errors.invalid('Invalid resource id value.');
        if (cal.events.has(body.id)) throw errors.duplicate();
      }
      const ev = buildEvent(store, cal, body, 'import', existing?.data, body.id as string | undefined);
      save(cal, ev, existing);
      return { status: 200, body: ev };
    }),
    route('POST', `${E}/watch`, (req) => {
      const cal = calendarOf(req, scopes.eventsRead);
      return { status: 200, body: channels.watch(cal, req.params.calendarId!, jsonBody(req)) };
    }),
    route('GET', `${E}/{eventId}`, (req) => {
      const cal = calendarOf(req, scopes.eventsRead);
      const { base } = target(cal, req.params.eventId!);
      if (notModified(req, base.etag)) return { status: 304 };
      return { status: 200, body: inZone(base, checkZoneParam(req.query)) };
    }),
    route('PUT', `${E}/{eventId}`, replace(false)),
    route('PATCH', `${E}/{eventId}`, replace(true)),
    route('DELETE', `${E}/{eventId}`, (req) => {
      const cal = calendarOf(req, scopes.eventsWrite);
      const { stored, base } = target(cal, req.params.eventId!);
      if (base.status === 'cancelled') throw errors.deleted();
      checkIfMatch(req, base.etag);
      if (stored) {
        cancel(cal, stored);
        for (const ex of exceptionsOf(cal, base.id!)) if (ex.data.status !== 'cancelled') cancel(cal, ex);
      } else {
        const stamp = store.stamp();
        save(cal, { ...base, status: 'cancelled', etag: `"${stamp.micros}"`, updated: stamp.iso, created: stamp.iso });
      }
      recordSendUpdates(req, 'events.delete', cal, base.id!);
      return { status: 204 };
    }),
    route('GET', `${E}/{eventId}/instances`, (req) => {
      const cal = calendarOf(req, scopes.eventsRead);
      const stored = cal.events.get(req.params.eventId!);
      if (!stored) throw errors.notFound();
      if (stored.data.status === 'cancelled') throw errors.deleted();
      return { status: 200, body: listInstances(store, cal, stored, req.query) };
    }),
    route('POST', `${E}/{eventId}/move`, (req) => {
      const cal = calendarOf(req, scopes.eventsWrite);
      const stored = cal.events.get(req.params.eventId!);
      if (!stored || stored.data.status === 'cancelled') throw errors.notFound();
      if (stored.data.recurringEventId) throw errors.badRequest('Cannot change the organizer of an instance.', 'cannotChangeOrganizerOfInstance');
      const destinationId = req.query.get('destination');
      if (!destinationId) throw errors.required('Required parameter: destination');
      const auth = authorize(ctx, req, scopes.eventsWrite);
      const dest = store.calendarFor(auth.email, destinationId);
      if (!dest) throw errors.notFound();
      if (dest === cal) return { status: 200, body: stored.data };
      const owner = { email: dest.id, self: true, ...(dest.primary ? {} : { displayName: dest.summary }) };
      // A series moves whole: the master and its exceptions; the source keeps tombstones.
      let moved: Event | undefined;
      for (const item of [stored, ...exceptionsOf(cal, stored.data.id!)]) {
        const stamp = store.stamp();
        const copy: Event = { ...item.data, etag: `"${stamp.micros}"`, updated: stamp.iso, htmlLink: htmlLink(item.data.id!, dest.id), organizer: owner };
        if (item.data.status !== 'cancelled') cancel(cal, item);
        save(dest, copy, dest.events.get(copy.id!));
        moved ??= copy;
      }
      recordSendUpdates(req, 'events.move', cal, stored.data.id!);
      return { status: 200, body: moved };
    }),
    route('POST', '/calendar/v3/channels/stop', (req) => {
      authorize(ctx, req, scopes.eventsRead);
      channels.stop(jsonBody(req));
      return { status: 204 };
    }),
  ];
}
