// Href encoding and decoding for DAV:href values.

import { DavXmlError } from './errors.ts';

/**
 * Decode a DAV:href from a request into a server path.
 * - Absolute URLs (`https://host/cal/x.ics`) are reduced to their path; query and fragment are dropped.
 * - Each segment is percent-decoded on its own; malformed escapes, invalid UTF-8, control
 *   characters, an encoded "/" inside a segment, and "." or ".." segments are refused with a
 *   DavXmlError (400), so callers never see an ambiguous or traversing path.
 * - Relative hrefs are decoded the same way and returned without a leading "/"; resolving them
 *   against the request URI is the caller's job.
 */
export function decodeHref(href: string): string {
  let h = href.trim();
  if (h === '') throw new DavXmlError('empty href');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(h)) {
    let url: URL;
    try {
      url = new URL(h);
    } catch (e) {
      throw new DavXmlError(`invalid href ${JSON.stringify(href)}`, { cause: e });
    }
    // URL.pathname keeps percent-escapes, so decoding below still applies.
    h = url.pathname;
  } else {
    const cut = h.search(/[?#]/);
    if (cut >= 0) h = h.slice(0, cut);
  }
  const segments = h.split('/');
  const out: string[] = [];
  for (const seg of segments) {
    let d: string;
    try {
      d = decodeURIComponent(seg);
    } catch (e) {
      throw new DavXmlError(`invalid percent-encoding in href ${JSON.stringify(href)}`, { cause: e });
    }
    if (d.includes('/')) throw new DavXmlError(`href ${JSON.stringify(href)} encodes "/" inside a path segment`);
    if (d === '.' || d === '..') throw new DavXmlError(`href ${JSON.stringify(href)} contains a "." or ".." segment`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(d)) throw new DavXmlError(`href ${JSON.stringify(href)} contains control characters`);
    out.push(d);
  }
  return out.join('/');
}

// RFC 3986 pchar minus "%": unreserved / sub-delims / ":" / "@" (sabre/dav keeps the same set, minus "*").
const SAFE_SEGMENT_CHAR = /[A-Za-z0-9\-._~()'!$&+,;=@:]/;
const SAFE_SEGMENT = /^[A-Za-z0-9\-._~()'!$&+,;=@:]*$/;

/** Percent-encode one path segment (UTF-8), leaving RFC 3986 pchar characters alone. */
export function encodePathSegment(segment: string): string {
  // most segments need no escaping at all (a listing encodes thousands of them)
  if (SAFE_SEGMENT.test(segment)) return segment;
  let out = '';
  for (const ch of segment) {
    if (SAFE_SEGMENT_CHAR.test(ch)) out += ch;
    else out += encodeURIComponent(ch.isWellFormed() ? ch : '\uFFFD').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  return out;
}

/**
 * Encode a value for a DAV:href element.
 * A path (starting with "/", or a relative path) is percent-encoded segment by segment, keeping "/".
 * A value that already is an absolute URI (`mailto:a@b`, `https://…`, `urn:…`) is returned unchanged.
 */
export function encodeHref(pathOrUri: string): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(pathOrUri) && !pathOrUri.startsWith('/')) return pathOrUri;
  return pathOrUri.split('/').map(encodePathSegment).join('/');
}
