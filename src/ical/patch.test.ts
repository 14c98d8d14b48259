import t from 'tap';
import { applyFields, buildObject } from './patch.ts';
import { parseObject } from './parse.ts';
import { instancesBetween } from './instances.ts';
import { busyPeriods } from './freebusy.ts';
import { d, codeOf } from './testing.ts';

const NOW = { now: d('2026-05-01T12:00:00Z') };

// As iOS writes it: X-APPLE-STRUCTURED-LOCATION folded mid-value, an unknown parameter, a VALARM with Apple X- props, an override.
const ios = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Apple Inc.//iOS 17.4//EN',
  'CALSCALE:GREGORIAN',
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Warsaw',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'DTSTART:19810329T020000',
  'TZNAME:CEST',
  'TZOFFSETTO:+0200',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'DTSTART:19961027T030000',
  'TZNAME:CET',
  'TZOFFSETTO:+0100',
  'END:STANDARD',
  'END:VTIMEZONE',
  'BEGIN:VEVENT',
  'CREATED:20260301T080000Z',
  'DTEND;TZID=Europe/Warsaw:20260320T110000',
  'DTSTAMP:20260301T080000Z',
  'DTSTART;TZID=Europe/Warsaw:20260320T100000',
  'LAST-MODIFIED:20260301T080000Z',
  'LOCATION:Marszałkowska 1\\nWarszawa',
  'RRULE:FREQ=WEEKLY',
  'SEQUENCE:2',
  'SUMMARY;X-CUSTOM-PARAM="a:b;c":Weekly sync',
  'UID:B1E2C3D4-0000-4000-8000-ABCDEF012345',
  'X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-ADDRESS="Marszałkowska 1\\\\nWarszawa";X-APPLE-RADIUS=70.5;X-TITLE="Marsza',
  ' łkowska 1":geo:52.229700,21.012200',
  'X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC',
  'BEGIN:VALARM',
  'ACTION:DISPLAY',
  'DESCRIPTION:Reminder',
  'TRIGGER;X-APPLE-RELATED-TRAVEL=-PT30M:-PT15M',
  'UID:A1B2',
  'X-APPLE-DEFAULT-ALARM:TRUE',
  'X-WR-ALARMUID:A1B2',
  'END:VALARM',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'DTSTAMP:20260301T080000Z',
  'RECURRENCE-ID;TZID=Europe/Warsaw:20260327T100000',
  'DTSTART;TZID=Europe/Warsaw:20260327T120000',
  'DTEND;TZID=Europe/Warsaw:20260327T130000',
  'SUMMARY:Moved',
  'UID:B1E2C3D4-0000-4000-8000-ABCDEF012345',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

const block = (text: string, from: string, to: string): string => text.slice(text.indexOf(from), text.indexOf(to, text.indexOf(from)) + to.length);

t.test('patch keeps client data byte for byte', async (t) => {
  const out = applyFields(ios, { summary: 'Weekly sync (CRM)', description: 'Agenda: pipeline; forecasts, risks' }, NOW);
  const structured = block(ios, 'X-APPLE-STRUCTURED-LOCATION', ':geo:52.229700,21.012200\r\n');
  t.ok(out.includes(structured), 'X-APPLE-STRUCTURED-LOCATION with its folding');
  const alarm = block(ios, 'BEGIN:VALARM', 'END:VALARM\r\n');
  t.ok(out.includes(alarm), 'VALARM');
  t.ok(out.includes(block(ios, 'BEGIN:VTIMEZONE', 'END:VTIMEZONE\r\n')), 'client VTIMEZONE');
  t.ok(out.includes(block(ios, 'BEGIN:VEVENT\r\nDTSTAMP:20260301T080000Z\r\nRECURRENCE-ID', 'END:VEVENT\r\n')), 'override untouched');
  t.match(out, /\r\nSUMMARY;X-CUSTOM-PARAM="a:b;c":Weekly sync \(CRM\)\r\n/, 'unknown parameter kept on the changed line');
  t.match(out, /\r\nDESCRIPTION:Agenda: pipeline\\; forecasts\\, risks\r\n/, 'new text escaped');
  t.match(out, /\r\nX-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\n/);
  t.match(out, /\r\nDTSTAMP:20260501T120000Z\r\n[^]*LAST-MODIFIED:20260501T120000Z\r\n/);
  t.match(out, /\r\nSEQUENCE:2\r\n/, 'text edits do not bump SEQUENCE');
  t.equal(parseObject(out).index.summary, 'Weekly sync (CRM)');
  t.equal(applyFields(ios, { summary: 'Weekly sync', location: 'Marszałkowska 1\nWarszawa' }, NOW), ios, 'no change: same bytes back');
});

t.test('changing LOCATION drops the structured location; moving the start bumps SEQUENCE', async (t) => {
  const moved = applyFields(ios, { location: 'Online', start: d('2026-03-20T08:30:00Z') }, NOW);
  t.notMatch(moved, /X-APPLE-STRUCTURED-LOCATION/);
  t.match(moved, /\r\nLOCATION:Online\r\n/);
  t.match(moved, /\r\nSEQUENCE:3\r\n/);
  t.match(moved, /\r\nDTSTART;TZID=Europe\/Warsaw:20260320T093000\r\n/, 'kept in the event zone');
  t.match(moved, /\r\nDTEND;TZID=Europe\/Warsaw:20260320T103000\r\n/, 'length kept');
  t.ok(moved.includes(block(ios, 'BEGIN:VALARM', 'END:VALARM\r\n')));
  const [first] = instancesBetween(parseObject(moved), d('2026-03-20T00:00:00Z'), d('2026-03-21T00:00:00Z'));
  t.same(first?.start, d('2026-03-20T08:30:00Z'));
});

t.test('new zone adds its VTIMEZONE; all-day, RRULE, EXDATE, X- and removal', async (t) => {
  const ny = applyFields(ios, { start: d('2026-03-20T14:00:00Z'), end: d('2026-03-20T15:00:00Z'), timezone: 'America/New_York' }, NOW);
  t.match(ny, /BEGIN:VTIMEZONE\r\nTZID:America\/New_York\r\n/);
  t.match(ny, /DTSTART;TZID=America\/New_York:20260320T100000\r\n/);
  t.equal((ny.match(/BEGIN:VTIMEZONE/g) ?? []).length, 2, 'the old zone stays (the override uses it)');
  t.same(parseObject(ny).index.firstStart, d('2026-03-20T14:00:00Z'));

  const allDay = applyFields(ios, { allDay: true, start: '2026-03-20', end: '2026-03-21', rrule: 'FREQ=WEEKLY;COUNT=4', exdates: ['2026-03-27'], x: { 'X-CRM-ID': 'deal-42' } }, NOW);
  const idx = parseObject(allDay).index;
  t.same(idx.start, { kind: 'date', date: '2026-03-20' });
  t.same(idx.end, { kind: 'date', date: '2026-03-21' });
  t.equal(idx.rrule, 'FREQ=WEEKLY;COUNT=4');
  t.same(idx.exdates, ['20260327']);
  t.match(allDay, /\r\nX-CRM-ID:deal-42\r\n/);
  const removed = applyFields(allDay, { rrule: null, exdates: [], x: { 'X-CRM-ID': null }, location: null }, NOW);
  t.notMatch(removed, /RRULE:FREQ=WEEKLY|EXDATE|X-CRM-ID|\r\nLOCATION/);
  t.equal(codeOf(() => applyFields(ios, { rrule: 'FREQ=NEVER' })), 'valid-calendar-data');
  t.equal(codeOf(() => applyFields(ios, { end: d('2026-03-19T00:00:00Z') })), 'valid-calendar-data', 'end before start is refused');
  t.equal(codeOf(() => applyFields(ios, { timezone: 'Nowhere/Land', start: d('2026-03-20T08:00:00Z') })), 'valid-calendar-data');
});

t.test('buildObject: PRODID, CRLF, folding, VTIMEZONE, VTODO', async (t) => {
  const text = buildObject({
    uid: 'crm-appt-1', summary: 'Kick-off ' + 'ąęśćżźół '.repeat(12), description: 'Line 1\nLine 2', location: 'HQ',
    start: d('2026-10-25T08:00:00Z'), end: d('2026-10-25T09:30:00Z'), timezone: 'Europe/Warsaw', categories: ['CRM', 'Deal, big'],
    classification: 'PRIVATE', status: 'confirmed', x: { 'X-CRM-ID': '42' },
  }, NOW);
  t.match(text, /^BEGIN:VCALENDAR\r\nVERSION:2\.0\r\nPRODID:-\/\/Kalends\/\/Kalends\/\/EN\r\n/);
  t.notMatch(text, /[^\r]\n/);
  for (const line of text.split('\r\n')) t.ok(Buffer.byteLength(line) <= 75, 'folded');
  t.match(text, /BEGIN:VTIMEZONE\r\nTZID:Europe\/Warsaw/);
  t.match(text, /DTSTART;TZID=Europe\/Warsaw:20261025T090000\r\n/, '08:00Z is 09:00 CET after the change');
  t.match(text, /CATEGORIES:CRM,Deal\\, big\r\n/);
  const o = parseObject(text);
  t.equal(o.index.summary, 'Kick-off ' + 'ąęśćżźół '.repeat(12));
  t.equal(o.index.description, 'Line 1\nLine 2');
  t.same(o.index.categories, ['CRM', 'Deal, big']);
  t.equal(o.index.classification, 'PRIVATE');
  t.same([o.index.firstStart, o.index.lastEnd], [d('2026-10-25T08:00:00Z'), d('2026-10-25T09:30:00Z')]);

  const utc = buildObject({ uid: 'u', start: d('2026-01-01T10:00:00Z'), end: d('2026-01-01T11:00:00Z') }, NOW);
  t.match(utc, /DTSTART:20260101T100000Z\r\n/);
  t.notMatch(utc, /VTIMEZONE/);

  const task = buildObject({ uid: 'task-1', type: 'VTODO', summary: 'Call back', due: d('2026-02-01T16:00:00Z'), timezone: 'America/New_York', status: 'NEEDS-ACTION', priority: 1 }, NOW);
  const todo = parseObject(task, { allowed: ['VTODO'] });
  t.equal(todo.componentType, 'VTODO');
  t.same(todo.index.due, { kind: 'zoned', utc: d('2026-02-01T16:00:00Z'), tzid: 'America/New_York', local: '2026-02-01T11:00:00' });
  const done = applyFields(task, { completed: d('2026-01-20T10:00:00Z'), status: 'COMPLETED', percentComplete: 100 }, NOW);
  t.same(parseObject(done).index.completed, d('2026-01-20T10:00:00Z'));
  t.match(done, /SEQUENCE:1/, 'STATUS is significant');
  t.equal(codeOf(() => buildObject({ uid: '', start: d('2026-01-01T00:00:00Z') })), 'valid-calendar-object-resource');
  t.equal(codeOf(() => buildObject({ uid: 'x', start: d('2026-01-02T00:00:00Z'), end: d('2026-01-01T00:00:00Z') })), 'valid-calendar-data');
});

t.test('transparency writes TRANSP, which free-busy honours', async (t) => {
  const free = buildObject({ uid: 'free-1', start: d('2026-06-01T10:00:00Z'), end: d('2026-06-01T11:00:00Z'), transparency: 'TRANSPARENT' }, NOW);
  t.match(free, /\r\nTRANSP:TRANSPARENT\r\n/);
  t.equal(parseObject(free).index.transparency, 'TRANSPARENT');
  t.same(busyPeriods([parseObject(free)], d('2026-06-01T00:00:00Z'), d('2026-06-02T00:00:00Z')).get('BUSY') ?? [], [], 'free time is not busy');

  const busy = applyFields(free, { transparency: 'OPAQUE' }, NOW);
  t.match(busy, /\r\nTRANSP:OPAQUE\r\n/);
  t.equal((busy.match(/TRANSP:/g) ?? []).length, 1, 'replaced, not added');
  t.match(busy, /\r\nSEQUENCE:0\r\n/, 'not a significant change');
  t.equal(parseObject(busy).index.transparency, 'OPAQUE');
  t.same(busyPeriods([parseObject(busy)], d('2026-06-01T00:00:00Z'), d('2026-06-02T00:00:00Z')).get('BUSY')?.length, 1);

  t.equal(applyFields(ios, { transparency: 'OPAQUE' }, NOW), ios, 'absent TRANSP already means OPAQUE: same bytes back');
  const marked = applyFields(ios, { transparency: 'TRANSPARENT' }, NOW);
  t.match(marked, /\r\nTRANSP:TRANSPARENT\r\n/);
  t.ok(marked.includes(block(ios, 'BEGIN:VALARM', 'END:VALARM\r\n')), 'added before the VALARM, which stays');
  t.equal(applyFields(marked, { transparency: 'TRANSPARENT' }, NOW), marked, 'unchanged value: same bytes back');
  t.notMatch(applyFields(marked, { transparency: null }, NOW), /TRANSP:/, 'null removes');
  t.equal(codeOf(() => applyFields(ios, { transparency: 'FREE' as 'OPAQUE' })), 'valid-calendar-data');
  t.equal(codeOf(() => buildObject({ uid: 'task', type: 'VTODO', transparency: 'TRANSPARENT' })), 'valid-calendar-data', 'VEVENT only');
});

t.test('start: null removes a task\'s DTSTART; a VEVENT keeps its start', async (t) => {
  const task = buildObject({ uid: 'task-2', type: 'VTODO', summary: 'Call', start: d('2026-02-01T09:00:00Z'), due: d('2026-02-01T16:00:00Z'), timezone: 'Europe/Warsaw' }, NOW);
  t.match(task, /\r\nDTSTART;TZID=Europe\/Warsaw:20260201T100000\r\n/);
  const todoOf = (text: string): string => block(text, 'BEGIN:VTODO', 'END:VTODO');
  const cleared = applyFields(task, { start: null }, NOW);
  t.notMatch(todoOf(cleared), /DTSTART/);
  t.match(cleared, /\r\nDUE;TZID=Europe\/Warsaw:20260201T170000\r\n/, 'DUE stays');
  t.match(cleared, /\r\nSEQUENCE:1\r\n/, 'DTSTART is significant');
  const idx = parseObject(cleared).index;
  t.equal(idx.start, null);
  t.same(idx.due, { kind: 'zoned', utc: d('2026-02-01T16:00:00Z'), tzid: 'Europe/Warsaw', local: '2026-02-01T17:00:00' });
  t.equal(applyFields(cleared, { start: null }, NOW), cleared, 'already without a start: same bytes back');

  const withDuration = parseObject(applyFields(task, { due: null }, NOW)).vcalendar.toString().replace('SUMMARY:Call', 'SUMMARY:Call\r\nDURATION:PT1H');
  t.match(todoOf(withDuration), /\r\nDURATION:PT1H\r\n/);
  t.notMatch(todoOf(applyFields(withDuration, { start: null }, NOW)), /DTSTART|DURATION/, 'DURATION goes with DTSTART');

  t.notMatch(buildObject({ uid: 'task-3', type: 'VTODO', summary: 'Someday', start: null }, NOW), /DTSTART/);
  t.equal(codeOf(() => applyFields(ios, { start: null })), 'valid-calendar-data', 'VEVENT');
  t.equal(codeOf(() => buildObject({ uid: 'ev', start: null })), 'valid-calendar-data');
  t.equal(codeOf(() => applyFields(applyFields(task, { rrule: 'FREQ=WEEKLY' }, NOW), { start: null })), 'valid-calendar-data', 'a recurring task needs its start');
});
