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
