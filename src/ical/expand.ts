import ICAL from 'ical.js';
import type { CalendarObject, Component } from './parse.ts';
import { rawInstancesBetween, walk, resolveFloatingZone, isRecurring, type InstanceOptions, type RawInstance } from './instances.ts';
import { serialize } from './serialize.ts';
import { isoDate, isoLocal, utcToZonedWall, zonedWallToUtc, type Timezone } from './time.ts';

/**
 * A copy of jCal (arrays, parameter objects, strings and numbers): what
 * structuredClone did, several times faster, and an expansion copies one
 * component per instance.
 */
function copyJcal<T>(v: T): T {
  if (Array.isArray(v)) return v.map(copyJcal) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = copyJcal(x);
    return out as T;
  }
  return v;
}

function clone(c: Component): Component {
  return new ICAL.Component(copyJcal(c.toJSON()));
}

function calendarShell(obj: CalendarObject): Component {
  const cal = new ICAL.Component('vcalendar');
  for (const p of obj.vcalendar.getAllProperties()) cal.addProperty(new ICAL.Property(copyJcal(p.toJSON())));
  return cal;
}

/** Sets a date/date-time property to an instant: DATE for all-day, UTC otherwise (floating stays floating when no zone is known). */
function setTime(c: Component, name: string, ms: number, inst: RawInstance, fz: Timezone | null): void {
  c.removeAllProperties(name);
  const p = new ICAL.Property(name, c);
  if (inst.allDay) {
    p.resetType('date');
    p.setValue(ICAL.Time.fromDateString(isoDate(localWall(ms, inst, fz))));
  } else if (inst.floating && !fz) {
    p.setValue(ICAL.Time.fromDateTimeString(isoLocal(ms)));
  } else {
    p.setValue(ICAL.Time.fromDateTimeString(isoLocal(ms) + 'Z'));
  }
  c.addProperty(p);
}

/** All-day instants were read in the floating zone; their dates are the wall dates there. */
function localWall(ms: number, inst: RawInstance, fz: Timezone | null): number {
  return fz && inst.floating ? utcToZonedWall(fz, ms) : ms;
}

function instanceComponent(inst: RawInstance, recurring: boolean, fz: Timezone | null): Component {
  const c = clone(inst.component);
  for (const name of ['rrule', 'rdate', 'exdate', 'exrule']) c.removeAllProperties(name);
  if (inst.hasStart) setTime(c, 'dtstart', inst.startMs, inst, fz);
  if (inst.endKind === 'end') setTime(c, c.name === 'vtodo' ? 'due' : 'dtend', inst.endMs, inst, fz);
  if (recurring || inst.override) {
    c.removeAllProperties('recurrence-id');
    const p = new ICAL.Property('recurrence-id', c);
    if (inst.ridForm === 'date') {
      p.resetType('date');
      p.setValue(ICAL.Time.fromDateString(isoDate(inst.ridKey)));
    } else if (inst.ridForm === 'floating') {
      p.setValue(ICAL.Time.fromDateTimeString(isoLocal(inst.ridKey)));
    } else {
      p.setValue(ICAL.Time.fromDateTimeString(isoLocal(inst.ridKey) + 'Z'));
    }
    c.addProperty(p);
  }
  return c;
}

/**
 * CALDAV:expand (RFC 4791 §9.6.5): every instance overlapping [start, end)
 * as its own component with RECURRENCE-ID, times in UTC (all-day dates stay
 * dates), no RRULE/RDATE/EXDATE and no VTIMEZONE.
 */
export function expandObject(obj: CalendarObject, start: Date, end: Date, opts: InstanceOptions = {}): string {
  const fz = resolveFloatingZone(opts.floatingTimezone);
  const cal = calendarShell(obj);
  const recurring = isRecurring(obj) || obj.overrides.length > 0;
  for (const inst of rawInstancesBetween(obj, start.getTime(), end.getTime(), opts)) {
    cal.addSubcomponent(instanceComponent(inst, recurring, fz));
  }
  return serialize(cal);
}

/**
 * CALDAV:limit-recurrence-set (RFC 4791 §9.6.6): the master and VTIMEZONEs,
 * plus only the overrides that affect [start, end): the moved instance
 * overlaps it, or the instance it replaces did.
 */
export function limitRecurrenceSet(obj: CalendarObject, start: Date, end: Date, opts: InstanceOptions = {}): string {
  const fz = resolveFloatingZone(opts.floatingTimezone);
  const s = start.getTime();
  const e = end.getTime();
  const keep = new Set<Component>();
  const length = obj.master ? masterLength(obj, fz) : 0;
  for (const inst of walk(obj, -Infinity, Infinity, { floatingZone: fz, master: false })) {
    const movedIn = inst.endMs > inst.startMs ? inst.startMs < e && inst.endMs > s : inst.startMs >= s && inst.startMs < e;
    const ridMs = inst.floating && fz ? zonedWallToUtc(fz, inst.ridKey) : inst.ridKey;
    const replacedIn = length > 0 ? ridMs < e && ridMs + length > s : ridMs >= s && ridMs < e;
    if (movedIn || (obj.master && replacedIn)) keep.add(inst.component);
  }
  const cal = calendarShell(obj);
  for (const sub of obj.vcalendar.getAllSubcomponents()) {
    if (!obj.overrides.includes(sub) || keep.has(sub)) cal.addSubcomponent(clone(sub));
  }
  return serialize(cal);
}

function masterLength(obj: CalendarObject, fz: Timezone | null): number {
  for (const i of walk(obj, -Infinity, Infinity, { floatingZone: fz, overrides: false })) return i.endMs - i.startMs;
  return 0;
}
