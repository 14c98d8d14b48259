import t from 'tap';
import { parseObject } from './parse.ts';
import { expandObject, limitRecurrenceSet } from './expand.ts';
import { freeBusy } from './freebusy.ts';
import { cal, vevent, vtodo, d } from './testing.ts';

const weekly = parseObject(cal(
  ['BEGIN:VTIMEZONE', 'TZID:Europe/Warsaw', 'BEGIN:STANDARD', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'END:DAYLIGHT', 'END:VTIMEZONE'],
  vevent('UID:wk', 'SUMMARY:Sync', 'DTSTART;TZID=Europe/Warsaw:20260320T100000', 'DTEND;TZID=Europe/Warsaw:20260320T110000', 'RRULE:FREQ=WEEKLY', 'EXDATE;TZID=Europe/Warsaw:20260403T100000',
    'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT10M', 'END:VALARM'),
  vevent('UID:wk', 'SUMMARY:Moved', 'RECURRENCE-ID;TZID=Europe/Warsaw:20260410T100000', 'DTSTART;TZID=Europe/Warsaw:20260411T150000', 'DTEND;TZID=Europe/Warsaw:20260411T160000'),
));

t.test('expand: one component per instance, UTC, no recurrence properties or VTIMEZONE', async (t) => {
  const out = expandObject(weekly, d('2026-03-25T00:00:00Z'), d('2026-04-12T00:00:00Z'));
  t.equal(out, [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Kalends tests//EN',
    'BEGIN:VEVENT', 'DTSTAMP:20260101T000000Z', 'UID:wk', 'SUMMARY:Sync',
    'DTSTART:20260327T090000Z', 'DTEND:20260327T100000Z', 'RECURRENCE-ID:20260327T090000Z',
    'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT10M', 'END:VALARM', 'END:VEVENT',
    'BEGIN:VEVENT', 'DTSTAMP:20260101T000000Z', 'UID:wk', 'SUMMARY:Moved',
    'DTSTART:20260411T130000Z', 'DTEND:20260411T140000Z', 'RECURRENCE-ID:20260410T080000Z', 'END:VEVENT',
    'END:VCALENDAR', '',
  ].join('\r\n'), 'April 3 excluded, April 10 moved, CET then CEST');
  t.notMatch(out, /RRULE|EXDATE|VTIMEZONE|TZID/);
  const parsed = parseObject(out);
  t.equal(parsed.overrides.length, 2, 'the expansion is itself a valid object');

  const allDay = parseObject(cal(vevent('UID:ad', 'DTSTART;VALUE=DATE:20260101', 'RRULE:FREQ=DAILY;COUNT=3')));
  const days = expandObject(allDay, d('2026-01-02T00:00:00Z'), d('2026-01-10T00:00:00Z'));
  t.match(days, /DTSTART;VALUE=DATE:20260102\r\nRECURRENCE-ID;VALUE=DATE:20260102\r\n/);
  t.match(days, /DTSTART;VALUE=DATE:20260103\r\n/);
  t.notMatch(days, /DTSTART;VALUE=DATE:20260101/);
  const single = parseObject(cal(vevent('UID:s', 'DTSTART;TZID=America/New_York:20260701T090000', 'DURATION:PT1H')));
  const one = expandObject(single, d('2026-07-01T00:00:00Z'), d('2026-07-02T00:00:00Z'));
  t.match(one, /DTSTART:20260701T130000Z\r\n/);
  t.match(one, /DURATION:PT1H\r\n/);
  t.notMatch(one, /RECURRENCE-ID/, 'a non-recurring event gets no RECURRENCE-ID');
});

t.test('limit-recurrence-set keeps the master and overrides that affect the range', async (t) => {
  const april = limitRecurrenceSet(weekly, d('2026-04-11T00:00:00Z'), d('2026-04-12T00:00:00Z'));
  t.match(april, /RECURRENCE-ID/, 'moved into the range');
  t.match(april, /BEGIN:VTIMEZONE/);
  t.match(april, /RRULE:FREQ=WEEKLY/);
  const original = limitRecurrenceSet(weekly, d('2026-04-10T00:00:00Z'), d('2026-04-11T00:00:00Z'));
  t.match(original, /RECURRENCE-ID/, 'the instance it replaced was in the range');
  const may = limitRecurrenceSet(weekly, d('2026-05-01T00:00:00Z'), d('2026-06-01T00:00:00Z'));
  t.notMatch(may, /RECURRENCE-ID/);
  t.match(may, /SUMMARY:Sync/);
});

t.test('free-busy: TRANSP, CANCELLED, TENTATIVE, recurrences, merging, clipping', async (t) => {
  const objects = [
    parseObject(cal(vevent('UID:1', 'DTSTART:20260105T090000Z', 'DTEND:20260105T100000Z', 'RRULE:FREQ=DAILY;COUNT=3'))),
    parseObject(cal(vevent('UID:2', 'DTSTART:20260105T093000Z', 'DTEND:20260105T110000Z'))), // overlaps #1 on the 5th: merged
    parseObject(cal(vevent('UID:3', 'DTSTART:20260106T120000Z', 'DTEND:20260106T130000Z', 'TRANSP:TRANSPARENT'))),
    parseObject(cal(vevent('UID:4', 'DTSTART:20260106T140000Z', 'DTEND:20260106T150000Z', 'STATUS:CANCELLED'))),
    parseObject(cal(vevent('UID:5', 'DTSTART:20260106T160000Z', 'DTEND:20260106T170000Z', 'STATUS:TENTATIVE'))),
    parseObject(cal(vevent('UID:6', 'DTSTART:20260104T230000Z', 'DTEND:20260105T010000Z'))), // clipped at the range start
    parseObject(cal(vevent('UID:7', 'DTSTART:20260107T090000Z', 'RRULE:FREQ=DAILY;COUNT=2'),
      vevent('UID:7', 'RECURRENCE-ID:20260108T090000Z', 'DTSTART:20260108T090000Z', 'DTEND:20260108T093000Z', 'STATUS:CANCELLED'))),
    parseObject(cal(vtodo('UID:8', 'DTSTART:20260105T090000Z', 'DUE:20260105T180000Z'))),
  ];
  const out = freeBusy(objects, d('2026-01-05T00:00:00Z'), d('2026-01-08T00:00:00Z'), { now: d('2026-01-01T00:00:00Z') });
  t.equal(out, [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Kalends//Kalends//EN', 'BEGIN:VFREEBUSY', 'DTSTAMP:20260101T000000Z',
    'DTSTART:20260105T000000Z', 'DTEND:20260108T000000Z',
    'FREEBUSY;FBTYPE=BUSY:20260105T000000Z/20260105T010000Z,20260105T090000Z/202',
    ' 60105T110000Z,20260106T090000Z/20260106T100000Z,20260107T090000Z/20260107T',
    ' 100000Z',
    'FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260106T160000Z/20260106T170000Z',
    'END:VFREEBUSY', 'END:VCALENDAR', '',
  ].join('\r\n'));
});
