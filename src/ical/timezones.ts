import ICAL from 'ical.js';
import { tzlib_get_ical_block, tzlib_get_timezones } from 'timezones-ical-library';
import { findIana } from 'windows-iana';
import { IcalError } from './errors.ts';
import { offsetAt } from './time.ts';

type Timezone = InstanceType<typeof ICAL.Timezone>;
type Component = InstanceType<typeof ICAL.Component>;

const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Z', 'Etc/Zulu', 'Zulu', 'UCT', 'Etc/UCT', 'Universal', 'Etc/Universal']);

let known: Set<string> | null = null;
function knownZones(): Set<string> {
  if (!known) {
    const list = tzlib_get_timezones();
    known = new Set(Array.isArray(list) ? list : (JSON.parse(list) as string[]));
  }
  return known;
}

const canonicalCache = new Map<string, string | null>();

/**
 * Maps a TZID as found in the wild to an IANA name with VTIMEZONE data:
 * IANA names and their aliases, Windows/Outlook names ("W. Europe Standard
 * Time", via CLDR windowsZones) and vendor-prefixed ids such as
 * "/mozilla.org/20050126_1/Europe/Warsaw". Returns 'UTC' for UTC spellings
 * and null when nothing matches.
 */
export function canonicalTzid(tzid: string): string | null {
  const cached = canonicalCache.get(tzid);
  if (cached !== undefined) return cached;
  const result = resolve(tzid.trim());
  if (canonicalCache.size < 10_000) canonicalCache.set(tzid, result);
  return result;
}

function resolve(tzid: string): string | null {
  if (tzid === '') return null;
  if (UTC_NAMES.has(tzid)) return 'UTC';
  const zones = knownZones();
  if (zones.has(tzid)) return tzid;
  // Outlook writes quoted or bracketed display names now and then.
  const unquoted = tzid.replace(/^["']|["']$/g, '');
  if (unquoted !== tzid) return resolve(unquoted);
  const windows = safeFindIana(tzid);
  if (windows && zones.has(windows)) return windows;
  // "/mozilla.org/20050126_1/Europe/Warsaw", "/citadel.org/20190914_1/Europe/Warsaw"
  const parts = tzid.split('/').filter(Boolean);
  for (let i = 1; i < parts.length - 1; i++) {
    const tail = parts.slice(i).join('/');
    if (zones.has(tail)) return tail;
  }
  try {
    const intl = new Intl.DateTimeFormat('en-US', { timeZone: tzid }).resolvedOptions().timeZone;
    if (UTC_NAMES.has(intl)) return 'UTC';
    if (zones.has(intl)) return intl;
  } catch {
    // not a zone Intl knows either
  }
  return null;
}

function safeFindIana(name: string): string | undefined {
  try {
    return findIana(name as Parameters<typeof findIana>[0])[0];
  } catch {
    return undefined;
  }
}

/** IANA name for a Windows zone name ("Eastern Standard Time" -> "America/New_York"), or null. */
export function windowsToIana(name: string): string | null {
  return safeFindIana(name) ?? null;
}

const blockCache = new Map<string, string | null>();

/**
 * VTIMEZONE text (CRLF line endings, ending in CRLF) for a zone, with TZID set
 * to canonicalTzid(tzid). Null for UTC (write UTC times with "Z" instead) and
 * for unknown zones. Data: timezones-ical-library (vzic output of the current
 * IANA release: rules as in force now, projected backwards and forwards).
 */
export function vtimezoneFor(tzid: string): string | null {
  const canonical = canonicalTzid(tzid);
  if (!canonical || canonical === 'UTC') return null;
  let text = blockCache.get(canonical);
  if (text === undefined) {
    text = null;
    try {
      const block = tzlib_get_ical_block(canonical);
      if (Array.isArray(block) && typeof block[0] === 'string' && block[0].startsWith('BEGIN:VTIMEZONE')) {
        text = block[0].replace(/\r?\n/g, '\r\n').replace(/(\r\n)?$/, '\r\n');
      }
    } catch {
      text = null;
    }
    blockCache.set(canonical, text);
  }
  return text;
}

// UTC's rules, for the properties that must hold a VTIMEZONE whatever the zone (RFC 4791 §5.2.2).
const UTC_VTIMEZONE = [
  'BEGIN:VTIMEZONE', 'TZID:UTC',
  'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0000', 'TZOFFSETTO:+0000', 'TZNAME:UTC', 'END:STANDARD',
  'END:VTIMEZONE', '',
].join('\r\n');

/**
 * A VCALENDAR holding exactly one VTIMEZONE, for a zone (UTC included), as the
 * calendar-timezone property wants it (RFC 4791 §5.2.2). Null for unknown zones.
 */
export function timezoneCalendar(tzid: string): string | null {
  const block = canonicalTzid(tzid) === 'UTC' ? UTC_VTIMEZONE : vtimezoneFor(tzid);
  return block === null ? null : `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kalends//Kalends//EN\r\n${block}END:VCALENDAR\r\n`;
}

/**
 * The TZID of a time zone given as iCalendar text, as calendar-timezone and a
 * calendar-query's timezone must give it (RFC 4791 §5.2.2, §9.8): a VCALENDAR
 * holding one VTIMEZONE and no other component, whose observances have the
 * properties RFC 5545 §3.6.5 requires. Throws IcalError valid-calendar-data
 * saying what is wrong.
 */
export function timezoneCalendarTzid(text: string): string {
  const invalid = (why: string) => new IcalError('valid-calendar-data', `the time zone must be a VCALENDAR with exactly one VTIMEZONE: ${why}`);
  let root: Component;
  try {
    const jcal = ICAL.parse(text.replace(/^\uFEFF/, '').trim()) as unknown[];
    if (Array.isArray(jcal[0])) throw invalid('it holds more than one VCALENDAR');
    root = new ICAL.Component(jcal);
  } catch (e) {
    if (e instanceof IcalError) throw e;
    throw new IcalError('valid-calendar-data', `the time zone is not iCalendar: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (root.name !== 'vcalendar') throw invalid(`got ${String(root.name).toUpperCase()}`);
  const subs = root.getAllSubcomponents();
  const others = subs.filter((c) => c.name !== 'vtimezone').map((c) => c.name.toUpperCase());
  if (others.length > 0) throw invalid(`it also holds ${others.join(', ')}`);
  if (subs.length !== 1) throw invalid(`it holds ${subs.length}`);
  const vtz = subs[0] as Component;
  const tzid = vtz.getFirstPropertyValue('tzid');
  if (typeof tzid !== 'string' || tzid.trim() === '') throw invalid('the VTIMEZONE has no TZID');
  const rules = vtz.getAllSubcomponents();
  if (rules.length === 0 || rules.some((r) => r.name !== 'standard' && r.name !== 'daylight')) throw invalid(`VTIMEZONE ${tzid} needs STANDARD or DAYLIGHT observances and nothing else`);
  for (const r of rules) {
    for (const prop of ['dtstart', 'tzoffsetfrom', 'tzoffsetto']) {
      if (!r.hasProperty(prop)) throw invalid(`a ${r.name.toUpperCase()} of ${tzid} has no ${prop.toUpperCase()}`);
    }
  }
  return tzid.trim();
}

const zoneCache = new Map<string, Timezone | null>();

/**
 * An ical.js Timezone for tzid, built from vtimezoneFor() and registered with
 * ICAL.TimezoneService under both the requested name and the canonical one, so
 * that properties whose TZID has no VTIMEZONE in their own calendar resolve to
 * it. Zones embedded in a calendar still take precedence inside that calendar.
 */
export function timezoneFor(tzid: string): Timezone | null {
  const cached = zoneCache.get(tzid);
  if (cached !== undefined) return cached;
  let zone: Timezone | null = null;
  const canonical = canonicalTzid(tzid);
  if (canonical === 'UTC') {
    zone = ICAL.Timezone.utcTimezone;
  } else if (canonical) {
    const text = vtimezoneFor(canonical);
    if (text) {
      // Through the shared cache, so calendars embedding this same block reuse the zone.
      const jcal = ICAL.parse(text);
      zone = sharedZone(JSON.stringify(jcal), canonical) ?? new ICAL.Timezone(new ICAL.Component(jcal));
      ICAL.TimezoneService.register(zone, canonical);
      if (tzid !== canonical) ICAL.TimezoneService.register(zone, tzid);
    }
  }
  if (zoneCache.size < 10_000) zoneCache.set(tzid, zone);
  return zone;
}

/**
 * ical.js Timezones built from VTIMEZONE blocks, keyed by the block's jCal
 * (its exact content, TZID included), least recently used first. Building a
 * zone and expanding its transitions (ical.js Timezone#changes, and the
 * change list time.ts derives from them) costs milliseconds, while the
 * objects of one calendar nearly always carry the same block: so each
 * distinct block is built and expanded once and then shared. A shared zone
 * is only read afterwards (its change list grows on demand, which is
 * idempotent), and holds its own copy of the component, never a caller's tree.
 */
const sharedZones = new Map<string, Timezone>();
const SHARED_ZONES_MAX = 512;

function sharedZone(key: string, tzid: string): Timezone | null {
  const hit = sharedZones.get(key);
  if (hit) {
    sharedZones.delete(key);
    sharedZones.set(key, hit);
    return hit;
  }
  let zone: Timezone;
  try {
    zone = new ICAL.Timezone({ component: new ICAL.Component(JSON.parse(key)), tzid });
    offsetAt(zone, Date.now()); // expands the transitions now, once, and proves the data usable
  } catch {
    return null;
  }
  sharedZones.set(key, zone);
  if (sharedZones.size > SHARED_ZONES_MAX) sharedZones.delete(sharedZones.keys().next().value as string);
  return zone;
}

/**
 * The zone a VTIMEZONE block defines, from its text: a client's own, for a
 * TZID no table knows. Shared like every other block; null when it does not
 * parse or gives no usable zone.
 */
export function timezoneFromBlock(text: string, tzid: string): Timezone | null {
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text);
  } catch {
    return null;
  }
  return Array.isArray(jcal) && jcal[0] === 'vtimezone' ? sharedZone(JSON.stringify(jcal), tzid) : null;
}

/**
 * Points the VTIMEZONEs of a parsed VCALENDAR at shared zones, before any
 * of its times are decoded: ical.js otherwise builds a fresh Timezone from
 * the block for every calendar (Component#getTimeZoneByID) and expands its
 * transitions again. The first block of a TZID wins, as in ical.js. A block
 * whose zone cannot be built is left to ical.js, so errors stay as they were;
 * so is a block that no TZID in `used` names, which ical.js never builds.
 */
export function shareTimezones(root: Component, used: ReadonlySet<string>): void {
  const cache = (root as unknown as { _timezoneCache: Map<string, Timezone> | null })._timezoneCache;
  if (!cache || root.parent) return;
  const seen = new Set<string>();
  for (const sub of root.getAllSubcomponents('vtimezone')) {
    const tzid = sub.getFirstPropertyValue('tzid');
    if (typeof tzid !== 'string' || tzid === '' || seen.has(tzid)) continue;
    seen.add(tzid);
    if (cache.has(tzid) || !used.has(tzid)) continue;
    const zone = sharedZone(JSON.stringify(sub.jCal), tzid);
    if (zone) cache.set(tzid, zone);
  }
}
