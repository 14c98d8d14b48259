import ICAL from 'ical.js';
import { IcalError } from './errors.ts';
import { parseObject, type ParseOptions } from './parse.ts';
import type { Classification } from './object-index.ts';
import { foldLine } from './serialize.ts';
import { canonicalTzid, timezoneFor, vtimezoneFor } from './timezones.ts';
import { DAY_MS, formatUtc, formatDate, isFloating, isUtc, wallMs, toUtcMs, utcToZonedWall, type Time, type Timezone } from './time.ts';

/** A CRM-side instant, or 'YYYY-MM-DD' for all-day values. */
export type DateInput = Date | string;

/** Values a CRM writes into an event or task. Undefined leaves a field as it is; null removes it. */
export interface Fields {
  summary?: string | null;
  description?: string | null;
  location?: string | null;
  /**
   * Null removes DTSTART, for a VTODO only (a VEVENT must keep a start:
   * IcalError); a task's DURATION goes with it, having nothing to count from.
   */
  start?: DateInput | null;
  /** Exclusive end (for all-day: the day after the last day). VEVENT only. */
  end?: DateInput | null;
  allDay?: boolean;
  /** IANA (or Windows) zone for start/end/exdates; null writes UTC. Undefined keeps the current zone. */
  timezone?: string | null;
  /** RRULE value without the name, e.g. 'FREQ=WEEKLY;BYDAY=MO'. */
  rrule?: string | null;
  exdates?: DateInput[];
  status?: string | null;
  /** TRANSP of a VEVENT: OPAQUE (busy, the default when absent) or TRANSPARENT (free). */
  transparency?: 'OPAQUE' | 'TRANSPARENT' | null;
  due?: DateInput | null;
  completed?: Date | null;
  classification?: Classification | null;
  categories?: string[];
  priority?: number | null;
  percentComplete?: number | null;
  /** X- properties on the master, by full name ('X-CRM-ID'); null removes. */
  x?: Record<string, string | null>;
}

export interface PatchOptions extends ParseOptions {
  /** DTSTAMP/LAST-MODIFIED; default now. */
  now?: Date;
}

export interface NewObject extends Fields {
  uid: string;
  type?: 'VEVENT' | 'VTODO';
  prodId?: string;
}

/** RFC 5546 §2.1.4: changes that make existing replies stale bump SEQUENCE. */
const SIGNIFICANT = new Set(['DTSTART', 'DTEND', 'DURATION', 'DUE', 'RRULE', 'RDATE', 'EXDATE', 'STATUS']);

export function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r\n|\r|\n/g, '\\n');
}

interface Zone {
  kind: 'date' | 'utc' | 'zoned' | 'floating';
  tzid?: string;
  zone?: Timezone;
}

function zoneFor(tzid: string | null, allDay: boolean): Zone {
  if (allDay) return { kind: 'date' };
  if (tzid === null) return { kind: 'utc' };
  const canonical = canonicalTzid(tzid);
  if (canonical === 'UTC') return { kind: 'utc' };
  const zone = canonical ? timezoneFor(canonical) : null;
  if (!canonical || !zone) throw new IcalError('valid-calendar-data', `unknown timezone ${tzid}`);
  return { kind: 'zoned', tzid: canonical, zone };
}

function dateOnly(v: DateInput, zone: Timezone | null): string {
  if (typeof v === 'string') {
    const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v.trim());
    if (!m) throw new IcalError('valid-calendar-data', `expected YYYY-MM-DD, got ${v}`);
    return `${m[1]}${m[2]}${m[3]}`;
  }
  const ms = v.getTime();
  return formatDate(zone ? utcToZonedWall(zone, ms) : ms);
}

function instantOf(v: DateInput): number {
  const ms = typeof v === 'string' ? Date.parse(v) : v.getTime();
  if (!Number.isFinite(ms)) throw new IcalError('valid-calendar-data', `invalid date ${String(v)}`);
  return ms;
}

/** A content line for a date/date-time property. `dateZone` picks the day of an all-day Date input. */
function timeLine(name: string, values: DateInput[], z: Zone, dateZone: Timezone | null = null): string {
  if (z.kind === 'date') return `${name};VALUE=DATE:${values.map((v) => dateOnly(v, dateZone)).join(',')}`;
  const ms = values.map(instantOf);
  if (z.kind === 'utc') return `${name}:${ms.map(formatUtc).join(',')}`;
  if (z.kind === 'floating') return `${name}:${ms.map((m) => formatUtc(m).slice(0, -1)).join(',')}`;
  const zone = z.zone as Timezone;
  const tzid = /[;:,"]/.test(z.tzid as string) ? `"${z.tzid}"` : z.tzid;
  return `${name};TZID=${tzid}:${ms.map((m) => formatUtc(utcToZonedWall(zone, m)).slice(0, -1)).join(',')}`;
}

function textLine(name: string, v: string): string {
  return `${name}:${escapeText(v)}`;
}

function checkRrule(rrule: string): string {
  const value = rrule.replace(/^RRULE:/i, '').trim();
  let recur: InstanceType<typeof ICAL.Recur>;
  try {
    recur = ICAL.Recur.fromString(value);
  } catch (e) {
    throw new IcalError('valid-calendar-data', `invalid RRULE: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!recur.freq) throw new IcalError('valid-calendar-data', 'RRULE without FREQ');
  return value;
}

/** Current shape of the master, to keep what the fields do not change. */
interface Current {
  allDay: boolean;
  zone: Zone;
  startMs: number | null;
  startWall: number | null;
  endMs: number | null;
  endWall: number | null;
}

function currentOf(master: InstanceType<typeof ICAL.Component> | null): Current {
  const start = master?.getFirstPropertyValue('dtstart');
  const end = master?.getFirstPropertyValue('dtend');
  const cur: Current = { allDay: false, zone: { kind: 'utc' }, startMs: null, startWall: null, endMs: null, endWall: null };
  if (start instanceof ICAL.Time) {
    cur.allDay = start.isDate;
    cur.startMs = toUtcMs(start);
    cur.startWall = wallMs(start);
    if (start.isDate) cur.zone = { kind: 'date' };
    else if (isFloating(start)) cur.zone = { kind: 'floating' };
    else if (isUtc(start)) cur.zone = { kind: 'utc' };
    else {
      const tz = start.zone as Timezone;
      const prop = master?.getFirstProperty('dtstart');
      cur.zone = { kind: 'zoned', tzid: String(prop?.getParameter('tzid') ?? tz.tzid), zone: tz };
    }
  }
  if (end instanceof ICAL.Time) {
    cur.endMs = toUtcMs(end);
    cur.endWall = wallMs(end);
  }
  return cur;
}

/** Content lines (unfolded) per property name for the given fields. Empty list: remove the property. */
function renderFields(f: Fields, cur: Current, type: 'vevent' | 'vtodo'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const allDay = f.allDay ?? cur.allDay;
  let z: Zone;
  if (f.timezone !== undefined) z = zoneFor(f.timezone, allDay);
  else if (allDay) z = { kind: 'date' };
  else if (cur.zone.kind === 'date') z = { kind: 'utc' };
  else z = cur.zone;
  const dateZone = f.timezone ? (timezoneFor(f.timezone) ?? null) : cur.zone.zone ?? null;
  const timingChanged = f.start !== undefined || f.allDay !== undefined || f.timezone !== undefined;

  const text = (name: string, v: string | null | undefined): void => {
    if (v === undefined) return;
    out.set(name, v === null || v === '' ? [] : [textLine(name, v)]);
  };
  text('SUMMARY', f.summary);
  text('DESCRIPTION', f.description);
  text('LOCATION', f.location);
  if (f.status !== undefined) out.set('STATUS', f.status ? [`STATUS:${f.status.toUpperCase()}`] : []);
  if (f.transparency !== undefined) {
    const v = f.transparency === null ? null : String(f.transparency).toUpperCase();
    if (v !== null && v !== 'OPAQUE' && v !== 'TRANSPARENT') throw new IcalError('valid-calendar-data', `TRANSP must be OPAQUE or TRANSPARENT, got ${String(f.transparency)}`);
    if (v !== null && type !== 'vevent') throw new IcalError('valid-calendar-data', 'TRANSP is a VEVENT property');
    out.set('TRANSP', v === null ? [] : [`TRANSP:${v}`]);
  }
  if (f.classification !== undefined) out.set('CLASS', f.classification ? [`CLASS:${f.classification}`] : []);
  if (f.categories !== undefined) out.set('CATEGORIES', f.categories.length ? [`CATEGORIES:${f.categories.map(escapeText).join(',')}`] : []);
  if (f.priority !== undefined) out.set('PRIORITY', f.priority === null ? [] : [`PRIORITY:${Math.trunc(f.priority)}`]);
  if (f.percentComplete !== undefined) out.set('PERCENT-COMPLETE', f.percentComplete === null ? [] : [`PERCENT-COMPLETE:${Math.trunc(f.percentComplete)}`]);
  if (f.completed !== undefined) out.set('COMPLETED', f.completed ? [`COMPLETED:${formatUtc(instantOf(f.completed))}`] : []);
  if (f.rrule !== undefined) out.set('RRULE', f.rrule ? [`RRULE:${checkRrule(f.rrule)}`] : []);

  // Start: a new value, or the current one re-expressed when only allDay/timezone changed.
  const clearStart = f.start === null;
  if (clearStart && type !== 'vtodo') throw new IcalError('valid-calendar-data', 'only a VTODO can be without a start');
  let start: DateInput | null = f.start ?? null;
  if (start === null && !clearStart && timingChanged && cur.startMs !== null) {
    start = cur.allDay && z.kind === 'date' ? new Date(cur.startWall as number) : new Date(cur.startMs);
  }
  if (clearStart) {
    out.set('DTSTART', []);
    out.set('DURATION', []);
  } else if (start !== null) out.set('DTSTART', [timeLine('DTSTART', [start], z, dateZone)]);

  if (type === 'vevent') {
    let end: DateInput | null | undefined = f.end;
    if (end === undefined && start !== null && cur.startMs !== null && cur.endMs !== null) {
      // Keep the length when only the start moves.
      if (z.kind === 'date') {
        const days = Math.max(1, Math.round(((cur.endWall as number) - (cur.startWall as number)) / DAY_MS));
        const first = dateOnly(start, dateZone);
        const firstMs = Date.UTC(+first.slice(0, 4), +first.slice(4, 6) - 1, +first.slice(6, 8));
        end = new Date(firstMs + days * DAY_MS);
        out.set('DTEND', [timeLine('DTEND', [end], z, null)]);
        end = undefined;
      } else if (!cur.allDay) {
        end = new Date(instantOf(start) + (cur.endMs - cur.startMs));
      }
    }
    if (end !== undefined) {
      out.set('DTEND', end === null ? [] : [timeLine('DTEND', [end], z, dateZone)]);
      out.set('DURATION', []);
    }
  } else if (f.due !== undefined) {
    out.set('DUE', f.due === null ? [] : [timeLine('DUE', [f.due], allDay ? { kind: 'date' } : z, dateZone)]);
  }
  if (f.exdates !== undefined) out.set('EXDATE', f.exdates.length ? [timeLine('EXDATE', f.exdates, z, dateZone)] : []);
  for (const [name, value] of Object.entries(f.x ?? {})) {
    const upper = name.toUpperCase();
    if (!/^X-[A-Z0-9-]+$/.test(upper)) throw new IcalError('valid-calendar-data', `not an X- property name: ${name}`);
    out.set(upper, value === null ? [] : [textLine(upper, value)]);
  }
  return out;
}

export interface Line {
  raw: string[];
  text: string;
  name: string;
}

export function linesOf(text: string): Line[] {
  const out: Line[] = [];
  for (const physical of text.split(/\r\n|\n|\r/)) {
    const last = out[out.length - 1];
    if ((physical.startsWith(' ') || physical.startsWith('\t')) && last) {
      last.raw.push(physical);
      last.text += physical.slice(1);
      continue;
    }
    if (physical === '') continue;
    out.push({ raw: [physical], text: physical, name: nameOf(physical) });
  }
  return out;
}

function nameOf(line: string): string {
  const m = /^[^;:]*/.exec(line);
  return (m ? m[0] : line).toUpperCase();
}

function fresh(text: string): Line {
  return { raw: foldLine(text).split('\r\n'), text, name: nameOf(text) };
}

/**
 * Writes CRM-side fields into the master component of a stored body. Every
 * line not named by a field (X-APPLE-*, VALARMs, unknown parameters,
 * overrides) is kept byte for byte, only line endings become CRLF. Returns
 * the input unchanged when no value differs, so ETags stay stable.
 * Changing LOCATION drops X-APPLE-STRUCTURED-LOCATION, which would
 * otherwise contradict it. Overrides are not rewritten when the series start
 * moves.
 */
export function applyFields(text: string, fields: Fields, opts: PatchOptions = {}): string {
  const obj = parseObject(text, opts);
  if (!obj.master) throw new IcalError('valid-calendar-object-resource', 'no master component to update');
  const type = obj.master.name === 'vtodo' ? 'vtodo' : 'vevent';
  const rendered = renderFields(fields, currentOf(obj.master), type);
  const lines = linesOf(text);

  // Open blocks at each line (a BEGIN counts before, an END after itself): 2 = a direct line of a VEVENT/VTODO.
  const depth: number[] = [];
  let open = 0;
  for (const l of lines) {
    if (l.name === 'END') open--;
    depth.push(open);
    if (l.name === 'BEGIN') open++;
  }
  let masterStart = -1;
  let masterEnd = -1;
  for (let i = 0, blockStart = -1; i < lines.length && masterStart < 0; i++) {
    const l = lines[i] as Line;
    if (depth[i] !== 1) continue;
    if (l.name === 'BEGIN' && /^BEGIN:(VEVENT|VTODO|VJOURNAL)$/i.test(l.text.trim())) blockStart = i;
    else if (l.name === 'END' && blockStart >= 0) {
      const hasRid = lines.slice(blockStart, i).some((x, k) => x.name === 'RECURRENCE-ID' && depth[blockStart + k] === 2);
      if (!hasRid) { masterStart = blockStart; masterEnd = i; }
      blockStart = -1;
    }
  }
  if (masterStart < 0) throw new IcalError('valid-calendar-object-resource', 'no master component to update');

  const direct = (i: number): boolean => depth[i] === 2;
  const changed = new Set<string>();
  const replace = new Map<string, string[]>(rendered);
  if (rendered.has('LOCATION')) {
    const old = lines.slice(masterStart, masterEnd).filter((l, k) => l.name === 'LOCATION' && direct(masterStart + k)).map((l) => l.text);
    if (!sameLines(old, rendered.get('LOCATION') as string[])) replace.set('X-APPLE-STRUCTURED-LOCATION', []);
  }
  for (const [name, next] of [...replace]) {
    const old = lines.slice(masterStart, masterEnd).filter((l, k) => l.name === name && direct(masterStart + k)).map((l) => l.text);
    if (sameLines(old, next) || (name === 'TRANSP' && old.length === 0 && next[0] === 'TRANSP:OPAQUE')) {
      replace.delete(name);
      continue;
    }
    changed.add(name);
    // A single text-like line keeps its parameters (LANGUAGE, ALTREP, X-...); only the value changes.
    const only = old[0];
    const value = next[0];
    if (old.length === 1 && next.length === 1 && only !== undefined && value !== undefined && !TIMED.has(name)) {
      replace.set(name, [splitLine(only).head + ':' + splitLine(value).value]);
    }
  }
  if (changed.size === 0) return text;

  const now = formatUtc((opts.now ?? new Date()).getTime());
  replace.set('DTSTAMP', [`DTSTAMP:${now}`]);
  replace.set('LAST-MODIFIED', [`LAST-MODIFIED:${now}`]);
  if ([...changed].some((n) => SIGNIFICANT.has(n))) {
    const seq = Number.parseInt(String(obj.master.getFirstPropertyValue('sequence') ?? '0'), 10);
    replace.set('SEQUENCE', [`SEQUENCE:${(Number.isFinite(seq) ? seq : 0) + 1}`]);
  }

  const out: Line[] = [];
  const placed = new Set<string>();
  let insertAt = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as Line;
    if (i > masterStart && i <= masterEnd && insertAt < 0 && (i === masterEnd || (l.name === 'BEGIN' && direct(i)))) {
      insertAt = out.length;
    }
    if (i > masterStart && i < masterEnd && direct(i) && replace.has(l.name)) {
      if (!placed.has(l.name)) {
        placed.add(l.name);
        for (const t of replace.get(l.name) as string[]) out.push(fresh(t));
      }
      continue;
    }
    out.push(l);
  }
  const missing: Line[] = [];
  for (const [name, next] of replace) if (!placed.has(name)) for (const t of next) missing.push(fresh(t));
  out.splice(insertAt, 0, ...missing);

  // A VTIMEZONE for any TZID now referenced that the calendar lacks.
  const tzids = new Set<string>();
  for (const next of replace.values()) for (const t of next) {
    const m = /;TZID="?([^";:]+)"?[;:]/i.exec(t);
    if (m?.[1]) tzids.add(m[1]);
  }
  const present = new Set(obj.vcalendar.getAllSubcomponents('vtimezone').map((z) => String(z.getFirstPropertyValue('tzid'))));
  const blocks: Line[] = [];
  for (const tzid of tzids) {
    if (present.has(tzid)) continue;
    const block = vtimezoneFor(tzid);
    if (block) blocks.push(...linesOf(block));
  }
  if (blocks.length) {
    const at = out.findIndex((l) => /^BEGIN:(VEVENT|VTODO|VJOURNAL)$/i.test(l.text.trim()));
    out.splice(at < 0 ? out.length - 1 : at, 0, ...blocks);
  }

  const result = out.map((l) => l.raw.join('\r\n') + '\r\n').join('');
  parseObject(result, opts); // the edit must leave a valid object
  return result;
}

const TIMED = new Set(['DTSTART', 'DTEND', 'DUE', 'EXDATE', 'RDATE', 'RECURRENCE-ID', 'COMPLETED']);

/** Head (name and parameters) and value of a content line; the first colon outside quotes splits them. */
function splitLine(line: string): { head: string; value: string } {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === ':' && !quoted) return { head: line.slice(0, i), value: line.slice(i + 1) };
  }
  return { head: line, value: '' };
}

/** TZID and VALUE parameters of a head, which decide how a time value reads. */
function timingParams(head: string): string {
  const params = head.split(';').slice(1).map((p) => p.toUpperCase()).filter((p) => p.startsWith('TZID=') || p.startsWith('VALUE='));
  return params.filter((p) => p !== 'VALUE=DATE-TIME').sort().join(';');
}

/** Same values, and for times the same TZID/VALUE; other parameters do not count as a change. */
function sameLines(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => {
    const y = b[i] as string;
    const sx = splitLine(x);
    const sy = splitLine(y);
    if (sx.value !== sy.value) return false;
    return !TIMED.has(nameOf(x)) || timingParams(sx.head) === timingParams(sy.head);
  });
}

/**
 * A new calendar object from CRM fields: PRODID -//Kalends//Kalends//EN,
 * VERSION 2.0, CRLF, folded, with a VTIMEZONE for the zone used.
 */
export function buildObject(fields: NewObject, opts: PatchOptions = {}): string {
  const type = fields.type === 'VTODO' ? 'vtodo' : 'vevent';
  if (!fields.uid || /[\r\n]/.test(fields.uid)) throw new IcalError('valid-calendar-object-resource', 'a UID is required');
  if (type === 'vevent' && (fields.start === undefined || fields.start === null)) throw new IcalError('valid-calendar-data', 'VEVENT needs a start');
  const now = formatUtc((opts.now ?? new Date()).getTime());
  const cur: Current = { allDay: fields.allDay ?? false, zone: { kind: 'utc' }, startMs: null, startWall: null, endMs: null, endWall: null };
  const withZone: Fields = { ...fields, timezone: fields.timezone ?? null };
  const rendered = renderFields(withZone, cur, type);
  const props: string[] = [`UID:${fields.uid}`, `DTSTAMP:${now}`, `CREATED:${now}`, `LAST-MODIFIED:${now}`, 'SEQUENCE:0'];
  for (const next of rendered.values()) props.push(...next);
  const tz = !fields.allDay && fields.timezone ? vtimezoneFor(fields.timezone) : null;
  const name = type.toUpperCase();
  const text =
    ['BEGIN:VCALENDAR', 'VERSION:2.0', `PRODID:${fields.prodId ?? '-//Kalends//Kalends//EN'}`, 'CALSCALE:GREGORIAN']
      .map((l) => foldLine(l) + '\r\n').join('') +
    (tz ?? '') +
    [`BEGIN:${name}`, ...props, `END:${name}`, 'END:VCALENDAR'].map((l) => foldLine(l) + '\r\n').join('');
  parseObject(text, { ...opts, allowed: [type === 'vtodo' ? 'VTODO' : 'VEVENT'] });
  return text;
}
