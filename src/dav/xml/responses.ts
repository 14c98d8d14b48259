// XML serializer and builders for DAV response bodies (207 Multi-Status, DAV:error, properties).
//
// Prefixes are stable so responses are easy to read and diff: d: DAV:, c: CalDAV,
// cs: CalendarServer, ical: Apple iCal, k: Kalends. They are declared once on the root element,
// and only when used. Any other namespace gets a generated prefix (x0, x1, …) declared on the
// element where it first appears. No default namespace is ever declared, so elements in the empty
// namespace are written unprefixed.
//
// Any string content produces well-formed XML: markup characters are escaped, CR is written as
// &#13; (so iCalendar CRLFs survive a conforming parser), and characters XML 1.0 cannot carry at
// all (most C0 controls, U+FFFE/U+FFFF, lone surrogates) are replaced with U+FFFD.

import { STATUS_CODES } from 'node:http';
import { DavXmlError } from './errors.ts';
import { SUPPORTED_COLLATIONS } from './filter-model.ts';
import { encodeHref } from './href.ts';
import { NS_CALDAV, NS_CARDDAV, NS_CS, NS_DAV, NS_ICAL, NS_KALENDS, NS_XML, caldav, dav, kalends, splitQName } from './names.ts';
import type { QName } from './names.ts';
import { isNCName } from './parse.ts';
import type { XmlElement } from './parse.ts';

export const STABLE_PREFIXES: ReadonlyMap<string, string> = new Map([
  [NS_DAV, 'd'],
  [NS_CALDAV, 'c'],
  [NS_CARDDAV, 'card'],
  [NS_CS, 'cs'],
  [NS_ICAL, 'ical'],
  [NS_KALENDS, 'k'],
]);

// ---------------------------------------------------------------------------------------------
// Escaping

const TEXT_SPECIAL = /[&<>\r]|[^\t\n\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ATTR_SPECIAL = /[&<>"\t\n\r]|[^\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ESCAPES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;',
};

/** Escape character data for element content. */
export function escapeText(s: string): string {
  return s.replace(TEXT_SPECIAL, (c) => ESCAPES[c] ?? '\uFFFD');
}

/** Escape an attribute value (for a double-quoted attribute). */
export function escapeAttr(s: string): string {
  return s.replace(ATTR_SPECIAL, (c) => ESCAPES[c] ?? '\uFFFD');
}

// ---------------------------------------------------------------------------------------------
// Serializer

export type SerializeOptions = {
  /** Emit `<?xml version="1.0" encoding="utf-8"?>` first (default true). */
  declaration?: boolean;
};

/** Serialize an element tree to a namespaced XML document string. */
export function serializeXml(root: XmlElement, options: SerializeOptions = {}): string {
  const out: string[] = [];
  if (options.declaration ?? true) out.push(DECLARATION);
  const used = new Set<string>();
  collectNamespaces(root, used);
  const { scope, decls } = rootScope(used);
  writeElement(root, scope, decls, out, { counter: 0 });
  return out.join('');
}

const DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n';

/** Every namespace an element tree uses, in element and attribute names. */
function collectNamespaces(root: XmlElement, used: Set<string>): void {
  const walk: XmlElement[] = [root];
  for (let e = walk.pop(); e; e = walk.pop()) {
    used.add(e.ns);
    for (const k of Object.keys(e.attrs)) if (k.startsWith('{')) used.add(splitAttrKey(k).ns);
    for (const c of e.children) walk.push(c);
  }
}

/** The stable prefixes that are used anywhere, declared on the root. */
function rootScope(used: Set<string>): { scope: Map<string, string>; decls: [string, string][] } {
  const scope = new Map<string, string>([[NS_XML, 'xml'], ['', '']]);
  const decls: [string, string][] = [];
  for (const [ns, prefix] of STABLE_PREFIXES) {
    if (used.has(ns)) {
      scope.set(ns, prefix);
      decls.push([prefix, ns]);
    }
  }
  return { scope, decls };
}

const NO_DECLS: [string, string][] = [];

/** Element names already found to be NCNames: a listing writes the same few thousands of times. */
const GOOD_NAMES = new Set<string>();
function goodName(name: string): boolean {
  if (GOOD_NAMES.has(name)) return true;
  if (!isNCName(name)) return false;
  if (GOOD_NAMES.size < 1000) GOOD_NAMES.add(name);
  return true;
}

function splitAttrKey(key: string): { ns: string; name: string } {
  if (!key.startsWith('{')) return { ns: '', name: key };
  try {
    return splitQName(key);
  } catch {
    throw new DavXmlError(`invalid attribute name ${JSON.stringify(key)}`, { status: 500 });
  }
}

function writeElement(
  el: XmlElement,
  parentScope: Map<string, string>,
  extraDecls: [string, string][],
  out: string[],
  state: { counter: number },
): void {
  let scope = parentScope;
  // copied only when this element declares something (most declare nothing)
  let decls = extraDecls;
  const prefixFor = (ns: string): string => {
    if (ns === 'http://www.w3.org/2000/xmlns/') throw new DavXmlError('cannot serialize names in the xmlns namespace', { status: 500 });
    const p = scope.get(ns);
    if (p !== undefined) return p;
    if (scope === parentScope) scope = new Map(parentScope);
    const np = `x${state.counter++}`;
    scope.set(ns, np);
    if (decls === extraDecls) decls = [...extraDecls];
    decls.push([np, ns]);
    return np;
  };
  if (!goodName(el.name)) throw new DavXmlError(`cannot serialize element name ${JSON.stringify(el.name)}`, { status: 500 });
  const known = scope.get(el.ns);
  const ep = known !== undefined && el.ns !== 'http://www.w3.org/2000/xmlns/' ? known : prefixFor(el.ns);
  const tag = ep ? `${ep}:${el.name}` : el.name;
  let attrs = '';
  for (const key in el.attrs) {
    const value = el.attrs[key];
    const { ns, name } = splitAttrKey(key);
    if (!isNCName(name) || (ns === '' && name === 'xmlns')) {
      throw new DavXmlError(`cannot serialize attribute name ${JSON.stringify(key)}`, { status: 500 });
    }
    const ap = ns === '' ? '' : prefixFor(ns);
    attrs += ` ${ap ? `${ap}:` : ''}${name}="${escapeAttr(String(value))}"`;
  }
  let xmlns = '';
  for (const [p, ns] of decls) xmlns += ` xmlns:${p}="${escapeAttr(ns)}"`;
  if (el.children.length === 0 && el.text === '') {
    out.push(`<${tag}${xmlns}${attrs}/>`);
    return;
  }
  out.push(`<${tag}${xmlns}${attrs}>`);
  if (el.text !== '') out.push(escapeText(el.text));
  for (const c of el.children) writeElement(c, scope, NO_DECLS, out, state);
  out.push(`</${tag}>`);
}

// ---------------------------------------------------------------------------------------------
// Element builders

/** Build an element from a QName with text or children. */
export function element(name: QName, content: string | XmlElement | XmlElement[] | null = null, attrs: Record<string, string> = {}): XmlElement {
  const { ns, name: local } = splitQName(name);
  const el: XmlElement = { ns, name: local, attrs: { ...attrs }, children: [], text: '' };
  if (typeof content === 'string') el.text = content;
  else if (Array.isArray(content)) el.children = content;
  else if (content) el.children = [content];
  return el;
}

/** A property element: text for a string, child elements otherwise, empty for null (propname / 404 lists). */
export function propElement(name: QName, value: string | XmlElement | XmlElement[] | null = null): XmlElement {
  return element(name, value);
}

export function textProp(name: QName, value: string): XmlElement {
  return element(name, value);
}

/** An empty property element, as used in propname answers and 404 propstats. */
export function emptyProp(name: QName): XmlElement {
  return element(name);
}

/** A DAV:href element; paths are percent-encoded by segment, absolute URIs (mailto:, https:) are kept. */
export function hrefElement(pathOrUri: string): XmlElement {
  return element(dav('href'), encodeHref(pathOrUri));
}

/** A property holding one or more DAV:href children (current-user-principal, calendar-home-set, owner, …). */
export function hrefProp(name: QName, hrefs: string | string[]): XmlElement {
  return element(name, (Array.isArray(hrefs) ? hrefs : [hrefs]).map(hrefElement));
}

/** DAV:resourcetype, e.g. resourceTypeProp([dav('collection'), caldav('calendar')]). */
export function resourceTypeProp(types: QName[]): XmlElement {
  return element(dav('resourcetype'), types.map((t) => element(t)));
}

/** CALDAV:supported-calendar-component-set with one <c:comp name="…"/> per component. */
export function supportedCalendarComponentSetProp(components: string[]): XmlElement {
  return element(caldav('supported-calendar-component-set'), components.map((c) => element(caldav('comp'), null, { name: c })));
}

/** DAV:supported-report-set (RFC 3253 §3.1.5). */
export function supportedReportSetProp(reports: QName[]): XmlElement {
  return element(
    dav('supported-report-set'),
    reports.map((r) => element(dav('supported-report'), element(dav('report'), element(r)))),
  );
}

/** DAV:current-user-privilege-set (RFC 3744 §5.4), e.g. [dav('read'), dav('write')]. */
export function currentUserPrivilegeSetProp(privileges: QName[]): XmlElement {
  return element(dav('current-user-privilege-set'), privileges.map((p) => element(dav('privilege'), element(p))));
}

/** CALDAV:supported-collation-set (RFC 4791 §7.5.1). */
export function supportedCollationSetProp(collations: readonly string[] = SUPPORTED_COLLATIONS): XmlElement {
  return element(caldav('supported-collation-set'), collations.map((c) => element(caldav('supported-collation'), c)));
}

/** CALDAV:calendar-data carrying iCalendar text (CRLFs are preserved as &#13;). */
export function calendarDataProp(ics: string): XmlElement {
  return element(caldav('calendar-data'), ics);
}

// ---------------------------------------------------------------------------------------------
// Multi-Status and errors

/** `HTTP/1.1 404 Not Found` */
export function statusLine(status: number): string {
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new DavXmlError(`invalid HTTP status ${status}`, { status: 500 });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

export type PropStat = { status: number; props: XmlElement[]; error?: XmlElement; responseDescription?: string };

export type MultistatusResponse = {
  /** A server path (percent-encoded here) or an absolute URI (kept as is). */
  href: string;
  propstats?: PropStat[];
  /** Whole-resource status, used instead of propstats (e.g. 404 for a deleted member in sync-collection). */
  status?: number;
  error?: XmlElement;
  responseDescription?: string;
};

/** One DAV:response element of a multistatus. */
export function responseElement(r: MultistatusResponse): XmlElement {
  const kids: XmlElement[] = [hrefElement(r.href)];
  if (r.propstats && r.propstats.length > 0) {
    for (const ps of r.propstats) {
      const pk: XmlElement[] = [element(dav('prop'), ps.props), element(dav('status'), statusLine(ps.status))];
      if (ps.error) pk.push(ps.error);
      if (ps.responseDescription !== undefined) pk.push(element(dav('responsedescription'), ps.responseDescription));
      kids.push(element(dav('propstat'), pk));
    }
  } else if (r.status !== undefined) {
    kids.push(element(dav('status'), statusLine(r.status)));
  } else {
    throw new DavXmlError(`multistatus response for ${r.href} needs propstats or a status`, { status: 500 });
  }
  if (r.error) kids.push(r.error);
  if (r.responseDescription !== undefined) kids.push(element(dav('responsedescription'), r.responseDescription));
  return element(dav('response'), kids);
}

/** A DAV:multistatus element (RFC 4918 §14.16), with an RFC 6578 sync-token when given. */
export function multistatus(responses: MultistatusResponse[], syncToken?: string): XmlElement {
  const children = responses.map(responseElement);
  if (syncToken !== undefined) children.push(element(dav('sync-token'), syncToken));
  return element(dav('multistatus'), children);
}

/** One response's text and the namespaces it uses (all with stable prefixes). */
export type RenderedResponse = { readonly text: string; readonly namespaces: readonly string[] };

const STABLE_SCOPE = rootScope(new Set(STABLE_PREFIXES.keys())).scope;

/**
 * A multistatus document written one response at a time: each response is
 * turned into text as it is added and its element tree dropped, so a listing
 * of a large calendar holds its rows a page at a time and no tree of the
 * whole answer. The text is the same, byte for byte, as
 * serializeXml(multistatus(responses, syncToken)): the stable prefixes are
 * in scope for every response, and only those used are declared on the root
 * when it is finished.
 */
export class MultistatusWriter {
  readonly #parts: string[] = [];
  #pending: string[] = [];
  readonly #used = new Set<string>([NS_DAV]);
  readonly #state = { counter: 0 };
  readonly #scope = rootScope(new Set(STABLE_PREFIXES.keys())).scope;
  #count = 0;

  /** Responses added so far. */
  get count(): number {
    return this.#count;
  }

  add(r: MultistatusResponse): void {
    this.#write(responseElement(r));
    this.#count++;
  }

  /**
   * A response as the text add() writes for it, for a cache of responses
   * (src/caldav/response-cache.ts): null when its text depends on the
   * document around it (a namespace without a stable prefix gets a generated one).
   */
  static render(r: MultistatusResponse): RenderedResponse | null {
    const el = responseElement(r);
    const used = new Set<string>();
    collectNamespaces(el, used);
    for (const ns of used) if (!STABLE_PREFIXES.has(ns)) return null;
    const out: string[] = [];
    writeElement(el, STABLE_SCOPE, [], out, { counter: 0 });
    return { text: out.join(''), namespaces: [...used] };
  }

  /** A response render() wrote: the same bytes as add() of the response it came from. */
  addRendered(r: RenderedResponse): void {
    this.addWritten(r.text, r.namespaces);
  }

  /**
   * A response already written as text by a caller that renders many alike
   * (a calendar's members): it may use the stable prefixes of `namespaces`
   * only, and must read as add() would have written it.
   */
  addWritten(text: string, namespaces: readonly string[]): void {
    for (const ns of namespaces) this.#used.add(ns);
    this.#pending.push(text);
    if (this.#pending.length >= 256) this.#flush();
    this.#count++;
  }

  /** The whole document, with the sync-token (RFC 6578) last when given. */
  finish(syncToken?: string): string {
    return this.finishChunks(syncToken).join('');
  }

  /** The same document as a few long strings, to be written one after the other. */
  finishChunks(syncToken?: string): string[] {
    if (syncToken !== undefined) this.#write(element(dav('sync-token'), syncToken));
    this.#flush();
    const { scope, decls } = rootScope(this.#used);
    const open: string[] = [];
    // an empty multistatus is written as the serializer writes any empty element
    writeElement(element(dav('multistatus')), scope, decls, open, { counter: 0 });
    const head = open.join('');
    if (this.#parts.length === 0) return [DECLARATION + head];
    const tag = head.slice(1, head.indexOf(' '));
    return [`${DECLARATION}${head.slice(0, -2)}>`, ...this.#parts, `</${tag}>`];
  }

  #write(el: XmlElement): void {
    collectNamespaces(el, this.#used);
    // a response's pieces become one string, and every 256 responses one chunk: the
    // text waiting for the root is a few long strings, not a host of small ones
    const out: string[] = [];
    writeElement(el, this.#scope, [], out, this.#state);
    this.#pending.push(out.join(''));
    if (this.#pending.length >= 256) this.#flush();
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    this.#parts.push(this.#pending.join(''));
    this.#pending = [];
  }
}

/**
 * A DAV:error body (RFC 4918 §16) naming the failed precondition, e.g.
 * davError(caldav('supported-collation')). `description` adds <k:reason> in urn:kalends:dav,
 * so clients and users can see why a business rule refused the request.
 */
export function davError(precondition: QName | XmlElement, description?: string): XmlElement {
  const kids = [typeof precondition === 'string' ? element(precondition) : precondition];
  if (description !== undefined && description !== '') kids.push(element(kalends('reason'), description));
  return element(dav('error'), kids);
}
