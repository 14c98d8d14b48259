// Recurring events: instance ids, exceptions created by updating an
// instance, cancelled instances, singleEvents expansion, showDeleted quirks,
// events.instances, deleting the master, all-day series, DST.
import t from 'tap';
import { failure, setup } from './test-helpers.ts';

const weekly = {
  summary: 'standup',
  start: { dateTime: '2026-12-07T09:00:00', timeZone: 'Europe/Berlin' },
  end: { dateTime: '2026-12-07T09:15:00', timeZone: 'Europe/Berlin' },
  recurrence: ['RRULE:FREQ=WEEKLY;COUNT=5'],
};

t.test('series with a modified and a cancelled instance', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const master = (await calendar.events.insert({ calendarId: 'primary', requestBody: weekly })).data;
  t.same(master.recurrence, ['RRULE:FREQ=WEEKLY;COUNT=5']);
  const noZone = await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { ...weekly, start: { dateTime: '2026-12-07T09:00:00+01:00' }, end: { dateTime: '2026-12-07T09:15:00+01:00' } } }));
  t.equal(noZone.status, 400, 'a recurring event needs a time zone');

  const instances = (await calendar.events.instances({ calendarId: 'primary', eventId: master.id! })).data.items!;
  t.same(
    instances.map((i) => i.id),
    ['20261207', '20261214', '20261221', '20261228', '20270104'].map((d) => `${master.id}_${d}T080000Z`),
  );
  const second = instances[1]!;
  t.equal(second.recurringEventId, master.id);
  t.same(second.originalStartTime, { dateTime: '2026-12-14T09:00:00+01:00', timeZone: 'Europe/Berlin' });
  t.same(second.start, second.originalStartTime);
  t.same(second.end, { dateTime: '2026-12-14T09:15:00+01:00', timeZone: 'Europe/Berlin' });
  t.equal(second.iCalUID, master.iCalUID);
  t.notOk(second.recurrence);
  t.same((await calendar.events.get({ calendarId: 'primary', eventId: second.id! })).data, second, 'an unmodified instance can be fetched by id');
  t.equal((await failure(calendar.events.get({ calendarId: 'primary', eventId: `${master.id}_20261208T080000Z` }))).status, 404, 'no instance at that time');

  const moved = (
    await calendar.events.patch({
      calendarId: 'primary',
      eventId: second.id!,
      requestBody: { summary: 'standup (late)', start: { dateTime: '2026-12-14T10:00:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2026-12-14T10:15:00', timeZone: 'Europe/Berlin' } },
    })
  ).data;
  t.equal(moved.id, second.id, 'the exception keeps the instance id');
  t.equal(moved.recurringEventId, master.id);
  t.same(moved.originalStartTime, second.originalStartTime);
  t.equal(moved.summary, 'standup (late)');
  await calendar.events.delete({ calendarId: 'primary', eventId: instances[2]!.id! });

  const expanded = (await calendar.events.list({ calendarId: 'primary', singleEvents: true, orderBy: 'startTime' })).data.items!;
  t.same(
    expanded.map((e) => [e.id!.slice(-16), e.summary, e.start!.dateTime]),
    [
      ['20261207T080000Z', 'standup', '2026-12-07T09:00:00+01:00'],
      ['20261214T080000Z', 'standup (late)', '2026-12-14T10:00:00+01:00'],
      ['20261228T080000Z', 'standup', '2026-12-28T09:00:00+01:00'],
      ['20270104T080000Z', 'standup', '2027-01-04T09:00:00+01:00'],
    ],
  );
  const masters = (await calendar.events.list({ calendarId: 'primary' })).data.items!;
  t.same(
    masters.map((e) => [e.id, e.status]),
    [
      [master.id, 'confirmed'],
      [moved.id, 'confirmed'],
      [instances[2]!.id, 'cancelled'],
    ],
    'without singleEvents: master, exception, and the cancelled instance even without showDeleted',
  );
  const cancelled = masters[2]!;
  t.same(Object.keys(cancelled).sort(), ['etag', 'id', 'kind', 'originalStartTime', 'recurringEventId', 'status']);
  const deletedSingles = (await calendar.events.list({ calendarId: 'primary', singleEvents: true, showDeleted: true })).data.items!;
  t.ok(deletedSingles.some((e) => e.id === instances[2]!.id && e.status === 'cancelled'));
  const inst = (await calendar.events.instances({ calendarId: 'primary', eventId: master.id! })).data.items!;
  t.equal(inst.length, 4, 'instances leaves the cancelled one out');
  t.equal((await calendar.events.instances({ calendarId: 'primary', eventId: master.id!, showDeleted: true })).data.items!.length, 5);

  const team = g.addCalendar('alice@example.com', 'Team');
  await calendar.events.move({ calendarId: 'primary', eventId: master.id!, destination: team.id });
  t.equal((await calendar.events.instances({ calendarId: team.id, eventId: master.id! })).data.items!.length, 4, 'a moved series keeps its exceptions');
  t.equal((await calendar.events.get({ calendarId: team.id, eventId: moved.id! })).data.summary, 'standup (late)');
  t.same((await calendar.events.list({ calendarId: 'primary', singleEvents: true })).data.items, [], 'nothing of it is left behind');
  await calendar.events.move({ calendarId: team.id, eventId: master.id!, destination: 'primary' });

  const { nextSyncToken } = (await calendar.events.list({ calendarId: 'primary' })).data;
  await calendar.events.delete({ calendarId: 'primary', eventId: master.id! });
  const sync = (await calendar.events.list({ calendarId: 'primary', syncToken: nextSyncToken! })).data.items!;
  t.same(sync.map((e) => [e.id, e.status]), [
    [master.id, 'cancelled'],
    [moved.id, 'cancelled'],
  ], 'deleting the master cancels its exceptions');
  t.same((await calendar.events.list({ calendarId: 'primary', singleEvents: true })).data.items, []);
});

t.test('EXDATE, UNTIL, all-day series, open-ended series within timeMin/timeMax', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const daily = (
    await calendar.events.insert({
      calendarId: 'primary',
      requestBody: {
        ...weekly,
        recurrence: ['RRULE:FREQ=DAILY;UNTIL=20261210T080000Z', 'EXDATE;TZID=Europe/Berlin:20261208T090000'],
      },
    })
  ).data;
  const days = (await calendar.events.instances({ calendarId: 'primary', eventId: daily.id! })).data.items!.map((e) => e.start!.dateTime!.slice(0, 10));
  t.same(days, ['2026-12-07', '2026-12-09', '2026-12-10']);

  const birthday = (
    await calendar.events.insert({ calendarId: 'primary', requestBody: { summary: 'birthday', start: { date: '2026-03-05' }, end: { date: '2026-03-06' }, recurrence: ['RRULE:FREQ=YEARLY'] } })
  ).data;
  const years = (await calendar.events.list({ calendarId: 'primary', singleEvents: true, timeMin: '2027-01-01T00:00:00Z', timeMax: '2030-01-01T00:00:00Z', q: 'birthday' })).data.items!;
  t.same(years.map((e) => [e.id, e.start, e.end]), [
    [`${birthday.id}_20270305`, { date: '2027-03-05' }, { date: '2027-03-06' }],
    [`${birthday.id}_20280305`, { date: '2028-03-05' }, { date: '2028-03-06' }],
    [`${birthday.id}_20290305`, { date: '2029-03-05' }, { date: '2029-03-06' }],
  ]);
  const window = (await calendar.events.list({ calendarId: 'primary', timeMin: '2031-03-01T00:00:00Z', timeMax: '2031-04-01T00:00:00Z' })).data.items!;
  t.same(window.map((e) => e.id), [birthday.id], 'a master is listed when one of its instances falls in the window');
});

t.test('DST: a weekly series keeps its wall-clock time', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const ev = (
    await calendar.events.insert({
      calendarId: 'primary',
      requestBody: {
        start: { dateTime: '2027-03-22T09:00:00', timeZone: 'Europe/Berlin' },
        end: { dateTime: '2027-03-22T10:00:00', timeZone: 'Europe/Berlin' },
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=2'],
      },
    })
  ).data;
  const inst = (await calendar.events.instances({ calendarId: 'primary', eventId: ev.id! })).data.items!;
  t.same(inst.map((i) => [i.id!.slice(-16), i.start!.dateTime]), [
    ['20270322T080000Z', '2027-03-22T09:00:00+01:00'],
    ['20270329T070000Z', '2027-03-29T09:00:00+02:00'],
  ]);
});
