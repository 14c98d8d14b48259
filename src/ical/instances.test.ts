import t from 'tap';
import { parseObject } from './parse.ts';
import { instancesBetween } from './instances.ts';
import { cal, vevent, d, codeOf } from './testing.ts';

const iso = (xs: { start: Date }[]): string[] => xs.map((x) => x.start.toISOString());

// Weekly on Fridays 10:00 Warsaw from 2026-03-20; 2026-04-03 excluded; 2026-04-10 moved to Saturday 15:00;
// 2026-05-01 moved back into April (to 2026-04-29).
const weekly = parseObject(cal(
  vevent('UID:weekly', 'SUMMARY:Sync', 'DTSTART;TZID=Europe/Warsaw:20260320T100000', 'DTEND;TZID=Europe/Warsaw:20260320T110000',
    'RRULE:FREQ=WEEKLY', 'EXDATE;TZID=Europe/Warsaw:20260403T100000'),
  vevent('UID:weekly', 'SUMMARY:Moved', 'RECURRENCE-ID;TZID=Europe/Warsaw:20260410T100000',
    'DTSTART;TZID=Europe/Warsaw:20260411T150000', 'DTEND;TZID=Europe/Warsaw:20260411T160000'),
  vevent('UID:weekly', 'SUMMARY:Pulled in', 'RECURRENCE-ID;TZID=Europe/Warsaw:20260501T100000',
    'DTSTART;TZID=Europe/Warsaw:20260429T100000', 'DTEND;TZID=Europe/Warsaw:20260429T110000'),
));

t.test('weekly with EXDATE and overrides moved into and out of the range', async (t) => {
  const april = instancesBetween(weekly, d('2026-04-01T00:00:00Z'), d('2026-05-01T00:00:00Z'));
  t.same(iso(april), [
    '2026-04-11T13:00:00.000Z', // the 10th, moved
    '2026-04-17T08:00:00.000Z',
    '2026-04-24T08:00:00.000Z',
    '2026-04-29T08:00:00.000Z', // May 1st, pulled into April
  ], 'April 3 is excluded, CEST from March 29 on');
  const moved = april[0];
  t.equal(moved?.recurrenceId, '20260410T080000Z');
  t.equal(moved?.override, true);
  t.equal(moved?.component.getFirstPropertyValue('summary'), 'Moved');
  t.same(moved?.end, d('2026-04-11T14:00:00Z'));

  const fridayOnly = instancesBetween(weekly, d('2026-04-10T00:00:00Z'), d('2026-04-11T00:00:00Z'));
  t.same(fridayOnly, [], 'the moved-out instance is gone from its original day');
  const may = instancesBetween(weekly, d('2026-05-01T00:00:00Z'), d('2026-05-09T00:00:00Z'));
  t.same(iso(may), ['2026-05-08T08:00:00.000Z'], 'May 1 moved out of May');
  const march = instancesBetween(weekly, d('2026-03-01T00:00:00Z'), d('2026-04-01T00:00:00Z'));
  t.same(iso(march), ['2026-03-20T09:00:00.000Z', '2026-03-27T09:00:00.000Z'], 'CET before the change');
});

// Walking a daily rule step by step from 2000 would take far longer than the
// timeout on these queries; fast-forwarding takes milliseconds. No wall-clock figure is asserted.
t.test('endless rule still matches in 2090, quickly', { timeout: 60_000 }, async (t) => {
  const far = instancesBetween(weekly, d('2090-06-01T00:00:00Z'), d('2090-06-15T00:00:00Z'));
  t.same(iso(far), ['2090-06-02T08:00:00.000Z', '2090-06-09T08:00:00.000Z']);
  t.equal(far[0]?.recurrenceId, '20900602T080000Z');
  const daily = parseObject(cal(vevent('UID:daily', 'DTSTART:20000101T090000Z', 'DURATION:PT30M', 'RRULE:FREQ=DAILY')));
  const one = instancesBetween(daily, d('2090-01-01T00:00:00Z'), d('2090-01-02T00:00:00Z'));
  t.same(iso(one), ['2090-01-01T09:00:00.000Z']);
  const weekdays = parseObject(cal(vevent('UID:wd', 'DTSTART;TZID=America/New_York:20260105T080000', 'RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;INTERVAL=2')));
  t.same(iso(instancesBetween(weekdays, d('2090-01-01T00:00:00Z'), d('2090-01-22T00:00:00Z'))).length, 3, 'every other week, three days');
});

t.test('all-day events: exclusive DTEND, default one day', async (t) => {
  const o = parseObject(cal(vevent('UID:ad', 'DTSTART;VALUE=DATE:20260329', 'DTEND;VALUE=DATE:20260331')));
  const [i] = instancesBetween(o, d('2026-03-01T00:00:00Z'), d('2026-04-30T00:00:00Z'));
  t.same([i?.start, i?.end, i?.allDay, i?.recurrenceId], [d('2026-03-29T00:00:00Z'), d('2026-03-31T00:00:00Z'), true, '20260329']);
  t.same(instancesBetween(o, d('2026-03-31T00:00:00Z'), d('2026-04-01T00:00:00Z')), [], 'DTEND day is not part of it');
  t.equal(instancesBetween(o, d('2026-03-30T23:00:00Z'), d('2026-03-31T00:00:00Z')).length, 1);
  const single = parseObject(cal(vevent('UID:ad1', 'DTSTART;VALUE=DATE:20260329', 'RRULE:FREQ=YEARLY', 'EXDATE;VALUE=DATE:20270329')));
  t.same(iso(instancesBetween(single, d('2026-01-01T00:00:00Z'), d('2029-01-01T00:00:00Z'))), [
    '2026-03-29T00:00:00.000Z', '2028-03-29T00:00:00.000Z',
  ]);
  const [w] = instancesBetween(single, d('2026-03-29T10:00:00Z'), d('2026-03-29T11:00:00Z'), { floatingTimezone: 'Europe/Warsaw' });
  t.same([w?.start, w?.end], [d('2026-03-28T23:00:00Z'), d('2026-03-29T22:00:00Z')], 'read in the calendar zone: a 23-hour DST day');
});

t.test('DST: Europe/Warsaw and America/New_York across March and October/November', async (t) => {
  const waw = parseObject(cal(vevent('UID:waw', 'DTSTART;TZID=Europe/Warsaw:20260327T093000', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=3')));
  t.same(iso(instancesBetween(waw, d('2026-03-01T00:00:00Z'), d('2026-04-30T00:00:00Z'))), [
    '2026-03-27T08:30:00.000Z', '2026-03-28T08:30:00.000Z', '2026-03-29T07:30:00.000Z',
  ]);
  const wawOct = parseObject(cal(vevent('UID:wawo', 'DTSTART;TZID=Europe/Warsaw:20261024T093000', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=2')));
  t.same(iso(instancesBetween(wawOct, d('2026-10-01T00:00:00Z'), d('2026-11-30T00:00:00Z'))), ['2026-10-24T07:30:00.000Z', '2026-10-25T08:30:00.000Z']);
  const nyc = parseObject(cal(vevent('UID:nyc', 'DTSTART;TZID=America/New_York:20260307T090000', 'DTEND;TZID=America/New_York:20260307T100000', 'RRULE:FREQ=DAILY;COUNT=2')));
  t.same(iso(instancesBetween(nyc, d('2026-03-01T00:00:00Z'), d('2026-03-31T00:00:00Z'))), ['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z']);
  const nycNov = parseObject(cal(vevent('UID:nycn', 'DTSTART;TZID=America/New_York:20261031T090000', 'RRULE:FREQ=DAILY;COUNT=2')));
  t.same(iso(instancesBetween(nycNov, d('2026-10-01T00:00:00Z'), d('2026-11-30T00:00:00Z'))), ['2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z']);

  // RFC 5545 §3.3.5: a time in the gap uses the offset before it; a repeated time is its first occurrence.
  const gap = parseObject(cal(vevent('UID:gap', 'DTSTART;TZID=Europe/Warsaw:20260329T023000')));
  t.same(gap.index.firstStart, d('2026-03-29T01:30:00Z'), '02:30 does not exist: read with +01:00');
  const repeated = parseObject(cal(vevent('UID:rep', 'DTSTART;TZID=Europe/Warsaw:20261025T023000')));
  t.same(repeated.index.firstStart, d('2026-10-25T00:30:00Z'), '02:30 happens twice: the first, +02:00');
  const nycGap = parseObject(cal(vevent('UID:ngap', 'DTSTART;TZID=America/New_York:20260308T023000')));
  t.same(nycGap.index.firstStart, d('2026-03-08T07:30:00Z'));
  const nycRep = parseObject(cal(vevent('UID:nrep', 'DTSTART;TZID=America/New_York:20261101T013000')));
  t.same(nycRep.index.firstStart, d('2026-11-01T05:30:00Z'));
  // A P1D duration is nominal: same wall time the next day, 23 hours across the change.
  const nominal = parseObject(cal(vevent('UID:nom', 'DTSTART;TZID=Europe/Warsaw:20260328T120000', 'DURATION:P1D')));
  t.same(instancesBetween(nominal, d('2026-03-01T00:00:00Z'), d('2026-04-01T00:00:00Z'))[0]?.end, d('2026-03-29T10:00:00Z'));
});

t.test('RDATE, floating times, and a time-range edge', async (t) => {
  const o = parseObject(cal(vevent('UID:rd', 'DTSTART:20260101T100000Z', 'DTEND:20260101T110000Z',
    'RDATE:20260105T100000Z,20260101T100000Z', 'RDATE;VALUE=PERIOD:20260110T080000Z/PT3H')));
  const all = instancesBetween(o, d('2026-01-01T00:00:00Z'), d('2026-02-01T00:00:00Z'));
  t.same(iso(all), ['2026-01-01T10:00:00.000Z', '2026-01-05T10:00:00.000Z', '2026-01-10T08:00:00.000Z'], 'duplicate RDATE of DTSTART counted once');
  t.same(all[2]?.end, d('2026-01-10T11:00:00Z'), 'PERIOD gives its own length');
  t.same(instancesBetween(o, d('2026-01-01T11:00:00Z'), d('2026-01-01T12:00:00Z')), [], 'end is exclusive');
  const floating = parseObject(cal(vevent('UID:fl', 'DTSTART:20260701T090000', 'DTEND:20260701T100000')));
  t.same(iso(instancesBetween(floating, d('2026-07-01T00:00:00Z'), d('2026-07-02T00:00:00Z'), { floatingTimezone: 'America/New_York' })), ['2026-07-01T13:00:00.000Z']);
  t.equal(instancesBetween(floating, d('2026-07-01T00:00:00Z'), d('2026-07-02T00:00:00Z'))[0]?.recurrenceId, '20260701T090000');
});

t.test('instance caps fail with too-many-instances instead of hanging', async (t) => {
  const secondly = parseObject(cal(vevent('UID:s', 'DTSTART:20260101T000000Z', 'RRULE:FREQ=SECONDLY')));
  t.equal(codeOf(() => instancesBetween(secondly, d('2026-01-01T00:00:00Z'), d('2026-01-02T00:00:00Z'))), 'too-many-instances');
  t.equal(codeOf(() => instancesBetween(secondly, d('2030-01-01T00:00:00Z'), d('2030-01-01T00:00:01Z'))), 'too-many-instances', 'walking far ahead is capped too');
  t.equal(instancesBetween(secondly, d('2026-01-01T00:00:00Z'), d('2026-01-01T00:01:00Z')).length, 60);
  t.equal(codeOf(() => instancesBetween(weekly, d('2026-01-01T00:00:00Z'), d('2027-01-01T00:00:00Z'), { max: 10 })), 'too-many-instances');
});

t.test('a long series walked once: later and earlier windows of one parsed object answer as a fresh parse does', async (t) => {
  // every other Tuesday at 09:00 Warsaw, 400 times from 2016: COUNT rules cannot jump, so the walk from DTSTART is kept
  const text = cal(vevent('UID:long', 'DTSTART;TZID=Europe/Warsaw:20160105T090000', 'DTEND;TZID=Europe/Warsaw:20160105T100000',
    'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=400', 'EXDATE;TZID=Europe/Warsaw:20200114T090000'));
  const kept = parseObject(text);
  const windows: [string, string][] = [
    ['2020-01-01T00:00:00Z', '2020-02-01T00:00:00Z'], ['2018-06-01T00:00:00Z', '2018-07-01T00:00:00Z'],
    ['2031-04-01T00:00:00Z', '2032-01-01T00:00:00Z'], ['2016-01-01T00:00:00Z', '2016-01-20T00:00:00Z'], ['2020-01-01T00:00:00Z', '2020-02-01T00:00:00Z'],
  ];
  for (const [s, e] of windows) {
    const fresh = iso(instancesBetween(parseObject(text), d(s), d(e)));
    t.same(iso(instancesBetween(kept, d(s), d(e))), fresh, `${s.slice(0, 7)}: as a fresh parse`);
  }
  t.same(iso(instancesBetween(kept, d('2020-01-01T00:00:00Z'), d('2020-02-01T00:00:00Z'))), ['2020-01-28T08:00:00.000Z'], 'the EXDATE still applies');
  t.same(iso(instancesBetween(kept, d('2031-04-01T00:00:00Z'), d('2032-01-01T00:00:00Z'))), ['2031-04-08T07:00:00.000Z', '2031-04-22T07:00:00.000Z'], 'the last two of the 400');
  // the walk limit counts from DTSTART, whether or not the walk was kept
  t.equal(codeOf(() => instancesBetween(parseObject(text), d('2020-01-01T00:00:00Z'), d('2020-02-01T00:00:00Z'), { maxIterations: 50 })), 'too-many-instances');
  t.equal(codeOf(() => instancesBetween(kept, d('2020-01-01T00:00:00Z'), d('2020-02-01T00:00:00Z'), { maxIterations: 50 })), 'too-many-instances');
});

t.test('a walk too long to keep before the window is walked from DTSTART as before', async (t) => {
  const text = cal(vevent('UID:hourly', 'DTSTART:20260101T000000Z', 'DTEND:20260101T001500Z', 'RRULE:FREQ=HOURLY;BYMINUTE=0,30'));
  const kept = parseObject(text);
  const late: [Date, Date] = [d('2026-06-01T00:00:00Z'), d('2026-06-01T02:00:00Z')];
  const early: [Date, Date] = [d('2026-01-02T00:00:00Z'), d('2026-01-02T01:00:00Z')];
  t.same(iso(instancesBetween(kept, ...late)), ['2026-06-01T00:00:00.000Z', '2026-06-01T00:30:00.000Z', '2026-06-01T01:00:00.000Z', '2026-06-01T01:30:00.000Z', '2026-06-01T02:00:00.000Z'].slice(0, 4));
  t.same(iso(instancesBetween(kept, ...early)), ['2026-01-02T00:00:00.000Z', '2026-01-02T00:30:00.000Z']);
  t.same(iso(instancesBetween(kept, ...late)), iso(instancesBetween(parseObject(text), ...late)), 'again, as a fresh parse');
});
