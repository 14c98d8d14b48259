// Recurring series on top of the store: instances of a master (virtual ones
// computed from its recurrence, stored exceptions in their place), and the
// lookup of an instance id "<masterId>_<suffix>".
import type { calendar_v3 } from 'googleapis';
import { eventTimes } from './event-resource.ts';
import { instanceSuffix, occurrences, parseInstanceId } from './recurrence.ts';
import type { Calendar, StoredEvent } from './store.ts';
import { addDays, formatDateTime } from './tz.ts';

type Event = calendar_v3.Schema$Event;

/** How far past now an open-ended series is expanded when no timeMax bounds it. */
export const OPEN_END_MS = 2 * 366 * 86_400_000;

export function isMaster(ev: Event): boolean {
  return Boolean(ev.recurrence?.some((l) => /^(RRULE|RDATE)/i.test(l)));
}

function originalStart(master: Event, calTz: string, ms: number, allDay: boolean): calendar_v3.Schema$EventDateTime {
  if (allDay) return { date: new Date(ms).toISOString().slice(0, 10) };
  const tz = master.start?.timeZone ?? calTz;
  const out: calendar_v3.Schema$EventDateTime = { dateTime: formatDateTime(ms, tz) };
  if (master.start?.timeZone) out.timeZone = master.start.timeZone;
  return out;
}

/** The occurrence of the master starting at `ms`, as Google returns an unmodified instance. */
export function virtualInstance(cal: Calendar, master: Event, ms: number): Event {
  const t = eventTimes(master, cal.timeZone);
  const { recurrence: _r, ...rest } = master;
  const id = `${master.id}_${instanceSuffix(ms, t.allDay)}`;
  const start = originalStart(master, cal.timeZone, ms, t.allDay);
  let end: calendar_v3.Schema$EventDateTime;
  if (t.allDay) {
    const days = Math.round((Date.parse(`${master.end!.date}T00:00:00Z`) - Date.parse(`${master.start!.date}T00:00:00Z`)) / 86_400_000);
    end = { date: addDays(start.date!, days) };
  } else {
    end = { dateTime: formatDateTime(ms + (t.endMs - t.startMs), master.end?.timeZone ?? t.tz) };
    if (master.end?.timeZone) end.timeZone = master.end.timeZone;
  }
  return {
    ...rest,
    id,
    htmlLink: master.htmlLink?.replace(/eid=.*/, `eid=${Buffer.from(`${id} ${cal.id}`).toString('base64url')}`),
    start,
    end,
    recurringEventId: master.id,
    originalStartTime: start,
  };
}

/** Occurrence starts of a stored master in [fromMs, toMs) (all-day: UTC midnights of the dates). */
export function occurrenceStarts(cal: Calendar, master: Event, fromMs: number, toMs: number): number[] {
  const t = eventTimes(master, cal.timeZone);
  const startMs = t.allDay ? Date.parse(`${master.start!.date}T00:00:00Z`) : t.startMs;
  return occurrences(master.recurrence ?? [], { ms: startMs, tz: t.tz, allDay: t.allDay }, fromMs, toMs).map((o) => o.startMs);
}

export function exceptionsOf(cal: Calendar, masterId: string): StoredEvent[] {
  return [...cal.events.values()].filter((e) => e.data.recurringEventId === masterId);
}

/** Instances of a series whose original start lies in [fromMs, toMs), exceptions (also cancelled ones) in their place. */
export function seriesInstances(cal: Calendar, master: StoredEvent, fromMs: number, toMs: number): { ev: Event; originalMs: number; stored?: StoredEvent }[] {
  const byId = new Map(exceptionsOf(cal, master.data.id!).map((e) => [e.data.id!, e]));
  return occurrenceStarts(cal, master.data, fromMs, toMs).map((ms) => {
    const v = virtualInstance(cal, master.data, ms);
    const stored = byId.get(v.id!);
    return stored ? { ev: stored.data, originalMs: ms, stored } : { ev: v, originalMs: ms };
  });
}

/** A stored event, or the virtual instance an instance id names when that occurrence exists. */
export function findEvent(cal: Calendar, eventId: string): { stored?: StoredEvent; virtual?: Event; master?: StoredEvent } | undefined {
  const stored = cal.events.get(eventId);
  if (stored) return { stored };
  const parsed = parseInstanceId(eventId);
  if (!parsed) return undefined;
  const master = cal.events.get(parsed.masterId);
  if (!master || !isMaster(master.data)) return undefined;
  const hit = occurrenceStarts(cal, master.data, parsed.ms, parsed.ms + 1);
  if (hit[0] !== parsed.ms) return undefined;
  return { virtual: virtualInstance(cal, master.data, parsed.ms), master };
}
