// Calendar v3 events through the real googleapis client: CRUD, etags and
// If-Match, client-chosen ids, validation, tombstones, paging and sync tokens.
import t from 'tap';
import type { calendar_v3 } from 'googleapis';
import { failure, setup } from './test-helpers.ts';

const timed = (day: string, hour = 10): calendar_v3.Schema$Event => ({
  summary: `meeting ${day} ${hour}`,
  start: { dateTime: `${day}T${String(hour).padStart(2, '0')}:00:00Z` },
  end: { dateTime: `${day}T${String(hour + 1).padStart(2, '0')}:00:00Z` },
});

t.test('calendars.get primary, calendarList', async (t) => {
  const { g, calendar } = await setup('alice@example.com', { timeZone: 'Europe/Berlin' });
  t.teardown(() => g.close());
  const secondary = g.addCalendar('alice@example.com', 'Team');
  t.match(secondary.id, /^[a-v0-9]{26}@group\.calendar\.google\.com$/);
  const primary = await calendar.calendars.get({ calendarId: 'primary' });
  t.same(primary.data, { kind: 'calendar#calendar', etag: primary.data.etag, id: 'alice@example.com', summary: 'alice@example.com', timeZone: 'Europe/Berlin', conferenceProperties: { allowedConferenceSolutionTypes: ['hangoutsMeet'] } });
  const list = await calendar.calendarList.list();
  t.same(list.data.items!.map((c) => [c.id, c.primary ?? false, c.accessRole]), [
    ['alice@example.com', true, 'owner'],
    [secondary.id, false, 'owner'],
  ]);
  t.equal((await calendar.calendarList.get({ calendarId: secondary.id })).data.summary, 'Team');
  const other = await failure(calendar.calendars.get({ calendarId: 'bob@example.com' }));
  t.equal(other.status, 404);
  t.same(other.body.error.errors, [{ domain: 'global', reason: 'notFound', message: 'Not Found' }]);
});

t.test('calendars insert/patch/delete/clear need the full calendar scope', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const created = (await calendar.calendars.insert({ requestBody: { summary: 'Kalends CRM', timeZone: 'Europe/Paris', description: 'synced' } })).data;
  t.match(created.id, /@group\.calendar\.google\.com$/);
  t.equal(created.timeZone, 'Europe/Paris');
  t.equal((await failure(calendar.calendars.insert({ requestBody: { timeZone: 'UTC' } }))).status, 400, 'a title is required');
  const patched = (await calendar.calendars.patch({ calendarId: created.id!, requestBody: { summary: 'CRM' } })).data;
  t.equal(patched.summary, 'CRM');
  t.equal(patched.description, 'synced');
  t.not(patched.etag, created.etag);
  t.same((await calendar.calendarList.list()).data.items!.map((c) => c.summary), ['alice@example.com', 'CRM']);
  await calendar.events.insert({ calendarId: 'primary', requestBody: timed('2026-12-01') });
  await calendar.calendars.clear({ calendarId: 'primary' });
  t.same((await calendar.events.list({ calendarId: 'primary' })).data.items, [], 'clear cancels every event');
  t.equal((await failure(calendar.calendars.delete({ calendarId: 'primary' }))).status, 400, 'the primary calendar cannot be deleted');
  t.equal((await calendar.calendars.delete({ calendarId: created.id! })).status, 204);
  t.equal((await failure(calendar.events.list({ calendarId: created.id! }))).status, 404);
  const eventsOnly = g.issueAccessToken('alice@example.com', ['https://www.googleapis.com/auth/calendar.events']);
  const res = await fetch(`${g.url}/calendar/v3/calendars`, { method: 'POST', headers: { authorization: `Bearer ${eventsOnly}` }, body: JSON.stringify({ summary: 'x' }) });
  t.equal(res.status, 403);
});

t.test('insert/get/update/patch with etags, If-Match 412, sequence, sendUpdates recorded', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const created = (
    await calendar.events.insert({
      calendarId: 'primary',
      sendUpdates: 'none',
      requestBody: {
        ...timed('2026-12-01'),
        description: 'd',
        attendees: [{ email: 'Bob@Example.com' }],
        extendedProperties: { private: { crmId: '42' } },
        transparency: 'opaque',
        visibility: 'private',
      },
    })
  ).data;
  t.match(created.etag, /^"\d{16}"$/);
  t.match(created.id, /^[a-v0-9]{20,}$/);
  t.equal(created.iCalUID, `${created.id}@google.com`);
  t.equal(created.kind, 'calendar#event');
  t.equal(created.eventType, 'default');
  t.equal(created.status, 'confirmed');
  t.equal(created.sequence, 0);
  t.match(created.created, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  t.same(created.creator, { email: 'alice@example.com', self: true });
  t.same(created.organizer, { email: 'alice@example.com', self: true });
  t.same(created.attendees, [{ email: 'bob@example.com', responseStatus: 'needsAction' }]);
  t.notOk('transparency' in created, 'default transparency is left out');
  t.equal(created.visibility, 'private');
  t.same(created.reminders, { useDefault: true });
  const got = (await calendar.events.get({ calendarId: 'primary', eventId: created.id! })).data;
  t.same(got, created);

  const stale = created.etag!;
  const updated = (
    await calendar.events.update(
      { calendarId: 'primary', eventId: created.id!, sendUpdates: 'none', requestBody: { ...timed('2026-12-01', 12), summary: 'moved' } },
      { headers: { 'If-Match': stale } },
    )
  ).data;
  t.not(updated.etag, stale);
  t.equal(updated.sequence, 1, 'a time change bumps the sequence');
  t.equal(updated.created, created.created);
  t.notOk(updated.attendees, 'PUT replaces the whole resource');
  const conflict = await failure(calendar.events.update({ calendarId: 'primary', eventId: created.id!, requestBody: timed('2026-12-02') }, { headers: { 'If-Match': stale } }));
  t.equal(conflict.status, 412);
  t.same(conflict.body.error.errors[0], { domain: 'global', reason: 'conditionNotMet', message: 'Precondition Failed', location: 'If-Match', locationType: 'header' });
  const patched = (
    await calendar.events.patch({ calendarId: 'primary', eventId: created.id!, requestBody: { extendedProperties: { private: { other: 'x' } } } }, { headers: { 'If-Match': updated.etag! } })
  ).data;
  t.equal(patched.summary, 'moved', 'patch keeps what it does not name');
  t.same(patched.extendedProperties, { private: { other: 'x' } });
  t.equal(patched.sequence, 1);
  const stalePatch = await failure(calendar.events.patch({ calendarId: 'primary', eventId: created.id!, requestBody: { summary: 'z' } }, { headers: { 'If-Match': updated.etag! } }));
  t.equal(stalePatch.status, 412);
  const notModified = await fetch(`${g.url}/calendar/v3/calendars/primary/events/${created.id}`, {
    headers: { authorization: `Bearer ${(await setupToken(g))}`, 'if-none-match': patched.etag! },
  });
  t.equal(notModified.status, 304);
  t.same(
    g.sendUpdates().map((r) => [r.call, r.sendUpdates]),
    [
      ['events.insert', 'none'],
      ['events.update', 'none'],
      ['events.patch', null],
    ],
  );
});

async function setupToken(g: Awaited<ReturnType<typeof setup>>['g']): Promise<string> {
  return g.issueAccessToken('alice@example.com', ['https://www.googleapis.com/auth/calendar']);
}

t.test('client-chosen ids: base32hex, 409 duplicate even for a cancelled event', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const id = 'crm0000000042';
  const ev = (await calendar.events.insert({ calendarId: 'primary', requestBody: { ...timed('2026-12-01'), id } })).data;
  t.equal(ev.id, id);
  const dup = await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { ...timed('2026-12-01'), id } }));
  t.equal(dup.status, 409);
  t.same(dup.body.error.errors, [{ domain: 'global', reason: 'duplicate', message: 'The requested identifier already exists.' }]);
  await calendar.events.delete({ calendarId: 'primary', eventId: id });
  t.equal((await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { ...timed('2026-12-01'), id } }))).status, 409);
  const byUid = (await calendar.events.insert({ calendarId: 'primary', requestBody: { ...timed('2026-12-01'), iCalUID: 'crm-1@kalends' } })).data;
  t.equal(byUid.iCalUID, 'crm-1@kalends');
  t.equal((await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { ...timed('2026-12-01'), iCalUID: 'crm-1@kalends' } }))).status, 409, 'an existing iCalUID is a duplicate too');
  const staleDelete = await failure(calendar.events.delete({ calendarId: 'primary', eventId: byUid.id! }, { headers: { 'If-Match': '"1"' } }));
  t.equal(staleDelete.status, 412, 'If-Match applies to delete');
  for (const bad of ['abc', 'has-dash0', 'UPPERCASE0', 'wxyz0000']) {
    const r = await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { ...timed('2026-12-01'), id: bad } }));
    t.equal(r.status, 400, bad);
    t.equal(r.body.error.errors[0].reason, 'invalid');
  }
});

t.test('validation: timeRangeEmpty, missing times, mixed date kinds, missing zone', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const backwards = await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { start: { dateTime: '2026-12-01T10:00:00Z' }, end: { dateTime: '2026-12-01T09:00:00Z' } } }));
  t.equal(backwards.status, 400);
  t.same(backwards.body.error.errors, [{ domain: 'calendar', reason: 'timeRangeEmpty', message: 'The specified time range is empty.' }]);
  const noEnd = await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { start: { dateTime: '2026-12-01T10:00:00Z' } } }));
  t.equal(noEnd.status, 400);
  t.same(noEnd.body.error.errors, [{ domain: 'global', reason: 'required', message: 'Missing end time.' }]);
  const noStart = await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { end: { dateTime: '2026-12-01T10:00:00Z' } } }));
  t.equal(noStart.body.error.errors[0].reason, 'required');
  const mixed = await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { start: { date: '2026-12-01' }, end: { dateTime: '2026-12-01T10:00:00Z' } } }));
  t.equal(mixed.status, 400);
  const floating = await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { start: { dateTime: '2026-12-01T10:00:00' }, end: { dateTime: '2026-12-01T11:00:00' } } }));
  t.equal(floating.body.error.errors[0].message, 'Missing time zone definition for start time.');
  const zoned = (
    await calendar.events.insert({
      calendarId: 'primary',
      requestBody: { start: { dateTime: '2026-12-01T10:00:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2026-12-01T11:00:00', timeZone: 'Europe/Berlin' } },
    })
  ).data;
  t.same(zoned.start, { dateTime: '2026-12-01T10:00:00+01:00', timeZone: 'Europe/Berlin' });
  const inNewYork = await calendar.events.list({ calendarId: 'primary', timeZone: 'America/New_York' });
  t.equal(inNewYork.data.timeZone, 'America/New_York');
  t.same(inNewYork.data.items![0]!.start, { dateTime: '2026-12-01T04:00:00-05:00', timeZone: 'Europe/Berlin' }, 'the timeZone parameter renders date-times in that zone');
  t.equal((await calendar.events.get({ calendarId: 'primary', eventId: zoned.id!, timeZone: 'UTC' })).data.start!.dateTime, '2026-12-01T09:00:00Z');
});

t.test('all-day events keep date with an exclusive end', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const ev = (await calendar.events.insert({ calendarId: 'primary', requestBody: { summary: 'holiday', start: { date: '2026-12-24' }, end: { date: '2026-12-26' } } })).data;
  t.same(ev.start, { date: '2026-12-24' });
  t.same(ev.end, { date: '2026-12-26' });
  const same = await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { start: { date: '2026-12-24' }, end: { date: '2026-12-24' } } }));
  t.equal(same.body.error.errors[0].reason, 'timeRangeEmpty');
  const inWindow = await calendar.events.list({ calendarId: 'primary', timeMin: '2026-12-25T12:00:00Z', timeMax: '2026-12-25T13:00:00Z' });
  t.same(inWindow.data.items!.map((e) => e.id), [ev.id]);
  const after = await calendar.events.list({ calendarId: 'primary', timeMin: '2026-12-26T00:00:00Z' });
  t.same(after.data.items, [], 'the end date is exclusive');
});

t.test('delete: tombstone, 410 on a second delete, get still answers cancelled, list hides unless showDeleted', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const ev = (await calendar.events.insert({ calendarId: 'primary', requestBody: timed('2026-12-01') })).data;
  const del = await calendar.events.delete({ calendarId: 'primary', eventId: ev.id!, sendUpdates: 'none' });
  t.equal(del.status, 204);
  const again = await failure(calendar.events.delete({ calendarId: 'primary', eventId: ev.id! }));
  t.equal(again.status, 410);
  t.same(again.body.error.errors, [{ domain: 'global', reason: 'deleted', message: 'Resource has been deleted' }]);
  const got = (await calendar.events.get({ calendarId: 'primary', eventId: ev.id! })).data;
  t.equal(got.status, 'cancelled');
  t.same((await calendar.events.list({ calendarId: 'primary' })).data.items, []);
  const shown = (await calendar.events.list({ calendarId: 'primary', showDeleted: true })).data.items!;
  t.same(shown.map((e) => [e.id, e.status]), [[ev.id, 'cancelled']]);
  const missing = await failure(calendar.events.delete({ calendarId: 'primary', eventId: 'nosuchevent0' }));
  t.equal(missing.status, 404);
  t.same(g.dump('alice@example.com').calendars['alice@example.com']!.map((e) => e.status), ['cancelled']);
});

t.test('paging and sync tokens: nextSyncToken only on the last page, tombstones in incremental sync, 410 after expiry', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) ids.push((await calendar.events.insert({ calendarId: 'primary', requestBody: timed(`2026-12-0${i + 1}`) })).data.id!);
  const seen: string[] = [];
  let pageToken: string | undefined;
  let syncToken: string | undefined;
  let pages = 0;
  do {
    const res = await calendar.events.list({ calendarId: 'primary', maxResults: 3, pageToken, timeMin: '2026-01-01T00:00:00Z' });
    pages++;
    seen.push(...res.data.items!.map((e) => e.id!));
    pageToken = res.data.nextPageToken ?? undefined;
    if (pageToken) t.notOk(res.data.nextSyncToken, 'no sync token before the last page');
    else syncToken = res.data.nextSyncToken!;
  } while (pageToken);
  t.equal(pages, 3);
  t.same(seen.sort(), [...ids].sort());
  t.ok(syncToken);

  const empty = await calendar.events.list({ calendarId: 'primary', syncToken });
  t.same(empty.data.items, []);
  t.ok(empty.data.nextSyncToken);

  await calendar.events.delete({ calendarId: 'primary', eventId: ids[0]! });
  await calendar.events.patch({ calendarId: 'primary', eventId: ids[1]!, requestBody: { summary: 'changed' } });
  const added = (await calendar.events.insert({ calendarId: 'primary', requestBody: timed('2027-03-01') })).data;
  const incr = await calendar.events.list({ calendarId: 'primary', syncToken: empty.data.nextSyncToken! });
  t.same(
    incr.data.items!.map((e) => [e.id, e.status]),
    [
      [ids[0], 'cancelled'],
      [ids[1], 'confirmed'],
      [added.id, 'confirmed'],
    ],
  );
  const tomb = incr.data.items![0]!;
  t.same(Object.keys(tomb).sort(), ['etag', 'id', 'kind', 'status'], 'a tombstone carries only its identity');

  const clash = await failure(calendar.events.list({ calendarId: 'primary', syncToken: incr.data.nextSyncToken!, timeMin: '2026-01-01T00:00:00Z' }));
  t.equal(clash.status, 400);

  const small = await calendar.events.list({ calendarId: 'primary', syncToken: empty.data.nextSyncToken!, maxResults: 2 });
  t.equal(small.data.items!.length, 2);
  t.ok(small.data.nextPageToken);
  t.notOk(small.data.nextSyncToken);
  const rest = await calendar.events.list({ calendarId: 'primary', syncToken: empty.data.nextSyncToken!, pageToken: small.data.nextPageToken!, maxResults: 2 });
  t.same(rest.data.items!.map((e) => e.id), [added.id]);
  t.ok(rest.data.nextSyncToken);

  const midway = await calendar.events.list({ calendarId: 'primary', syncToken: empty.data.nextSyncToken!, maxResults: 1 });
  g.expireSyncTokens('alice@example.com');
  const pageGone = await failure(calendar.events.list({ calendarId: 'primary', pageToken: midway.data.nextPageToken!, maxResults: 1 }));
  t.equal(pageGone.status, 410, 'the pages of an expired incremental sync are gone too');
  const gone = await failure(calendar.events.list({ calendarId: 'primary', syncToken: rest.data.nextSyncToken! }));
  t.equal(gone.status, 410);
  t.same(gone.body.error.errors, [{ domain: 'global', reason: 'fullSyncRequired', message: 'Sync token is no longer valid, a full sync is required.' }]);
  const full = await calendar.events.list({ calendarId: 'primary' });
  t.equal(full.data.items!.length, 7, 'a full sync works again');
  t.ok((await calendar.events.list({ calendarId: 'primary', syncToken: full.data.nextSyncToken! })).data.nextSyncToken);
});

t.test('list filters: privateExtendedProperty, iCalUID, q, updatedMin, orderBy', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const a = (await calendar.events.insert({ calendarId: 'primary', requestBody: { ...timed('2026-12-02'), summary: 'Budget review', extendedProperties: { private: { crmId: '1', kind: 'x' } } } })).data;
  const b = (await calendar.events.insert({ calendarId: 'primary', requestBody: { ...timed('2026-12-01'), summary: 'Lunch', extendedProperties: { private: { crmId: '2', kind: 'x' } } } })).data;
  const byProp = await calendar.events.list({ calendarId: 'primary', privateExtendedProperty: ['crmId=2', 'kind=x'] });
  t.same(byProp.data.items!.map((e) => e.id), [b.id]);
  t.same((await calendar.events.list({ calendarId: 'primary', iCalUID: a.iCalUID! })).data.items!.map((e) => e.id), [a.id]);
  t.same((await calendar.events.list({ calendarId: 'primary', q: 'budget' })).data.items!.map((e) => e.id), [a.id]);
  const ordered = await calendar.events.list({ calendarId: 'primary', singleEvents: true, orderBy: 'startTime' });
  t.same(ordered.data.items!.map((e) => e.id), [b.id, a.id]);
  const noSingle = await failure(calendar.events.list({ calendarId: 'primary', orderBy: 'startTime' }));
  t.equal(noSingle.status, 400);
  const since = new Date(Date.parse(b.updated!) + 1).toISOString();
  await new Promise((r) => setTimeout(r, 5));
  await calendar.events.delete({ calendarId: 'primary', eventId: a.id! });
  const upd = await calendar.events.list({ calendarId: 'primary', updatedMin: since });
  t.same(upd.data.items!.map((e) => [e.id, e.status]), [[a.id, 'cancelled']], 'updatedMin includes deletions regardless of showDeleted');
});

t.test('import upserts by iCalUID; move hands an event to another calendar', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const imported = (await calendar.events.import({ calendarId: 'primary', requestBody: { ...timed('2026-12-03'), iCalUID: 'crm-7@example.com', organizer: { email: 'boss@example.com' } } })).data;
  t.equal(imported.iCalUID, 'crm-7@example.com');
  t.same(imported.organizer, { email: 'boss@example.com' });
  const again = (await calendar.events.import({ calendarId: 'primary', requestBody: { ...timed('2026-12-03'), summary: 'v2', iCalUID: 'crm-7@example.com' } })).data;
  t.equal(again.id, imported.id, 'same iCalUID updates the same event');
  t.equal(again.summary, 'v2');
  const noUid = await failure(calendar.events.import({ calendarId: 'primary', requestBody: timed('2026-12-03') }));
  t.equal(noUid.status, 400);

  const team = g.addCalendar('alice@example.com', 'Team');
  const moved = (await calendar.events.move({ calendarId: 'primary', eventId: again.id!, destination: team.id })).data;
  t.equal(moved.id, again.id);
  t.equal(moved.organizer!.email, team.id);
  t.equal((await calendar.events.get({ calendarId: team.id, eventId: again.id! })).data.summary, 'v2');
  t.equal((await calendar.events.get({ calendarId: 'primary', eventId: again.id! })).data.status, 'cancelled');
});

t.test('sync with singleEvents: a changed series comes back as its instances', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const first = await calendar.events.list({ calendarId: 'primary', singleEvents: true });
  const series = (
    await calendar.events.insert({
      calendarId: 'primary',
      requestBody: { ...timed('2026-12-01'), start: { dateTime: '2026-12-01T10:00:00Z', timeZone: 'UTC' }, end: { dateTime: '2026-12-01T11:00:00Z', timeZone: 'UTC' }, recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] },
    })
  ).data;
  const changes = await calendar.events.list({ calendarId: 'primary', singleEvents: true, syncToken: first.data.nextSyncToken! });
  t.same(changes.data.items!.map((e) => e.id), ['20261201', '20261202', '20261203'].map((d) => `${series.id}_${d}T100000Z`));
  await calendar.events.delete({ calendarId: 'primary', eventId: `${series.id}_20261202T100000Z` });
  const next = await calendar.events.list({ calendarId: 'primary', singleEvents: true, syncToken: changes.data.nextSyncToken! });
  t.same(next.data.items!.map((e) => [e.id, e.status]), [[`${series.id}_20261202T100000Z`, 'cancelled']]);
});
