// The schema check itself, and the compile-time link between the emulator's
// resource builders and the googleapis generated types. (Every other test's
// emulator checks each answer against the discovery schemas on close.)
import t from 'tap';
import type { calendar_v3, tasks_v1 } from 'googleapis';
import { buildEvent, tombstone } from './event-resource.ts';
import { listEvents, listInstances } from './events-list.ts';
import { virtualInstance } from './series.ts';
import type { Channels } from './channels.ts';
import { responseSchema, SchemaSet } from './schema-check.ts';
import { failure, setup } from './test-helpers.ts';

// Compile-time: `npx tsc --noEmit -p tsconfig.json` fails if a builder's result stops being the googleapis type.
const builders: {
  event: (...a: Parameters<typeof buildEvent>) => calendar_v3.Schema$Event;
  tombstone: (e: calendar_v3.Schema$Event) => calendar_v3.Schema$Event;
  instance: (...a: Parameters<typeof virtualInstance>) => calendar_v3.Schema$Event;
  events: (...a: Parameters<typeof listEvents>) => calendar_v3.Schema$Events;
  instances: (...a: Parameters<typeof listInstances>) => calendar_v3.Schema$Events;
  channel: (...a: Parameters<Channels['watch']>) => calendar_v3.Schema$Channel;
} = { event: buildEvent, tombstone, instance: virtualInstance, events: listEvents, instances: listInstances, channel: (...a) => ({} as Channels).watch(...a) };
void builders;

const schemas = SchemaSet.google();

t.test('the checker finds unknown properties, wrong types and formats, wrong kinds, through $ref', async (t) => {
  t.same(schemas.check({ kind: 'calendar#event', id: 'a', start: { dateTime: '2026-12-01T10:00:00Z' }, sequence: 0, eventType: 'default' }, 'Event'), []);
  t.same(schemas.check({ kind: 'calendar#event', summery: 'typo' }, 'Event'), ['Event.summery: not in the schema']);
  t.same(schemas.check({ start: { dateTime: '2026-12-01 10:00' } }, 'Event'), ['Event.start.dateTime: not RFC 3339: 2026-12-01 10:00']);
  t.same(schemas.check({ start: { date: '20261201' } }, 'Event'), ['Event.start.date: not a date: 20261201']);
  t.same(schemas.check({ sequence: '1' }, 'Event'), ['Event.sequence: expected integer, got "1"']);
  t.same(schemas.check({ items: [{ reminders: { overrides: [{ minutes: 1.5 }] } }] }, 'Events'), ['Events.items[0].reminders.overrides[0].minutes: expected integer, got 1.5']);
  t.same(schemas.check({ extendedProperties: { private: { crmId: 42 } } }, 'Event'), ['Event.extendedProperties.private.crmId: expected string, got 42']);
  t.same(schemas.check({ kind: 'calendar#events' }, 'Event'), ['Event.kind: calendar#events is not calendar#event']);
  t.same(schemas.check({ kind: 'tasks#taskList' }, 'Task'), ['Task.kind: tasks#taskList is not tasks#task']);
  t.same(schemas.check({ expiration: 'soon' }, 'Channel'), ['Channel.expiration: not an int64 string: soon']);
  t.same(schemas.check({ error: { code: 404, message: 'Not Found', errors: [{ domain: 'global', reason: 'notFound', message: 'Not Found' }], status: 'NOT_FOUND' } }, 'ErrorEnvelope'), []);
});

t.test('every route answer has a schema', async (t) => {
  t.equal(responseSchema('GET', '/calendar/v3/calendars/{calendarId}/events', 200), 'Events');
  t.equal(responseSchema('GET', '/calendar/v3/calendars/{calendarId}/events/{eventId}/instances', 200), 'Events');
  t.equal(responseSchema('PATCH', '/calendar/v3/calendars/{calendarId}/events/{eventId}', 200), 'Event');
  t.equal(responseSchema('POST', '/calendar/v3/calendars/{calendarId}/events/{eventId}/move', 200), 'Event');
  t.equal(responseSchema('POST', '/calendar/v3/calendars/{calendarId}/events/watch', 200), 'Channel');
  t.equal(responseSchema('GET', '/tasks/v1/users/@me/lists', 200), 'TaskLists');
  t.equal(responseSchema('POST', '/tasks/v1/lists/{tasklist}/tasks/{task}/move', 200), 'Task');
  t.equal(responseSchema('GET', '/tasks/v1/lists/{tasklist}/tasks', 404), 'ErrorEnvelope');
});

t.test('a checked emulator checks what it answers, errors included', async (t) => {
  const { g, calendar, tasks } = await setup();
  const ev = (
    await calendar.events.insert({
      calendarId: 'primary',
      requestBody: {
        start: { dateTime: '2026-12-01T10:00:00', timeZone: 'Europe/Berlin' },
        end: { dateTime: '2026-12-01T11:00:00', timeZone: 'Europe/Berlin' },
        recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
        attendees: [{ email: 'bob@example.com', optional: true }],
        reminders: { useDefault: false, overrides: [{ method: 'popup', minutes: 5 }] },
        extendedProperties: { shared: { a: 'b' } },
      },
    })
  ).data;
  await calendar.events.list({ calendarId: 'primary', singleEvents: true });
  await calendar.events.instances({ calendarId: 'primary', eventId: ev.id! });
  await calendar.calendarList.list();
  await failure(calendar.events.get({ calendarId: 'primary', eventId: 'missing0' }));
  const task: tasks_v1.Schema$Task = (await tasks.tasks.insert({ tasklist: '@default', requestBody: { title: 'x', status: 'completed' } })).data;
  t.ok(task.completed);
  t.ok(g.checkedResponses() >= 6);
  await g.close();
});
