import t from 'tap';
import type { Test } from 'tap';
import { DavXmlError } from './errors.ts';
import { caldav, carddav, cs, dav, ical, qname } from './names.ts';
import { parseXml } from './parse.ts';
import {
  parseCalendarQuery, parseMkcalendar, parseMkcol, parsePropfind, parseProppatch, parseReport, parseUtcDateTime,
} from './requests.ts';
import type { CalendarQueryReport } from './requests.ts';
import type { CompFilter } from './filter-model.ts';
import type { CompFilter as MatcherCompFilter } from '../../ical/filter.ts';

// Compile-time check: the parsed filter model can be handed to the iCalendar matcher unchanged.
const _shared: (f: CompFilter) => MatcherCompFilter = (f) => f;
void _shared;

const throwsDav = (t: Test, fn: () => unknown, expect: { message?: RegExp; precondition?: string; status?: number } = {}) => {
  try {
    fn();
  } catch (e) {
    t.ok(e instanceof DavXmlError, `DavXmlError, got ${String(e)}`);
    const d = e as DavXmlError;
    if (expect.message) t.match(d.message, expect.message);
    if (expect.precondition !== undefined) t.equal(d.precondition, expect.precondition);
    if (expect.status !== undefined) t.equal(d.status, expect.status);
    return;
  }
  t.fail('expected a DavXmlError');
};

const utc = (s: string) => new Date(s);
const C = 'xmlns:C="urn:ietf:params:xml:ns:caldav"';

t.test('PROPFIND', async (t) => {
  t.test('empty body and <allprop/> with include', async (t) => {
    t.same(parsePropfind(''), { kind: 'allprop', include: [] });
    t.same(parsePropfind(null), { kind: 'allprop', include: [] });
    t.same(parsePropfind(Buffer.from(' \r\n')), { kind: 'allprop', include: [] });
    t.same(parsePropfind('<D:propfind xmlns:D="DAV:"/>'), { kind: 'allprop', include: [] });
    t.same(
      parsePropfind(`<D:propfind xmlns:D="DAV:" ${C}><D:allprop/><D:include><D:supported-report-set/><C:calendar-description/></D:include></D:propfind>`),
      { kind: 'allprop', include: [dav('supported-report-set'), caldav('calendar-description')] },
    );
    t.same(parsePropfind('<propfind xmlns="DAV:"><propname/></propfind>'), { kind: 'propname' });
  });

  t.test('DAVx5 collection PROPFIND (dav4jvm: default DAV: namespace, CAL prefix, others generated)', async (t) => {
    const body =
      `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
      `<prop><current-user-privilege-set /><displayname /><owner /><resourcetype />` +
      `<n0:calendar-color xmlns:n0="http://apple.com/ns/ical/" /><CAL:calendar-description /><CAL:calendar-timezone />` +
      `<CAL:calendar-timezone-id /><CAL:supported-calendar-component-set /><n1:source xmlns:n1="http://calendarserver.org/ns/" />` +
      `<n2:push-transports xmlns:n2="https://bitfire.at/webdav-push" /><n2:topic xmlns:n2="https://bitfire.at/webdav-push" />` +
      `</prop></propfind>`;
    t.same(parsePropfind(body), {
      kind: 'prop',
      props: [
        dav('current-user-privilege-set'), dav('displayname'), dav('owner'), dav('resourcetype'), ical('calendar-color'),
        caldav('calendar-description'), caldav('calendar-timezone'), caldav('calendar-timezone-id'),
        caldav('supported-calendar-component-set'), cs('source'),
        qname('https://bitfire.at/webdav-push', 'push-transports'), qname('https://bitfire.at/webdav-push', 'topic'),
      ],
    });
  });

  t.test('Thunderbird ctag PROPFIND', async (t) => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:resourcetype/>
    <D:owner/>
    <D:current-user-principal/>
    <D:current-user-privilege-set/>
    <D:supported-report-set/>
    <C:supported-calendar-component-set/>
    <CS:getctag/>
  </D:prop>
</D:propfind>`;
    const r = parsePropfind(body);
    t.equal(r.kind, 'prop');
    if (r.kind === 'prop') t.same(r.props.at(-1), cs('getctag'));
  });

  t.test('invalid structure', async (t) => {
    throwsDav(t, () => parsePropfind('<D:propfind xmlns:D="DAV:"><D:allprop/><D:prop/></D:propfind>'), { message: /only one of/ });
    throwsDav(t, () => parsePropfind('<D:propfind xmlns:D="DAV:"><D:foo/><x:bar xmlns:x="urn:x"/></D:propfind>'), { message: /must contain <prop>, <allprop> or <propname>, not only \{DAV:\}foo, \{urn:x\}bar/, status: 400 });
    t.same(parsePropfind('<D:propfind xmlns:D="DAV:"><x:bar xmlns:x="urn:x"/><D:propname/></D:propfind>'), { kind: 'propname' }, 'an extra element beside propname is ignored');
    throwsDav(t, () => parsePropfind('<D:propertyupdate xmlns:D="DAV:"/>'), { message: /expected root element \{DAV:\}propfind/ });
    throwsDav(t, () => parsePropfind('<D:propfind xmlns:D="DAV:">'), { status: 400 });
  });
});

t.test('PROPPATCH', async (t) => {
  t.test('iOS color/order change and removal keep document order and whole elements', async (t) => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:">
  <A:set>
    <A:prop>
      <B:calendar-color xmlns:B="http://apple.com/ns/ical/" symbolic-color="custom">#FF2968FF</B:calendar-color>
      <B:calendar-order xmlns:B="http://apple.com/ns/ical/">3</B:calendar-order>
    </A:prop>
  </A:set>
  <A:remove><A:prop><A:displayname/></A:prop></A:remove>
  <A:set><A:prop><A:displayname>Sales</A:displayname></A:prop></A:set>
</A:propertyupdate>`;
    const ops = parseProppatch(body);
    t.same(ops.map((o) => [o.op, o.name]), [
      ['set', ical('calendar-color')], ['set', ical('calendar-order')], ['remove', dav('displayname')], ['set', dav('displayname')],
    ]);
    const color = ops[0];
    t.ok(color?.op === 'set' && color.value.text === '#FF2968FF' && color.value.attrs['symbolic-color'] === 'custom');
  });

  t.test('a dead property keeps nested XML, attributes and text', async (t) => {
    const ops = parseProppatch(
      `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><x:meta xmlns:x="urn:crm" xmlns:y="urn:other" x:v="2" kind="deal">` +
        `<x:owner id="7">Ann &amp; Bob</x:owner><y:tags><y:tag>hot</y:tag><y:tag/></y:tags></x:meta></d:prop></d:set></d:propertyupdate>`,
    );
    const op = ops[0];
    t.equal(op?.op, 'set');
    if (op?.op === 'set') {
      t.same(op.value, {
        ns: 'urn:crm', name: 'meta', attrs: { '{urn:crm}v': '2', kind: 'deal' }, text: '',
        children: [
          { ns: 'urn:crm', name: 'owner', attrs: { id: '7' }, children: [], text: 'Ann & Bob' },
          { ns: 'urn:other', name: 'tags', attrs: {}, text: '', children: [
            { ns: 'urn:other', name: 'tag', attrs: {}, children: [], text: 'hot' },
            { ns: 'urn:other', name: 'tag', attrs: {}, children: [], text: '' },
          ] },
        ],
      });
    }
  });

  t.test('invalid structure', async (t) => {
    throwsDav(t, () => parseProppatch('<d:propertyupdate xmlns:d="DAV:"/>'), { message: /at least one/ });
    throwsDav(t, () => parseProppatch('<d:propertyupdate xmlns:d="DAV:"><d:set/></d:propertyupdate>'), { message: /must contain <prop>/ });
    throwsDav(t, () => parseProppatch(''), { message: /empty/ });
  });
});

t.test('MKCALENDAR and extended MKCOL', async (t) => {
  t.test('python-caldav MKCALENDAR', async (t) => {
    const r = parseMkcalendar(
      `<?xml version='1.0' encoding='utf-8'?>\n<C:mkcalendar xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:D="DAV:"><D:set><D:prop>` +
        `<D:displayname>Yep</D:displayname><C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/></C:supported-calendar-component-set>` +
        `</D:prop></D:set></C:mkcalendar>`,
    );
    t.same(r.props.map((p) => p.name), [dav('displayname'), caldav('supported-calendar-component-set')]);
    t.same(r.props[1]?.value.children.map((c) => c.attrs['name']), ['VEVENT', 'VTODO']);
    t.same(parseMkcalendar(undefined), { props: [] });
  });

  t.test('RFC 4791 §5.3.1.2 example keeps calendar-timezone text', async (t) => {
    const tz = 'BEGIN:VCALENDAR\r\nPRODID:-//Example Corp.//CalDAV Client//EN\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:US-Eastern\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n';
    const r = parseMkcalendar(
      `<?xml version="1.0" encoding="utf-8" ?>\n<C:mkcalendar xmlns:D="DAV:" ${C}><D:set><D:prop><D:displayname>Lisa's Events</D:displayname>` +
        `<C:calendar-description xml:lang="en">Calendar restricted to events.</C:calendar-description>` +
        `<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>` +
        `<C:calendar-timezone><![CDATA[${tz}]]></C:calendar-timezone></D:prop></D:set></C:mkcalendar>`,
    );
    t.equal(r.props[3]?.value.text, tz);
    t.equal(r.props[1]?.value.attrs['{http://www.w3.org/XML/1998/namespace}lang'], 'en');
  });

  t.test('DAVx5 extended MKCOL', async (t) => {
    const r = parseMkcol(
      `<?xml version='1.0' encoding='UTF-8' ?><mkcol xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
        `<set><prop><resourcetype><collection /><CAL:calendar /></resourcetype><displayname>CRM</displayname>` +
        `<n0:calendar-color xmlns:n0="http://apple.com/ns/ical/">#0082C9FF</n0:calendar-color>` +
        `<CAL:supported-calendar-component-set><CAL:comp name="VEVENT" /></CAL:supported-calendar-component-set></prop></set></mkcol>`,
    );
    t.same(r.resourceType, [dav('collection'), caldav('calendar')]);
    t.same(r.props.map((p) => p.name), [dav('displayname'), ical('calendar-color'), caldav('supported-calendar-component-set')]);
    t.same(parseMkcol(''), { resourceType: [], props: [] });
    throwsDav(t, () => parseMkcol('<C:mkcalendar xmlns:C="urn:ietf:params:xml:ns:caldav"/>'), { message: /\{DAV:\}mkcol/ });
  });
});

// RFC 4791 §7.8 examples, with the filter model they must produce.
const query = (props: string, filter: string, extra = '') =>
  `<?xml version="1.0" encoding="utf-8" ?>\n<C:calendar-query xmlns:D="DAV:" ${C}>\n<D:prop>${props}</D:prop>\n<C:filter>${filter}</C:filter>${extra}\n</C:calendar-query>`;

t.test('calendar-query: RFC 4791 §7.8 examples', async (t) => {
  t.test('7.8.1 partial retrieval by time range', async (t) => {
    const r = parseCalendarQuery(
      query(
        `<D:getetag/><C:calendar-data><C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="SUMMARY"/>` +
          `<C:prop name="UID"/><C:prop name="DTSTART"/><C:prop name="DTEND"/><C:prop name="DURATION"/><C:prop name="RRULE"/><C:prop name="RDATE"/>` +
          `<C:prop name="EXRULE"/><C:prop name="EXDATE"/><C:prop name="RECURRENCE-ID"/></C:comp><C:comp name="VTIMEZONE"/></C:comp></C:calendar-data>`,
        `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20060104T000000Z" end="20060105T000000Z"/></C:comp-filter></C:comp-filter>`,
      ),
    );
    t.same(r.props, { kind: 'prop', props: [dav('getetag'), caldav('calendar-data')] });
    t.same(r.filter, {
      name: 'VCALENDAR', propFilters: [],
      compFilters: [{ name: 'VEVENT', timeRange: { start: utc('2006-01-04T00:00:00Z'), end: utc('2006-01-05T00:00:00Z') }, propFilters: [], compFilters: [] }],
    });
    const comp = r.calendarData?.comp;
    t.equal(comp?.name, 'VCALENDAR');
    t.same(comp?.props, [{ name: 'VERSION', novalue: false }]);
    t.equal(comp?.comps[0]?.props.length, 10);
    t.same(comp?.comps[1], { name: 'VTIMEZONE', allProps: true, props: [], allComps: true, comps: [] });
  });

  t.test('7.8.2 expand, 7.8.3 limit-recurrence-set, 7.8.4 limit-freebusy-set', async (t) => {
    const f = `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20060103T000000Z" end="20060105T000000Z"/></C:comp-filter></C:comp-filter>`;
    const range = { start: utc('2006-01-03T00:00:00Z'), end: utc('2006-01-05T00:00:00Z') };
    t.same(parseCalendarQuery(query(`<C:calendar-data><C:expand start="20060103T000000Z" end="20060105T000000Z"/></C:calendar-data>`, f)).calendarData, {
      contentType: 'text/calendar', version: '2.0', expand: range,
    });
    t.same(parseCalendarQuery(query(`<C:calendar-data><C:limit-recurrence-set start="20060103T000000Z" end="20060105T000000Z"/></C:calendar-data>`, f)).calendarData?.limitRecurrenceSet, range);
    const fb = parseCalendarQuery(
      query(
        `<C:calendar-data><C:limit-freebusy-set start="20060102T000000Z" end="20060103T000000Z"/></C:calendar-data>`,
        `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VFREEBUSY"><C:time-range start="20060102T000000Z" end="20060103T000000Z"/></C:comp-filter></C:comp-filter>`,
      ),
    );
    t.same(fb.calendarData?.limitFreebusySet, { start: utc('2006-01-02T00:00:00Z'), end: utc('2006-01-03T00:00:00Z') });
    t.equal(fb.filter.compFilters[0]?.name, 'VFREEBUSY');
    throwsDav(t, () => parseCalendarQuery(query(`<C:calendar-data><C:expand start="20060103T000000Z"/></C:calendar-data>`, f)), { message: /both start and end/ });
    throwsDav(t, () => parseCalendarQuery(query(`<C:calendar-data><C:expand start="20060103T000000Z" end="20060105T000000Z"/><C:limit-recurrence-set start="20060103T000000Z" end="20060105T000000Z"/></C:calendar-data>`, f)));
  });

  t.test('7.8.5 to-dos by alarm time range', async (t) => {
    const r = parseCalendarQuery(
      query(
        `<C:calendar-data/>`,
        `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"><C:comp-filter name="VALARM"><C:time-range start="20060106T100000Z" end="20060107T100000Z"/></C:comp-filter></C:comp-filter></C:comp-filter>`,
      ),
    );
    t.same(r.filter.compFilters[0]?.compFilters[0], {
      name: 'VALARM', timeRange: { start: utc('2006-01-06T10:00:00Z'), end: utc('2006-01-07T10:00:00Z') }, propFilters: [], compFilters: [],
    });
    t.same(r.calendarData, { contentType: 'text/calendar', version: '2.0' });
  });

  t.test('7.8.6 event by UID (i;octet)', async (t) => {
    const r = parseCalendarQuery(
      query(
        `<C:calendar-data/>`,
        `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:text-match collation="i;octet">DC6C50A017428C5216A2F1CD@example.com</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>`,
      ),
    );
    t.same(r.filter.compFilters[0]?.propFilters, [
      { name: 'UID', textMatch: { value: 'DC6C50A017428C5216A2F1CD@example.com', collation: 'i;octet', negate: false }, paramFilters: [] },
    ]);
  });

  t.test('7.8.7 events by PARTSTAT (param-filter)', async (t) => {
    const r = parseCalendarQuery(
      query(
        `<D:getetag/><C:calendar-data/>`,
        `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="ATTENDEE"><C:text-match collation="i;ascii-casemap">mailto:lisa@example.com</C:text-match>` +
          `<C:param-filter name="PARTSTAT"><C:text-match collation="i;ascii-casemap">NEEDS-ACTION</C:text-match></C:param-filter></C:prop-filter></C:comp-filter></C:comp-filter>`,
      ),
    );
    t.same(r.filter.compFilters[0]?.propFilters[0], {
      name: 'ATTENDEE',
      textMatch: { value: 'mailto:lisa@example.com', collation: 'i;ascii-casemap', negate: false },
      paramFilters: [{ name: 'PARTSTAT', textMatch: { value: 'NEEDS-ACTION', collation: 'i;ascii-casemap', negate: false } }],
    });
  });

  t.test('7.8.8 events only, 7.8.9 pending to-dos (is-not-defined, negate-condition)', async (t) => {
    t.same(parseCalendarQuery(query(`<D:getetag/>`, `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>`)).filter, {
      name: 'VCALENDAR', propFilters: [], compFilters: [{ name: 'VEVENT', propFilters: [], compFilters: [] }],
    });
    const r = parseCalendarQuery(
      query(
        `<D:getetag/><C:calendar-data/>`,
        `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"><C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter>` +
          `<C:prop-filter name="STATUS"><C:text-match negate-condition="yes">CANCELLED</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>`,
      ),
    );
    t.same(r.filter.compFilters[0]?.propFilters, [
      { name: 'COMPLETED', isNotDefined: true, paramFilters: [] },
      { name: 'STATUS', textMatch: { value: 'CANCELLED', collation: 'i;ascii-casemap', negate: true }, paramFilters: [] },
    ]);
  });

  t.test('7.8.10 unsupported collation → CALDAV:supported-collation', async (t) => {
    throwsDav(
      t,
      () => parseCalendarQuery(query(`<D:getetag/>`, `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="DESCRIPTION"><C:text-match collation="i;vinegar">Baked Beans</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>`)),
      { precondition: caldav('supported-collation'), status: 403, message: /i;vinegar/ },
    );
  });
});

t.test('calendar-query: client bodies and validation', async (t) => {
  t.test('DAVx5 time-range query (no end) and Evolution UID search', async (t) => {
    const davx5 = parseCalendarQuery(
      `<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getetag /></prop>` +
        `<CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VEVENT"><CAL:time-range start="20250101T000000Z" /></CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>`,
    );
    t.same(davx5.filter.compFilters[0]?.timeRange, { start: utc('2025-01-01T00:00:00Z') });
    const evo = parseReport(
      `<?xml version="1.0" encoding="utf-8"?>\n<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
        `<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:text-match collation="i;octet" match-type="equals">a b</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`,
    ) as CalendarQueryReport;
    t.same(evo.filter.compFilters[0]?.propFilters[0]?.textMatch, { value: 'a b', collation: 'i;octet', negate: false, matchType: 'equals' });
  });

  t.test('timezone, timezone-id, lower-case names, unknown foreign elements', async (t) => {
    const tz = 'BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n';
    const r = parseCalendarQuery(
      query(`<D:getetag/>`, `<C:comp-filter name="vcalendar"><C:comp-filter name="vtodo"><x:hint xmlns:x="urn:x"/></C:comp-filter></C:comp-filter>`, `<C:timezone>${tz}</C:timezone><C:timezone-id> Europe/Berlin </C:timezone-id>`),
    );
    t.equal(r.timezone, tz);
    t.equal(r.timezoneId, 'Europe/Berlin');
    t.equal(r.filter.compFilters[0]?.name, 'VTODO');
  });

  t.test('absent prop selection and allprop', async (t) => {
    const f = `<C:filter><C:comp-filter name="VCALENDAR"/></C:filter>`;
    t.same(parseCalendarQuery(`<C:calendar-query xmlns:D="DAV:" ${C}>${f}</C:calendar-query>`).props, { kind: 'prop', props: [] });
    t.same(parseCalendarQuery(`<C:calendar-query xmlns:D="DAV:" ${C}><D:allprop/>${f}</C:calendar-query>`).props, { kind: 'allprop', include: [] });
  });

  t.test('time ranges are strict UTC and ordered', async (t) => {
    const q = (tr: string) => query(`<D:getetag/>`, `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range ${tr}/></C:comp-filter></C:comp-filter>`);
    const vf = { precondition: caldav('valid-filter'), status: 403 };
    for (const tr of [
      'start="20060104T000000"', 'start="20060104"', 'start="2006-01-04T00:00:00Z"', 'start="20060230T000000Z"', 'start="20061304T000000Z"',
      'start="20060104T240000Z"', 'start=" 20060104T000000Z"', 'end="20060104T000060Z"', '',
      'start="20060105T000000Z" end="20060104T000000Z"', 'start="20060104T000000Z" end="20060104T000000Z"',
    ]) {
      throwsDav(t, () => parseCalendarQuery(q(tr)), vf);
    }
    t.same(parseUtcDateTime('20240229T235959Z'), utc('2024-02-29T23:59:59Z'));
    t.same(parseUtcDateTime('00010101T000000Z').toISOString(), '0001-01-01T00:00:00.000Z');
  });

  t.test('invalid filters → CALDAV:valid-filter / supported-filter', async (t) => {
    const vf = { precondition: caldav('valid-filter') };
    const q = (filter: string) => query(`<D:getetag/>`, filter);
    throwsDav(t, () => parseCalendarQuery(`<C:calendar-query xmlns:D="DAV:" ${C}><D:prop><D:getetag/></D:prop></C:calendar-query>`), { ...vf, message: /must contain <filter>/ });
    throwsDav(t, () => parseCalendarQuery(q(``)), vf);
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter name="VEVENT"/>`)), { ...vf, message: /VCALENDAR/ });
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter/>`)), vf);
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:is-not-defined/><C:time-range start="20060104T000000Z"/></C:comp-filter></C:comp-filter>`)), vf);
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="X"><C:text-match negate-condition="maybe">a</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>`)), vf);
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="X"><C:text-match match-type="regex">a</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>`)), vf);
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="DTSTART"><C:time-range start="20060104T000000Z"/><C:text-match>a</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>`)), vf);
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:bogus-filter/></C:comp-filter></C:comp-filter>`)), { precondition: caldav('supported-filter') });
  });

  t.test('filters that can never match → CALDAV:valid-filter (RFC 4791 §7.8)', async (t) => {
    const vf = { precondition: caldav('valid-filter'), status: 403 };
    const q = (inner: string) => query(`<D:getetag/>`, `<C:comp-filter name="VCALENDAR">${inner}</C:comp-filter>`);
    const tr = '<C:time-range start="20060104T000000Z"/>';
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter name="VEVENT"><C:prop-filter name="summary">${tr}</C:prop-filter></C:comp-filter>`)), { ...vf, message: /SUMMARY has no date/ });
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter name="VEVENT"><C:comp-filter name="VEVENT"/></C:comp-filter>`)), { ...vf, message: /VEVENT is never inside a VEVENT/ });
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter name="STANDARD"/>`)), vf);
    throwsDav(t, () => parseCalendarQuery(q(`<C:comp-filter name="VTIMEZONE"><C:comp-filter name="VALARM"/></C:comp-filter>`)), vf);
    for (const ok of [
      `<C:comp-filter name="VEVENT"><C:prop-filter name="DTSTAMP">${tr}</C:prop-filter><C:prop-filter name="X-DUE">${tr}</C:prop-filter></C:comp-filter>`,
      `<C:comp-filter name="VTODO"><C:comp-filter name="VALARM">${tr}</C:comp-filter></C:comp-filter>`,
      `<C:comp-filter name="VTIMEZONE"><C:comp-filter name="DAYLIGHT"/></C:comp-filter>`,
      `<C:comp-filter name="X-THING"><C:comp-filter name="VEVENT"/></C:comp-filter>`,
      `<C:comp-filter name="VEVENT"><C:comp-filter name="VLOCATION"/></C:comp-filter>`,
    ]) t.doesNotThrow(() => parseCalendarQuery(q(ok)), ok);
  });

  t.test('calendar-data in another media type or version → CALDAV:supported-calendar-data', async (t) => {
    const q = (attrs: string) => query(`<D:getetag/><C:calendar-data ${attrs}/>`, `<C:comp-filter name="VCALENDAR"/>`);
    for (const attrs of ['content-type="text/vcalendar"', 'version="1.0"', 'content-type="application/calendar+json" version="2.0"']) {
      throwsDav(t, () => parseCalendarQuery(q(attrs)), { precondition: caldav('supported-calendar-data'), status: 403 });
    }
    t.same(parseCalendarQuery(q('content-type="TEXT/CALENDAR" version="2.0"')).calendarData, { contentType: 'TEXT/CALENDAR', version: '2.0' });
  });
});

t.test('calendar-multiget', async (t) => {
  t.test('Thunderbird and DAVx5 bodies; hrefs decoded', async (t) => {
    const tb = parseReport(
      `<?xml version="1.0" encoding="UTF-8"?>\n<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">\n<D:prop><D:getetag/><C:calendar-data/></D:prop>\n` +
        `<D:href>/dav/cal/alice/home/0b5d7b3e-1c3a-4a47-9b1e-7c2b4b0c1b2f.ics</D:href>\n<D:href>/dav/cal/alice/home/Meeting%20with%20J%C3%BCrgen.ics</D:href>\n` +
        `<D:href>https://kalends.example/dav/cal/alice/home/a%40b.ics?x=1</D:href></C:calendar-multiget>`,
    );
    t.same(tb, {
      type: 'calendar-multiget',
      props: { kind: 'prop', props: [dav('getetag'), caldav('calendar-data')] },
      calendarData: { contentType: 'text/calendar', version: '2.0' },
      hrefs: ['/dav/cal/alice/home/0b5d7b3e-1c3a-4a47-9b1e-7c2b4b0c1b2f.ics', '/dav/cal/alice/home/Meeting with Jürgen.ics', '/dav/cal/alice/home/a@b.ics'],
    });
    const dx = parseReport(
      `<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-multiget xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getetag /><CAL:calendar-data /><CAL:schedule-tag /></prop>` +
        `<href>/dav/cal/alice/home/1.ics</href><href>/dav/cal/alice/home/1.ics</href></CAL:calendar-multiget>`,
    );
    t.same(dx.type === 'calendar-multiget' && dx.hrefs, ['/dav/cal/alice/home/1.ics'], 'duplicates removed');
  });

  t.test('unsafe hrefs are refused', async (t) => {
    const mg = (h: string) => `<C:calendar-multiget xmlns:D="DAV:" ${C}><D:prop><D:getetag/></D:prop><D:href>${h}</D:href></C:calendar-multiget>`;
    for (const h of ['/cal/%E0%A4%A.ics', '/cal/%ZZ.ics', '/cal/%C3%28.ics', '/cal/../../etc/passwd', '/cal/%2e%2e/x.ics', '/cal/a%2Fb.ics', '/cal/a%00.ics', '', 'http://[bad/x']) {
      throwsDav(t, () => parseReport(mg(h)), { status: 400 });
    }
    throwsDav(t, () => parseReport(`<C:calendar-multiget xmlns:D="DAV:" ${C}><D:prop><D:getetag/></D:prop></C:calendar-multiget>`), { message: /at least one <href>/ });
  });
});

t.test('sync-collection', async (t) => {
  t.same(
    parseReport(`<?xml version='1.0' encoding='UTF-8' ?><sync-collection xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><sync-token /><sync-level>1</sync-level><prop><getetag /></prop></sync-collection>`),
    { type: 'sync-collection', syncToken: '', syncLevel: '1', props: { kind: 'prop', props: [dav('getetag')] } },
    'DAVx5 initial sync',
  );
  t.same(
    parseReport(`<?xml version="1.0" encoding="UTF-8"?>\n<A:sync-collection xmlns:A="DAV:">\n  <A:sync-token>http://kalends.example/sync/42</A:sync-token>\n  <A:sync-level>1</A:sync-level>\n  <A:limit><A:nresults>100</A:nresults></A:limit>\n  <A:prop>\n    <A:getcontenttype/>\n    <A:getetag/>\n  </A:prop>\n</A:sync-collection>`),
    { type: 'sync-collection', syncToken: 'http://kalends.example/sync/42', syncLevel: '1', limit: 100, props: { kind: 'prop', props: [dav('getcontenttype'), dav('getetag')] } },
    'iOS follow-up sync with limit',
  );
  const tb = parseReport(`<?xml version="1.0" encoding="UTF-8"?><sync-collection xmlns="DAV:"><sync-token>t1</sync-token><sync-level>infinite</sync-level><prop><getcontenttype/><getetag/><C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"/></prop></sync-collection>`);
  t.ok(tb.type === 'sync-collection' && tb.syncLevel === 'infinite' && tb.calendarData !== undefined);
  t.equal(parseReport(`<sync-collection xmlns="DAV:"><sync-token/><prop/></sync-collection>`).type, 'sync-collection', 'missing sync-level defaults to 1');
  throwsDav(t, () => parseReport(`<sync-collection xmlns="DAV:"><sync-level>1</sync-level><prop/></sync-collection>`), { message: /sync-token/ });
  throwsDav(t, () => parseReport(`<sync-collection xmlns="DAV:"><sync-token/><sync-level>2</sync-level><prop/></sync-collection>`), { message: /sync-level/ });
  throwsDav(t, () => parseReport(`<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><limit><nresults>-1</nresults></limit><prop/></sync-collection>`), { message: /positive integer/ });
});

t.test('free-busy-query, expand-property, principal reports', async (t) => {
  t.same(
    parseReport(`<?xml version="1.0" encoding="utf-8" ?><C:free-busy-query ${C}><C:time-range start="20060104T140000Z" end="20060105T220000Z"/></C:free-busy-query>`),
    { type: 'free-busy-query', timeRange: { start: utc('2006-01-04T14:00:00Z'), end: utc('2006-01-05T22:00:00Z') } },
  );
  throwsDav(t, () => parseReport(`<C:free-busy-query ${C}/>`), { message: /time-range/ });

  t.same(
    parseReport(`<?xml version="1.0" encoding="UTF-8"?>
<A:expand-property xmlns:A="DAV:">
  <A:property name="calendar-proxy-write-for" namespace="http://calendarserver.org/ns/">
    <A:property name="displayname" namespace="DAV:"/>
    <A:property name="principal-URL" namespace="DAV:"/>
    <A:property name="calendar-user-address-set" namespace="urn:ietf:params:xml:ns:caldav"/>
  </A:property>
  <A:property name="calendar-proxy-read-for" namespace="http://calendarserver.org/ns/">
    <A:property name="displayname"/>
  </A:property>
</A:expand-property>`),
    {
      type: 'expand-property',
      properties: [
        { name: cs('calendar-proxy-write-for'), properties: [
          { name: dav('displayname'), properties: [] }, { name: dav('principal-URL'), properties: [] }, { name: caldav('calendar-user-address-set'), properties: [] },
        ] },
        { name: cs('calendar-proxy-read-for'), properties: [{ name: dav('displayname'), properties: [] }] },
      ],
    },
    'iOS proxy lookup',
  );

  t.same(
    parseReport(`<?xml version="1.0" encoding="UTF-8"?>
<A:principal-property-search xmlns:A="DAV:" test="anyof">
  <A:property-search><A:prop><A:displayname/></A:prop><A:match match-type="starts-with">ann</A:match></A:property-search>
  <A:property-search><A:prop><B:calendar-user-address-set xmlns:B="urn:ietf:params:xml:ns:caldav"/></A:prop><A:match>ann@</A:match></A:property-search>
  <A:prop><A:displayname/><B:calendar-user-type xmlns:B="urn:ietf:params:xml:ns:caldav"/></A:prop>
  <A:apply-to-principal-collection-set/>
</A:principal-property-search>`),
    {
      type: 'principal-property-search', test: 'anyof',
      searches: [
        { props: [dav('displayname')], match: 'ann', matchType: 'starts-with', caseless: true },
        { props: [caldav('calendar-user-address-set')], match: 'ann@', matchType: 'contains', caseless: true },
      ],
      props: { kind: 'prop', props: [dav('displayname'), caldav('calendar-user-type')] },
      applyToPrincipalCollectionSet: true,
    },
  );
  throwsDav(t, () => parseReport(`<D:principal-property-search xmlns:D="DAV:"><D:prop/></D:principal-property-search>`), { message: /property-search/ });

  t.same(parseReport(`<D:principal-search-property-set xmlns:D="DAV:"/>`), { type: 'principal-search-property-set' });
  t.same(
    parseReport(`<?xml version="1.0" encoding="UTF-8"?>
<B:calendarserver-principal-search xmlns:B="http://calendarserver.org/ns/" xmlns:A="DAV:" context="attendee">
  <B:search-token>ann</B:search-token><B:search-token>smith</B:search-token>
  <B:limit><B:nresults>50</B:nresults></B:limit>
  <A:prop><A:displayname/><A:principal-URL/></A:prop>
</B:calendarserver-principal-search>`),
    { type: 'calendarserver-principal-search', context: 'attendee', tokens: ['ann', 'smith'], limit: 50, props: { kind: 'prop', props: [dav('displayname'), dav('principal-URL')] } },
  );
  t.same(parseReport(`<D:acl-principal-prop-set xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:acl-principal-prop-set>`), {
    type: 'acl-principal-prop-set', props: { kind: 'prop', props: [dav('displayname')] },
  });
  t.same(parseReport(`<D:principal-match xmlns:D="DAV:"><D:principal-property><D:owner/></D:principal-property><D:prop><D:displayname/></D:prop></D:principal-match>`), {
    type: 'principal-match', match: { kind: 'principal-property', name: dav('owner') }, props: { kind: 'prop', props: [dav('displayname')] },
  });
  t.same(parseReport(parseXml(`<D:principal-match xmlns:D="DAV:"><D:self/></D:principal-match>`)), {
    type: 'principal-match', match: { kind: 'self' }, props: { kind: 'prop', props: [] },
  });
});

t.test('unknown reports → DAV:supported-report', async (t) => {
  throwsDav(t, () => parseReport(`<C:addressbook-search xmlns:C="urn:ietf:params:xml:ns:carddav"/>`), { precondition: dav('supported-report'), status: 403 });
  // CardDAV's reports are known; a query without its filter is refused as one
  throwsDav(t, () => parseReport(`<C:addressbook-query xmlns:C="urn:ietf:params:xml:ns:carddav"/>`), { precondition: carddav('valid-filter') });
  throwsDav(t, () => parseReport(`<D:version-tree xmlns:D="DAV:"/>`), { precondition: dav('supported-report') });
  throwsDav(t, () => parseReport(''), { message: /needs a request body/ });
});
