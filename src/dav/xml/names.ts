// Namespace constants and Clark-notation qualified names ("{DAV:}displayname").
// A QName is a plain string so it can be used as a Map key and compared with ===.

export const NS_DAV = 'DAV:';
export const NS_CALDAV = 'urn:ietf:params:xml:ns:caldav';
export const NS_CARDDAV = 'urn:ietf:params:xml:ns:carddav';
export const NS_CS = 'http://calendarserver.org/ns/';
export const NS_ICAL = 'http://apple.com/ns/ical/';
/** Kalends' own namespace, used for human-readable reasons in error bodies. */
export const NS_KALENDS = 'urn:kalends:dav';
export const NS_XML = 'http://www.w3.org/XML/1998/namespace';

/** Clark notation: `{namespace}local`; the empty namespace is `{}local`. */
export type QName = `{${string}}${string}`;

export function qname(ns: string, name: string): QName {
  return `{${ns}}${name}`;
}

export const dav = (name: string): QName => qname(NS_DAV, name);
export const caldav = (name: string): QName => qname(NS_CALDAV, name);
export const carddav = (name: string): QName => qname(NS_CARDDAV, name);
export const cs = (name: string): QName => qname(NS_CS, name);
export const ical = (name: string): QName => qname(NS_ICAL, name);
export const kalends = (name: string): QName => qname(NS_KALENDS, name);

/** Split a QName into namespace and local name. Throws TypeError on a string that is not Clark notation. */
export function splitQName(q: string): { ns: string; name: string } {
  if (q.startsWith('{')) {
    const close = q.indexOf('}');
    if (close > 0 && close < q.length - 1) return { ns: q.slice(1, close), name: q.slice(close + 1) };
  }
  throw new TypeError(`not a Clark-notation name: ${q}`);
}

export function isQName(s: string): s is QName {
  const close = s.indexOf('}');
  return s.startsWith('{') && close > 0 && close < s.length - 1;
}

/** The QName of an element-like value. */
export function qnameOf(el: { ns: string; name: string }): QName {
  return qname(el.ns, el.name);
}

/** True when `el` is the element `{ns}name`. */
export function isElement(el: { ns: string; name: string }, ns: string, name: string): boolean {
  return el.ns === ns && el.name === name;
}
