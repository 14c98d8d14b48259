import ICAL from 'ical.js';
import { tzlib_get_ical_block, tzlib_get_timezones } from 'timezones-ical-library';
import { findIana } from 'windows-iana';

type Timezone = InstanceType<typeof ICAL.Timezone>;

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
      zone = new ICAL.Timezone(new ICAL.Component(ICAL.parse(text)));
      ICAL.TimezoneService.register(zone, canonical);
      if (tzid !== canonical) ICAL.TimezoneService.register(zone, tzid);
    }
  }
  if (zoneCache.size < 10_000) zoneCache.set(tzid, zone);
  return zone;
}
