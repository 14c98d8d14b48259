// The CalDAV calendar-query filter model (RFC 4791 §9.7), shared with the iCalendar filter
// matcher in src/ical/filter.ts. Keep these shapes identical on both sides.
//
// Conventions produced by the parser (src/dav/xml/requests.ts):
// - component, property and parameter names are upper-cased (iCalendar names are case-insensitive);
// - times are UTC instants; a TimeRange has at least one of start/end, and start < end when both;
// - `collation` is one of SUPPORTED_COLLATIONS (default 'i;ascii-casemap');
// - `matchType` is only set when the client sent a match-type attribute (an RFC 6352-style
//   extension); absent means RFC 4791 semantics, i.e. substring ("contains");
// - `isNotDefined` is only set (true) when the element was present, and then no other tests are set.

export type TimeRange = { start?: Date; end?: Date };

/** The collations the parser accepts; anything else is refused with CALDAV:supported-collation. */
export type Collation = 'i;ascii-casemap' | 'i;octet' | 'i;unicode-casemap';

export type TextMatch = {
  value: string;
  /** Narrower than `string` so the value is assignable to src/ical/filter.ts's TextMatch. */
  collation: Collation;
  negate: boolean;
  matchType?: 'equals' | 'contains' | 'starts-with' | 'ends-with';
};

export type ParamFilter = { name: string; isNotDefined?: boolean; textMatch?: TextMatch };

export type PropFilter = {
  name: string;
  isNotDefined?: boolean;
  timeRange?: { start?: Date; end?: Date };
  textMatch?: TextMatch;
  paramFilters: ParamFilter[];
};

export type CompFilter = {
  name: string;
  isNotDefined?: boolean;
  timeRange?: { start?: Date; end?: Date };
  propFilters: PropFilter[];
  compFilters: CompFilter[];
};

/** Collations Kalends evaluates (RFC 4791 §7.5.1 requires the first two; RFC 5051 adds the third). */
export const SUPPORTED_COLLATIONS: readonly Collation[] = Object.freeze(['i;ascii-casemap', 'i;octet', 'i;unicode-casemap'] as const);

export const DEFAULT_COLLATION: Collation = 'i;ascii-casemap';

export function isSupportedCollation(c: string): c is Collation {
  return (SUPPORTED_COLLATIONS as readonly string[]).includes(c);
}

/**
 * The components each iCalendar component can appear in (RFC 5545 §3.4, §3.6, §3.6.5,
 * §3.6.6; RFC 7953 §3). A comp-filter that nests one anywhere else cannot match and is not a
 * valid filter (RFC 4791 §7.8: "cannot nest a VEVENT in a VEVENT"). Components not listed
 * (X- and later IANA ones) may be tested anywhere, and anything may be tested inside them.
 */
export const COMPONENT_PARENTS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  VCALENDAR: [],
  VEVENT: ['VCALENDAR'],
  VTODO: ['VCALENDAR'],
  VJOURNAL: ['VCALENDAR'],
  VFREEBUSY: ['VCALENDAR'],
  VTIMEZONE: ['VCALENDAR'],
  VAVAILABILITY: ['VCALENDAR'],
  VALARM: ['VEVENT', 'VTODO'],
  STANDARD: ['VTIMEZONE'],
  DAYLIGHT: ['VTIMEZONE'],
  AVAILABLE: ['VAVAILABILITY'],
});

/**
 * Properties whose values are never a date, date-time or period (RFC 5545 §3.7, §3.8; RFC 7986
 * §5): a time-range on one cannot match and is not a valid filter (RFC 4791 §7.8: "cannot nest
 * a time-range in a prop SUMMARY"; §9.9). Properties not listed, the date/time ones (DTSTART,
 * DTEND, DUE, COMPLETED, CREATED, DTSTAMP, LAST-MODIFIED, RECURRENCE-ID, EXDATE, RDATE,
 * TRIGGER, FREEBUSY…) and X- ones, may carry a time-range.
 */
export const UNDATED_PROPERTIES: ReadonlySet<string> = new Set([
  'CALSCALE', 'METHOD', 'PRODID', 'VERSION',
  'ATTACH', 'CATEGORIES', 'CLASS', 'COMMENT', 'DESCRIPTION', 'GEO', 'LOCATION', 'PERCENT-COMPLETE', 'PRIORITY',
  'RESOURCES', 'STATUS', 'SUMMARY', 'DURATION', 'TRANSP',
  'TZID', 'TZNAME', 'TZOFFSETFROM', 'TZOFFSETTO', 'TZURL',
  'ATTENDEE', 'CONTACT', 'ORGANIZER', 'RELATED-TO', 'URL', 'UID', 'RRULE', 'EXRULE',
  'ACTION', 'REPEAT', 'REQUEST-STATUS', 'SEQUENCE',
  'NAME', 'REFRESH-INTERVAL', 'SOURCE', 'COLOR', 'IMAGE', 'CONFERENCE',
]);
