import t from 'tap';
import { parseObject } from './parse.ts';
import { IcalError } from './errors.ts';
import { cal, vevent, vtodo } from './testing.ts';

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof IcalError ? e.code : `not an IcalError: ${String(e)}`;
  }
}

t.test('rejects with the CalDAV precondition codes', async (t) => {
  t.equal(code(() => parseObject('not ical at all')), 'valid-calendar-data');
  t.equal(code(() => parseObject('')), 'valid-calendar-data');
  t.equal(code(() => parseObject('BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n')), 'valid-calendar-data', 'root must be VCALENDAR');
  t.equal(code(() => parseObject(cal(['METHOD:REQUEST'], vevent('UID:a', 'DTSTART:20260101T100000Z')))), 'valid-calendar-object-resource', 'METHOD');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART:20260101T100000Z'), vtodo('UID:a')))), 'valid-calendar-object-resource', 'mixed types');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART:20260101T100000Z'), vevent('UID:b', 'DTSTART:20260102T100000Z')))), 'valid-calendar-object-resource', 'two UIDs');
  t.equal(code(() => parseObject(cal(vevent('DTSTART:20260101T100000Z')))), 'valid-calendar-object-resource', 'no UID');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART:20260101T100000Z'), vevent('UID:a', 'DTSTART:20260102T100000Z')))), 'valid-calendar-object-resource', 'two masters');
  t.equal(code(() => parseObject(cal(vevent('UID:a')))), 'valid-calendar-data', 'VEVENT without DTSTART');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART:20260101T100000Z', 'DTEND:20260101T090000Z')))), 'valid-calendar-data', 'DTEND before DTSTART');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART;VALUE=DATE:20260101', 'DTEND:20260102T090000Z')))), 'valid-calendar-data', 'DATE vs DATE-TIME');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART:20260101T100000Z', 'DTEND:20260101T110000Z', 'DURATION:PT1H')))), 'valid-calendar-data', 'DTEND and DURATION');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART:20261340T100000Z')))), 'valid-calendar-data', 'month 13');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART:20260101T100000Z', 'RRULE:GARBAGE')))), 'valid-calendar-data', 'RRULE without FREQ');
  t.equal(code(() => parseObject(cal(vtodo('UID:a', 'DTSTART:20260102T100000Z', 'DUE:20260101T100000Z')))), 'valid-calendar-data', 'DUE before DTSTART');
  t.equal(code(() => parseObject(cal(vtodo('UID:a', 'DURATION:PT1H')))), 'valid-calendar-data', 'DURATION without DTSTART');
  t.equal(code(() => parseObject(cal(vtodo('UID:a')), { allowed: ['VEVENT'] })), 'supported-calendar-component');
  t.equal(code(() => parseObject(cal(['BEGIN:VJOURNAL', 'UID:j', 'END:VJOURNAL']))), 'supported-calendar-component', 'VJOURNAL only when allowed');
  t.equal(code(() => parseObject(cal(['BEGIN:VJOURNAL', 'UID:j', 'END:VJOURNAL']), { allowed: ['VJOURNAL'] })), 'ok');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART;TZID=Mars/Olympus:20260101T100000')))), 'valid-calendar-data', 'unknown TZID');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART;TZID=Mars/Olympus:20260101T100000')), { unknownTimezone: 'floating' })), 'ok');
  t.equal(
    code(() => parseObject(cal(
      vevent('UID:a', 'DTSTART:20260101T100000Z', 'RRULE:FREQ=DAILY'),
      vevent('UID:a', 'RECURRENCE-ID:20260102T100000Z', 'DTSTART:20260102T120000Z'),
      vevent('UID:a', 'RECURRENCE-ID:20260102T100000Z', 'DTSTART:20260102T130000Z'),
    ))),
    'valid-calendar-object-resource',
    'two overrides of one instance',
  );
  const withOverride = (...rid: string[]) => cal(vevent('UID:a', 'DTSTART:20260101T100000Z', 'RRULE:FREQ=DAILY'), vevent('UID:a', ...rid, 'DTSTART:20260102T120000Z'));
  for (const rid of ['RECURRENCE-ID:20260102T100000Z,20260103T100000Z', 'RECURRENCE-ID:20260102T100000Zjunk', 'RECURRENCE-ID:']) {
    t.equal(code(() => parseObject(withOverride(rid))), 'valid-calendar-data', rid);
  }
  t.equal(code(() => parseObject(withOverride('RECURRENCE-ID:20260102T100000Z', 'RECURRENCE-ID:20260103T100000Z'))), 'valid-calendar-data', 'two RECURRENCE-IDs');
  t.equal(code(() => parseObject(withOverride('RECURRENCE-ID;X-P="a:b":20260102T100000Z'))), 'ok', 'a quoted colon in a parameter');
  t.equal(code(() => parseObject(withOverride('RECURRENCE-ID:2026010', ' 2T100000Z'))), 'ok', 'a folded value is read unfolded');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART;VALUE=DATE:20260101', 'RRULE:FREQ=DAILY'), vevent('UID:a', 'RECURRENCE-ID;VALUE=DATE:20260102', 'DTSTART;VALUE=DATE:20260103')))), 'ok', 'all-day series and override');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART:20260101T100000Z', 'RRULE:FREQ=DAILY;COUNT=500')), { maxInstances: 100 })), 'too-many-instances');
  t.equal(code(() => parseObject(cal(vevent('UID:a', 'DTSTART:20260101T100000Z', 'RRULE:FREQ=DAILY')), { maxInstances: 100 })), 'ok', 'endless rules are limited at expansion, not rejected');
});

t.test('accepts override-only objects, Windows zone names and embedded zones', async (t) => {
  const o = parseObject(cal(vevent('UID:a', 'RECURRENCE-ID:20260102T100000Z', 'DTSTART:20260102T120000Z')));
  t.equal(o.master, null);
  t.equal(o.overrides.length, 1);
  const w = parseObject(cal(vevent('UID:w', 'DTSTART;TZID=W. Europe Standard Time:20260701T100000')));
  t.equal(w.index.timezone, 'Europe/Berlin');
  t.same(w.index.start, { kind: 'zoned', utc: new Date('2026-07-01T08:00:00Z'), tzid: 'Europe/Berlin', local: '2026-07-01T10:00:00' });
  // A client-sent VTIMEZONE wins over the IANA data even when its rules are odd (fixed +0300 here).
  const custom = parseObject(cal(
    ['BEGIN:VTIMEZONE', 'TZID:Europe/Warsaw', 'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0300', 'TZOFFSETTO:+0300', 'END:STANDARD', 'END:VTIMEZONE'],
    vevent('UID:c', 'DTSTART;TZID=Europe/Warsaw:20260701T100000'),
  ));
  t.same(custom.index.firstStart, new Date('2026-07-01T07:00:00Z'));
});

t.test('index fields', async (t) => {
  const o = parseObject(cal(
    vevent(
      'UID:idx', 'SUMMARY:Board\\, Q3', 'DESCRIPTION:Line1\\nLine2', 'LOCATION:Room 1', 'STATUS:tentative', 'CLASS:X-SECRET',
      'TRANSP:TRANSPARENT', 'DTSTART;TZID=America/New_York:20260305T090000', 'DURATION:PT90M', 'RRULE:FREQ=WEEKLY;COUNT=4',
      'EXDATE;TZID=America/New_York:20260312T090000', 'CATEGORIES:Sales,VIP', 'PRIORITY:3', 'SEQUENCE:7', 'LAST-MODIFIED:20260201T101010Z',
    ),
    vevent('UID:idx', 'RECURRENCE-ID;TZID=America/New_York:20260319T090000', 'DTSTART;TZID=America/New_York:20260401T090000', 'DURATION:PT1H'),
  ));
  const i = o.index;
  t.equal(i.summary, 'Board, Q3');
  t.equal(i.description, 'Line1\nLine2');
  t.equal(i.status, 'TENTATIVE');
  t.equal(i.classification, 'PRIVATE', 'unknown CLASS reads as PRIVATE');
  t.equal(i.transparency, 'TRANSPARENT');
  t.equal(i.timezone, 'America/New_York');
  t.same(i.end, { kind: 'zoned', utc: new Date('2026-03-05T15:30:00Z'), tzid: 'America/New_York', local: '2026-03-05T10:30:00' });
  t.equal(i.rrule, 'FREQ=WEEKLY;COUNT=4');
  t.same(i.exdates, ['20260312T130000Z'], 'EXDATE after the March 8 DST change: 09:00 EDT');
  t.equal(i.overrides, 1);
  t.equal(i.sequence, 7);
  t.same(i.categories, ['Sales', 'VIP']);
  t.equal(i.priority, 3);
  t.same(i.lastModified, new Date('2026-02-01T10:10:10Z'));
  t.same(i.firstStart, new Date('2026-03-05T14:00:00Z'), 'EST before the change');
  t.same(i.lastEnd, new Date('2026-04-01T14:00:00Z'), 'the override moved past the last rule instance');
  t.equal(i.instanceCount, 3, 'four by COUNT, one excluded');

  const endless = parseObject(cal(vevent('UID:e', 'DTSTART:20260101T100000Z', 'RRULE:FREQ=YEARLY'))).index;
  t.equal(endless.lastEnd, null, 'endless rule: no 2038 cap');
  t.same(endless.firstStart, new Date('2026-01-01T10:00:00Z'));

  const allDay = parseObject(cal(vevent('UID:ad', 'DTSTART;VALUE=DATE:20260329'))).index;
  t.equal(allDay.allDay, true);
  t.same(allDay.start, { kind: 'date', date: '2026-03-29' });
  t.same(allDay.end, { kind: 'date', date: '2026-03-30' });
  t.equal(allDay.timezone, null);
  t.same(allDay.firstStart, new Date('2026-03-28T10:00:00Z'), 'floating: widened by 14h');
  t.same(allDay.lastEnd, new Date('2026-03-30T14:00:00Z'));

  const floating = parseObject(cal(vevent('UID:f', 'DTSTART:20260329T100000'))).index;
  t.same(floating.start, { kind: 'floating', local: '2026-03-29T10:00:00' });

  const todo = parseObject(cal(vtodo('UID:t', 'DUE:20260401T120000Z', 'COMPLETED:20260331T080000Z', 'PERCENT-COMPLETE:100', 'STATUS:COMPLETED'))).index;
  t.equal(todo.componentType, 'VTODO');
  t.same(todo.due, { kind: 'utc', utc: new Date('2026-04-01T12:00:00Z') });
  t.same(todo.completed, new Date('2026-03-31T08:00:00Z'));
  t.equal(todo.percentComplete, 100);
  t.equal(todo.transparency, null);
  t.same([todo.firstStart, todo.lastEnd], [new Date('2026-04-01T12:00:00Z'), new Date('2026-04-01T12:00:00Z')]);
  const undated = parseObject(cal(vtodo('UID:u'))).index;
  t.same([undated.firstStart, undated.lastEnd], [null, null], 'a task without dates matches every range');
});

// Deterministic PRNG so failures reproduce.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

t.test('garbage never throws anything but IcalError', async (t) => {
  const base = cal(
    ['BEGIN:VTIMEZONE', 'TZID:Custom', 'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0100', 'END:STANDARD', 'END:VTIMEZONE'],
    vevent('UID:fuzz', 'DTSTART;TZID=Custom:20260101T100000', 'DTEND;TZID=Custom:20260101T110000', 'RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10',
      'EXDATE;TZID=Custom:20260105T100000', 'RDATE;VALUE=PERIOD:20260201T100000Z/PT1H', 'SUMMARY;LANGUAGE=en:Hi', 'ATTENDEE;CN="A; B":mailto:a@b.c',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER;RELATED=END:-PT5M', 'REPEAT:2', 'DURATION:PT1M', 'END:VALARM'),
    vevent('UID:fuzz', 'RECURRENCE-ID;TZID=Custom:20260107T100000', 'DTSTART:20260108T100000Z', 'DURATION:P1D'),
  );
  const alphabet = ':;=,"\\\r\n \tBEGINDTSTARTZ0123456789VEVENTRRULEFREQ-+/PTHMSWXé\u0000';
  const random = rng(42);
  let others = 0;
  let parsed = 0;
  const { instancesBetween } = await import('./instances.ts');
  const { matches } = await import('./filter.ts');
  const { expandObject } = await import('./expand.ts');
  for (let n = 0; n < 3000; n++) {
    let text = base;
    const edits = 1 + Math.floor(random() * 4);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(random() * text.length);
      const op = random();
      if (op < 0.4) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 8));
      else if (op < 0.8) text = text.slice(0, at) + (alphabet[Math.floor(random() * alphabet.length)] ?? '') + text.slice(at);
      else text = text.slice(0, at) + text.slice(at).split('\r\n').slice(1).join('\r\n');
    }
    if (n % 10 === 0) text = Array.from({ length: 200 }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    try {
      const o = parseObject(text, { allowed: ['VEVENT', 'VTODO', 'VJOURNAL'] });
      parsed++;
      // A parsed object must be usable without surprises.
      void o.index;
      instancesBetween(o, new Date('2025-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'));
      matches(o, { name: 'VCALENDAR', propFilters: [], compFilters: [{ name: 'VEVENT', timeRange: { start: new Date('2026-01-01T00:00:00Z') }, propFilters: [{ name: 'SUMMARY', textMatch: { value: 'h', collation: 'i;unicode-casemap', negate: false }, paramFilters: [] }], compFilters: [{ name: 'VALARM', timeRange: { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-03-01T00:00:00Z') }, propFilters: [], compFilters: [] }] }] });
      expandObject(o, new Date('2026-01-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z'));
    } catch (e) {
      if (!(e instanceof IcalError)) {
        others++;
        if (others < 5) t.fail(`non-IcalError ${String(e)} for ${JSON.stringify(text)}`);
      }
    }
  }
  t.equal(others, 0, 'only IcalError escapes');
  t.ok(parsed > 100, `some mutations still parse (${parsed})`);
});
