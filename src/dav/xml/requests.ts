// Typed parsers for WebDAV/CalDAV request bodies. Every parser accepts either a parsed element
// or the raw body, and throws DavXmlError with a message suitable for the client on invalid
// structure. Unknown elements from foreign namespaces are ignored, as RFC 4918 §17 asks.

import { DavXmlError } from './errors.ts';
import { COMPONENT_PARENTS, DEFAULT_COLLATION, SUPPORTED_COLLATIONS, UNDATED_PROPERTIES, isSupportedCollation } from './filter-model.ts';
import type { CompFilter, ParamFilter, PropFilter, TextMatch, TimeRange } from './filter-model.ts';
import { decodeHref } from './href.ts';
import { NS_CALDAV, NS_CARDDAV, NS_CS, NS_DAV, caldav, carddav, dav, qname, qnameOf } from './names.ts';
import type { QName } from './names.ts';
import { parseXml } from './parse.ts';
import type { XmlElement, XmlLimits } from './parse.ts';

export type XmlInput = XmlElement | string | Buffer | Uint8Array;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** Parse a request body; returns null for an absent, empty or whitespace-only body. */
export function parseRequestBody(body: string | Buffer | Uint8Array | null | undefined, limits?: XmlLimits): XmlElement | null {
  if (body === null || body === undefined) return null;
  if (typeof body === 'string' ? /^[\s\uFEFF]*$/.test(body) : isBlankBytes(body)) return null;
  return parseXml(body, limits);
}

function isBlankBytes(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

function toRoot(input: XmlInput | null | undefined, limits?: XmlLimits): XmlElement | null {
  if (input === null || input === undefined) return null;
  if (typeof input === 'string' || input instanceof Uint8Array) return parseRequestBody(input, limits);
  return input;
}

function requireRoot(input: XmlInput, ns: string, name: string, limits?: XmlLimits): XmlElement {
  const el = toRoot(input, limits);
  if (!el) throw new DavXmlError(`request body is empty, expected <${name}> in ${ns}`);
  expectRoot(el, ns, name);
  return el;
}

function expectRoot(el: XmlElement, ns: string, name: string): void {
  if (el.ns !== ns || el.name !== name) {
    throw new DavXmlError(`expected root element {${ns}}${name}, got ${qnameOf(el)}`);
  }
}

function kids(el: XmlElement, ns: string, name: string): XmlElement[] {
  return el.children.filter((c) => c.ns === ns && c.name === name);
}

function kid(el: XmlElement, ns: string, name: string): XmlElement | undefined {
  return el.children.find((c) => c.ns === ns && c.name === name);
}

function onlyKid(el: XmlElement, ns: string, name: string, opts: { required?: boolean; precondition?: QName } = {}): XmlElement | undefined {
  const found = kids(el, ns, name);
  const where = `<${el.name}>`;
  if (found.length > 1) throw new DavXmlError(`${where} may contain only one <${name}>`, errOpts(opts.precondition));
  if (opts.required && found.length === 0) throw new DavXmlError(`${where} must contain <${name}>`, errOpts(opts.precondition));
  return found[0];
}

function errOpts(precondition: QName | undefined): { precondition?: QName } {
  return precondition ? { precondition } : {};
}

function uniqueNames(el: XmlElement): QName[] {
  const seen = new Set<QName>();
  for (const c of el.children) seen.add(qnameOf(c));
  return [...seen];
}

// ---------------------------------------------------------------------------------------------
// PROPFIND (RFC 4918 §9.1, §14.20)

export type PropfindRequest =
  | { kind: 'allprop'; include: QName[] }
  | { kind: 'propname' }
  | { kind: 'prop'; props: QName[] };

/**
 * PROPFIND body. An absent/empty body means allprop (RFC 4918 §9.1), and so does an empty
 * propfind element (as sabre/dav reads it). A propfind whose only children are elements other
 * than allprop/propname/prop is refused (§14.20): it asks for something Kalends cannot answer,
 * and allprop in its place would be a different answer. Extra elements beside those three are
 * ignored (§17).
 */
export function parsePropfind(input: XmlInput | null | undefined, limits?: XmlLimits): PropfindRequest {
  const el = toRoot(input, limits);
  if (!el) return { kind: 'allprop', include: [] };
  expectRoot(el, NS_DAV, 'propfind');
  const selection = parsePropSelection(el);
  if (selection) return selection;
  if (el.children.length > 0) {
    throw new DavXmlError(`<propfind> must contain <prop>, <allprop> or <propname>, not only ${el.children.map(qnameOf).join(', ')}`);
  }
  return { kind: 'allprop', include: [] };
}

/** The allprop | propname | prop choice inside propfind and REPORT bodies; undefined if none. */
function parsePropSelection(el: XmlElement): PropfindRequest | undefined {
  const allprop = kid(el, NS_DAV, 'allprop');
  const propname = kid(el, NS_DAV, 'propname');
  const props = kids(el, NS_DAV, 'prop');
  const count = (allprop ? 1 : 0) + (propname ? 1 : 0) + props.length;
  if (count > 1) throw new DavXmlError(`<${el.name}> must contain only one of <allprop>, <propname> or <prop>`);
  if (allprop) {
    const include = kid(el, NS_DAV, 'include');
    return { kind: 'allprop', include: include ? uniqueNames(include) : [] };
  }
  if (propname) return { kind: 'propname' };
  const prop = props[0];
  if (prop) return { kind: 'prop', props: uniqueNames(prop) };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// PROPPATCH (RFC 4918 §9.2, §14.19)

export type PropSet = { name: QName; value: XmlElement };
export type PropPatchOp = { op: 'set'; name: QName; value: XmlElement } | { op: 'remove'; name: QName };

/**
 * PROPPATCH body as an ordered list of operations (RFC 4918 requires document order).
 * `value` is the whole property element as sent, so dead properties keep child elements,
 * attributes and text exactly.
 */
export function parseProppatch(input: XmlInput, limits?: XmlLimits): PropPatchOp[] {
  const el = requireRoot(input, NS_DAV, 'propertyupdate', limits);
  const ops: PropPatchOp[] = [];
  for (const c of el.children) {
    if (c.ns !== NS_DAV || (c.name !== 'set' && c.name !== 'remove')) continue;
    const prop = onlyKid(c, NS_DAV, 'prop', { required: true });
    for (const p of prop?.children ?? []) {
      if (c.name === 'set') ops.push({ op: 'set', name: qnameOf(p), value: p });
      else ops.push({ op: 'remove', name: qnameOf(p) });
    }
  }
  if (ops.length === 0) throw new DavXmlError('<propertyupdate> must set or remove at least one property');
  return ops;
}

// ---------------------------------------------------------------------------------------------
// MKCALENDAR (RFC 4791 §5.3.1) and extended MKCOL (RFC 5689)

export type MkcalendarRequest = { props: PropSet[] };
export type MkcolRequest = {
  /** Child element names of DAV:resourcetype in order, e.g. [{DAV:}collection, {urn:…caldav}calendar]; [] when not sent. */
  resourceType: QName[];
  /** The other properties to set (resourcetype excluded). */
  props: PropSet[];
};

function setProps(el: XmlElement): PropSet[] {
  const out: PropSet[] = [];
  for (const set of kids(el, NS_DAV, 'set')) {
    const prop = onlyKid(set, NS_DAV, 'prop', { required: true });
    for (const p of prop?.children ?? []) out.push({ name: qnameOf(p), value: p });
  }
  return out;
}

/** MKCALENDAR body; an empty body creates a calendar with default properties. */
export function parseMkcalendar(input: XmlInput | null | undefined, limits?: XmlLimits): MkcalendarRequest {
  const el = toRoot(input, limits);
  if (!el) return { props: [] };
  expectRoot(el, NS_CALDAV, 'mkcalendar');
  return { props: setProps(el) };
}

/** Extended MKCOL body (RFC 5689 §5.1); an empty body is a plain MKCOL. */
export function parseMkcol(input: XmlInput | null | undefined, limits?: XmlLimits): MkcolRequest {
  const el = toRoot(input, limits);
  if (!el) return { resourceType: [], props: [] };
  expectRoot(el, NS_DAV, 'mkcol');
  let resourceType: QName[] = [];
  const props: PropSet[] = [];
  for (const p of setProps(el)) {
    if (p.name === dav('resourcetype')) resourceType = p.value.children.map(qnameOf);
    else props.push(p);
  }
  return { resourceType, props };
}

// ---------------------------------------------------------------------------------------------
// Time values

const PRE_VALID_FILTER = caldav('valid-filter');
const UTC_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parse an iCalendar UTC date-time (`20260101T000000Z`) strictly. */
export function parseUtcDateTime(value: string, what = 'date-time', precondition?: QName): Date {
  const m = UTC_RE.exec(value);
  const bad = (): never => {
    throw new DavXmlError(`${what} ${JSON.stringify(value)} is not an iCalendar UTC date-time like 20260101T000000Z`, errOpts(precondition));
  };
  if (!m) return bad();
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const dim = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > (dim[mo - 1] ?? 0) || h > 23 || mi > 59 || s > 59) return bad();
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s));
  date.setUTCFullYear(y);
  return date;
}

function parseRange(el: XmlElement, what: string, opts: { requireBoth?: boolean; precondition?: QName } = {}): TimeRange {
  const range: TimeRange = {};
  const s = el.attrs['start'];
  const e = el.attrs['end'];
  if (s !== undefined) range.start = parseUtcDateTime(s, `${what} start`, opts.precondition);
  if (e !== undefined) range.end = parseUtcDateTime(e, `${what} end`, opts.precondition);
  if (opts.requireBoth ? !(range.start && range.end) : !(range.start || range.end)) {
    throw new DavXmlError(`<${el.name}> needs ${opts.requireBoth ? 'both start and end' : 'a start or an end'} attribute`, errOpts(opts.precondition));
  }
  if (range.start && range.end && range.start.getTime() >= range.end.getTime()) {
    throw new DavXmlError(`<${el.name}> start must be before end`, errOpts(opts.precondition));
  }
  return range;
}

// ---------------------------------------------------------------------------------------------
// calendar-data (RFC 4791 §9.6)

export type CompSelection = {
  /** Upper-cased component name, e.g. VCALENDAR, VEVENT. */
  name: string;
  /** True for <allprop/> or when neither allprop nor prop was given (RFC 4791 §9.6.1). */
  allProps: boolean;
  props: { name: string; novalue: boolean }[];
  /** True for <allcomp/> or when neither allcomp nor comp was given. */
  allComps: boolean;
  comps: CompSelection[];
};

export type CalendarDataRequest = {
  contentType: string;
  version: string;
  comp?: CompSelection;
  expand?: { start: Date; end: Date };
  limitRecurrenceSet?: { start: Date; end: Date };
  limitFreebusySet?: { start: Date; end: Date };
};

function parseCompSelection(el: XmlElement): CompSelection {
  const name = el.attrs['name'];
  if (!name) throw new DavXmlError('<comp> needs a name attribute');
  const allprop = kid(el, NS_CALDAV, 'allprop');
  const propEls = kids(el, NS_CALDAV, 'prop');
  const allcomp = kid(el, NS_CALDAV, 'allcomp');
  const compEls = kids(el, NS_CALDAV, 'comp');
  if (allprop && propEls.length) throw new DavXmlError('<comp> cannot contain both <allprop> and <prop>');
  if (allcomp && compEls.length) throw new DavXmlError('<comp> cannot contain both <allcomp> and <comp>');
  const props = propEls.map((p) => {
    const pn = p.attrs['name'];
    if (!pn) throw new DavXmlError('<prop> in <comp> needs a name attribute');
    const nv = p.attrs['novalue'] ?? 'no';
    if (nv !== 'yes' && nv !== 'no') throw new DavXmlError('<prop> novalue must be "yes" or "no"');
    return { name: pn.toUpperCase(), novalue: nv === 'yes' };
  });
  return {
    name: name.toUpperCase(),
    allProps: propEls.length === 0,
    props,
    allComps: compEls.length === 0,
    comps: compEls.map(parseCompSelection),
  };
}

function parseCalendarData(el: XmlElement): CalendarDataRequest {
  const out: CalendarDataRequest = {
    contentType: el.attrs['content-type'] ?? 'text/calendar',
    version: el.attrs['version'] ?? '2.0',
  };
  // RFC 4791 §7.8, §7.9: calendar data is only returned in a media type and version the server
  // supports (its supported-calendar-data, §5.2.4: text/calendar 2.0), never relabelled.
  if (out.contentType.split(';')[0]?.trim().toLowerCase() !== 'text/calendar' || out.version.trim() !== '2.0') {
    throw new DavXmlError(`calendar data is available as text/calendar version 2.0, not ${out.contentType} version ${out.version}`, {
      precondition: caldav('supported-calendar-data'),
    });
  }
  const comp = onlyKid(el, NS_CALDAV, 'comp');
  if (comp) out.comp = parseCompSelection(comp);
  const expand = onlyKid(el, NS_CALDAV, 'expand');
  const lrs = onlyKid(el, NS_CALDAV, 'limit-recurrence-set');
  const lfs = onlyKid(el, NS_CALDAV, 'limit-freebusy-set');
  if (expand && lrs) throw new DavXmlError('<calendar-data> cannot contain both <expand> and <limit-recurrence-set>');
  if (expand) out.expand = parseRange(expand, 'expand', { requireBoth: true }) as { start: Date; end: Date };
  if (lrs) out.limitRecurrenceSet = parseRange(lrs, 'limit-recurrence-set', { requireBoth: true }) as { start: Date; end: Date };
  if (lfs) out.limitFreebusySet = parseRange(lfs, 'limit-freebusy-set', { requireBoth: true }) as { start: Date; end: Date };
  return out;
}

/** Props of a REPORT plus the calendar-data details if {caldav}calendar-data is among them. */
function reportProps(el: XmlElement): { props: PropfindRequest; calendarData?: CalendarDataRequest; addressData?: AddressDataRequest } {
  const props = parsePropSelection(el) ?? { kind: 'prop', props: [] };
  const prop = kid(el, NS_DAV, 'prop');
  const cd = prop ? kid(prop, NS_CALDAV, 'calendar-data') : undefined;
  const ad = prop ? kid(prop, NS_CARDDAV, 'address-data') : undefined;
  return { props, ...(cd ? { calendarData: parseCalendarData(cd) } : {}), ...(ad ? { addressData: parseAddressData(ad) } : {}) };
}

// ---------------------------------------------------------------------------------------------
// CardDAV (RFC 6352 §10)

/**
 * What form of vCard a report's address-data asks for (§10.4); props: only these properties.
 * No version attribute: the card as stored (a client that cares names one; converting a
 * client's own 4.0 card to 3.0 behind its back would lose what 3.0 cannot say).
 */
export type AddressDataRequest = { contentType: string; version?: '3.0' | '4.0'; props?: { name: string; novalue: boolean }[] };

function parseAddressData(el: XmlElement): AddressDataRequest {
  const contentType = el.attrs['content-type'] ?? 'text/vcard';
  const version = el.attrs['version'];
  if (contentType.toLowerCase() !== 'text/vcard' || (version !== undefined && version !== '3.0' && version !== '4.0')) {
    throw new DavXmlError(`address data ${contentType} version ${version} is not supported: ask for text/vcard 3.0 or 4.0`, { precondition: carddav('supported-address-data-conversion') });
  }
  const base: AddressDataRequest = version === undefined ? { contentType } : { contentType, version };
  if (kid(el, NS_CARDDAV, 'allprop')) return base;
  const props = kids(el, NS_CARDDAV, 'prop').map((p) => {
    const name = p.attrs['name'];
    if (!name) throw new DavXmlError('<prop> in <address-data> needs a name attribute');
    return { name: name.toUpperCase(), novalue: p.attrs['novalue'] === 'yes' };
  });
  return props.length > 0 ? { ...base, props } : base;
}

export type CardPropFilter = { name: string; test: 'anyof' | 'allof'; isNotDefined?: boolean; textMatches: TextMatch[]; paramFilters: ParamFilter[] };
export type CardFilter = { test: 'anyof' | 'allof'; propFilters: CardPropFilter[] };

const PRE_CARD_FILTER = carddav('valid-filter');

function testOf(el: XmlElement): 'anyof' | 'allof' {
  const t = el.attrs['test'] ?? 'anyof';
  if (t !== 'anyof' && t !== 'allof') throw new DavXmlError('test must be "anyof" or "allof"', { precondition: PRE_CARD_FILTER });
  return t;
}

function parseCardTextMatch(el: XmlElement): TextMatch {
  // RFC 6352 §10.5.4: collation i;unicode-casemap by default, match-type contains by default
  const tm = parseTextMatchIn(el, NS_CARDDAV, 'i;unicode-casemap');
  tm.matchType ??= 'contains';
  return tm;
}

function parseCardPropFilter(el: XmlElement): CardPropFilter {
  const name = el.attrs['name'];
  if (!name || !/^[A-Za-z0-9-]+$/.test(name)) throw new DavXmlError('<prop-filter> needs a valid name attribute', { precondition: PRE_CARD_FILTER });
  const pf: CardPropFilter = { name: name.toUpperCase(), test: testOf(el), textMatches: kids(el, NS_CARDDAV, 'text-match').map(parseCardTextMatch), paramFilters: [] };
  if (kid(el, NS_CARDDAV, 'is-not-defined')) pf.isNotDefined = true;
  pf.paramFilters = kids(el, NS_CARDDAV, 'param-filter').map((p): ParamFilter => {
    const pn = p.attrs['name'];
    if (!pn) throw new DavXmlError('<param-filter> needs a name attribute', { precondition: PRE_CARD_FILTER });
    const out: ParamFilter = { name: pn.toUpperCase() };
    if (kid(p, NS_CARDDAV, 'is-not-defined')) out.isNotDefined = true;
    const tm = onlyKid(p, NS_CARDDAV, 'text-match', { precondition: PRE_CARD_FILTER });
    if (tm) out.textMatch = parseCardTextMatch(tm);
    return out;
  });
  return pf;
}

export type AddressbookQueryReport = { type: 'addressbook-query'; props: PropfindRequest; addressData?: AddressDataRequest; filter: CardFilter; limit?: number };
export type AddressbookMultigetReport = { type: 'addressbook-multiget'; props: PropfindRequest; addressData?: AddressDataRequest; hrefs: string[] };

export function parseAddressbookQuery(input: XmlInput, limits?: XmlLimits): AddressbookQueryReport {
  const el = requireRoot(input, NS_CARDDAV, 'addressbook-query', limits);
  const f = onlyKid(el, NS_CARDDAV, 'filter', { required: true, precondition: PRE_CARD_FILTER }) as XmlElement;
  const filter: CardFilter = { test: testOf(f), propFilters: kids(f, NS_CARDDAV, 'prop-filter').map(parseCardPropFilter) };
  const out: AddressbookQueryReport = { type: 'addressbook-query', ...reportProps(el), filter };
  const limitEl = onlyKid(el, NS_CARDDAV, 'limit');
  if (limitEl) out.limit = nresults(limitEl, NS_CARDDAV);
  return out;
}

export function parseAddressbookMultiget(input: XmlInput, limits?: XmlLimits): AddressbookMultigetReport {
  const el = requireRoot(input, NS_CARDDAV, 'addressbook-multiget', limits);
  const hrefEls = kids(el, NS_DAV, 'href');
  if (hrefEls.length === 0) throw new DavXmlError('<addressbook-multiget> must contain at least one <href>');
  return { type: 'addressbook-multiget', ...reportProps(el), hrefs: [...new Set(hrefEls.map((h) => decodeHref(h.text)))] };
}

// ---------------------------------------------------------------------------------------------
// Filters (RFC 4791 §9.7)

function filterName(el: XmlElement): string {
  const name = el.attrs['name'];
  if (!name || !/^[A-Za-z0-9-]+$/.test(name)) {
    throw new DavXmlError(`<${el.name}> needs a valid name attribute`, { precondition: PRE_VALID_FILTER });
  }
  return name.toUpperCase();
}

function checkFilterChildren(el: XmlElement, allowed: string[]): void {
  for (const c of el.children) {
    if (c.ns === NS_CALDAV && !allowed.includes(c.name)) {
      throw new DavXmlError(`<${c.name}> is not supported inside <${el.name}>`, { precondition: caldav('supported-filter') });
    }
  }
  const notDefined = kids(el, NS_CALDAV, 'is-not-defined').length;
  if (notDefined > 1) throw new DavXmlError(`<${el.name}> may contain only one <is-not-defined>`, { precondition: PRE_VALID_FILTER });
  if (notDefined && el.children.some((c) => c.ns === NS_CALDAV && c.name !== 'is-not-defined')) {
    throw new DavXmlError(`<is-not-defined> cannot be combined with other tests in <${el.name}>`, { precondition: PRE_VALID_FILTER });
  }
}

function filterTimeRange(el: XmlElement): TimeRange | undefined {
  const tr = onlyKid(el, NS_CALDAV, 'time-range', { precondition: PRE_VALID_FILTER });
  return tr ? parseRange(tr, 'time-range', { precondition: PRE_VALID_FILTER }) : undefined;
}

const MATCH_TYPES = ['equals', 'contains', 'starts-with', 'ends-with'] as const;

function parseTextMatch(el: XmlElement): TextMatch {
  return parseTextMatchIn(el, NS_CALDAV, DEFAULT_COLLATION);
}

/** A text-match of CalDAV or CardDAV (the same element in each namespace, RFC 4791 §9.7.5, RFC 6352 §10.5.4). */
function parseTextMatchIn(el: XmlElement, ns: string, defaultCollation: string): TextMatch {
  const collation = el.attrs['collation'] ?? defaultCollation;
  const pre = (name: string) => qname(ns, name);
  if (!isSupportedCollation(collation)) {
    throw new DavXmlError(`collation ${JSON.stringify(collation)} is not supported (supported: ${SUPPORTED_COLLATIONS.join(', ')})`, {
      precondition: pre('supported-collation'),
    });
  }
  const neg = el.attrs['negate-condition'] ?? 'no';
  if (neg !== 'yes' && neg !== 'no') throw new DavXmlError('negate-condition must be "yes" or "no"', { precondition: pre('valid-filter') });
  const tm: TextMatch = { value: el.text, collation, negate: neg === 'yes' };
  const mt = el.attrs['match-type'];
  if (mt !== undefined) {
    const found = MATCH_TYPES.find((t) => t === mt);
    if (!found) throw new DavXmlError(`match-type ${JSON.stringify(mt)} is not supported`, { precondition: pre('valid-filter') });
    tm.matchType = found;
  }
  return tm;
}

function parseParamFilter(el: XmlElement): ParamFilter {
  checkFilterChildren(el, ['is-not-defined', 'text-match']);
  const pf: ParamFilter = { name: filterName(el) };
  if (kid(el, NS_CALDAV, 'is-not-defined')) pf.isNotDefined = true;
  const tm = onlyKid(el, NS_CALDAV, 'text-match', { precondition: PRE_VALID_FILTER });
  if (tm) pf.textMatch = parseTextMatch(tm);
  return pf;
}

function parsePropFilter(el: XmlElement): PropFilter {
  checkFilterChildren(el, ['is-not-defined', 'time-range', 'text-match', 'param-filter']);
  const pf: PropFilter = { name: filterName(el), paramFilters: [] };
  if (kid(el, NS_CALDAV, 'is-not-defined')) pf.isNotDefined = true;
  const tr = filterTimeRange(el);
  const tm = onlyKid(el, NS_CALDAV, 'text-match', { precondition: PRE_VALID_FILTER });
  if (tr && tm) throw new DavXmlError('<prop-filter> cannot contain both <time-range> and <text-match>', { precondition: PRE_VALID_FILTER });
  if (tr && UNDATED_PROPERTIES.has(pf.name)) {
    throw new DavXmlError(`${pf.name} has no date or time: a <time-range> on it can never match`, { precondition: PRE_VALID_FILTER });
  }
  if (tr) pf.timeRange = tr;
  if (tm) pf.textMatch = parseTextMatch(tm);
  pf.paramFilters = kids(el, NS_CALDAV, 'param-filter').map(parseParamFilter);
  return pf;
}

/** A comp-filter, inside the component named `parent` (undefined for the top one). */
function parseCompFilter(el: XmlElement, parent?: string): CompFilter {
  checkFilterChildren(el, ['is-not-defined', 'time-range', 'prop-filter', 'comp-filter']);
  const cf: CompFilter = { name: filterName(el), propFilters: [], compFilters: [] };
  const parents = COMPONENT_PARENTS[cf.name];
  if (parent !== undefined && parents !== undefined && COMPONENT_PARENTS[parent] !== undefined && !parents.includes(parent)) {
    throw new DavXmlError(`a ${cf.name} is never inside a ${parent}: this <comp-filter> can never match`, { precondition: PRE_VALID_FILTER });
  }
  if (kid(el, NS_CALDAV, 'is-not-defined')) cf.isNotDefined = true;
  const tr = filterTimeRange(el);
  if (tr) cf.timeRange = tr;
  cf.propFilters = kids(el, NS_CALDAV, 'prop-filter').map(parsePropFilter);
  cf.compFilters = kids(el, NS_CALDAV, 'comp-filter').map((c) => parseCompFilter(c, cf.name));
  return cf;
}

/** Parse a {caldav}filter element; returns the top-level VCALENDAR comp-filter. */
export function parseFilter(el: XmlElement): CompFilter {
  expectRoot(el, NS_CALDAV, 'filter');
  const cfs = kids(el, NS_CALDAV, 'comp-filter');
  if (cfs.length !== 1 || !cfs[0]) throw new DavXmlError('<filter> must contain exactly one <comp-filter>', { precondition: PRE_VALID_FILTER });
  const top = parseCompFilter(cfs[0]);
  if (top.name !== 'VCALENDAR') throw new DavXmlError('the top-level <comp-filter> must be VCALENDAR', { precondition: PRE_VALID_FILTER });
  if (top.isNotDefined || top.timeRange) throw new DavXmlError('the VCALENDAR <comp-filter> cannot test is-not-defined or time-range', { precondition: PRE_VALID_FILTER });
  return top;
}

// ---------------------------------------------------------------------------------------------
// REPORT bodies

export type CalendarQueryReport = {
  type: 'calendar-query';
  /** allprop | propname | prop; an absent selection is `{ kind: 'prop', props: [] }`. */
  props: PropfindRequest;
  calendarData?: CalendarDataRequest;
  /** The top-level VCALENDAR comp-filter. */
  filter: CompFilter;
  /** Text of {caldav}timezone (a VCALENDAR with one VTIMEZONE), exactly as sent. */
  timezone?: string;
  /** RFC 7809 {caldav}timezone-id. */
  timezoneId?: string;
};

export type CalendarMultigetReport = {
  type: 'calendar-multiget';
  props: PropfindRequest;
  calendarData?: CalendarDataRequest;
  /** Decoded paths (see decodeHref), in request order, duplicates removed. */
  hrefs: string[];
};

export type SyncCollectionReport = {
  type: 'sync-collection';
  addressData?: AddressDataRequest;
  /** The token as sent; '' for the initial sync. */
  syncToken: string;
  syncLevel: '1' | 'infinite';
  limit?: number;
  props: PropfindRequest;
  calendarData?: CalendarDataRequest;
};

export type FreeBusyQueryReport = { type: 'free-busy-query'; timeRange: TimeRange };

export type ExpandPropertyItem = { name: QName; properties: ExpandPropertyItem[] };
export type ExpandPropertyReport = { type: 'expand-property'; properties: ExpandPropertyItem[] };

export type PropertySearch = {
  props: QName[];
  match: string;
  /** CalendarServer extension attribute; RFC 3744 semantics (the default) are "contains". */
  matchType: 'starts-with' | 'contains' | 'equals';
  caseless: boolean;
};

export type PrincipalPropertySearchReport = {
  type: 'principal-property-search';
  test: 'allof' | 'anyof';
  searches: PropertySearch[];
  props: PropfindRequest;
  applyToPrincipalCollectionSet: boolean;
};

export type PrincipalSearchPropertySetReport = { type: 'principal-search-property-set' };

export type CalendarServerPrincipalSearchReport = {
  type: 'calendarserver-principal-search';
  /** user | group | location | resource | attendee, when given. */
  context?: string;
  tokens: string[];
  limit?: number;
  props: PropfindRequest;
};

export type AclPrincipalPropSetReport = { type: 'acl-principal-prop-set'; props: PropfindRequest };

export type PrincipalMatchReport = {
  type: 'principal-match';
  match: { kind: 'self' } | { kind: 'principal-property'; name: QName };
  props: PropfindRequest;
};

export type ReportRequest =
  | AddressbookQueryReport
  | AddressbookMultigetReport
  | CalendarQueryReport
  | CalendarMultigetReport
  | SyncCollectionReport
  | FreeBusyQueryReport
  | ExpandPropertyReport
  | PrincipalPropertySearchReport
  | PrincipalSearchPropertySetReport
  | CalendarServerPrincipalSearchReport
  | AclPrincipalPropSetReport
  | PrincipalMatchReport;

/** Root element names of every report parseReport understands (for DAV:supported-report-set). */
export const KNOWN_REPORTS: readonly QName[] = Object.freeze([
  carddav('addressbook-query'),
  carddav('addressbook-multiget'),
  caldav('calendar-query'),
  caldav('calendar-multiget'),
  caldav('free-busy-query'),
  dav('sync-collection'),
  dav('expand-property'),
  dav('principal-property-search'),
  dav('principal-search-property-set'),
  qname(NS_CS, 'calendarserver-principal-search'),
  dav('acl-principal-prop-set'),
  dav('principal-match'),
]);

export function parseCalendarQuery(input: XmlInput, limits?: XmlLimits): CalendarQueryReport {
  const el = requireRoot(input, NS_CALDAV, 'calendar-query', limits);
  const filterEl = onlyKid(el, NS_CALDAV, 'filter', { required: true, precondition: PRE_VALID_FILTER });
  const out: CalendarQueryReport = { type: 'calendar-query', ...reportProps(el), filter: parseFilter(filterEl as XmlElement) };
  const tz = onlyKid(el, NS_CALDAV, 'timezone');
  if (tz) out.timezone = tz.text;
  const tzid = onlyKid(el, NS_CALDAV, 'timezone-id');
  if (tzid) out.timezoneId = tzid.text.trim();
  return out;
}

export function parseCalendarMultiget(input: XmlInput, limits?: XmlLimits): CalendarMultigetReport {
  const el = requireRoot(input, NS_CALDAV, 'calendar-multiget', limits);
  const hrefEls = kids(el, NS_DAV, 'href');
  if (hrefEls.length === 0) throw new DavXmlError('<calendar-multiget> must contain at least one <href>');
  const hrefs = [...new Set(hrefEls.map((h) => decodeHref(h.text)))];
  return { type: 'calendar-multiget', ...reportProps(el), hrefs };
}

function positiveInt(text: string, what: string): number {
  const t = text.trim();
  if (!/^[0-9]{1,9}$/.test(t) || Number(t) < 1) throw new DavXmlError(`${what} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(t);
}

function nresults(limitEl: XmlElement, ns: string): number {
  const n = onlyKid(limitEl, ns, 'nresults', { required: true }) as XmlElement;
  return positiveInt(n.text, '<nresults>');
}

/**
 * RFC 6578 sync-collection. sync-level defaults to '1' when absent (pre-RFC drafts had no
 * sync-level and some older clients still omit it).
 */
export function parseSyncCollection(input: XmlInput, limits?: XmlLimits): SyncCollectionReport {
  const el = requireRoot(input, NS_DAV, 'sync-collection', limits);
  const tokenEl = onlyKid(el, NS_DAV, 'sync-token', { required: true }) as XmlElement;
  const levelEl = onlyKid(el, NS_DAV, 'sync-level');
  const level = levelEl ? levelEl.text.trim() : '1';
  if (level !== '1' && level !== 'infinite') throw new DavXmlError(`<sync-level> must be "1" or "infinite", got ${JSON.stringify(level)}`);
  const out: SyncCollectionReport = { type: 'sync-collection', syncToken: tokenEl.text.trim(), syncLevel: level, ...reportProps(el) };
  const limitEl = onlyKid(el, NS_DAV, 'limit');
  if (limitEl) out.limit = nresults(limitEl, NS_DAV);
  return out;
}

export function parseFreeBusyQuery(input: XmlInput, limits?: XmlLimits): FreeBusyQueryReport {
  const el = requireRoot(input, NS_CALDAV, 'free-busy-query', limits);
  const tr = onlyKid(el, NS_CALDAV, 'time-range', { required: true }) as XmlElement;
  return { type: 'free-busy-query', timeRange: parseRange(tr, 'time-range') };
}

function parseExpandItems(el: XmlElement): ExpandPropertyItem[] {
  return kids(el, NS_DAV, 'property').map((p) => {
    const name = p.attrs['name'];
    if (!name) throw new DavXmlError('<property> in <expand-property> needs a name attribute');
    return { name: qname(p.attrs['namespace'] ?? NS_DAV, name), properties: parseExpandItems(p) };
  });
}

export function parseExpandProperty(input: XmlInput, limits?: XmlLimits): ExpandPropertyReport {
  const el = requireRoot(input, NS_DAV, 'expand-property', limits);
  return { type: 'expand-property', properties: parseExpandItems(el) };
}

export function parsePrincipalPropertySearch(input: XmlInput, limits?: XmlLimits): PrincipalPropertySearchReport {
  const el = requireRoot(input, NS_DAV, 'principal-property-search', limits);
  const test = el.attrs['test'] ?? 'allof';
  if (test !== 'allof' && test !== 'anyof') throw new DavXmlError('principal-property-search test must be "allof" or "anyof"');
  const searches = kids(el, NS_DAV, 'property-search').map((ps): PropertySearch => {
    const prop = onlyKid(ps, NS_DAV, 'prop', { required: true }) as XmlElement;
    const match = onlyKid(ps, NS_DAV, 'match', { required: true }) as XmlElement;
    const mt = match.attrs['match-type'] ?? 'contains';
    if (mt !== 'starts-with' && mt !== 'contains' && mt !== 'equals') throw new DavXmlError(`match-type ${JSON.stringify(mt)} is not supported`);
    const caseless = match.attrs['caseless'] ?? 'yes';
    if (caseless !== 'yes' && caseless !== 'no') throw new DavXmlError('caseless must be "yes" or "no"');
    const props = uniqueNames(prop);
    if (props.length === 0) throw new DavXmlError('<property-search> must name at least one property');
    return { props, match: match.text, matchType: mt, caseless: caseless === 'yes' };
  });
  if (searches.length === 0) throw new DavXmlError('<principal-property-search> must contain at least one <property-search>');
  return {
    type: 'principal-property-search',
    test,
    searches,
    props: reportProps(el).props,
    applyToPrincipalCollectionSet: kid(el, NS_DAV, 'apply-to-principal-collection-set') !== undefined,
  };
}

export function parsePrincipalSearchPropertySet(input: XmlInput, limits?: XmlLimits): PrincipalSearchPropertySetReport {
  requireRoot(input, NS_DAV, 'principal-search-property-set', limits);
  return { type: 'principal-search-property-set' };
}

export function parseCalendarServerPrincipalSearch(input: XmlInput, limits?: XmlLimits): CalendarServerPrincipalSearchReport {
  const el = requireRoot(input, NS_CS, 'calendarserver-principal-search', limits);
  const tokens = kids(el, NS_CS, 'search-token').map((t) => t.text.trim()).filter((t) => t !== '');
  if (tokens.length === 0) throw new DavXmlError('<calendarserver-principal-search> must contain a non-empty <search-token>');
  const out: CalendarServerPrincipalSearchReport = { type: 'calendarserver-principal-search', tokens, props: reportProps(el).props };
  const ctx = el.attrs['context'];
  if (ctx !== undefined) out.context = ctx;
  const limitEl = onlyKid(el, NS_CS, 'limit');
  if (limitEl) out.limit = nresults(limitEl, NS_CS);
  return out;
}

export function parseAclPrincipalPropSet(input: XmlInput, limits?: XmlLimits): AclPrincipalPropSetReport {
  const el = requireRoot(input, NS_DAV, 'acl-principal-prop-set', limits);
  return { type: 'acl-principal-prop-set', props: reportProps(el).props };
}

export function parsePrincipalMatch(input: XmlInput, limits?: XmlLimits): PrincipalMatchReport {
  const el = requireRoot(input, NS_DAV, 'principal-match', limits);
  const self = kid(el, NS_DAV, 'self');
  const pp = kid(el, NS_DAV, 'principal-property');
  if ((self ? 1 : 0) + (pp ? 1 : 0) !== 1) throw new DavXmlError('<principal-match> must contain exactly one of <self> or <principal-property>');
  let match: PrincipalMatchReport['match'] = { kind: 'self' };
  if (pp) {
    const first = pp.children[0];
    if (!first || pp.children.length !== 1) throw new DavXmlError('<principal-property> must name exactly one property');
    match = { kind: 'principal-property', name: qnameOf(first) };
  }
  return { type: 'principal-match', match, props: reportProps(el).props };
}

const REPORT_PARSERS: ReadonlyMap<QName, (el: XmlElement) => ReportRequest> = new Map<QName, (el: XmlElement) => ReportRequest>([
  [carddav('addressbook-query'), (el) => parseAddressbookQuery(el)],
  [carddav('addressbook-multiget'), (el) => parseAddressbookMultiget(el)],
  [caldav('calendar-query'), (el) => parseCalendarQuery(el)],
  [caldav('calendar-multiget'), (el) => parseCalendarMultiget(el)],
  [caldav('free-busy-query'), (el) => parseFreeBusyQuery(el)],
  [dav('sync-collection'), (el) => parseSyncCollection(el)],
  [dav('expand-property'), (el) => parseExpandProperty(el)],
  [dav('principal-property-search'), (el) => parsePrincipalPropertySearch(el)],
  [dav('principal-search-property-set'), (el) => parsePrincipalSearchPropertySet(el)],
  [qname(NS_CS, 'calendarserver-principal-search'), (el) => parseCalendarServerPrincipalSearch(el)],
  [dav('acl-principal-prop-set'), (el) => parseAclPrincipalPropSet(el)],
  [dav('principal-match'), (el) => parsePrincipalMatch(el)],
]);

/**
 * Parse any REPORT body, dispatching on the root element. Unknown reports throw a DavXmlError
 * with precondition {DAV:}supported-report (403, RFC 3253 §3.6).
 */
export function parseReport(input: XmlInput, limits?: XmlLimits): ReportRequest {
  const el = toRoot(input, limits);
  if (!el) throw new DavXmlError('REPORT needs a request body');
  const parse = REPORT_PARSERS.get(qnameOf(el));
  if (!parse) throw new DavXmlError(`report ${qnameOf(el)} is not supported`, { precondition: dav('supported-report') });
  return parse(el);
}
