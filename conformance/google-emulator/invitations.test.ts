// Opt-in invitation copies: guests who are emulator accounts see the event in
// their primary calendar, follow the organizer's edits, keep their own
// private properties, and lose it (cancelled) when uninvited.
import t from 'tap';
import { google } from 'googleapis';
import { setup } from './test-helpers.ts';

const meeting = {
  summary: 'Planning',
  start: { dateTime: '2026-12-10T10:00:00Z' },
  end: { dateTime: '2026-12-10T11:00:00Z' },
  attendees: [{ email: 'bob@example.com' }, { email: 'someone@elsewhere.test' }],
  extendedProperties: { private: { crmId: 'a1' }, shared: { topic: 'q1' } },
};

t.test('off by default: attendees are only stored', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  g.addAccount('bob@example.com');
  await calendar.events.insert({ calendarId: 'primary', requestBody: meeting });
  t.same(g.dump('bob@example.com').calendars['bob@example.com'], []);
});

t.test('guests get copies that follow the organizer', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  g.addAccount('bob@example.com');
  g.invitations({ autoAdd: true });
  const bobToken = g.issueAccessToken('bob@example.com', ['https://www.googleapis.com/auth/calendar']);
  const bob = google.calendar({ version: 'v3', rootUrl: `${g.url}/`, headers: { authorization: `Bearer ${bobToken}` } });
  const { nextSyncToken } = (await bob.events.list({ calendarId: 'primary' })).data;

  const ev = (await calendar.events.insert({ calendarId: 'primary', sendUpdates: 'none', requestBody: meeting })).data;
  const copy = (await bob.events.get({ calendarId: 'primary', eventId: ev.id! })).data;
  t.equal(copy.iCalUID, ev.iCalUID);
  t.same(copy.organizer, { email: 'alice@example.com' });
  t.same(copy.attendees, [
    { email: 'bob@example.com', self: true, responseStatus: 'needsAction' },
    { email: 'someone@elsewhere.test', responseStatus: 'needsAction' },
  ]);
  t.same(copy.extendedProperties, { shared: { topic: 'q1' } }, "the organizer's private properties stay on the organizer's copy");

  await bob.events.patch({ calendarId: 'primary', eventId: ev.id!, requestBody: { extendedProperties: { private: { mine: 'b' } } } });
  await calendar.events.patch({ calendarId: 'primary', eventId: ev.id!, requestBody: { summary: 'Planning (moved)' } });
  const followed = (await bob.events.get({ calendarId: 'primary', eventId: ev.id! })).data;
  t.equal(followed.summary, 'Planning (moved)');
  t.same(followed.extendedProperties, { private: { mine: 'b' }, shared: { topic: 'q1' } }, "the guest's private properties survive the organizer's edits");

  const changes = (await bob.events.list({ calendarId: 'primary', syncToken: nextSyncToken! })).data.items!;
  t.same(changes.map((e) => e.id), [ev.id], "the guest's sync sees the copy");

  await calendar.events.patch({ calendarId: 'primary', eventId: ev.id!, requestBody: { attendees: [{ email: 'someone@elsewhere.test' }] } });
  t.equal((await bob.events.get({ calendarId: 'primary', eventId: ev.id! })).data.status, 'cancelled', 'an uninvited guest keeps a cancelled copy');
  await calendar.events.patch({ calendarId: 'primary', eventId: ev.id!, requestBody: { attendees: meeting.attendees } });
  t.equal((await bob.events.get({ calendarId: 'primary', eventId: ev.id! })).data.status, 'confirmed', 'invited again');
  await calendar.events.delete({ calendarId: 'primary', eventId: ev.id! });
  t.equal((await bob.events.get({ calendarId: 'primary', eventId: ev.id! })).data.status, 'cancelled', "the organizer's delete cancels the copy");
  t.same(g.sendUpdates().map((r) => r.sendUpdates), ['none', null, null, null, null, null], 'copies are made whatever sendUpdates says');
});
