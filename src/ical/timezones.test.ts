import t from 'tap';
import { parseObject } from './parse.ts';
import { buildObject } from './patch.ts';
import { instancesBetween } from './instances.ts';
import { timezoneFor } from './timezones.ts';
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
