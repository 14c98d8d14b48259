import ICAL from 'ical.js';
import { IcalError } from './errors.ts';
import { computeIndex, type ObjectIndex } from './object-index.ts';
import { timezoneFor, shareTimezones } from './timezones.ts';
import { isRecurring, isFinite } from './instances.ts';
import { toUtcMs, type Time, type Duration } from './time.ts';

export type Component = InstanceType<typeof ICAL.Component>;
export type Property = InstanceType<typeof ICAL.Property>;
export type ComponentType = 'VEVENT' | 'VTODO' | 'VJOURNAL';

export interface ParseOptions {
  /** Component types the collection accepts (supported-calendar-component-set). Default VEVENT and VTODO. */
  allowed?: readonly ComponentType[];
  /**
   * A TZID with no VTIMEZONE in the object and no known zone of that name
   * (IANA, alias, Windows name): 'reject' (default) fails with
   * valid-calendar-data; 'floating' reads such times as floating.
   */
  unknownTimezone?: 'reject' | 'floating';
  /**
   * Rejects, with too-many-instances, a finite recurrence set with more
   * instances than this (RFC 4791 max-instances). Unbounded rules are not
   * rejected: they are limited where they are expanded.
   */
  maxInstances?: number;
}

/** One parsed calendar object resource: a master and/or overrides sharing one UID. */
export interface CalendarObject {
  readonly vcalendar: Component;
  readonly componentType: ComponentType;
  readonly uid: string;
  /** The component without RECURRENCE-ID; null when only overridden instances were sent. */
  readonly master: Component | null;
  /** Components with RECURRENCE-ID. */
  readonly overrides: readonly Component[];
  /** Extracted fields, computed on first access and kept. */
  readonly index: ObjectIndex;
}

const CALENDAR_COMPONENTS = new Set(['vevent', 'vtodo', 'vjournal', 'vfreebusy', 'vavailability']);
const DEFAULT_ALLOWED: readonly ComponentType[] = ['VEVENT', 'VTODO'];

class ParsedObject implements CalendarObject {
  readonly vcalendar: Component;
  readonly componentType: ComponentType;
  readonly uid: string;
  readonly master: Component | null;
  readonly overrides: readonly Component[];
  #index: ObjectIndex | undefined;

  constructor(vcalendar: Component, type: ComponentType, uid: string, master: Component | null, overrides: Component[]) {
    this.vcalendar = vcalendar;
    this.componentType = type;
    this.uid = uid;
    this.master = master;
    this.overrides = overrides;
  }

  get index(): ObjectIndex {
    this.#index ??= computeIndex(this);
    return this.#index;
  }
}

function invalid(message: string): IcalError {
  return new IcalError('valid-calendar-data', message);
}

function badResource(message: string): IcalError {
  return new IcalError('valid-calendar-object-resource', message);
}

/**
 * Parses and validates one calendar object resource (RFC 4791 §4.1). Throws
 * only IcalError. All property values are decoded here, so later functions
 * never meet undecodable values.
 */
export function parseObject(text: string, opts: ParseOptions = {}): CalendarObject {
  if (typeof text !== 'string') throw invalid('calendar data must be text');
  checkRawRecurrenceIds(text);
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new IcalError('valid-calendar-data', `unparsable iCalendar: ${messageOf(e)}`, { cause: e });
  }
  if (!Array.isArray(jcal) || typeof jcal[0] !== 'string') {
    throw invalid('expected exactly one VCALENDAR');
  }
  let root: Component;
  try {
    root = new ICAL.Component(jcal);
  } catch (e) {
    throw new IcalError('valid-calendar-data', `unparsable iCalendar: ${messageOf(e)}`, { cause: e });
  }
  return objectFromComponent(root, opts);
}

const ONE_RECURRENCE_ID = 'RECURRENCE-ID names one instance by a single date or date-time (RFC 5545 §3.8.4.4)';
const RAW_RECURRENCE_ID = /^RECURRENCE-ID(?:;(?:[^":\r\n]|"[^"\r\n]*")*)?:([^\r\n]*)/gim;

/**
 * ical.js reads a date-time from its first characters and drops the rest, so
 * "RECURRENCE-ID:20260112T090000Z,20260119T090000Z" would silently name the
 * first instance only: the value is checked as written.
 */
function checkRawRecurrenceIds(text: string): void {
  if (!/recurrence-id/i.test(text)) return;
  for (const m of text.replace(/\r?\n[ \t]/g, '').matchAll(RAW_RECURRENCE_ID)) {
    if (!/^\d{8}(T\d{6}Z?)?$/.test((m[1] ?? '').trim())) throw invalid(`invalid RECURRENCE-ID ${JSON.stringify(m[1])}: ${ONE_RECURRENCE_ID}`);
  }
}

/** As parseObject, for an already parsed VCALENDAR (which it may decorate but does not change). */
export function objectFromComponent(root: Component, opts: ParseOptions = {}): CalendarObject {
  try {
    return validate(root, opts);
  } catch (e) {
    if (e instanceof IcalError) throw e;
    throw new IcalError('valid-calendar-data', `invalid iCalendar: ${messageOf(e)}`, { cause: e });
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function validate(root: Component, opts: ParseOptions): CalendarObject {
  if (root.name !== 'vcalendar') throw invalid(`expected VCALENDAR, got ${String(root.name).toUpperCase()}`);
  if (root.hasProperty('method')) {
    throw badResource('calendar object resources must not contain METHOD');
  }
  const version = root.getFirstPropertyValue('version');
  if (version !== null && String(version).trim() !== '2.0') throw invalid(`unsupported VERSION ${String(version)}`);

  const zones = new Set<string>();
  const items: Component[] = [];
  let type: string | null = null;
  for (const sub of root.getAllSubcomponents()) {
    if (sub.name === 'vtimezone') {
      const tzid = sub.getFirstPropertyValue('tzid');
      if (typeof tzid !== 'string' || tzid === '') throw invalid('VTIMEZONE without TZID');
      if (sub.getAllSubcomponents().length === 0) throw invalid(`VTIMEZONE ${tzid} has no STANDARD or DAYLIGHT`);
      zones.add(tzid);
      continue;
    }
    if (!CALENDAR_COMPONENTS.has(sub.name)) continue; // X- and IANA extension components are kept as they are
    if (type !== null && type !== sub.name) {
      throw badResource(`mixed component types ${type.toUpperCase()} and ${sub.name.toUpperCase()}`);
    }
    type = sub.name;
    items.push(sub);
  }
  if (type === null) throw badResource('no calendar component');
  const upper = type.toUpperCase() as ComponentType;
  const allowed = opts.allowed ?? DEFAULT_ALLOWED;
  if (!(allowed as readonly string[]).includes(upper)) {
    throw new IcalError('supported-calendar-component', `${upper} is not supported here`);
  }

  const tzids = referencedTzids(root);
  if (zones.size && tzids.size) shareTimezones(root, tzids); // before any time is decoded
  resolveTimezones(tzids, zones, opts.unknownTimezone ?? 'reject');

  let uid: string | null = null;
  let master: Component | null = null;
  const overrides: Component[] = [];
  const recurrenceIds = new Set<number>();
  for (const item of items) {
    const itemUid = item.getFirstPropertyValue('uid');
    if (typeof itemUid !== 'string' || itemUid.trim() === '') throw badResource(`${upper} without UID`);
    if (uid === null) uid = itemUid;
    else if (uid !== itemUid) throw badResource('components with different UIDs in one resource');
    decodeAll(item);
    validateComponent(item, upper);
    const rid = item.getFirstProperty('recurrence-id');
    if (rid) {
      if (item.getAllProperties('recurrence-id').length > 1) throw invalid(ONE_RECURRENCE_ID);
      const t = rid.getFirstValue() as Time;
      const key = toUtcMs(t);
      if (recurrenceIds.has(key)) throw badResource(`two overrides for RECURRENCE-ID ${t.toString()}`);
      recurrenceIds.add(key);
      overrides.push(item);
    } else {
      if (master) throw badResource(`more than one ${upper} without RECURRENCE-ID`);
      master = item;
    }
  }
  const obj = new ParsedObject(root, upper, uid as string, master, overrides);
  if (opts.maxInstances !== undefined) {
    const count = obj.index.instanceCount;
    const tooMany = count === null ? isRecurring(obj) && isFinite(obj) : count > opts.maxInstances;
    if (tooMany) {
      throw new IcalError('too-many-instances', `${count ?? 'too many'} instances, at most ${opts.maxInstances} allowed`);
    }
  }
  return obj;
}

/** TZID parameters used outside VTIMEZONEs. */
function referencedTzids(root: Component): Set<string> {
  const seen = new Set<string>();
  const visit = (c: Component): void => {
    if (c.name === 'vtimezone') return;
    for (const p of c.getAllProperties()) {
      const tzid = p.getParameter('tzid');
      if (typeof tzid === 'string') seen.add(tzid);
    }
    for (const sub of c.getAllSubcomponents()) visit(sub);
  };
  visit(root);
  return seen;
}

function resolveTimezones(seen: Set<string>, embedded: Set<string>, mode: 'reject' | 'floating'): void {
  for (const tzid of seen) {
    if (embedded.has(tzid)) continue;
    if (timezoneFor(tzid)) continue;
    if (mode === 'reject') throw invalid(`unknown TZID "${tzid}" and no VTIMEZONE for it`);
  }
}

function decodeAll(c: Component): void {
  for (const p of c.getAllProperties()) {
    checkRawTimes(p);
    const values = p.getValues();
    for (const v of values) {
      if (v instanceof ICAL.Time) checkTime(v, p.name);
      else if (v instanceof ICAL.Period) {
        checkTime(v.start, p.name);
        if (v.end) checkTime(v.end, p.name);
      } else if (v instanceof ICAL.Recur) {
        checkRecur(v);
      }
    }
  }
  for (const sub of c.getAllSubcomponents()) decodeAll(sub);
}

function checkTime(t: Time, name: string): void {
  const ok =
    Number.isInteger(t.year) && t.year >= 1 && t.year <= 9999 &&
    Number.isInteger(t.month) && t.month >= 1 && t.month <= 12 &&
    Number.isInteger(t.day) && t.day >= 1 && t.day <= daysIn(t.year, t.month) &&
    (t.isDate || (
      Number.isInteger(t.hour) && t.hour >= 0 && t.hour <= 23 &&
      Number.isInteger(t.minute) && t.minute >= 0 && t.minute <= 59 &&
      Number.isInteger(t.second) && t.second >= 0 && t.second <= 60));
  if (!ok) throw invalid(`invalid date in ${name.toUpperCase()}`);
}

const RAW_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})Z?)?$/;

/** ical.js normalises impossible fields (month 13 becomes next January); check the text first. */
function checkRawTimes(p: Property): void {
  if (p.type !== 'date' && p.type !== 'date-time' && p.type !== 'period') return;
  for (const raw of p.jCal.slice(3) as unknown[]) {
    const parts = Array.isArray(raw) ? raw : [raw];
    for (const part of parts) {
      if (typeof part !== 'string' || part.startsWith('P') || part.startsWith('-P') || part.startsWith('+P')) continue;
      const m = RAW_TIME.exec(part);
      if (!m) throw invalid(`invalid date in ${p.name.toUpperCase()}`);
      const [y, mo, d, h, mi, se] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x))) as number[];
      const ok = (y as number) >= 1 && (mo as number) >= 1 && (mo as number) <= 12 && (d as number) >= 1 && (d as number) <= daysIn(y as number, mo as number) &&
        (h as number) <= 23 && (mi as number) <= 59 && (se as number) <= 60;
      if (!ok) throw invalid(`invalid date in ${p.name.toUpperCase()}`);
    }
  }
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function checkRecur(r: InstanceType<typeof ICAL.Recur>): void {
  const freqs = ['SECONDLY', 'MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'];
  if (!r.freq || !freqs.includes(r.freq)) throw invalid('RRULE without a valid FREQ');
  if (r.interval !== undefined && (!Number.isInteger(r.interval) || r.interval < 1)) throw invalid('RRULE INTERVAL must be a positive integer');
  if (r.count !== undefined && r.count !== null && (!Number.isInteger(r.count) || r.count < 1)) throw invalid('RRULE COUNT must be a positive integer');
  if (r.until) checkTime(r.until, 'RRULE UNTIL');
  for (const [part, values] of Object.entries(r.parts ?? {})) {
    if (!Array.isArray(values)) continue;
    for (const v of values) {
      if (typeof v === 'number' && !Number.isFinite(v)) throw invalid(`RRULE ${part} has an invalid value`);
    }
  }
}

function first(c: Component, name: string): Time | null {
  const p = c.getFirstProperty(name);
  if (!p) return null;
  const v = p.getFirstValue();
  if (!(v instanceof ICAL.Time)) throw invalid(`${name.toUpperCase()} must be a date or date-time`);
  return v;
}

const TYPED: Record<string, (v: unknown) => boolean> = {
  rrule: (v) => v instanceof ICAL.Recur,
  exrule: (v) => v instanceof ICAL.Recur,
  rdate: (v) => v instanceof ICAL.Time || v instanceof ICAL.Period,
  exdate: (v) => v instanceof ICAL.Time,
  duration: (v) => v instanceof ICAL.Duration,
  'recurrence-id': (v) => v instanceof ICAL.Time,
  completed: (v) => v instanceof ICAL.Time,
  created: (v) => v instanceof ICAL.Time,
};

function checkTypes(c: Component): void {
  for (const p of c.getAllProperties()) {
    const check = TYPED[p.name];
    if (check && !p.getValues().every(check)) throw invalid(`${p.name.toUpperCase()} has a value of the wrong type`);
  }
  for (const alarm of c.getAllSubcomponents('valarm')) {
    const trigger = alarm.getFirstProperty('trigger');
    const v = trigger?.getFirstValue();
    if (trigger && !(v instanceof ICAL.Duration || v instanceof ICAL.Time)) throw invalid('TRIGGER must be a duration or date-time');
  }
}

function validateComponent(c: Component, type: ComponentType): void {
  checkTypes(c);
  const start = first(c, 'dtstart');
  first(c, 'recurrence-id');
  const end = first(c, 'dtend');
  const due = first(c, 'due');
  const durationProp = c.getFirstProperty('duration');
  const duration = durationProp ? (durationProp.getFirstValue() as Duration) : null;
  const name = type;

  if (type === 'VEVENT' && !start) throw invalid('VEVENT without DTSTART');
  if (end && duration) throw invalid(`${name} with both DTEND and DURATION`);
  if (due && duration) throw invalid(`${name} with both DUE and DURATION`);
  if (duration && !start) throw invalid(`${name} with DURATION but no DTSTART`);
  if (duration && duration.isNegative && duration.toSeconds() !== 0) throw invalid(`${name} with a negative DURATION`);
  if (start && end) {
    if (start.isDate !== end.isDate) throw invalid('DTSTART and DTEND must both be dates or both date-times');
    if (toUtcMs(end) < toUtcMs(start)) throw invalid('DTEND before DTSTART');
  }
  if (start && due) {
    if (start.isDate !== due.isDate) throw invalid('DTSTART and DUE must both be dates or both date-times');
    if (toUtcMs(due) < toUtcMs(start)) throw invalid('DUE before DTSTART');
  }
  if ((c.hasProperty('rrule') || c.hasProperty('rdate')) && !start) throw invalid(`recurring ${name} without DTSTART`);
}
