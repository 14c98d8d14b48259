// A small, strict, non-recursive XML 1.0 + Namespaces parser for DAV request bodies.
//
// Why not fast-xml-parser (the project's XML parser elsewhere)? Measured against 5.12.1 it
// (1) normalises CRLF to LF before parsing, so calendar-timezone/calendar-description text cannot
// round-trip byte-exactly; (2) accepts mismatched end tags (`<a><b></c></a>` parses) unless a
// separate validator pass is run; (3) refuses or renames element names such as `__proto__` or
// `constructor`, which would corrupt dead properties; (4) only decodes numeric character
// references together with the HTML entity table. DAV bodies use a tiny subset of XML, so a
// purpose-built parser with no DTD support at all is simpler to make safe.
//
// Security properties: no DTD, no entity declarations, no external resources, ever. `<!DOCTYPE`
// and `<!ENTITY` are refused outright; only the five predefined entities and character references
// are decoded. Input size, nesting depth and element count are bounded, and the parser keeps an
// explicit stack (no recursion), so any input either yields a tree or throws DavXmlError.
//
// Deliberate deviation: literal CR characters in text are kept as they are (XML 1.0 §2.11 would
// turn CRLF into LF). iCalendar text inside DAV properties wants CRLF, and clients that escape CR
// as `&#13;` get the same result either way.

import { DavXmlError } from './errors.ts';
import { NS_XML } from './names.ts';

export type XmlElement = {
  ns: string;
  name: string;
  /** Unprefixed attributes by local name; namespaced attributes in Clark form `{ns}local`. xmlns declarations are not included. */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Character data directly inside the element (text and CDATA, concatenated). Whitespace-only text is dropped when the element has child elements. */
  text: string;
};

export type XmlLimits = { maxBytes?: number; maxDepth?: number; maxElements?: number };

export const DEFAULT_XML_LIMITS: Readonly<Required<XmlLimits>> = Object.freeze({
  maxBytes: 8 * 1024 * 1024,
  maxDepth: 64,
  maxElements: 100_000,
});

const NS_XMLNS = 'http://www.w3.org/2000/xmlns/';

const NAME_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = NAME_START + '\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040';
const NAME_STICKY = new RegExp(`[:${NAME_START}][:${NAME_CHAR}]*`, 'uy');
const NCNAME_FULL = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`, 'u');
// Characters XML 1.0 does not allow anywhere in a document (not even as character references).
const INVALID_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const WS_ONLY = /^[ \t\r\n]*$/;

/** True if `s` is a valid XML NCName (an element or attribute local name, or a prefix). */
export function isNCName(s: string): boolean {
  return NCNAME_FULL.test(s);
}

/** True if the code point may appear in an XML 1.0 document. */
export function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

type Scope = { parent: Scope | null; decls: Map<string, string> };

type Frame = {
  el: XmlElement;
  rawName: string;
  scope: Scope;
};

const ROOT_SCOPE: Scope = { parent: null, decls: new Map([['xml', NS_XML], ['', '']]) };

function lookup(scope: Scope, prefix: string): string | undefined {
  for (let s: Scope | null = scope; s; s = s.parent) {
    const v = s.decls.get(prefix);
    if (v !== undefined) return v;
  }
  return undefined;
}

function setOwn(obj: Record<string, string>, key: string, value: string): void {
  // defineProperty so that a key such as "__proto__" becomes an ordinary own property.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Parse a DAV request body into a namespace-resolved element tree.
 * Throws DavXmlError (status 400, or 413 for maxBytes) for anything that is not a well-formed,
 * DTD-free document within the limits.
 */
export function parseXml(body: string | Buffer | Uint8Array, limits: XmlLimits = {}): XmlElement {
  const lim = { ...DEFAULT_XML_LIMITS, ...stripUndefined(limits) };
  try {
    const text = decodeBody(body, lim.maxBytes);
    return new Parser(text, lim).parseDocument();
  } catch (e) {
    if (e instanceof DavXmlError) throw e;
    // Defensive: nothing but DavXmlError may escape (e.g. RangeError from an engine limit).
    throw new DavXmlError('malformed XML body', { cause: e });
  }
}

function stripUndefined(l: XmlLimits): XmlLimits {
  const out: XmlLimits = {};
  if (l.maxBytes !== undefined) out.maxBytes = l.maxBytes;
  if (l.maxDepth !== undefined) out.maxDepth = l.maxDepth;
  if (l.maxElements !== undefined) out.maxElements = l.maxElements;
  return out;
}

function decodeBody(body: unknown, maxBytes: number): string {
  if (typeof body === 'string') {
    if (body.length > maxBytes || Buffer.byteLength(body, 'utf8') > maxBytes) {
      throw new DavXmlError(`XML body exceeds ${maxBytes} bytes`, { status: 413 });
    }
    return body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  }
  if (!(body instanceof Uint8Array)) throw new DavXmlError('XML body must be a string or a Buffer');
  if (body.byteLength > maxBytes) throw new DavXmlError(`XML body exceeds ${maxBytes} bytes`, { status: 413 });
  return decodeXml(body);
}

/** The charset parameter of a Content-Type header, lower-cased; undefined when there is none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m?.[1]?.toLowerCase();
}

type Encoding = 'utf-8' | 'us-ascii' | 'iso-8859-1' | 'utf-16le' | 'utf-16be';

const ENCODINGS: Record<string, Encoding> = {
  'utf-8': 'utf-8', utf8: 'utf-8', 'us-ascii': 'us-ascii', ascii: 'us-ascii',
  'iso-8859-1': 'iso-8859-1', 'iso_8859-1': 'iso-8859-1', latin1: 'iso-8859-1', l1: 'iso-8859-1',
  'utf-16le': 'utf-16le', 'utf-16be': 'utf-16be',
};

// ASCII text reads the same as UTF-8: a body declared one and labelled the other is no conflict.
const family = (e: Encoding) => (e === 'us-ascii' ? 'utf-8' : e);

/**
 * The text of an XML body given as bytes. Its encoding is named by the media type's charset
 * (RFC 7303 §3.2), a byte order mark or the XML declaration (XML 1.0 §4.3.3, Appendix F), UTF-8
 * when none does. Bytes that are not valid in that encoding are a fatal error (XML 1.0 §4.3.3),
 * never replacement characters; an encoding Kalends does not read is 415, and a body whose
 * declarations disagree is refused rather than read one way or the other.
 */
export function decodeXml(b: Uint8Array, charset?: string): string {
  const named: [string, string][] = [];
  if (charset !== undefined) named.push(['the Content-Type charset', charset]);
  let start = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) { named.push(['the byte order mark', 'utf-8']); start = 3; }
  else if (b[0] === 0xff && b[1] === 0xfe) { named.push(['the byte order mark', 'utf-16le']); start = 2; }
  else if (b[0] === 0xfe && b[1] === 0xff) { named.push(['the byte order mark', 'utf-16be']); start = 2; }
  else {
    const head = Buffer.from(b.subarray(0, 256)).toString('latin1');
    const m = /^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
    if (m?.[1] !== undefined) named.push(['the XML declaration', m[1]]);
  }
  const encodings = named.map(([where, name]) => {
    const enc = ENCODINGS[name.toLowerCase()];
    if (enc === undefined) throw new DavXmlError(`${where} names the encoding "${name}", which Kalends does not read (use UTF-8)`, { status: 415 });
    return enc;
  });
  const enc = encodings[0] ?? 'utf-8';
  const other = encodings.findIndex((e) => family(e) !== family(enc));
  if (other >= 0) throw new DavXmlError(`${named[0]?.[0]} says ${named[0]?.[1]} but ${named[other]?.[0]} says ${named[other]?.[1]}`);
  const bytes = b.subarray(start);
  if (enc === 'iso-8859-1') return Buffer.from(bytes).toString('latin1');
  if (enc === 'us-ascii' && bytes.some((c) => c > 0x7f)) throw new DavXmlError('XML body declared US-ASCII has bytes above 0x7F');
  try {
    return new TextDecoder(enc === 'us-ascii' ? 'utf-8' : enc, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw new DavXmlError(`XML body is not valid ${enc === 'us-ascii' ? 'UTF-8' : enc.toUpperCase()} (XML 1.0 §4.3.3)`, { cause: e });
  }
}

class Parser {
  private readonly s: string;
  private i = 0;
  private elementCount = 0;
  private readonly maxDepth: number;
  private readonly maxElements: number;

  constructor(s: string, lim: Required<XmlLimits>) {
    this.s = s;
    this.maxDepth = lim.maxDepth;
    this.maxElements = lim.maxElements;
  }

  private fail(msg: string, at: number = this.i): never {
    let line = 1;
    let col = 1;
    const end = Math.min(at, this.s.length);
    for (let k = 0; k < end; k++) {
      if (this.s.charCodeAt(k) === 10) { line++; col = 1; } else col++;
    }
    throw new DavXmlError(`malformed XML: ${msg} (line ${line}, column ${col})`);
  }

  parseDocument(): XmlElement {
    const s = this.s;
    const bad = INVALID_CHAR.exec(s);
    if (bad) this.fail(`character U+${(bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, bad.index);
    if (s.startsWith('<?xml') && /[\s?]/.test(s.charAt(5))) this.readXmlDecl();
    let root: XmlElement | null = null;
    for (;;) {
      this.skipWs();
      if (this.i >= s.length) break;
      if (s.startsWith('<!--', this.i)) { this.readComment(); continue; }
      if (s.startsWith('<?', this.i)) { this.readPI(); continue; }
      if (s.startsWith('<!', this.i)) this.refuseDecl();
      if (s.charCodeAt(this.i) === 60 /* < */ && root === null) { root = this.readElementTree(); continue; }
      this.fail(root ? 'content after the root element' : 'expected the root element');
    }
    if (!root) this.fail('empty document, expected a root element');
    return root;
  }

  private refuseDecl(): never {
    const s = this.s;
    if (s.startsWith('<!DOCTYPE', this.i) || s.startsWith('<!doctype', this.i)) {
      throw new DavXmlError('DOCTYPE declarations are not allowed (no DTD or entity processing)');
    }
    if (s.startsWith('<!ENTITY', this.i)) throw new DavXmlError('ENTITY declarations are not allowed (no DTD or entity processing)');
    this.fail('markup declarations are not allowed');
  }

  private skipWs(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else return;
    }
  }

  private readXmlDecl(): void {
    const end = this.s.indexOf('?>', this.i);
    if (end < 0) this.fail('unterminated XML declaration');
    const decl = this.s.slice(this.i, end + 2);
    if (!/^<\?xml\s+version\s*=\s*(["'])1\.[0-9]+\1(\s+encoding\s*=\s*(["'])[A-Za-z][A-Za-z0-9._-]*\3)?(\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*\?>$/.test(decl)) {
      this.fail('invalid XML declaration');
    }
    this.i = end + 2;
  }

  private readComment(): void {
    const start = this.i + 4;
    const end = this.s.indexOf('-->', start);
    if (end < 0) this.fail('unterminated comment');
    const dd = this.s.indexOf('--', start);
    if (dd < end) this.fail('"--" is not allowed inside a comment', dd);
    this.i = end + 3;
  }

  private readPI(): void {
    NAME_STICKY.lastIndex = this.i + 2;
    const m = NAME_STICKY.exec(this.s);
    if (!m) this.fail('invalid processing instruction');
    if (m[0].toLowerCase() === 'xml') this.fail('XML declaration is only allowed at the start of the document');
    const after = this.i + 2 + m[0].length;
    const end = this.s.indexOf('?>', after);
    if (end < 0) this.fail('unterminated processing instruction');
    if (end > after && !/[ \t\r\n]/.test(this.s.charAt(after))) this.fail('invalid processing instruction');
    this.i = end + 2;
  }

  private readName(): string {
    NAME_STICKY.lastIndex = this.i;
    const m = NAME_STICKY.exec(this.s);
    if (!m) this.fail('expected a name');
    this.i += m[0].length;
    return m[0];
  }

  /** Reads the root element and everything inside it, iteratively. */
  private readElementTree(): XmlElement {
    const s = this.s;
    const stack: Frame[] = [];
    let root: XmlElement | null = null;
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (root) return root;
        // first start tag
        const frame = this.readStartTag(ROOT_SCOPE, 0);
        root = frame.el;
        if (frame.selfClosed) return root;
        stack.push(frame);
        continue;
      }
      const lt = s.indexOf('<', this.i);
      if (lt < 0) this.fail(`unclosed element <${top.rawName}>`, s.length);
      if (lt > this.i) {
        top.el.text += this.decodeText(s.slice(this.i, lt), this.i);
        this.i = lt;
      }
      const c1 = s.charCodeAt(lt + 1);
      if (c1 === 47 /* / */) {
        this.i = lt + 2;
        const name = this.readName();
        this.skipWs();
        if (s.charCodeAt(this.i) !== 62) this.fail(`expected ">" to end </${name}>`);
        if (name !== top.rawName) this.fail(`end tag </${name}> does not match <${top.rawName}>`, lt);
        this.i++;
        finish(top.el);
        stack.pop();
      } else if (c1 === 33 /* ! */) {
        if (s.startsWith('<!--', lt)) this.readComment();
        else if (s.startsWith('<![CDATA[', lt)) {
          const end = s.indexOf(']]>', lt + 9);
          if (end < 0) this.fail('unterminated CDATA section');
          top.el.text += s.slice(lt + 9, end);
          this.i = end + 3;
        } else this.refuseDecl();
      } else if (c1 === 63 /* ? */) {
        this.readPI();
      } else {
        const frame = this.readStartTag(top.scope, stack.length);
        top.el.children.push(frame.el);
        if (!frame.selfClosed) stack.push(frame);
      }
    }
  }

  private readStartTag(parentScope: Scope, depth: number): Frame & { selfClosed: boolean } {
    const s = this.s;
    const start = this.i;
    if (depth + 1 > this.maxDepth) throw new DavXmlError(`XML nesting deeper than ${this.maxDepth} levels`);
    if (++this.elementCount > this.maxElements) throw new DavXmlError(`XML body has more than ${this.maxElements} elements`);
    this.i++; // <
    const rawName = this.readName();
    const rawAttrs: [string, string][] = [];
    const seenAttrs = new Set<string>();
    let selfClosed = false;
    for (;;) {
      const before = this.i;
      this.skipWs();
      const c = s.charCodeAt(this.i);
      if (c === 62 /* > */) { this.i++; break; }
      if (c === 47 /* / */ && s.charCodeAt(this.i + 1) === 62) { this.i += 2; selfClosed = true; break; }
      if (Number.isNaN(c)) this.fail(`unterminated start tag <${rawName}>`, start);
      if (this.i === before) this.fail('expected whitespace before an attribute');
      const an = this.readName();
      this.skipWs();
      if (s.charCodeAt(this.i) !== 61 /* = */) this.fail(`expected "=" after attribute ${an}`);
      this.i++;
      this.skipWs();
      const q = s.charCodeAt(this.i);
      if (q !== 34 && q !== 39) this.fail(`attribute ${an} value must be quoted`);
      const end = s.indexOf(q === 34 ? '"' : "'", this.i + 1);
      if (end < 0) this.fail(`unterminated value of attribute ${an}`);
      const raw = s.slice(this.i + 1, end);
      if (raw.includes('<')) this.fail(`"<" is not allowed in the value of attribute ${an}`);
      const value = this.decodeRefs(raw.replace(/\r\n?|[\n\t]/g, ' '), this.i + 1);
      if (seenAttrs.has(an)) this.fail(`duplicate attribute ${an}`);
      seenAttrs.add(an);
      rawAttrs.push([an, value]);
      this.i = end + 1;
    }

    // Namespace declarations first, then resolve names.
    let decls: Map<string, string> | null = null;
    for (const [an, value] of rawAttrs) {
      let prefix: string | null = null;
      if (an === 'xmlns') prefix = '';
      else if (an.startsWith('xmlns:')) {
        prefix = an.slice(6);
        if (!isNCName(prefix)) this.fail(`invalid namespace prefix ${prefix}`, start);
        if (prefix === 'xmlns') this.fail('the xmlns prefix cannot be declared', start);
        if (value === '') this.fail(`namespace prefix ${prefix} cannot be bound to the empty namespace`, start);
        if ((prefix === 'xml') !== (value === NS_XML)) this.fail('the xml prefix is bound to its namespace only', start);
      }
      if (prefix === null) continue;
      if (value === NS_XMLNS || (prefix === '' && value === NS_XML)) this.fail(`namespace ${value} cannot be declared`, start);
      (decls ??= new Map()).set(prefix, value);
    }
    const scope: Scope = decls ? { parent: parentScope, decls } : parentScope;
    const { prefix, local } = this.splitName(rawName, start);
    const ns = lookup(scope, prefix);
    if (ns === undefined) throw new DavXmlError(`unbound namespace prefix "${prefix}" on element <${rawName}>`);
    const attrs: Record<string, string> = {};
    for (const [an, value] of rawAttrs) {
      if (an === 'xmlns' || an.startsWith('xmlns:')) continue;
      const p = this.splitName(an, start);
      let key = p.local;
      if (p.prefix !== '') {
        const ans = lookup(scope, p.prefix);
        if (ans === undefined) throw new DavXmlError(`unbound namespace prefix "${p.prefix}" on attribute ${an}`);
        key = `{${ans}}${p.local}`;
      }
      if (Object.prototype.hasOwnProperty.call(attrs, key)) this.fail(`duplicate attribute ${key}`, start);
      setOwn(attrs, key, value);
    }
    return { el: { ns, name: local, attrs, children: [], text: '' }, rawName, scope, selfClosed };
  }

  private splitName(raw: string, at: number): { prefix: string; local: string } {
    const c = raw.indexOf(':');
    if (c < 0) {
      if (!isNCName(raw)) this.fail(`invalid name ${raw}`, at);
      return { prefix: '', local: raw };
    }
    const prefix = raw.slice(0, c);
    const local = raw.slice(c + 1);
    if (!isNCName(prefix) || !isNCName(local)) this.fail(`invalid qualified name ${raw}`, at);
    return { prefix, local };
  }

  private decodeText(raw: string, at: number): string {
    const cd = raw.indexOf(']]>');
    if (cd >= 0) this.fail('"]]>" is not allowed in text', at + cd);
    return raw.includes('&') ? this.decodeRefs(raw, at) : raw;
  }

  private decodeRefs(raw: string, at: number): string {
    let out = '';
    let pos = 0;
    for (;;) {
      const amp = raw.indexOf('&', pos);
      if (amp < 0) return out + raw.slice(pos);
      out += raw.slice(pos, amp);
      const semi = raw.indexOf(';', amp + 1);
      if (semi < 0 || semi - amp > 12) this.fail('"&" must start an entity or character reference', at + amp);
      const ref = raw.slice(amp + 1, semi);
      out += this.resolveRef(ref, at + amp);
      pos = semi + 1;
    }
  }

  private resolveRef(ref: string, at: number): string {
    switch (ref) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'apos': return "'";
      case 'quot': return '"';
    }
    let cp = NaN;
    if (/^#x[0-9A-Fa-f]{1,8}$/.test(ref)) cp = parseInt(ref.slice(2), 16);
    else if (/^#[0-9]{1,10}$/.test(ref)) cp = parseInt(ref.slice(1), 10);
    else this.fail(`undefined entity &${ref}; (only the predefined XML entities and character references are allowed)`, at);
    if (!isXmlChar(cp)) this.fail(`character reference &${ref}; is not an allowed XML character`, at);
    return String.fromCodePoint(cp);
  }
}

function finish(el: XmlElement): void {
  if (el.children.length > 0 && WS_ONLY.test(el.text)) el.text = '';
}
