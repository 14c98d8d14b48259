import ICAL from 'ical.js';
import type { CalendarObject, Component, Property } from './parse.ts';
import { walk, resolveFloatingZone, instanceInRange, type RawInstance } from './instances.ts';
import { DAY_MS, toUtcMs, durationMs, type Time, type Timezone, type Duration } from './time.ts';

/** CALDAV:time-range; a missing side is open (RFC 4791 §9.9). */
export interface TimeRange {
  start?: Date;
  end?: Date;
}

export type Collation = 'i;ascii-casemap' | 'i;octet' | 'i;unicode-casemap';

export interface TextMatch {
  value: string;
  collation: Collation;
  negate: boolean;
  /** RFC 4791 text-match is a substring test; match-type (RFC 6352 style) may narrow it. Default 'contains'. */
  matchType?: 'equals' | 'contains' | 'starts-with' | 'ends-with';
}

export interface ParamFilter {
  name: string;
  isNotDefined?: boolean;
  textMatch?: TextMatch;
}

export interface PropFilter {
  name: string;
  isNotDefined?: boolean;
  timeRange?: TimeRange;
  textMatch?: TextMatch;
  paramFilters: ParamFilter[];
}

export interface CompFilter {
  name: string;
  isNotDefined?: boolean;
  timeRange?: TimeRange;
  propFilters: PropFilter[];
  compFilters: CompFilter[];
}

export interface MatchOptions {
  /** CALDAV:calendar-timezone, for all-day and floating times. Default: read them as UTC. */
  floatingTimezone?: string | Timezone | null;
  /** Recurrence candidates walked per object before failing with too-many-instances. */
  maxIterations?: number;
}

interface Ctx {
  fz: Timezone | null;
  maxIterations: number | undefined;
}

interface Range {
  start: number;
  end: number;
}

function rangeOf(tr: TimeRange): Range {
  return {
    start: tr.start ? tr.start.getTime() : Number.NEGATIVE_INFINITY,
    end: tr.end ? tr.end.getTime() : Number.POSITIVE_INFINITY,
  };
}

/**
 * RFC 4791 §9.7 calendar-query filter against one object. The top-level
 * filter must name VCALENDAR. Time ranges test every instance of a recurring
 * object, overrides included and EXDATEs excluded; property filters then
 * apply to the component of the instance that matched. May throw
 * IcalError('too-many-instances') for a pathological recurrence set.
 */
export function matches(obj: CalendarObject, filter: CompFilter, opts: MatchOptions = {}): boolean {
  if (filter.name.toUpperCase() !== 'VCALENDAR' || filter.isNotDefined) return false;
  const ctx: Ctx = { fz: resolveFloatingZone(opts.floatingTimezone), maxIterations: opts.maxIterations };
  return (
    filter.propFilters.every((pf) => propFilterMatches(obj.vcalendar, pf, ctx)) &&
    filter.compFilters.every((cf) => calendarChildMatches(obj, cf, ctx))
  );
}

/**
 * The time range a store can prefilter on (firstStart/lastEnd, inclusive):
 * the time-range of the first VEVENT/VTODO/VJOURNAL filter directly under
 * VCALENDAR. Null when the query has none, so every object is a candidate.
 */
export function coarseRange(filter: CompFilter): TimeRange | null {
  if (filter.name.toUpperCase() !== 'VCALENDAR') return null;
  for (const cf of filter.compFilters) {
    if (cf.isNotDefined || !cf.timeRange) continue;
    if (['VEVENT', 'VTODO', 'VJOURNAL'].includes(cf.name.toUpperCase())) return { ...cf.timeRange };
  }
  return null;
}

/**
 * Whether an object's stored span alone proves that it matches, so the exact
 * per-instance test can be skipped: the filter is nothing but a time-range on
 * VEVENT, and the span (ObjectIndex.firstStart/lastEnd: every instance lies
 * within it, floating times widened) lies strictly inside that range. Then
 * every instance passes the RFC 4791 §9.9 test, and there is at least one
 * (an empty set has no span). False means "not proven": call matches().
 */
export function spanProvesMatch(filter: CompFilter, componentType: string, firstStart: Date | null | undefined, lastEnd: Date | null | undefined): boolean {
  if (componentType !== 'VEVENT' || !firstStart || !lastEnd) return false;
  if (filter.name.toUpperCase() !== 'VCALENDAR' || filter.isNotDefined || filter.timeRange || filter.propFilters.length > 0) return false;
  if (filter.compFilters.length !== 1) return false;
  const cf = filter.compFilters[0]!;
  if (cf.name.toUpperCase() !== 'VEVENT' || cf.isNotDefined || !cf.timeRange) return false;
  if (cf.propFilters.length > 0 || cf.compFilters.length > 0) return false;
  const range = rangeOf(cf.timeRange);
  // strict on both sides: a zero-length instance on the range's start or end is decided by its kind
  return firstStart.getTime() > range.start && lastEnd.getTime() < range.end && firstStart.getTime() <= lastEnd.getTime();
}

function needsInstances(cf: CompFilter): boolean {
  return !!cf.timeRange || cf.compFilters.some((c) => !c.isNotDefined && needsInstances(c));
}

function calendarChildMatches(obj: CalendarObject, cf: CompFilter, ctx: Ctx): boolean {
  const name = cf.name.toLowerCase();
  if (name !== obj.componentType.toLowerCase()) {
    const comps = obj.vcalendar.getAllSubcomponents(name);
    if (cf.isNotDefined) return comps.length === 0;
    return comps.some((c) => componentMatches(c, cf, ctx, null));
  }
  if (cf.isNotDefined) return false;
  const comps: Component[] = obj.master ? [obj.master, ...obj.overrides] : [...obj.overrides];
  // Filters that do not depend on an instance, once per component.
  const plain = new Map<Component, boolean>();
  for (const c of comps) {
    plain.set(c, cf.propFilters.every((pf) => propFilterMatches(c, pf, ctx)));
  }
  if (!needsInstances(cf)) {
    return comps.some((c) => plain.get(c) && cf.compFilters.every((sub) => childMatches(c, sub, ctx, null)));
  }
  const range = cf.timeRange ? rangeOf(cf.timeRange) : alarmWindow(comps, cf);
  const type = obj.componentType;
  if (type === 'VTODO' && cf.timeRange) {
    // §9.9 table rows without DTSTART and DUE: decided by CREATED/COMPLETED.
    for (const c of comps) {
      if (c.hasProperty('dtstart') || c.hasProperty('due') || !plain.get(c)) continue;
      if (undatedTodoMatches(c, range) && cf.compFilters.every((sub) => childMatches(c, sub, ctx, null))) return true;
    }
  }
  const walkOpts: Parameters<typeof walk>[3] = { floatingZone: ctx.fz, master: !!obj.master && !!plain.get(obj.master) };
  if (ctx.maxIterations !== undefined) walkOpts.maxIterations = ctx.maxIterations;
  for (const inst of walk(obj, range.start, range.end, walkOpts)) {
    if (!plain.get(inst.component)) continue;
    if (cf.timeRange && !instanceInRange(type, inst, range)) continue;
    if (cf.compFilters.every((sub) => childMatches(inst.component, sub, ctx, inst))) return true;
  }
  return false;
}

/** Instances whose alarms can fire in a nested VALARM time-range lie within this window. */
function alarmWindow(comps: Component[], cf: CompFilter): Range {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  const visit = (f: CompFilter): void => {
    for (const sub of f.compFilters) {
      if (sub.timeRange) {
        const r = rangeOf(sub.timeRange);
        start = Math.min(start, r.start);
        end = Math.max(end, r.end);
      }
      visit(sub);
    }
  };
  visit(cf);
  let reach = DAY_MS;
  for (const c of comps) {
    for (const alarm of c.getAllSubcomponents('valarm')) {
      const trigger = alarm.getFirstPropertyValue('trigger');
      if (trigger instanceof ICAL.Duration) reach = Math.max(reach, Math.abs(durationMs(trigger)));
      const repeat = Number(alarm.getFirstPropertyValue('repeat') ?? 0);
      const d = alarm.getFirstPropertyValue('duration');
      if (d instanceof ICAL.Duration && repeat > 0) reach += Math.abs(durationMs(d)) * repeat;
    }
    const dur = c.getFirstPropertyValue('duration');
    if (dur instanceof ICAL.Duration) reach += Math.abs(durationMs(dur));
    const s = c.getFirstPropertyValue('dtstart');
    const e = c.getFirstPropertyValue('dtend') ?? c.getFirstPropertyValue('due');
    if (s instanceof ICAL.Time && e instanceof ICAL.Time) reach += Math.abs(toUtcMs(e) - toUtcMs(s));
  }
  return { start: start - reach, end: end + reach };
}

function undatedTodoMatches(c: Component, r: Range): boolean {
  const created = c.getFirstPropertyValue('created');
  const completed = c.getFirstPropertyValue('completed');
  const cr = created instanceof ICAL.Time ? toUtcMs(created) : null;
  const co = completed instanceof ICAL.Time ? toUtcMs(completed) : null;
  if (co !== null && cr !== null) return (r.start <= cr || r.start <= co) && (r.end >= cr || r.end >= co);
  if (co !== null) return r.start <= co && r.end >= co;
  if (cr !== null) return r.end > cr;
  return true;
}

function childMatches(parent: Component, cf: CompFilter, ctx: Ctx, inst: RawInstance | null): boolean {
  const comps = parent.getAllSubcomponents(cf.name.toLowerCase());
  if (cf.isNotDefined) return comps.length === 0;
  return comps.some((c) => componentMatches(c, cf, ctx, inst));
}

function componentMatches(c: Component, cf: CompFilter, ctx: Ctx, inst: RawInstance | null): boolean {
  if (cf.timeRange && !componentInRange(c, rangeOf(cf.timeRange), inst)) return false;
  return (
    cf.propFilters.every((pf) => propFilterMatches(c, pf, ctx)) &&
    cf.compFilters.every((sub) => childMatches(c, sub, ctx, inst))
  );
}

function componentInRange(c: Component, r: Range, inst: RawInstance | null): boolean {
  switch (c.name) {
    case 'valarm':
      return alarmTimes(c, inst).some((t) => r.start <= t && r.end > t);
    case 'vfreebusy':
      return freeBusyInRange(c, r);
    case 'vtimezone':
    case 'standard':
    case 'daylight':
      return true;
    default:
      return false;
  }
}

/** Trigger times of an alarm for one instance, repetitions included (RFC 5545 §3.8.6). */
export function alarmTimes(alarm: Component, inst: RawInstance | null): number[] {
  const prop = alarm.getFirstProperty('trigger');
  if (!prop) return [];
  const v = prop.getFirstValue();
  let first: number;
  if (v instanceof ICAL.Time) first = toUtcMs(v);
  else if (v instanceof ICAL.Duration && inst) {
    const related = String(prop.getParameter('related') ?? 'START').toUpperCase();
    first = (related === 'END' ? inst.endMs : inst.startMs) + durationMs(v);
  } else return [];
  const times = [first];
  const repeat = Number(alarm.getFirstPropertyValue('repeat') ?? 0);
  const d = alarm.getFirstPropertyValue('duration');
  if (Number.isInteger(repeat) && repeat > 0 && d instanceof ICAL.Duration) {
    const step = durationMs(d);
    for (let k = 1; k <= Math.min(repeat, 1000); k++) times.push(first + k * step);
  }
  return times;
}

function freeBusyInRange(c: Component, r: Range): boolean {
  const periods = c.getAllProperties('freebusy').flatMap((p) => p.getValues());
  if (periods.length) {
    return periods.some((p) => {
      if (!(p instanceof ICAL.Period)) return false;
      const s = toUtcMs(p.start);
      const e = p.end ? toUtcMs(p.end) : s + durationMs(p.duration as Duration);
      return r.start < e && r.end > s;
    });
  }
  const s = c.getFirstPropertyValue('dtstart');
  const e = c.getFirstPropertyValue('dtend');
  if (s instanceof ICAL.Time && e instanceof ICAL.Time) return r.start <= toUtcMs(e) && r.end > toUtcMs(s);
  return false;
}

function propFilterMatches(c: Component, pf: PropFilter, ctx: Ctx): boolean {
  const props = c.getAllProperties(pf.name.toLowerCase());
  if (pf.isNotDefined) return props.length === 0;
  return props.some(
    (p) =>
      (!pf.timeRange || propInRange(p, rangeOf(pf.timeRange), ctx)) &&
      (!pf.textMatch || textMatches(valuesOf(p), pf.textMatch)) &&
      pf.paramFilters.every((f) => paramMatches(p, f)),
  );
}

function propInRange(p: Property, r: Range, ctx: Ctx): boolean {
  return p.getValues().some((v) => {
    if (v instanceof ICAL.Time) {
      const s = toUtcMs(v, ctx.fz);
      if (v.isDate) return r.start < s + DAY_MS && r.end > s;
      return r.start <= s && r.end > s;
    }
    if (v instanceof ICAL.Period) {
      const s = toUtcMs(v.start, ctx.fz);
      const e = v.end ? toUtcMs(v.end, ctx.fz) : s + durationMs(v.duration as Duration);
      return r.start < e && r.end > s;
    }
    return false;
  });
}

function valuesOf(p: Property): string[] {
  return p.getValues().map((v) => (v instanceof ICAL.Time ? (v as Time).toICALString() : String(v)));
}

function paramMatches(p: Property, f: ParamFilter): boolean {
  const raw = p.getParameter(f.name.toLowerCase());
  const values = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
  if (f.isNotDefined) return values.length === 0;
  if (values.length === 0) return false;
  return !f.textMatch || textMatches(values, f.textMatch);
}

/** Folds text for a collation (RFC 4790 i;octet and i;ascii-casemap, RFC 5051 i;unicode-casemap). */
export function foldForCollation(s: string, collation: Collation): string {
  switch (collation) {
    case 'i;octet':
      return s;
    case 'i;ascii-casemap':
      return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
    case 'i;unicode-casemap':
      return s.toUpperCase().toLowerCase().normalize('NFKD');
  }
}

export function textMatches(values: string[], tm: TextMatch): boolean {
  const needle = foldForCollation(tm.value, tm.collation);
  const type = tm.matchType ?? 'contains';
  const hit = values.some((raw) => {
    const v = foldForCollation(raw, tm.collation);
    switch (type) {
      case 'equals': return v === needle;
      case 'starts-with': return v.startsWith(needle);
      case 'ends-with': return v.endsWith(needle);
      default: return v.includes(needle);
    }
  });
  return tm.negate ? !hit : hit;
}
