import t from 'tap';
import { parseObject } from './parse.ts';
import { buildObject } from './patch.ts';
import { instancesBetween } from './instances.ts';
import { timezoneCalendar, timezoneCalendarTzid, timezoneFor } from './timezones.ts';
import { cal, vevent, d } from './testing.ts';

const zone = (tzid: string, offset: string): string[] => [
  'BEGIN:VTIMEZONE', `TZID:${tzid}`,
  'BEGIN:STANDARD', 'DTSTART:19700101T000000', `TZOFFSETFROM:${offset}`, `TZOFFSETTO:${offset}`, 'END:STANDARD',
  'END:VTIMEZONE',
];
const startZone = (text: string): unknown => (parseObject(text).master?.getFirstPropertyValue('dtstart') as { zone: unknown }).zone;

t.test('identical VTIMEZONEs share one zone; different ones with the same TZID do not mix', async (t) => {
  const a = cal(zone('Office', '+0300'), vevent('UID:a', 'DTSTART;TZID=Office:20260601T100000'));
  const b = cal(zone('Office', '+0300'), vevent('UID:b', 'DTSTART;TZID=Office:20260602T100000'));
  const other = cal(zone('Office', '-0500'), vevent('UID:c', 'DTSTART;TZID=Office:20260601T100000'));
  t.equal(startZone(a), startZone(b), 'built once for the same block');
  t.not(startZone(a), startZone(other), 'same TZID, other content: its own zone');
  t.same(parseObject(a).index.firstStart, d('2026-06-01T07:00:00Z'));
  t.same(parseObject(other).index.firstStart, d('2026-06-01T15:00:00Z'));
  t.same(parseObject(a).index.firstStart, d('2026-06-01T07:00:00Z'), 'still right after the other was parsed');

  // As ical.js does, the first block of a TZID counts.
  const twice = cal(zone('Office', '+0100'), zone('Office', '+0900'), vevent('UID:d', 'DTSTART;TZID=Office:20260601T100000'));
  t.same(parseObject(twice).index.firstStart, d('2026-06-01T09:00:00Z'));
});

t.test('a library zone embedded by buildObject is the registered zone, DST edges intact', async (t) => {
  const text = buildObject({ uid: 'z', start: d('2026-03-28T09:00:00Z'), end: d('2026-03-28T10:00:00Z'), timezone: 'Europe/Warsaw', rrule: 'FREQ=DAILY;COUNT=3' }, { now: d('2026-01-01T00:00:00Z') });
  t.equal(startZone(text), timezoneFor('Europe/Warsaw'));
  const starts = instancesBetween(parseObject(text), d('2026-03-01T00:00:00Z'), d('2026-04-01T00:00:00Z')).map((i) => i.start.toISOString());
  t.same(starts, ['2026-03-28T09:00:00.000Z', '2026-03-29T08:00:00.000Z', '2026-03-30T08:00:00.000Z'], '10:00 local across the change');
  // Wall clock in the spring-forward gap: the offset from before the gap (RFC 5545 §3.3.5), also from a shared zone.
  const gap = text.replace(/DTSTART;TZID=Europe\/Warsaw:\d+T\d+/, 'DTSTART;TZID=Europe/Warsaw:20260329T023000').replace(/DTEND[^\r]*\r\n/, '').replace(/RRULE[^\r]*\r\n/, '');
  t.same(parseObject(gap).index.firstStart, d('2026-03-29T01:30:00Z'));
});

t.test('an unused or broken VTIMEZONE behaves as before', async (t) => {
  const unused = cal(zone('Nowhere', '+0200'), vevent('UID:u', 'DTSTART:20260601T100000Z'));
  t.same(parseObject(unused).index.firstStart, d('2026-06-01T10:00:00Z'));
  const noOffsets = cal(['BEGIN:VTIMEZONE', 'TZID:Bare', 'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'END:STANDARD', 'END:VTIMEZONE'],
    vevent('UID:e', 'DTSTART;TZID=Bare:20260601T100000'));
  t.same(parseObject(noOffsets).index.firstStart, d('2026-06-01T10:00:00Z'), 'a zone without offsets reads as UTC, as ical.js does');
});

t.test('a time zone as iCalendar text is a VCALENDAR with exactly one VTIMEZONE (RFC 4791 §5.2.2, §9.8)', async (t) => {
  const warsaw = timezoneCalendar('Europe/Warsaw')!;
  t.equal(timezoneCalendarTzid(warsaw), 'Europe/Warsaw');
  t.equal(timezoneCalendarTzid(cal(zone('Office', '+0300'))), 'Office');
  const utc = timezoneCalendar('Etc/UTC')!;
  t.equal((utc.match(/BEGIN:VTIMEZONE/g) ?? []).length, 1, 'UTC has its VTIMEZONE too');
  t.equal(timezoneCalendarTzid(utc), 'UTC');
  t.equal(timezoneCalendar('Nowhere/Land'), null);
  const refused = (text: string, why: RegExp) => t.throws(() => timezoneCalendarTzid(text), { code: 'valid-calendar-data', message: why });
  refused('Europe/Warsaw', /not iCalendar/);
  refused(cal(vevent('UID:a', 'DTSTART:20260601T100000Z')), /also holds VEVENT/);
  refused(cal(zone('A', '+0100'), zone('B', '+0200')), /holds 2/);
  refused(cal(), /holds 0/);
  refused(cal(['BEGIN:VTIMEZONE', 'TZID:A', 'END:VTIMEZONE']), /STANDARD or DAYLIGHT/);
  refused(cal(['BEGIN:VTIMEZONE', 'TZID:A', 'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETTO:+0100', 'END:STANDARD', 'END:VTIMEZONE']), /no TZOFFSETFROM/);
  refused(warsaw + warsaw, /more than one VCALENDAR/);
});
