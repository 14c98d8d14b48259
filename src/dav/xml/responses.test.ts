import t from 'tap';
import { randomBytes } from 'node:crypto';
import { decodeHref, encodeHref } from './href.ts';
import { caldav, cs, dav, ical, qname } from './names.ts';
import { parseXml } from './parse.ts';
import type { XmlElement } from './parse.ts';
import { parseProppatch } from './requests.ts';
import {
  calendarDataProp, currentUserPrivilegeSetProp, davError, element, emptyProp, escapeText, hrefProp, multistatus, MultistatusWriter, propElement,
  resourceTypeProp, serializeXml, statusLine, supportedCalendarComponentSetProp, supportedCollationSetProp, supportedReportSetProp, textProp,
} from './responses.ts';

t.test('a dead property round-trips exactly through PROPPATCH → store → PROPFIND', async (t) => {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop>` +
    `<x:meta xmlns:x="urn:crm" xmlns:y="urn:other" x:v="2" kind="deal &amp; &quot;more&quot;" xml:lang="de">` +
    `<x:owner id="7">Ann &amp; Bob &lt;ab@example.com&gt;</x:owner>` +
    `<y:tags><y:tag>hot</y:tag><y:tag/><z:tag xmlns:z="urn:third">\r\n  line two\r\n</z:tag></y:tags>` +
    `<A:href>/dav/x</A:href></x:meta></A:prop></A:set></A:propertyupdate>`;
  const op = parseProppatch(body)[0];
  if (op?.op !== 'set') throw new Error('expected a set');
  // A store would persist serializeXml(value, { declaration: false }) and parse it back later.
  const stored = serializeXml(op.value, { declaration: false });
  const reloaded = parseXml(stored);
  t.same(reloaded, op.value, 'element tree identical after store/reload');
  // …and inside a multistatus the same tree comes back to the client.
  const ms = parseXml(serializeXml(multistatus([{ href: '/dav/cal/a/', propstats: [{ status: 200, props: [reloaded] }] }])));
  const prop = ms.children[0]?.children[1]?.children[0]?.children[0];
  t.same(prop, op.value, 'identical inside a 207 response');
  t.match(stored, /^<x0:meta xmlns:d="DAV:" xmlns:x0="urn:crm" x0:v="2" kind="deal &amp; &quot;more&quot;" xml:lang="de">/);
  t.notMatch(stored, /xmlns:xml=/, 'the xml prefix is never declared');
});

t.test('multistatus: stable prefixes, statuses, sync-token; parse-serialize-parse is stable', async (t) => {
  const tree = multistatus(
    [
      {
        href: '/dav/cal/alice/home/',
        propstats: [
          {
            status: 200,
            props: [
              resourceTypeProp([dav('collection'), caldav('calendar')]),
              textProp(dav('displayname'), 'Sales <EU> & "Partners"'),
              textProp(cs('getctag'), 'http://kalends/ns/sync/7'),
              textProp(ical('calendar-color'), '#0082C9FF'),
              supportedCalendarComponentSetProp(['VEVENT', 'VTODO']),
              supportedReportSetProp([caldav('calendar-query'), caldav('calendar-multiget'), dav('sync-collection')]),
              currentUserPrivilegeSetProp([dav('read'), dav('write'), dav('write-properties'), dav('write-content')]),
              hrefProp(dav('owner'), '/dav/principals/alice/'),
              hrefProp(caldav('calendar-user-address-set'), ['mailto:alice@example.com', '/dav/principals/alice/']),
              supportedCollationSetProp(),
            ],
          },
          { status: 404, props: [emptyProp(qname('https://bitfire.at/webdav-push', 'topic'))] },
        ],
      },
      {
        href: '/dav/cal/alice/home/ev 1.ics',
        propstats: [{ status: 200, props: [textProp(dav('getetag'), '"e1"'), calendarDataProp('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n')] }],
      },
      { href: '/dav/cal/alice/home/deleted.ics', status: 404 },
      { href: '/dav/cal/alice/home/', status: 507, error: davError(dav('number-of-matches-within-limits')), responseDescription: 'more results' },
    ],
    'http://kalends/ns/sync/7',
  );
  const xml = serializeXml(tree);
  t.match(xml, /^<\?xml version="1\.0" encoding="utf-8"\?>\n<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http:\/\/calendarserver\.org\/ns\/" xmlns:ical="http:\/\/apple\.com\/ns\/ical\/">/);
  t.match(xml, /<d:href>\/dav\/cal\/alice\/home\/ev%201\.ics<\/d:href>/);
  t.match(xml, /<d:status>HTTP\/1\.1 200 OK<\/d:status>/);
  t.match(xml, /<d:status>HTTP\/1\.1 507 Insufficient Storage<\/d:status>/);
  t.match(xml, /<c:comp name="VEVENT"\/>/);
  t.match(xml, /<d:supported-report><d:report><c:calendar-query\/><\/d:report><\/d:supported-report>/);
  t.match(xml, /<d:privilege><d:write-content\/><\/d:privilege>/);
  t.match(xml, /<d:href>mailto:alice@example\.com<\/d:href>/);
  t.match(xml, /<x0:topic xmlns:x0="https:\/\/bitfire\.at\/webdav-push"\/>/);
  t.match(xml, /<c:calendar-data>BEGIN:VCALENDAR&#13;\nEND:VCALENDAR&#13;\n<\/c:calendar-data>/);
  t.match(xml, /<d:displayname>Sales &lt;EU&gt; &amp; "Partners"<\/d:displayname>/);
  t.match(xml, /<\/d:response><d:sync-token>http:\/\/kalends\/ns\/sync\/7<\/d:sync-token><\/d:multistatus>$/);

  const once = parseXml(xml);
  t.same(once, tree, 'parse(serialize(tree)) equals the built tree');
  t.equal(serializeXml(once), xml, 'serialize(parse(xml)) reproduces the same bytes');
  t.same(parseXml(serializeXml(once)), once);
  const cd = once.children[1]?.children[1]?.children[0]?.children[1];
  t.equal(cd?.text, 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n', 'CRLF survives');
});

t.test('parse-serialize-parse of RFC 4918 §9.1.3 and a sabre-style multistatus', async (t) => {
  const rfc = `<?xml version="1.0" encoding="utf-8" ?>
   <D:multistatus xmlns:D="DAV:">
     <D:response xmlns:R="http://ns.example.com/boxschema/">
       <D:href>http://www.example.com/file</D:href>
       <D:propstat>
         <D:prop>
           <R:bigbox>
             <R:BoxType>Box type A</R:BoxType>
           </R:bigbox>
           <R:author>
             <R:Name>J.J. Johnson</R:Name>
           </R:author>
         </D:prop>
         <D:status>HTTP/1.1 200 OK</D:status>
       </D:propstat>
       <D:propstat>
         <D:prop><R:DingALing/><R:Random/></D:prop>
         <D:status>HTTP/1.1 403 Forbidden</D:status>
         <D:responsedescription> The user does not have access to the
    DingALing property.
         </D:responsedescription>
       </D:propstat>
     </D:response>
     <D:responsedescription> There has been an access violation error.
     </D:responsedescription>
   </D:multistatus>`;
  const sabre = `<?xml version="1.0"?>\n<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:cal="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/"><d:response><d:href>/calendars/admin/default/</d:href><d:propstat><d:prop><d:sync-token>http://sabre.io/ns/sync/3</d:sync-token><cal:calendar-timezone>BEGIN:VCALENDAR&#13;\nEND:VCALENDAR&#13;\n</cal:calendar-timezone></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`;
  for (const doc of [rfc, sabre]) {
    const a = parseXml(doc);
    const b = parseXml(serializeXml(a));
    t.same(b, a);
    t.equal(serializeXml(b), serializeXml(a));
  }
});

t.test('davError with precondition and Kalends reason', async (t) => {
  const xml = serializeXml(davError(caldav('valid-calendar-object-resource'), 'Appointments linked to a closed deal are read-only'));
  t.equal(
    xml,
    '<?xml version="1.0" encoding="utf-8"?>\n<d:error xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:k="urn:kalends:dav">' +
      '<c:valid-calendar-object-resource/><k:reason>Appointments linked to a closed deal are read-only</k:reason></d:error>',
  );
  t.equal(serializeXml(davError(dav('valid-sync-token')), { declaration: false }), '<d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>');
  const withHref = davError(element(dav('no-conflicting-lock'), hrefProp(dav('lockroot'), '/a b').children));
  t.equal(serializeXml(withHref, { declaration: false }), '<d:error xmlns:d="DAV:"><d:no-conflicting-lock><d:href>/a%20b</d:href></d:no-conflicting-lock></d:error>');
});

t.test('any string content yields well-formed XML', async (t) => {
  const nasty = [
    '\u0000\u0001\u0008\u000b\u000c\u001f\u007f', '\uFFFE\uFFFF', '\uD800 lone \uDC00', ']]>', '<![CDATA[x]]>', '&amp;&#x0;&lt;', '"\'<>&\r\n\t', '😀 € é',
    '<!DOCTYPE x [<!ENTITY a "b">]>', '--', '\r', '?>',
  ];
  for (const s of nasty) {
    const tree = element(dav('prop'), [textProp(dav('displayname'), s), element(qname('urn:x', 'p'), null, { a: s, '{urn:y}b': s })]);
    const back = parseXml(serializeXml(tree));
    const text = back.children[0]?.text ?? '';
    t.notOk(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\uFFFE\uFFFF]/.test(text), `no forbidden characters for ${JSON.stringify(s)}`);
    t.ok(text.isWellFormed());
    // Everything XML can carry comes back unchanged.
    const representable = s.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
    t.equal(text, representable);
    t.equal(back.children[1]?.attrs['a'], representable);
    t.equal(back.children[1]?.attrs['{urn:y}b'], representable);
  }
  let bad = 0;
  for (let k = 0; k < 500; k++) {
    const s = randomBytes(64).toString('utf16le');
    try {
      parseXml(serializeXml(element(dav('prop'), [textProp(dav('displayname'), s), element(dav('x'), null, { v: s })])));
    } catch {
      bad++;
    }
  }
  t.equal(bad, 0, 'random UTF-16 strings always serialize to parseable XML');
  t.equal(escapeText('a\u0000b'), 'a\uFFFDb');
});

t.test('serializer refuses names that cannot be written', async (t) => {
  t.throws(() => serializeXml({ ns: 'DAV:', name: 'bad name', attrs: {}, children: [], text: '' }));
  t.throws(() => serializeXml({ ns: 'DAV:', name: 'a', attrs: { 'x y': '1' }, children: [], text: '' }));
  t.throws(() => serializeXml({ ns: 'DAV:', name: 'a', attrs: { xmlns: 'urn:evil' }, children: [], text: '' }));
  t.throws(() => multistatus([{ href: '/x' }]));
  t.throws(() => statusLine(42));
});

t.test('empty namespace, generated prefixes and propElement', async (t) => {
  const tree: XmlElement = element(dav('prop'), [
    { ns: '', name: 'plain', attrs: {}, children: [{ ns: 'urn:a', name: 'x', attrs: {}, children: [{ ns: '', name: 'inner', attrs: {}, children: [], text: 'i' }], text: '' }], text: '' },
    propElement(qname('urn:a', 'y'), 'v'),
    propElement(dav('z'), [element(dav('href'), '/a')]),
    propElement(dav('w')),
  ]);
  const xml = serializeXml(tree, { declaration: false });
  t.equal(
    xml,
    '<d:prop xmlns:d="DAV:"><plain><x0:x xmlns:x0="urn:a"><inner>i</inner></x0:x></plain><x1:y xmlns:x1="urn:a">v</x1:y><d:z><d:href>/a</d:href></d:z><d:w/></d:prop>',
  );
  t.same(parseXml(xml), tree);
});

t.test('hrefs', async (t) => {
  t.equal(encodeHref('/dav/cal/alice/Meeting with Jürgen #1?.ics'), '/dav/cal/alice/Meeting%20with%20J%C3%BCrgen%20%231%3F.ics');
  t.equal(encodeHref("/dav/a@b:c+d,e;f=g&h$i!j'k(l)m~n_o-p.q*r%s"), "/dav/a@b:c+d,e;f=g&h$i!j'k(l)m~n_o-p.q%2Ar%25s");
  t.equal(encodeHref('mailto:ann@example.com'), 'mailto:ann@example.com');
  t.equal(encodeHref('/lone\uD800'), '/lone%EF%BF%BD');
  for (const p of ['/dav/cal/alice/Meeting with Jürgen #1?.ics', '/a/b%c/', '/😀/é.ics', "/x/a@b:c+d,e;f=g&h$i!j'k(l)m~*.ics"]) {
    t.equal(decodeHref(encodeHref(p)), p, `round trip ${p}`);
  }
  t.equal(decodeHref('  /a%20b \n'), '/a b', 'surrounding whitespace is trimmed');
  t.equal(decodeHref('relative%20x.ics'), 'relative x.ics');
  t.equal(decodeHref('https://h.example:8443/dav/a%2Bb.ics#frag'), '/dav/a+b.ics');
});

t.test('MultistatusWriter writes the same bytes as serializeXml(multistatus(…)), response by response', async (t) => {
  type R = Parameters<typeof multistatus>[0][number];
  const other = element(qname('urn:crm', 'meta'), [element(qname('urn:other', 'tag'), 'hot')], { [`{urn:crm}v`]: '2', kind: 'a & "b"' });
  const cases: [string, R[], string | undefined][] = [
    ['empty', [], undefined],
    ['empty with a sync-token', [], 'urn:kalends:sync:1-2'],
    ['DAV: only', [{ href: '/dav/a b/', propstats: [{ status: 200, props: [textProp(dav('getetag'), '"1"')] }] }, { href: '/dav/gone.ics', status: 404 }], undefined],
    ['calendar data and a 404 propstat', [
      { href: '/dav/cal/x.ics', propstats: [{ status: 200, props: [textProp(dav('getetag'), '"e"'), calendarDataProp('BEGIN:VCALENDAR\r\nSUMMARY:a<b>&c\r\nEND:VCALENDAR\r\n')] }, { status: 404, props: [emptyProp(cs('getctag'))] }] },
      { href: '/dav/cal/y.ics', propstats: [{ status: 200, props: [textProp(dav('getetag'), '"f"')] }] },
    ], 'urn:kalends:sync:3-4'],
    ['namespaces outside the stable ones, in several responses', [
      { href: '/dav/1', propstats: [{ status: 200, props: [other, emptyProp(ical('calendar-color'))] }] },
      { href: '/dav/2', propstats: [{ status: 404, props: [emptyProp(qname('https://bitfire.at/webdav-push', 'topic')), other] }] },
      { href: '/dav/3', status: 507, error: davError(dav('number-of-matches-within-limits'), 'why'), responseDescription: 'more' },
    ], undefined],
  ];
  for (const [name, responses, token] of cases) {
    const w = new MultistatusWriter();
    for (const r of responses) w.add(r);
    t.equal(w.count, responses.length, `${name}: counted`);
    t.equal(w.finish(token), serializeXml(multistatus(responses, token)), name);
    // rendered once and added again (a cache of responses): the same bytes, or null where a response's text depends on the document
    const again = new MultistatusWriter();
    for (const r of responses) {
      const rendered = MultistatusWriter.render(r);
      if (rendered === null) again.add(r); else again.addRendered(rendered);
    }
    t.equal(again.count, responses.length, `${name}: rendered, counted`);
    t.equal(again.finish(token), serializeXml(multistatus(responses, token)), `${name}: rendered`);
  }
  t.equal(MultistatusWriter.render({ href: '/dav/1', propstats: [{ status: 200, props: [other] }] }), null, 'a response with a generated prefix is not rendered alone');
  t.not(MultistatusWriter.render({ href: '/dav/1', status: 404 }), null);
});
