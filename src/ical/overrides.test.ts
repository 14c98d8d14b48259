import t from 'tap';
import { replaceOverrides } from './overrides.ts';
import { parseObject } from './parse.ts';

const cal = (...parts: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...parts, 'END:VCALENDAR', ''].join('\r\n');
const master = (extra: string[] = []) => ['BEGIN:VEVENT', 'UID:u1', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260302T090000Z', 'DTEND:20260302T100000Z', 'RRULE:FREQ=WEEKLY;COUNT=5', 'SUMMARY:Weekly', ...extra, 'END:VEVENT'];
const override = (day: string, summary: string, extra: string[] = []) => ['BEGIN:VEVENT', 'UID:u1', 'DTSTAMP:20260101T000000Z', `RECURRENCE-ID:202603${day}T090000Z`, `DTSTART:202603${day}T110000Z`, `DTEND:202603${day}T120000Z`, `SUMMARY:${summary}`, ...extra, 'END:VEVENT'];

t.test('a participant\'s moved occurrence reaches a copy that has none', async (t) => {
  const copy = cal(...master(['X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC', 'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT10M', 'END:VALARM']));
  const edited = cal(...master(), ...override('09', 'Moved', ['X-CLIENT:kept']));
  const out = replaceOverrides(copy, edited);
  t.match(out, /X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\nBEGIN:VALARM/, 'the copy\'s own master is untouched, alarm included');
  t.match(out, /RECURRENCE-ID:20260309T090000Z\r\nDTSTART:20260309T110000Z/, 'the override arrives');
  t.match(out, /X-CLIENT:kept/, 'with its lines as the client wrote them');
  t.equal(parseObject(out).overrides.length, 1);
});

t.test('overrides are replaced, not added to, and a copy already the same is returned as is', async (t) => {
  const copy = cal(...master(), ...override('09', 'Old'), ...override('16', 'Gone'));
  const edited = cal(...master(), ...override('09', 'New'));
  const out = replaceOverrides(copy, edited);
  t.notMatch(out, /SUMMARY:Old|SUMMARY:Gone/);
  t.equal(parseObject(out).overrides.length, 1);
  t.equal(replaceOverrides(out, edited), out, 'no change, same string');
});

t.test('a VTIMEZONE the override needs comes along', async (t) => {
  const tz = ['BEGIN:VTIMEZONE', 'TZID:Europe/Warsaw', 'BEGIN:STANDARD', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'END:STANDARD', 'BEGIN:DAYLIGHT', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'END:DAYLIGHT', 'END:VTIMEZONE'];
  const zoned = ['BEGIN:VEVENT', 'UID:u1', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID:20260309T090000Z', 'DTSTART;TZID=Europe/Warsaw:20260309T130000', 'DTEND;TZID=Europe/Warsaw:20260309T140000', 'SUMMARY:Zoned', 'END:VEVENT'];
  const out = replaceOverrides(cal(...master()), cal(...tz, ...master(), ...zoned));
  t.match(out, /BEGIN:VTIMEZONE\r\nTZID:Europe\/Warsaw/);
  t.ok(out.indexOf('BEGIN:VTIMEZONE') < out.indexOf('BEGIN:VEVENT'), 'before the events');
  t.equal(parseObject(out).overrides[0]?.getFirstPropertyValue('summary'), 'Zoned');
});
