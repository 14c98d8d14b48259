import ICAL from 'ical.js';

export type Time = InstanceType<typeof ICAL.Time>;
export type Timezone = InstanceType<typeof ICAL.Timezone>;
export type Duration = InstanceType<typeof ICAL.Duration>;

export const DAY_MS = 86_400_000;
/** Widest UTC offsets in use; a floating time lies within this of its UTC reading. */
export const FLOAT_SLACK_MS = 14 * 3_600_000;

export function isFloating(t: Time): boolean {
  if (t.isDate) return true;
  const zone = t.zone;
  return !zone || zone === ICAL.Timezone.localTimezone || zone.tzid === 'floating';
}

export function isUtc(t: Time): boolean {
  const zone = t.zone;
  return !t.isDate && !!zone && (zone === ICAL.Timezone.utcTimezone || zone.tzid === 'UTC');
}

/** Wall-clock fields read as if they were UTC, in ms. */
export function wallMs(t: Time): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.isDate ? 0 : t.hour, t.isDate ? 0 : t.minute, t.isDate ? 0 : t.second);
}

interface Transitions {
  /** Covered through the end of this year. */
  untilYear: number;
  /** UTC ms of each change, ascending, and the offset (ms) in force from it on. */
  at: number[];
  offsets: number[];
  initial: number;
}

const transitions = new WeakMap<Timezone, Transitions>();

/**
 * Offset changes of a zone as UTC instants. ical.js keeps them in
 * Timezone#changes (UTC fields, filled by _ensureCoverage); its own
 * wall-clock lookup, utcOffset(), resolves gaps and repeated hours against
 * RFC 5545, so only the change list is used. The test suite pins the DST
 * edges, so a change in these internals shows up there.
 */
function transitionsFor(zone: Timezone, year: number): Transitions {
  let t = transitions.get(zone);
  if (t && t.untilYear >= year) return t;
  const until = Math.max(year, new Date().getUTCFullYear()) + 50;
  zone._ensureCoverage(until);
  const changes = (zone.changes as { year: number; month: number; day: number; hour: number; minute: number; second: number; utcOffset: number; prevUtcOffset: number }[])
    .map((c) => ({ at: Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second), offset: c.utcOffset * 1000, prev: c.prevUtcOffset * 1000 }))
    .sort((a, b) => a.at - b.at);
  t = { untilYear: until, at: [], offsets: [], initial: changes[0]?.prev ?? 0 };
  for (const c of changes) {
    if (t.at.length && t.at[t.at.length - 1] === c.at) continue;
    t.at.push(c.at);
    t.offsets.push(c.offset);
  }
  transitions.set(zone, t);
  return t;
}

/** The offset (ms) in force in zone at a UTC instant. */
export function offsetAt(zone: Timezone, utc: number): number {
  if (zone === ICAL.Timezone.utcTimezone || zone === ICAL.Timezone.localTimezone) return 0;
  const year = new Date(utc).getUTCFullYear() + 1;
  const t = transitionsFor(zone, Number.isFinite(year) ? year : 0);
  let lo = 0;
  let hi = t.at.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((t.at[mid] as number) <= utc) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found < 0 ? t.initial : (t.offsets[found] as number);
}

/**
 * UTC ms for a wall-clock time in zone, following RFC 5545 §3.3.5: a time in
 * a spring-forward gap uses the offset from before the gap, a time repeated
 * at fall-back means its first occurrence. (ical.js's toUnixTime() does the
 * opposite in both cases.)
 */
export function zonedWallToUtc(zone: Timezone, wall: number): number {
  const before = offsetAt(zone, wall - DAY_MS);
  const after = offsetAt(zone, wall + DAY_MS);
  const early = wall - before;
  if (offsetAt(zone, early) === before) return early;
  const late = wall - after;
  if (offsetAt(zone, late) === after) return late;
  return early;
}

/**
 * UTC ms of an ical.js time. Dates and floating times are read in
 * floatingZone when given, else as if they were UTC.
 */
export function toUtcMs(t: Time, floatingZone?: Timezone | null): number {
  const wall = wallMs(t);
  if (isFloating(t)) {
    if (!floatingZone || floatingZone === ICAL.Timezone.utcTimezone) return wall;
    return zonedWallToUtc(floatingZone, wall);
  }
  if (isUtc(t)) return wall;
  return zonedWallToUtc(t.zone as Timezone, wall);
}

/** Wall-clock ms in zone at a UTC instant. */
export function utcToZonedWall(zone: Timezone, utc: number): number {
  return utc + offsetAt(zone, utc);
}

export function durationMs(d: Duration): number {
  return d.toSeconds() * 1000;
}

export function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** 'YYYYMMDDTHHMMSSZ' */
export function formatUtc(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

/** 'YYYYMMDD' of the UTC date of ms (for wall-clock ms of dates). */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

/** 'YYYY-MM-DD' */
export function isoDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** 'YYYY-MM-DDTHH:MM:SS' */
export function isoLocal(ms: number): string {
  const d = new Date(ms);
  return `${isoDate(ms)}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** A fresh ical.js time for wall-clock ms, as a DATE or as DATE-TIME in zone (null: floating). */
export function timeFromWall(wall: number, isDate: boolean, zone: Timezone | null): Time {
  const d = new Date(wall);
  const f = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  const t = isDate
    ? ICAL.Time.fromData({ year: f.year, month: f.month, day: f.day, isDate: true })
    : ICAL.Time.fromData({ ...f, isDate: false });
  if (!isDate && zone) t.zone = zone;
  return t;
}

export function utcTime(ms: number): Time {
  const t = timeFromWall(ms, false, null);
  t.zone = ICAL.Timezone.utcTimezone;
  return t;
}
