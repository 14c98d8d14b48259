import ICAL from 'ical.js';
import { IcalError } from './errors.ts';
import type { CalendarObject, Component, ComponentType } from './parse.ts';
import { walk, isFinite, isRecurring, formatRecurrenceId } from './instances.ts';
import { canonicalTzid } from './timezones.ts';
import {
  FLOAT_SLACK_MS, DAY_MS, isFloating, isUtc, wallMs, toUtcMs, isoDate, isoLocal, zonedWallToUtc, utcToZonedWall,
  type Time, type Duration, type Timezone,
} from './time.ts';

/** A DTSTART/DTEND/DUE value as written, with its instant where it has one. */
export type TimeValue =
  | { kind: 'date'; date: string }
  | { kind: 'floating'; local: string }
  | { kind: 'zoned'; utc: Date; tzid: string; local: string }
  | { kind: 'utc'; utc: Date };

export type Classification = 'PUBLIC' | 'PRIVATE' | 'CONFIDENTIAL';

/** Fields a store keeps beside the raw body, taken from the master (else the first override). */
export interface ObjectIndex {
  uid: string;
  componentType: ComponentType;
  summary: string | null;
  description: string | null;
  location: string | null;
  status: string | null;
  classification: Classification;
  /** VEVENT only; null for other components. */
  transparency: 'OPAQUE' | 'TRANSPARENT' | null;
  start: TimeValue | null;
  /** DTEND, else DTSTART+DURATION, else (all-day VEVENT) the next day; null if none of these. */
  end: TimeValue | null;
  due: TimeValue | null;
  completed: Date | null;
  allDay: boolean;
  /** IANA name of DTSTART's zone (raw TZID when it maps to none), 'UTC', or null for dates and floating times. */
  timezone: string | null;
  rrule: string | null;
  exdates: string[];
  rdates: string[];
  overrides: number;
  sequence: number;
  /**
   * UTC span of all instances, for prefiltering time-range queries with
   * inclusive comparisons (firstStart <= rangeEnd AND lastEnd >= rangeStart).
   * Null means unbounded on that side (an endless RRULE, or a VTODO with no
   * DTSTART or DUE). Floating times and dates are widened by 14 hours.
   */
  firstStart: Date | null;
  lastEnd: Date | null;
  /** Instances in the set; null when unbounded or too many to count. */
  instanceCount: number | null;
  categories: string[];
  priority: number | null;
  percentComplete: number | null;
  lastModified: Date | null;
}

function prop(c: Component, name: string): unknown {
  const p = c.getFirstProperty(name);
  return p ? p.getFirstValue() : null;
}

function text(c: Component, name: string): string | null {
  const v = prop(c, name);
  return v === null || v === undefined ? null : String(v);
}

function int(c: Component, name: string): number | null {
  const v = prop(c, name);
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number.parseInt(v, 10) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

function instant(c: Component, name: string): Date | null {
  const v = prop(c, name);
  return v instanceof ICAL.Time ? new Date(toUtcMs(v)) : null;
}

export function timeValue(t: Time): TimeValue {
  if (t.isDate) return { kind: 'date', date: isoDate(wallMs(t)) };
  if (isFloating(t)) return { kind: 'floating', local: isoLocal(wallMs(t)) };
  if (isUtc(t)) return { kind: 'utc', utc: new Date(wallMs(t)) };
  const tzid = (t.zone as Timezone).tzid;
  return { kind: 'zoned', utc: new Date(toUtcMs(t)), tzid: canonicalTzid(tzid) ?? tzid, local: isoLocal(wallMs(t)) };
}

function shifted(t: Time, wall: number): TimeValue {
  if (t.isDate) return { kind: 'date', date: isoDate(wall) };
  if (isFloating(t)) return { kind: 'floating', local: isoLocal(wall) };
  if (isUtc(t)) return { kind: 'utc', utc: new Date(wall) };
  const zone = t.zone as Timezone;
  return { kind: 'zoned', utc: new Date(zonedWallToUtc(zone, wall)), tzid: canonicalTzid(zone.tzid) ?? zone.tzid, local: isoLocal(wall) };
}

function effectiveEnd(c: Component, start: Time | null): TimeValue | null {
  const end = prop(c, 'dtend');
  if (end instanceof ICAL.Time) return timeValue(end);
  if (!start) return null;
  const d = prop(c, 'duration');
  if (d instanceof ICAL.Duration) {
    const dur = d as Duration;
    const sign = dur.isNegative ? -1 : 1;
    const days = sign * (dur.weeks * 7 + dur.days);
    const exact = sign * ((dur.hours * 60 + dur.minutes) * 60 + dur.seconds) * 1000;
    const wall = wallMs(start) + days * DAY_MS;
    if (start.isDate || isFloating(start) || isUtc(start)) return shifted(start, wall + (start.isDate ? 0 : exact));
    // Nominal days move the wall clock, the time part is exact (RFC 5545 §3.3.6).
    const zone = start.zone as Timezone;
    const utc = zonedWallToUtc(zone, wall) + exact;
    return { kind: 'zoned', utc: new Date(utc), tzid: canonicalTzid(zone.tzid) ?? zone.tzid, local: isoLocal(utcToZonedWall(zone, utc)) };
  }
  if (c.name === 'vevent' && start.isDate) return shifted(start, wallMs(start) + DAY_MS);
  return null;
}

function classification(c: Component): Classification {
  const v = text(c, 'class')?.toUpperCase();
  if (!v || v === 'PUBLIC') return 'PUBLIC';
  if (v === 'CONFIDENTIAL') return 'CONFIDENTIAL';
  // RFC 5545 §3.8.1.3: unrecognised values are treated as PRIVATE.
  return 'PRIVATE';
}

function dateList(c: Component, name: string): string[] {
  const out: string[] = [];
  for (const p of c.getAllProperties(name)) {
    for (const v of p.getValues()) {
      const t = v instanceof ICAL.Period ? v.start : v;
      if (!(t instanceof ICAL.Time)) continue;
      out.push(formatRecurrenceId(toUtcMs(t), t.isDate ? 'date' : isFloating(t) ? 'floating' : 'utc'));
    }
  }
  return out;
}

interface Span { first: number | null; last: number | null; count: number | null }

function span(obj: CalendarObject): Span {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let floating = false;
  let count = 0;
  let bounded = true;
  const see = (s: number, e: number, f: boolean): void => {
    if (s < first) first = s;
    if (e > last) last = e;
    if (f) floating = true;
    count++;
  };
  if (isRecurring(obj) && !isFinite(obj)) {
    bounded = false;
    for (const i of walk(obj, -Infinity, Infinity, { overrides: false })) {
      see(i.startMs, i.endMs, i.floating);
      break;
    }
  } else {
    try {
      for (const i of walk(obj, -Infinity, Infinity, { overrides: false })) see(i.startMs, i.endMs, i.floating);
    } catch (e) {
      if (!(e instanceof IcalError)) throw e;
      bounded = false;
    }
  }
  for (const i of walk(obj, -Infinity, Infinity, { master: false })) see(i.startMs, i.endMs, i.floating);
  const slack = floating ? FLOAT_SLACK_MS : 0;
  // A VTODO without DTSTART/DUE has no instances: unbounded both ways.
  if (count === 0) return { first: null, last: null, count: bounded ? 0 : null };
  return {
    first: first - slack,
    last: bounded ? last + slack : null,
    count: bounded ? count : null,
  };
}

export function computeIndex(obj: CalendarObject): ObjectIndex {
  const c = (obj.master ?? obj.overrides[0]) as Component;
  const startV = prop(c, 'dtstart');
  const start = startV instanceof ICAL.Time ? startV : null;
  const dueV = prop(c, 'due');
  const rrule = c.getFirstProperty('rrule');
  // walking the instances is most of the index's cost, and a body's span is not always asked
  // for (a PUT reads the fields of the body it replaces, never its span): walked once, on first use
  let walked: { firstStart: Date | null; lastEnd: Date | null; instanceCount: number | null } | undefined;
  const spanOnce = () => {
    if (walked === undefined) {
      const s = span(obj);
      walked = { firstStart: s.first === null ? null : new Date(s.first), lastEnd: s.last === null ? null : new Date(s.last), instanceCount: s.count };
    }
    return walked;
  };
  const transp = text(c, 'transp')?.toUpperCase();
  const categories: string[] = [];
  for (const p of c.getAllProperties('categories')) {
    for (const v of p.getValues()) if (typeof v === 'string' && v !== '') categories.push(v);
  }
  let timezone: string | null = null;
  if (start && !isFloating(start)) {
    if (isUtc(start)) timezone = 'UTC';
    else {
      const tzid = (start.zone as Timezone).tzid;
      timezone = canonicalTzid(tzid) ?? tzid;
    }
  }
  return {
    uid: obj.uid,
    componentType: obj.componentType,
    summary: text(c, 'summary'),
    description: text(c, 'description'),
    location: text(c, 'location'),
    status: text(c, 'status')?.toUpperCase() ?? null,
    classification: classification(c),
    transparency: c.name === 'vevent' ? (transp === 'TRANSPARENT' ? 'TRANSPARENT' : 'OPAQUE') : null,
    start: start ? timeValue(start) : null,
    end: c.name === 'vtodo' || c.name === 'vevent' ? effectiveEnd(c, start) : null,
    due: dueV instanceof ICAL.Time ? timeValue(dueV) : null,
    completed: instant(c, 'completed'),
    allDay: start ? start.isDate : dueV instanceof ICAL.Time ? dueV.isDate : false,
    timezone,
    rrule: rrule ? String(rrule.getFirstValue()) : null,
    exdates: dateList(c, 'exdate'),
    rdates: dateList(c, 'rdate'),
    overrides: obj.overrides.length,
    sequence: int(c, 'sequence') ?? 0,
    get firstStart() { return spanOnce().firstStart; },
    get lastEnd() { return spanOnce().lastEnd; },
    get instanceCount() { return spanOnce().instanceCount; },
    categories,
    priority: int(c, 'priority'),
    percentComplete: int(c, 'percent-complete'),
    lastModified: instant(c, 'last-modified'),
  };
}
