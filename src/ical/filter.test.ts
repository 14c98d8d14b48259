import t from 'tap';
import { parseObject } from './parse.ts';
import { matches, coarseRange, spanProvesMatch, type CompFilter, type PropFilter, type TextMatch } from './filter.ts';
import { cal, vevent, vtodo, d } from './testing.ts';

const range = (start?: string, end?: string): { start?: Date; end?: Date } => ({
  ...(start ? { start: d(start) } : {}),
  ...(end ? { end: d(end) } : {}),
});

function q(type: string, opts: Partial<CompFilter> = {}): CompFilter {
  return { name: 'VCALENDAR', propFilters: [], compFilters: [{ name: type, propFilters: [], compFilters: [], ...opts }] };
}

const inRange = (text: string, start?: string, end?: string, type = 'VEVENT'): boolean =>
  matches(parseObject(text), q(type, { timeRange: range(start, end) }));

t.test('VEVENT time ranges (RFC 4791 §9.9)', async (t) => {
  const withEnd = cal(vevent('UID:e', 'DTSTART:20260101T100000Z', 'DTEND:20260101T110000Z'));
  t.ok(inRange(withEnd, '2026-01-01T10:30:00Z', '2026-01-01T10:31:00Z'));
  t.notOk(inRange(withEnd, '2026-01-01T11:00:00Z', '2026-01-01T12:00:00Z'), 'end is exclusive');
  t.notOk(inRange(withEnd, '2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z'), 'range end is exclusive');
  t.ok(inRange(withEnd, '2026-01-01T10:59:59Z'), 'open-ended range');
  t.ok(inRange(withEnd, undefined, '2026-01-01T10:00:01Z'));
  const point = cal(vevent('UID:p', 'DTSTART:20260101T100000Z'));
  t.ok(inRange(point, '2026-01-01T10:00:00Z', '2026-01-01T10:00:01Z'), 'no DTEND: start <= DTSTART');
  t.notOk(inRange(point, '2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z'));
  const zero = cal(vevent('UID:z', 'DTSTART:20260101T100000Z', 'DURATION:PT0S'));
  t.ok(inRange(zero, '2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z'));
  const allDay = cal(vevent('UID:a', 'DTSTART;VALUE=DATE:20260329'));
  t.ok(inRange(allDay, '2026-03-29T23:00:00Z', '2026-03-30T01:00:00Z'), 'all-day without DTEND covers the day');
  t.notOk(inRange(allDay, '2026-03-30T00:00:00Z', '2026-03-30T01:00:00Z'));
  const allDayEnd = cal(vevent('UID:a2', 'DTSTART;VALUE=DATE:20260329', 'DTEND;VALUE=DATE:20260330'));
  t.notOk(inRange(allDayEnd, '2026-03-30T00:00:00Z', '2026-03-31T00:00:00Z'), 'exclusive DTEND date');
  t.ok(
    matches(parseObject(allDay), q('VEVENT', { timeRange: range('2026-03-29T22:30:00Z', '2026-03-29T23:00:00Z') }), { floatingTimezone: 'Europe/Warsaw' }) === false &&
    matches(parseObject(allDay), q('VEVENT', { timeRange: range('2026-03-28T23:00:00Z', '2026-03-28T23:30:00Z') }), { floatingTimezone: 'Europe/Warsaw' }),
    'all-day read in the calendar timezone (Warsaw day = 23:00Z to 22:00Z)',
  );
});

t.test('recurrence: every instance, overrides and exclusions', async (t) => {
  const text = cal(
    vevent('UID:r', 'SUMMARY:Standup', 'DTSTART;TZID=Europe/Warsaw:20260105T090000', 'DURATION:PT15M', 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE;TZID=Europe/Warsaw:20260112T090000'),
    vevent('UID:r', 'SUMMARY:Standup (moved)', 'RECURRENCE-ID;TZID=Europe/Warsaw:20260119T090000', 'DTSTART;TZID=Europe/Warsaw:20260301T090000', 'DURATION:PT15M'),
  );
  t.notOk(inRange(text, '2026-01-12T00:00:00Z', '2026-01-13T00:00:00Z'), 'excluded');
  t.notOk(inRange(text, '2026-01-19T00:00:00Z', '2026-01-20T00:00:00Z'), 'moved out');
  t.ok(inRange(text, '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z'), 'moved in (a Sunday)');
  t.ok(inRange(text, '2090-01-01T00:00:00Z', '2090-01-08T00:00:00Z'), 'endless rule in 2090');
  const summary = (value: string): PropFilter => ({ name: 'SUMMARY', textMatch: { value, collation: 'i;ascii-casemap', negate: false, matchType: 'equals' }, paramFilters: [] });
  const o = parseObject(text);
  t.ok(matches(o, q('VEVENT', { timeRange: range('2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z'), propFilters: [summary('standup (moved)')] })), 'prop filter on the override in range');
  t.notOk(matches(o, q('VEVENT', { timeRange: range('2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z'), propFilters: [summary('standup')] })), 'not the master\'s summary there');
  t.ok(matches(o, q('VEVENT', { timeRange: range('2026-01-26T00:00:00Z', '2026-01-27T00:00:00Z'), propFilters: [summary('standup')] })));
  t.same(coarseRange(q('VEVENT', { timeRange: range('2026-01-26T00:00:00Z', '2026-01-27T00:00:00Z') })), range('2026-01-26T00:00:00Z', '2026-01-27T00:00:00Z'));
  t.equal(coarseRange(q('VEVENT')), null);
  t.equal(coarseRange({ name: 'VCALENDAR', propFilters: [], compFilters: [] }), null);
});

t.test('VTODO time-range table (RFC 4791 §9.9)', async (t) => {
  const todo = (...lines: string[]): string => cal(vtodo('UID:t', ...lines));
  const rows: [string, string[], string, string, boolean][] = [
    // DTSTART + DURATION: (start <= DTSTART+DURATION) AND ((end > DTSTART) OR (end >= DTSTART+DURATION))
    ['start+duration overlaps', ['DTSTART:20260101T100000Z', 'DURATION:PT1H'], '2026-01-01T10:30:00Z', '2026-01-01T12:00:00Z', true],
    ['start+duration: range starting at the end', ['DTSTART:20260101T100000Z', 'DURATION:PT1H'], '2026-01-01T11:00:00Z', '2026-01-01T12:00:00Z', true],
    ['start+duration: after', ['DTSTART:20260101T100000Z', 'DURATION:PT1H'], '2026-01-01T11:00:01Z', '2026-01-01T12:00:00Z', false],
    ['start+duration: before', ['DTSTART:20260101T100000Z', 'DURATION:PT1H'], '2026-01-01T08:00:00Z', '2026-01-01T10:00:00Z', false],
    // DTSTART + DUE: ((start < DUE) OR (start <= DTSTART)) AND ((end > DTSTART) OR (end >= DUE))
    ['start+due inside', ['DTSTART:20260101T100000Z', 'DUE:20260102T100000Z'], '2026-01-01T12:00:00Z', '2026-01-01T13:00:00Z', true],
    ['start+due: range from DUE', ['DTSTART:20260101T100000Z', 'DUE:20260102T100000Z'], '2026-01-02T10:00:00Z', '2026-01-02T11:00:00Z', false],
    ['start+due: range ending at DTSTART', ['DTSTART:20260101T100000Z', 'DUE:20260102T100000Z'], '2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z', false],
    // DTSTART only: (start <= DTSTART) AND (end > DTSTART)
    ['start only, inside', ['DTSTART:20260101T100000Z'], '2026-01-01T10:00:00Z', '2026-01-01T10:00:01Z', true],
    ['start only, later', ['DTSTART:20260101T100000Z'], '2026-01-01T10:00:01Z', '2026-01-01T11:00:00Z', false],
    // DUE only: (start < DUE) AND (end >= DUE)
    ['due only, range ending at DUE', ['DUE:20260101T100000Z'], '2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z', true],
    ['due only, range starting at DUE', ['DUE:20260101T100000Z'], '2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z', false],
    // COMPLETED + CREATED: ((start <= CREATED) OR (start <= COMPLETED)) AND ((end >= CREATED) OR (end >= COMPLETED))
    ['created+completed', ['CREATED:20260101T100000Z', 'COMPLETED:20260105T100000Z'], '2026-01-03T00:00:00Z', '2026-01-04T00:00:00Z', true],
    ['created+completed, after both', ['CREATED:20260101T100000Z', 'COMPLETED:20260105T100000Z'], '2026-01-06T00:00:00Z', '2026-01-07T00:00:00Z', false],
    // COMPLETED only: (start <= COMPLETED) AND (end >= COMPLETED)
    ['completed only, inclusive end', ['COMPLETED:20260105T100000Z'], '2026-01-05T09:00:00Z', '2026-01-05T10:00:00Z', true],
    ['completed only, before', ['COMPLETED:20260105T100000Z'], '2026-01-05T10:00:01Z', '2026-01-06T00:00:00Z', false],
    // CREATED only: (end > CREATED)
    ['created only', ['CREATED:20260101T100000Z'], '2025-01-01T00:00:00Z', '2026-01-01T10:00:01Z', true],
    ['created only, range ending at CREATED', ['CREATED:20260101T100000Z'], '2025-01-01T00:00:00Z', '2026-01-01T10:00:00Z', false],
    // Nothing: TRUE
    ['no dates', [], '2000-01-01T00:00:00Z', '2000-01-02T00:00:00Z', true],
  ];
  for (const [name, lines, start, end, want] of rows) t.equal(inRange(todo(...lines), start, end, 'VTODO'), want, name);
  const recurring = todo('DTSTART:20260105T090000Z', 'DUE:20260105T100000Z', 'RRULE:FREQ=WEEKLY');
  t.ok(inRange(recurring, '2026-02-02T09:30:00Z', '2026-02-02T09:31:00Z', 'VTODO'), 'recurring task instance');
  t.notOk(inRange(recurring, '2026-02-03T09:30:00Z', '2026-02-03T09:31:00Z', 'VTODO'));
});

t.test('text-match collations, match types, negate', async (t) => {
  const o = parseObject(cal(vevent('UID:x', 'DTSTART:20260101T100000Z', 'SUMMARY:Café Straße Meeting', 'CATEGORIES:Sales,VIP', 'ATTENDEE;PARTSTAT=ACCEPTED;CN="Ann Lee":mailto:ann@example.com')));
  const sum = (tm: TextMatch): boolean => matches(o, q('VEVENT', { propFilters: [{ name: 'SUMMARY', textMatch: tm, paramFilters: [] }] }));
  t.ok(sum({ value: 'meeting', collation: 'i;ascii-casemap', negate: false }));
  t.notOk(sum({ value: 'meeting', collation: 'i;octet', negate: false }), 'octet is case-sensitive');
  t.ok(sum({ value: 'Meeting', collation: 'i;octet', negate: false }));
  t.notOk(sum({ value: 'CAFÉ', collation: 'i;ascii-casemap', negate: false }), 'ascii-casemap leaves É alone');
  t.ok(sum({ value: 'CAFÉ', collation: 'i;unicode-casemap', negate: false }), 'unicode-casemap folds É');
  t.ok(sum({ value: 'STRASSE', collation: 'i;unicode-casemap', negate: false }), 'ß folds to ss');
  t.ok(sum({ value: 'meeting', collation: 'i;ascii-casemap', negate: true }) === false, 'negate inverts a hit');
  t.ok(sum({ value: 'lunch', collation: 'i;ascii-casemap', negate: true }), 'negate inverts a miss');
  t.ok(sum({ value: 'café', collation: 'i;unicode-casemap', negate: false, matchType: 'starts-with' }));
  t.notOk(sum({ value: 'meeting', collation: 'i;ascii-casemap', negate: false, matchType: 'equals' }));
  t.ok(sum({ value: 'MEETING', collation: 'i;ascii-casemap', negate: false, matchType: 'ends-with' }));
  t.ok(matches(o, q('VEVENT', { propFilters: [{ name: 'CATEGORIES', textMatch: { value: 'vip', collation: 'i;ascii-casemap', negate: false, matchType: 'equals' }, paramFilters: [] }] })), 'each CATEGORIES value');

  // param-filter
  const attendee = (paramFilters: PropFilter['paramFilters']): boolean => matches(o, q('VEVENT', { propFilters: [{ name: 'ATTENDEE', paramFilters }] }));
  t.ok(attendee([{ name: 'PARTSTAT', textMatch: { value: 'accepted', collation: 'i;ascii-casemap', negate: false } }]));
  t.notOk(attendee([{ name: 'PARTSTAT', textMatch: { value: 'DECLINED', collation: 'i;ascii-casemap', negate: false } }]));
  t.ok(attendee([{ name: 'CN', textMatch: { value: 'ann', collation: 'i;ascii-casemap', negate: false } }]));
  t.ok(attendee([{ name: 'ROLE', isNotDefined: true }]));
  t.notOk(attendee([{ name: 'PARTSTAT', isNotDefined: true }]));
  t.notOk(attendee([{ name: 'ROLE' }]), 'param must exist');
});

t.test('is-not-defined on properties and components', async (t) => {
  const o = parseObject(cal(vevent('UID:x', 'DTSTART:20260101T100000Z', 'SUMMARY:Hi')));
  const pf = (name: string, isNotDefined: boolean): boolean => matches(o, q('VEVENT', { propFilters: [{ name, isNotDefined, paramFilters: [] }] }));
  t.ok(pf('LOCATION', true));
  t.notOk(pf('SUMMARY', true));
  t.ok(pf('SUMMARY', false));
  t.notOk(pf('LOCATION', false));
  t.ok(matches(o, q('VTODO', { isNotDefined: true })));
  t.notOk(matches(o, q('VEVENT', { isNotDefined: true })));
  t.notOk(matches(o, q('VTODO')), 'a VTODO filter does not match an event');
  t.ok(matches(o, q('VEVENT', { compFilters: [{ name: 'VALARM', isNotDefined: true, propFilters: [], compFilters: [] }] })));
  t.notOk(matches(o, { name: 'VEVENT', propFilters: [], compFilters: [] }), 'top level must be VCALENDAR');
});

t.test('VALARM trigger time ranges, per instance', async (t) => {
  const o = parseObject(cal(vevent('UID:al', 'DTSTART:20260105T090000Z', 'DTEND:20260105T100000Z', 'RRULE:FREQ=WEEKLY',
    'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT15M', 'REPEAT:2', 'DURATION:PT5M', 'END:VALARM',
    'BEGIN:VALARM', 'ACTION:AUDIO', 'TRIGGER;RELATED=END:PT1H', 'END:VALARM')));
  const alarm = (start: string, end: string): boolean =>
    matches(o, q('VEVENT', { compFilters: [{ name: 'VALARM', timeRange: range(start, end), propFilters: [], compFilters: [] }] }));
  t.ok(alarm('2026-01-12T08:45:00Z', '2026-01-12T08:46:00Z'), 'second instance, first trigger');
  t.ok(alarm('2026-01-12T08:55:00Z', '2026-01-12T08:56:00Z'), 'second repetition');
  t.notOk(alarm('2026-01-12T08:56:00Z', '2026-01-12T09:00:00Z'));
  t.ok(alarm('2026-01-12T11:00:00Z', '2026-01-12T11:00:01Z'), 'related to END');
  t.ok(alarm('2090-01-02T08:45:00Z', '2090-01-02T08:46:00Z'), 'far future instance (a Monday)');
});

t.test('spanProvesMatch: the stored span decides only where the exact test agrees', async (t) => {
  const objects = {
    timed: cal(vevent('UID:1', 'DTSTART:20260610T100000Z', 'DTEND:20260610T110000Z')),
    point: cal(vevent('UID:2', 'DTSTART:20260610T100000Z')),
    zeroEnd: cal(vevent('UID:3', 'DTSTART:20260610T100000Z', 'DTEND:20260610T100000Z')),
    zeroDuration: cal(vevent('UID:4', 'DTSTART:20260610T100000Z', 'DURATION:PT0S')),
    allDay: cal(vevent('UID:5', 'DTSTART;VALUE=DATE:20260610')),
    floating: cal(vevent('UID:6', 'DTSTART:20260610T233000', 'DTEND:20260611T003000')),
    zoned: cal(vevent('UID:7', 'DTSTART;TZID=Europe/Warsaw:20260610T100000', 'DTEND;TZID=Europe/Warsaw:20260610T110000')),
    weekly: cal(vevent('UID:8', 'DTSTART:20260601T100000Z', 'DTEND:20260601T110000Z', 'RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE:20260608T100000Z')),
    moved: cal(
      vevent('UID:9', 'DTSTART:20260602T100000Z', 'DTEND:20260602T110000Z', 'RRULE:FREQ=DAILY;COUNT=3'),
      vevent('UID:9', 'RECURRENCE-ID:20260603T100000Z', 'DTSTART:20260720T100000Z', 'DTEND:20260720T110000Z'),
    ),
    allExcluded: cal(vevent('UID:10', 'DTSTART:20260610T100000Z', 'RRULE:FREQ=DAILY;COUNT=2', 'EXDATE:20260610T100000Z,20260611T100000Z')),
    endless: cal(vevent('UID:11', 'DTSTART:20260610T100000Z', 'RRULE:FREQ=DAILY')),
  };
  // range bounds on, just inside and just outside every edge the objects have
  const edges = ['2026-05-31T00:00:00Z', '2026-06-01T00:00:00Z', '2026-06-01T10:00:00Z', '2026-06-10T00:00:00Z', '2026-06-10T09:59:59Z', '2026-06-10T10:00:00Z',
    '2026-06-10T10:00:01Z', '2026-06-10T11:00:00Z', '2026-06-11T00:00:00Z', '2026-06-12T00:00:00Z', '2026-06-30T00:00:00Z', '2026-07-01T00:00:00Z', '2026-08-01T00:00:00Z'];
  let proven = 0;
  for (const [name, text] of Object.entries(objects)) {
    const obj = parseObject(text);
    for (const zone of [undefined, 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Europe/Warsaw']) {
      for (const start of [undefined, ...edges]) {
        for (const end of [...edges, undefined]) {
          if (start !== undefined && end !== undefined && start >= end) continue;
          const filter = q('VEVENT', { timeRange: range(start, end) });
          if (!spanProvesMatch(filter, obj.componentType, obj.index.firstStart, obj.index.lastEnd)) continue;
          proven++;
          if (!matches(obj, filter, zone === undefined ? {} : { floatingTimezone: zone })) t.fail(`${name} in ${start}..${end} (${zone ?? 'UTC'}): proven by its span but the exact test says no`);
        }
      }
    }
  }
  t.ok(proven > 100, `the span decided ${proven} cases, each confirmed by matches()`);
  const inside = parseObject(objects.timed);
  const month = q('VEVENT', { timeRange: range('2026-06-01T00:00:00Z', '2026-07-01T00:00:00Z') });
  t.ok(spanProvesMatch(month, 'VEVENT', inside.index.firstStart, inside.index.lastEnd), 'an event inside the month is decided by its span');
  t.notOk(spanProvesMatch(month, 'VTODO', inside.index.firstStart, inside.index.lastEnd), 'not for tasks (their table differs)');
  t.notOk(spanProvesMatch({ ...month, compFilters: [{ ...month.compFilters[0]!, propFilters: [{ name: 'SUMMARY', paramFilters: [], textMatch: { value: 'x', collation: 'i;ascii-casemap', negate: false } }] }] }, 'VEVENT', inside.index.firstStart, inside.index.lastEnd), 'not with a prop-filter');
  t.notOk(spanProvesMatch({ ...month, compFilters: [{ ...month.compFilters[0]!, compFilters: [{ name: 'VALARM', propFilters: [], compFilters: [] }] }] }, 'VEVENT', inside.index.firstStart, inside.index.lastEnd), 'not with a nested comp-filter');
  t.notOk(spanProvesMatch(month, 'VEVENT', null, null), 'not without a stored span');
  const moved = parseObject(objects.moved);
  t.notOk(spanProvesMatch(month, 'VEVENT', moved.index.firstStart, moved.index.lastEnd), 'an override moved out of the month widens the span past it');
});
