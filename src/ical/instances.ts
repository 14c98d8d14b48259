import ICAL from 'ical.js';
import { IcalError } from './errors.ts';
import type { CalendarObject, Component } from './parse.ts';
import { timezoneFor } from './timezones.ts';
import {
  DAY_MS, isFloating, isUtc, wallMs, timeFromWall, toUtcMs, zonedWallToUtc, utcToZonedWall, formatUtc, formatDate, pad,
  type Time, type Timezone, type Duration,
} from './time.ts';

/** One occurrence of a calendar object. */
export interface Instance {
  /** 'YYYYMMDD' for all-day, 'YYYYMMDDTHHMMSSZ' for timed, 'YYYYMMDDTHHMMSS' for floating. */
  recurrenceId: string;
  start: Date;
  /** Exclusive end; equals start for instances without duration. */
  end: Date;
  allDay: boolean;
  floating: boolean;
  /** The override for this instance, or the master. */
  component: Component;
  override: boolean;
}

export interface InstanceOptions {
  /** Most instances to return before failing with too-many-instances. Default 10,000. */
  max?: number;
  /** Most recurrence candidates to walk (including ones before the range). Default 50,000. */
  maxIterations?: number;
  /** Zone for all-day and floating times (CALDAV:calendar-timezone). Default: read them as UTC. */
  floatingTimezone?: string | Timezone | null;
}

export const DEFAULT_MAX_INSTANCES = 10_000;
export const DEFAULT_MAX_ITERATIONS = 50_000;

/** How an instance's end was derived, for the RFC 4791 §9.9 rules. */
export type EndKind = 'end' | 'duration' | 'none';

/** An instance as plain numbers; what the matchers work on. */
export interface RawInstance {
  startMs: number;
  endMs: number;
  endKind: EndKind;
  /** False for a VTODO without DTSTART, placed at its DUE. */
  hasStart: boolean;
  allDay: boolean;
  floating: boolean;
  /** RECURRENCE-ID key: UTC ms, or the wall clock read as UTC for dates and floating times. */
  ridKey: number;
  ridForm: 'date' | 'floating' | 'utc';
  component: Component;
  override: boolean;
}

interface Shape {
  start: Time | null;
  allDay: boolean;
  floating: boolean;
  zone: Timezone | null;
  endKind: EndKind;
  /** DTEND/DUE minus DTSTART: wall-clock ms for floating shapes, exact ms otherwise. */
  deltaMs: number;
  nominalDays: number;
  exactMs: number;
  /** A VTODO with DUE but no DTSTART. */
  due: Time | null;
}

function valueOf(c: Component, name: string): unknown {
  const p = c.getFirstProperty(name);
  return p ? p.getFirstValue() : null;
}

function shapeOf(c: Component): Shape {
  const start = valueOf(c, 'dtstart') as Time | null;
  const endProp = c.name === 'vtodo' ? 'due' : c.name === 'vevent' ? 'dtend' : null;
  const end = endProp ? (valueOf(c, endProp) as Time | null) : null;
  const duration = c.name === 'vjournal' ? null : (valueOf(c, 'duration') as Duration | null);
  const floating = start ? isFloating(start) : end ? isFloating(end) : false;
  const shape: Shape = {
    start,
    allDay: start ? start.isDate : end ? end.isDate : false,
    floating,
    zone: start && !floating && !isUtc(start) ? (start.zone as Timezone) : null,
    endKind: 'none',
    deltaMs: 0,
    nominalDays: 0,
    exactMs: 0,
    due: null,
  };
  if (start && end) {
    shape.endKind = 'end';
    shape.deltaMs = floating && isFloating(end) ? wallMs(end) - wallMs(start) : toUtcMs(end) - toUtcMs(start);
  } else if (start && duration) {
    shape.endKind = 'duration';
    const sign = duration.isNegative ? -1 : 1;
    shape.nominalDays = sign * (duration.weeks * 7 + duration.days);
    shape.exactMs = sign * ((duration.hours * 60 + duration.minutes) * 60 + duration.seconds) * 1000;
  } else if (!start && end) {
    shape.endKind = 'end';
    shape.due = end;
  }
  return shape;
}

interface Prepared {
  master: Shape | null;
  overrides: { component: Component; shape: Shape; ridKey: number; ridForm: RawInstance['ridForm'] }[];
  overriddenKeys: Set<number>;
  exdates: Set<number>;
  exdateDays: Set<number>;
  rdates: Time[];
  rdatePeriods: Map<Time, Time | Duration>;
  rules: InstanceType<typeof ICAL.Recur>[];
  /** Per rule, the occurrences walked so far (wall ms, rising), kept with the object. */
  walked: Map<InstanceType<typeof ICAL.Recur>, Walked>;
  recurring: boolean;
}

/** A rule's occurrences from DTSTART, extended as far as a query needs and kept for the next one. */
interface Walked {
  walls: number[];
  next: () => number | null;
  done: boolean;
}

const prepared = new WeakMap<CalendarObject, Prepared>();

function ridForm(t: Time): RawInstance['ridForm'] {
  return t.isDate ? 'date' : isFloating(t) ? 'floating' : 'utc';
}

function prepare(obj: CalendarObject): Prepared {
  let p = prepared.get(obj);
  if (p) return p;
  const m = obj.master;
  p = {
    master: m ? shapeOf(m) : null,
    overrides: [],
    overriddenKeys: new Set(),
    exdates: new Set(),
    exdateDays: new Set(),
    rdates: [],
    rdatePeriods: new Map(),
    rules: [],
    walked: new Map(),
    recurring: false,
  };
  for (const o of obj.overrides) {
    const rid = valueOf(o, 'recurrence-id') as Time;
    const key = toUtcMs(rid);
    p.overrides.push({ component: o, shape: shapeOf(o), ridKey: key, ridForm: ridForm(rid) });
    p.overriddenKeys.add(key);
  }
  if (m && p.master?.start) {
    for (const prop of m.getAllProperties('exdate')) {
      for (const v of prop.getValues() as Time[]) {
        if (v.isDate && !p.master.start.isDate) p.exdateDays.add(wallMs(v));
        else p.exdates.add(toUtcMs(v));
      }
    }
    for (const prop of m.getAllProperties('rdate')) {
      for (const v of prop.getValues() as (Time | InstanceType<typeof ICAL.Period>)[]) {
        if (v instanceof ICAL.Period) {
          p.rdates.push(v.start);
          p.rdatePeriods.set(v.start, v.end ?? (v.duration as Duration));
        } else {
          p.rdates.push(v);
        }
      }
    }
    p.rdates.sort((a, b) => toUtcMs(a) - toUtcMs(b));
    for (const prop of m.getAllProperties('rrule')) p.rules.push(prop.getFirstValue() as InstanceType<typeof ICAL.Recur>);
    p.recurring = p.rules.length > 0 || p.rdates.length > 0;
  }
  prepared.set(obj, p);
  return p;
}

/** True when the master has RRULE or RDATE. */
export function isRecurring(obj: CalendarObject): boolean {
  return prepare(obj).recurring;
}

/** True when every RRULE ends (COUNT or UNTIL). */
export function isFinite(obj: CalendarObject): boolean {
  return prepare(obj).rules.every((r) => r.isFinite());
}

export function resolveFloatingZone(z: InstanceOptions['floatingTimezone']): Timezone | null {
  if (!z) return null;
  if (typeof z !== 'string') return z;
  const zone = timezoneFor(z);
  if (!zone) throw new IcalError('valid-calendar-data', `unknown timezone ${z}`);
  return zone;
}

function converter(shape: Shape, fz: Timezone | null): (wall: number) => number {
  if (shape.floating) return fz ? (w) => zonedWallToUtc(fz, w) : (w) => w;
  const zone = shape.zone;
  if (zone) return (w) => zonedWallToUtc(zone, w);
  return (w) => w;
}

/** End of an instance starting at wall/utc, per its shape. */
function endOf(shape: Shape, wall: number, utc: number, conv: (w: number) => number, vevent: boolean): number {
  switch (shape.endKind) {
    case 'end':
      return shape.floating ? conv(wall + shape.deltaMs) : utc + shape.deltaMs;
    case 'duration':
      return (shape.nominalDays === 0 ? utc : conv(wall + shape.nominalDays * DAY_MS)) + shape.exactMs;
    case 'none':
      // RFC 4791 §9.9: an all-day VEVENT (and VJOURNAL) without end covers its day.
      return shape.allDay && vevent ? conv(wall + DAY_MS) : utc;
  }
}

function single(c: Component, shape: Shape, fz: Timezone | null, override: boolean, rid: { key: number; form: RawInstance['ridForm'] } | null): RawInstance | null {
  const vevent = c.name !== 'vtodo';
  if (shape.start) {
    const conv = converter(shape, fz);
    const wall = wallMs(shape.start);
    const utc = conv(wall);
    return {
      startMs: utc,
      endMs: endOf(shape, wall, utc, conv, vevent),
      endKind: shape.endKind,
      hasStart: true,
      allDay: shape.allDay,
      floating: shape.floating,
      ridKey: rid ? rid.key : toUtcMs(shape.start),
      ridForm: rid ? rid.form : ridForm(shape.start),
      component: c,
      override,
    };
  }
  if (shape.due) {
    const due = toUtcMs(shape.due, fz);
    return {
      startMs: due, endMs: due, endKind: 'end', hasStart: false, allDay: shape.allDay, floating: shape.floating,
      ridKey: rid ? rid.key : toUtcMs(shape.due), ridForm: rid ? rid.form : ridForm(shape.due), component: c, override,
    };
  }
  return null;
}

interface Candidate {
  utc: number;
  wall: number;
  /** Explicit end from an RDATE PERIOD. */
  periodEnd: number | null;
}

interface Stream {
  head: Candidate | null;
  advance(): void;
}

const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

/**
 * A later DTSTART that yields the same occurrences from there on, or null.
 * ical.js cannot seek, and walking an endless daily or weekly rule from 2010
 * to a query in 2090 costs tens of thousands of steps; for rules whose period
 * is a fixed number of days (DAILY without BY parts, WEEKLY with at most
 * BYDAY, no COUNT) the start can jump whole periods instead.
 */
function fastForward(rule: InstanceType<typeof ICAL.Recur>, start: Time, targetWall: number): { start: Time; skipFirst: boolean } | null {
  if (!Number.isFinite(targetWall) || rule.count) return null;
  const parts = Object.entries(rule.parts ?? {}).filter(([, v]) => Array.isArray(v) && v.length > 0).map(([k]) => k);
  let periodDays: number;
  let skipFirst = false;
  const interval = rule.interval || 1;
  if (rule.freq === 'DAILY' && parts.length === 0) periodDays = interval;
  else if (rule.freq === 'WEEKLY' && parts.every((k) => k === 'BYDAY')) {
    periodDays = 7 * interval;
    const byday = (rule.parts.BYDAY ?? []) as string[];
    // The shifted start is yielded first by ical.js, like a real DTSTART; drop it unless the rule itself produces it.
    if (byday.length && !byday.some((d) => d.toUpperCase() === WEEKDAYS[start.dayOfWeek() - 1])) skipFirst = true;
  } else return null;
  const startWall = wallMs(start);
  const periodMs = periodDays * DAY_MS;
  const k = Math.floor((targetWall - startWall) / periodMs);
  if (k < 2) return null;
  const shifted = timeFromWall(startWall + k * periodMs, start.isDate, isFloating(start) ? null : (start.zone as Timezone));
  return { start: shifted, skipFirst };
}

/**
 * A rule's candidates from targetWall on. Rules that cannot jump are walked
 * from DTSTART once per parsed object: the walk is kept, so the next window
 * (another query, or the expansion after the filter's test) starts where it
 * is, at a binary search, and pays only for its own occurrences.
 */
function ruleStream(rule: InstanceType<typeof ICAL.Recur>, start: Time, conv: (w: number) => number, targetWall: number, p: Prepared, maxIterations: number): Stream {
  const ff = fastForward(rule, start, targetWall);
  if (!ff) {
    const w = walkedOf(rule, start, p);
    while (w.walls.length < KEEP_WALKED && (w.walls.length === 0 || (w.walls[w.walls.length - 1] as number) < targetWall) && extend(w, maxIterations));
    if (w.done || (w.walls[w.walls.length - 1] as number) >= targetWall) return walkedStream(w, conv, targetWall, maxIterations);
    // a walk to the window longer than is worth keeping (an endless hourly rule, years on): from DTSTART, as before
  }
  const it = rule.iterator(ff ? ff.start : start);
  const s: Stream = {
    head: null,
    advance() {
      const t = it.next();
      if (!t) { s.head = null; return; }
      const wall = wallMs(t);
      s.head = { utc: conv(wall), wall, periodEnd: null };
    },
  };
  s.advance();
  if (ff?.skipFirst) s.advance();
  return s;
}

/** Occurrences before a window kept per rule at most: a parsed object stays small. */
const KEEP_WALKED = 4096;

function walkedOf(rule: InstanceType<typeof ICAL.Recur>, start: Time, p: Prepared): Walked {
  let w = p.walked.get(rule);
  if (!w) {
    const it = rule.iterator(start);
    w = { walls: [], done: false, next: () => { const t = it.next(); return t ? wallMs(t) : null; } };
    p.walked.set(rule, w);
  }
  return w;
}

/** Extends the walk by one occurrence; false at its end. Past maxIterations it fails as the walk from DTSTART did. */
function extend(w: Walked, maxIterations: number): boolean {
  if (w.done) return false;
  if (w.walls.length >= maxIterations) throw new IcalError('too-many-instances', `recurrence walk passed ${maxIterations} candidates`);
  const wall = w.next();
  if (wall === null) { w.done = true; return false; }
  w.walls.push(wall);
  return true;
}

function walkedStream(w: Walked, conv: (w: number) => number, targetWall: number, maxIterations: number): Stream {
  while ((w.walls.length === 0 || (w.walls[w.walls.length - 1] as number) < targetWall) && extend(w, maxIterations));
  // first occurrence at or after targetWall
  let lo = 0;
  let hi = w.walls.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((w.walls[mid] as number) < targetWall) lo = mid + 1; else hi = mid;
  }
  let i = lo;
  const s: Stream = {
    head: null,
    advance() {
      if (i >= w.walls.length && !extend(w, maxIterations)) { s.head = null; return; }
      // the limit counts from DTSTART, however much of the walk was kept
      if (i >= maxIterations) throw new IcalError('too-many-instances', `recurrence walk passed ${maxIterations} candidates`);
      const wall = w.walls[i++] as number;
      s.head = { utc: conv(wall), wall, periodEnd: null };
    },
  };
  s.advance();
  return s;
}

function listStream(items: Candidate[]): Stream {
  let i = 0;
  const s: Stream = {
    head: items[0] ?? null,
    advance() { s.head = items[++i] ?? null; },
  };
  return s;
}

/**
 * Every instance whose span touches [fromMs, toMs] (inclusive at both ends,
 * so callers apply the exact overlap rule they need). Master occurrences come
 * in start order, then overrides. Overrides are always instances, also when
 * their RECURRENCE-ID matches no generated occurrence; EXDATE only removes
 * generated occurrences.
 */
export function* walk(
  obj: CalendarObject,
  fromMs: number,
  toMs: number,
  opts: { floatingZone?: Timezone | null; maxIterations?: number; master?: boolean; overrides?: boolean } = {},
): Generator<RawInstance, void, undefined> {
  const p = prepare(obj);
  const fz = opts.floatingZone ?? null;
  const master = obj.master;
  if (master && p.master && opts.master !== false) {
    const shape = p.master;
    if (!p.recurring) {
      const inst = single(master, shape, fz, false, null);
      if (inst && !p.overriddenKeys.has(inst.ridKey) && inst.endMs >= fromMs && inst.startMs <= toMs) yield inst;
    } else if (shape.start) {
      yield* walkMaster(master, shape, p, fz, fromMs, toMs, opts.maxIterations ?? DEFAULT_MAX_ITERATIONS);
    }
  }
  if (opts.overrides !== false) {
    for (const o of p.overrides) {
      const inst = single(o.component, o.shape, fz, true, { key: o.ridKey, form: o.ridForm });
      if (inst && inst.endMs >= fromMs && inst.startMs <= toMs) yield inst;
    }
  }
}

function* walkMaster(
  master: Component, shape: Shape, p: Prepared, fz: Timezone | null, fromMs: number, toMs: number, maxIterations: number,
): Generator<RawInstance, void, undefined> {
  const start = shape.start as Time;
  const conv = converter(shape, fz);
  const vevent = master.name !== 'vtodo';
  const startWall = wallMs(start);
  const streams: Stream[] = [listStream([{ utc: conv(startWall), wall: startWall, periodEnd: null }])];
  // Wall-clock point safely before any instance that can reach fromMs.
  const reach = Math.abs(shape.deltaMs) + Math.abs(shape.nominalDays) * DAY_MS + Math.abs(shape.exactMs) + 2 * DAY_MS;
  const targetWall = fromMs - reach;
  for (const rule of p.rules) streams.push(ruleStream(rule, start, conv, targetWall, p, maxIterations));
  if (p.rdates.length) {
    streams.push(listStream(p.rdates.map((t) => {
      const utc = shape.floating && isFloating(t) ? conv(wallMs(t)) : toUtcMs(t, fz);
      const wall = shape.floating ? wallMs(t) : shape.zone ? utcToZonedWall(shape.zone, utc) : utc;
      const period = p.rdatePeriods.get(t);
      let periodEnd: number | null = null;
      if (period instanceof ICAL.Time) periodEnd = toUtcMs(period, fz);
      else if (period) periodEnd = utc + period.toSeconds() * 1000;
      return { utc, wall, periodEnd };
    })));
  }
  let iterations = 0;
  let last = Number.NaN;
  for (;;) {
    let best: Stream | null = null;
    for (const s of streams) {
      if (s.head && (!best || s.head.utc < (best.head as Candidate).utc)) best = s;
    }
    if (!best) return;
    const c = best.head as Candidate;
    best.advance();
    if (++iterations > maxIterations) {
      throw new IcalError('too-many-instances', `recurrence walk passed ${maxIterations} candidates`);
    }
    if (c.utc === last) continue;
    last = c.utc;
    if (c.utc > toMs) return;
    const key = shape.floating ? c.wall : c.utc;
    if (p.exdates.has(key)) continue;
    if (p.exdateDays.size && p.exdateDays.has(c.wall - (((c.wall % DAY_MS) + DAY_MS) % DAY_MS))) continue;
    if (p.overriddenKeys.has(key)) continue;
    const endMs = c.periodEnd ?? endOf(shape, c.wall, c.utc, conv, vevent);
    if (endMs < fromMs) continue;
    yield {
      startMs: c.utc,
      endMs,
      endKind: c.periodEnd !== null ? 'end' : shape.endKind,
      hasStart: true,
      allDay: shape.allDay,
      floating: shape.floating,
      ridKey: key,
      ridForm: shape.allDay ? 'date' : shape.floating ? 'floating' : 'utc',
      component: master,
      override: false,
    };
  }
}

export function formatRecurrenceId(key: number, form: RawInstance['ridForm']): string {
  if (form === 'date') return formatDate(key);
  if (form === 'utc') return formatUtc(key);
  const d = new Date(key);
  return `${formatDate(key)}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** RFC 4791 §9.9 per component type. */
export function instanceInRange(type: CalendarObject['componentType'], i: RawInstance, r: { start: number; end: number }): boolean {
  const s = i.startMs;
  const e = i.endMs;
  if (type === 'VTODO') {
    if (!i.hasStart) return r.start < e && r.end >= e; // DUE only
    if (i.endKind === 'duration') return r.start <= e && (r.end > s || r.end >= e);
    if (i.endKind === 'end') return (r.start < e || r.start <= s) && (r.end > s || r.end >= e);
    return r.start <= s && r.end > s;
  }
  // VEVENT, VJOURNAL: an instance without extent (timed, no DTEND, or zero DURATION) is a point.
  const point = (i.endKind === 'none' && !i.allDay) || (i.endKind === 'duration' && e === s) || type === 'VJOURNAL' && !i.allDay;
  if (point) return r.start <= s && r.end > s;
  return r.start < e && r.end > s;
}

export function toInstance(i: RawInstance): Instance {
  return {
    recurrenceId: formatRecurrenceId(i.ridKey, i.ridForm),
    start: new Date(i.startMs),
    end: new Date(i.endMs),
    allDay: i.allDay,
    floating: i.floating,
    component: i.component,
    override: i.override,
  };
}

/**
 * Instances overlapping [start, end) by the RFC 4791 §9.9 rule for the
 * component type, sorted by start. Honours RRULE, RDATE,
 * EXDATE and RECURRENCE-ID overrides (also ones moved into or out of the
 * range). Throws IcalError('too-many-instances') past opts.max instances or
 * opts.maxIterations walked candidates.
 */
export function instancesBetween(obj: CalendarObject, start: Date, end: Date, opts: InstanceOptions = {}): Instance[] {
  const raw = rawInstancesBetween(obj, start.getTime(), end.getTime(), opts);
  return raw.map(toInstance);
}

export function rawInstancesBetween(obj: CalendarObject, startMs: number, endMs: number, opts: InstanceOptions = {}): RawInstance[] {
  const max = opts.max ?? DEFAULT_MAX_INSTANCES;
  const fz = resolveFloatingZone(opts.floatingTimezone);
  const out: RawInstance[] = [];
  const range = { start: startMs, end: endMs };
  const walkOpts: { floatingZone: Timezone | null; maxIterations?: number } = { floatingZone: fz };
  if (opts.maxIterations !== undefined) walkOpts.maxIterations = opts.maxIterations;
  for (const i of walk(obj, startMs, endMs, walkOpts)) {
    if (!instanceInRange(obj.componentType, i, range)) continue;
    out.push(i);
    if (out.length > max) throw new IcalError('too-many-instances', `more than ${max} instances in the range`);
  }
  return out.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
}
