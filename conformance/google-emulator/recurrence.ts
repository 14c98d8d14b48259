// Expands a Google event's `recurrence` lines (RRULE/EXRULE/RDATE/EXDATE)
// into occurrence start instants with ical.js, iterating in the event's
// wall-clock time zone so DST does not shift occurrences.
import ICAL from 'ical.js';
import { formatLocalDate, localToUtc, parseLocal, utcToLocal } from './tz.ts';
import type { Local } from './tz.ts';

/** Hard cap of occurrences computed per series and call. */
export const MAX_OCCURRENCES = 5000;

export type Occurrence = { startMs: number; local: Local };

type Line = { name: string; params: Record<string, string>; value: string };

function parseLine(line: string): Line | undefined {
  const colon = line.indexOf(':');
  if (colon < 0) return undefined;
  const [name, ...paramParts] = line.slice(0, colon).split(';');
  const params: Record<string, string> = {};
  for (const p of paramParts) {
    const [k, v] = p.split('=');
    if (k && v !== undefined) params[k.toUpperCase()] = v;
  }
  return { name: name!.toUpperCase(), params, value: line.slice(colon + 1) };
}

export function isValidRecurrence(lines: unknown): boolean {
  if (!Array.isArray(lines)) return false;
  for (const raw of lines) {
    if (typeof raw !== 'string') return false;
    const line = parseLine(raw);
    if (!line || !['RRULE', 'EXRULE', 'RDATE', 'EXDATE'].includes(line.name)) return false;
    if (line.name === 'RRULE' || line.name === 'EXRULE') {
      try {
        const r = ICAL.Recur.fromString(line.value);
        if (!r.freq) return false;
      } catch {
        return false;
      }
    }
  }
  return true;
}

/** Instants named by an RDATE/EXDATE line (values may be DATE, UTC, or wall time in TZID / the event zone). */
function lineInstants(line: Line, tz: string, allDay: boolean, startLocal: Local): number[] {
  return line.value.split(',').flatMap((v) => {
    const l = parseLocal(v.replace(/Z$/i, ''));
    if (!l) return [];
    if (allDay || /^\d{8}$/.test(v)) {
      const local = allDay ? l : { ...l, hour: startLocal.hour, minute: startLocal.minute, second: startLocal.second };
      return [allDay ? Date.UTC(local.year, local.month - 1, local.day) : localToUtc(local, tz)];
    }
    if (/Z$/i.test(v)) return [Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second)];
    return [localToUtc(l, line.params.TZID ?? tz)];
  });
}

/** RRULE with a UTC UNTIL rewritten to wall time in the zone, so ical.js compares like with like. */
function ruleInZone(value: string, tz: string, allDay: boolean): ICAL.Recur {
  const rule = ICAL.Recur.fromString(value);
  const until = /UNTIL=(\d{8}T\d{6}Z)/i.exec(value);
  if (until && !allDay) {
    const l = parseLocal(until[1]!.slice(0, -1))!;
    const local = utcToLocal(Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second), tz);
    rule.until = ICAL.Time.fromData({ ...local, isDate: false });
  }
  return rule;
}

/**
 * Occurrences of a series whose start lies in [fromMs, toMs), sorted.
 * All-day series work in UTC midnights (the date is what matters).
 */
export function occurrences(recurrence: string[], start: { ms: number; tz: string; allDay: boolean }, fromMs: number, toMs: number): Occurrence[] {
  const tz = start.allDay ? 'UTC' : start.tz;
  const startLocal = utcToLocal(start.ms, tz);
  const dtstart = ICAL.Time.fromData({ ...startLocal, isDate: start.allDay });
  const found = new Map<number, Local>();
  const excluded = new Set<number>();
  const lines = recurrence.map(parseLine).filter((l): l is Line => l !== undefined);
  const toUtc = (t: ICAL.Time): number =>
    start.allDay ? Date.UTC(t.year, t.month - 1, t.day) : localToUtc({ year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second }, tz);

  for (const line of lines) {
    if (line.name === 'RRULE' || line.name === 'EXRULE') {
      const target = line.name === 'RRULE' ? found : undefined;
      const it = ruleInZone(line.value, tz, start.allDay).iterator(dtstart);
      for (let i = 0; i < MAX_OCCURRENCES * 4; i++) {
        const t = it.next();
        if (!t) break;
        const ms = toUtc(t);
        if (ms >= toMs) break;
        if (target) {
          if (ms >= fromMs) target.set(ms, utcToLocal(ms, tz));
          if (target.size >= MAX_OCCURRENCES) break;
        } else excluded.add(ms);
      }
    } else if (line.name === 'RDATE') {
      for (const ms of lineInstants(line, tz, start.allDay, startLocal)) if (ms >= fromMs && ms < toMs) found.set(ms, utcToLocal(ms, tz));
    } else if (line.name === 'EXDATE') {
      for (const ms of lineInstants(line, tz, start.allDay, startLocal)) excluded.add(ms);
    }
  }
  if (!lines.some((l) => l.name === 'RRULE') && start.ms >= fromMs && start.ms < toMs) found.set(start.ms, startLocal);
  return [...found.entries()]
    .filter(([ms]) => !excluded.has(ms))
    .sort((a, b) => a[0] - b[0])
    .map(([ms, local]) => ({ startMs: ms, local }));
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Google's instance id suffix: UTC "20261123T100000Z", or "20261123" for all-day. */
export function instanceSuffix(ms: number, allDay: boolean): string {
  const d = new Date(ms);
  const date = formatLocalDate({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }).replaceAll('-', '');
  return allDay ? date : `${date}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

/** Parses "<masterId>_<suffix>" back into the master id and the original start instant. */
export function parseInstanceId(id: string): { masterId: string; ms: number; allDay: boolean } | undefined {
  const m = /^(.+)_(\d{8})(?:T(\d{6})Z)?$/.exec(id);
  if (!m) return undefined;
  const l = parseLocal(m[3] ? `${m[2]}T${m[3]}` : m[2]!)!;
  return { masterId: m[1]!, ms: Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second), allDay: !m[3] };
}
