import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { setup } from './test-helpers.ts';

const event = (subject: string, day = '2030-03-04', extra: Record<string, unknown> = {}) => ({
  subject, start: { dateTime: `${day}T10:00:00`, timeZone: 'W. Europe Standard Time' }, end: { dateTime: `${day}T11:00:00`, timeZone: 'W. Europe Standard Time' }, ...extra,
});
const WINDOW = '?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z';

t.test('calendar view delta: pages by odata.maxpagesize, deltaLink brings changes and @removed, expired tokens answer 410 syncStateNotFound', async (t) => {
  const { g, api } = await setup();
  t.teardown(() => g.close());
  for (const n of [1, 2, 3]) t.equal((await api('POST', '/me/events', event(`e${n}`, `2030-03-0${n + 1}`))).status, 201);
  await api('POST', '/me/events', event('outside', '2030-05-01'));
  const first = await api('GET', `/me/calendarView/delta${WINDOW}`, undefined, { prefer: 'odata.maxpagesize=2' });
  t.equal(first.body.value.length, 2);
  t.equal(first.headers.get('preference-applied'), 'odata.maxpagesize=2');
  t.match(first.body['@odata.nextLink'], /\/me\/calendarView\/delta\?\$skiptoken=/);
  const second = await api('GET', first.body['@odata.nextLink']);
  t.equal(second.body.value.length, 1);
  t.notOk(second.body['@odata.nextLink']);
  const deltaLink = second.body['@odata.deltaLink'];
  t.match(deltaLink, /\$deltatoken=/);
  t.same(JSON.parse(Buffer.from(new URL(deltaLink).searchParams.get('$deltatoken')!, 'base64url').toString()).s, Date.parse('2030-03-01T00:00:00Z'), 'the window travels in the token');

  const ids = [...first.body.value, ...second.body.value].map((e: any) => e.id);
  await api('PATCH', `/me/events/${ids[0]}`, { subject: 'renamed' });
  await api('DELETE', `/me/events/${ids[1]}`);
  const changes = await api('GET', deltaLink);
  t.same(changes.body.value.map((e: any) => e.subject ?? e['@removed']).sort(), [{ reason: 'deleted' }, 'renamed'].sort());
  t.match(changes.body.value.find((e: any) => e['@removed']), { '@odata.type': '#microsoft.graph.event', id: ids[1] });

  g.expireDeltaTokens();
  const gone = await api('GET', changes.body['@odata.deltaLink']);
  t.equal(gone.status, 410);
  t.match(gone.body, { error: { code: 'syncStateNotFound', innerError: { date: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/, 'request-id': String } } });
  t.equal((await api('GET', '/me/calendarView/delta')).status, 400, 'the window is required');
});

t.test('If-Match with a stale @odata.etag answers 412; transactionId makes a retried POST return the first event; no mail without attendees', async (t) => {
  const { g, api } = await setup();
  t.teardown(() => g.close());
  const created = await api('POST', '/me/events', event('once', undefined, { transactionId: 'tx-1' }));
  const retried = await api('POST', '/me/events', event('once', undefined, { transactionId: 'tx-1' }));
  t.equal(retried.body.id, created.body.id);
  t.equal(created.body.transactionId, 'tx-1');
  const etag = created.body['@odata.etag'];
  t.equal((await api('PATCH', `/me/events/${created.body.id}`, { subject: 'v2' }, { 'if-match': etag })).status, 200);
  const stale = await api('PATCH', `/me/events/${created.body.id}`, { subject: 'v3' }, { 'if-match': etag });
  t.equal(stale.status, 412);
  t.equal(stale.body.error.code, 'ErrorIrresolvableConflict');
  t.same(g.sentMail(), []);
  await api('POST', '/me/events', event('meeting', undefined, { attendees: [{ type: 'required', emailAddress: { address: 'bob@fabrikam.com' } }] }));
  t.match(g.sentMail(), [{ kind: 'invitation', to: ['bob@fabrikam.com'] }], 'Graph invites attendees when the event is created');
});

t.test('times in Prefer: outlook.timezone; all-day at midnight; extended properties only when expanded; immutable ids survive a move', async (t) => {
  const { g, api, alice } = await setup();
  t.teardown(() => g.close());
  const pid = 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name KalendsUid';
  const created = await api('POST', '/me/events', event('x', undefined, { singleValueExtendedProperties: [{ id: pid, value: 'uid-1' }] }), { prefer: 'IdType="ImmutableId"' });
  t.match(created.body.start, { dateTime: '2030-03-04T09:00:00.0000000', timeZone: 'UTC' });
  t.notOk('singleValueExtendedProperties' in created.body);
  const pacific = await api('GET', `/me/events/${created.body.id}?$expand=singleValueExtendedProperties($filter=id eq '${pid}')`, undefined, { prefer: 'outlook.timezone="Pacific Standard Time"' });
  t.match(pacific.body.start, { dateTime: '2030-03-04T01:00:00.0000000', timeZone: 'Pacific Standard Time' });
  t.same(pacific.body.singleValueExtendedProperties, [{ id: pid, value: 'uid-1' }]);
  const found = await api('GET', `/me/events?$filter=singleValueExtendedProperties/Any(ep: ep/id eq '${pid}' and ep/value eq 'uid-1')`);
  t.equal(found.body.value.length, 1);
  t.equal((await api('POST', '/me/events', { ...event('bad'), isAllDay: true })).status, 400);
  const allDay = await api('POST', '/me/events', { subject: 'day', isAllDay: true, start: { dateTime: '2030-03-05T00:00:00', timeZone: 'UTC' }, end: { dateTime: '2030-03-06T00:00:00', timeZone: 'UTC' } }, { prefer: 'outlook.timezone="Tokyo Standard Time"' });
  t.equal(allDay.body.start.dateTime, '2030-03-05T00:00:00.0000000');
  // made in Outlook in the user's zone, then renamed: the kept midnights stay valid (found by convergence-graph.test.ts)
  const cet = { timeZone: 'Central European Standard Time' };
  const local = await api('POST', '/me/events', { subject: 'local day', isAllDay: true, start: { dateTime: '2030-03-07T00:00:00', ...cet }, end: { dateTime: '2030-03-08T00:00:00', ...cet } });
  const renamed = await api('PATCH', `/me/events/${local.body.id}`, { subject: 'renamed day' });
  t.equal(renamed.status, 200, 'a PATCH of the subject alone of an all-day event made in another zone is accepted');
  t.same([renamed.body.start.dateTime, renamed.body.end.dateTime], ['2030-03-07T00:00:00.0000000', '2030-03-08T00:00:00.0000000']);

  const other = g.addCalendar(alice.upn, 'Other');
  const before = await api('GET', `/me/events/${created.body.id}`);
  g.moveEvent(created.body.id, other);
  t.equal((await api('GET', `/me/events/${created.body.id}`, undefined, { prefer: 'IdType="ImmutableId"' })).body.id, created.body.id, 'immutable id unchanged');
  t.equal((await api('GET', `/me/events/${before.body.id}`)).status, 404, 'the old default id is gone');
});

t.test('a weekly series: occurrences in the view, an edited occurrence becomes an exception, a deleted one is removed in delta', async (t) => {
  const { g, api } = await setup();
  t.teardown(() => g.close());
  const master = await api('POST', '/me/events', event('weekly', '2030-03-04', { recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday' }, range: { type: 'numbered', startDate: '2030-03-04', numberOfOccurrences: 4 } } }));
  t.equal(master.body.type, 'seriesMaster');
  const view = await api('GET', `/me/calendarView/delta${WINDOW}`);
  t.same(view.body.value.map((e: any) => [e.type, e.seriesMasterId === master.body.id, e.start.dateTime.slice(0, 10)]), [
    ['occurrence', true, '2030-03-04'], ['occurrence', true, '2030-03-11'], ['occurrence', true, '2030-03-18'], ['occurrence', true, '2030-03-25']]);
  const [o1, o2] = view.body.value;
  const edited = await api('PATCH', `/me/events/${o1.id}`, { subject: 'moved' });
  t.match(edited.body, { type: 'exception', id: o1.id, originalStart: '2030-03-04T09:00:00.000Z' });
  t.equal((await api('DELETE', `/me/events/${o2.id}`)).status, 204);
  const changes = await api('GET', view.body['@odata.deltaLink']);
  // the round names the new exception and the cancelled occurrence, not the series' other occurrences (instanceVersion)
  t.same(changes.body.value.map((e: any) => [e.id, e['@removed'] ?? e.type]).sort(), [[o1.id, 'exception'], [o2.id, { reason: 'deleted' }]].sort());
  t.equal((await api('GET', `/me/events/${master.body.id}`)).body.cancelledOccurrences.length, 1);
  // what the occurrences show changed: they all come again (the exception keeps its own subject)
  t.equal((await api('PATCH', `/me/events/${master.body.id}`, { subject: 'renamed series' })).status, 200);
  const renamed = await api('GET', changes.body['@odata.deltaLink']);
  t.same(renamed.body.value.map((e: any) => [e.id, e.subject]).sort(), [[view.body.value[2].id, 'renamed series'], [view.body.value[3].id, 'renamed series']].sort());

  // a deleted series: its instances' ids are @removed, never the master's, which calendarView never shows (delta-query-events.md, api/event-delta.md)
  t.equal((await api('DELETE', `/me/events/${master.body.id}`)).status, 204);
  const deleted = await api('GET', renamed.body['@odata.deltaLink']);
  t.same(deleted.body.value.map((e: any) => [e.id, e['@removed']]).sort(), [o1.id, view.body.value[2].id, view.body.value[3].id].sort().map((id) => [id, { reason: 'deleted' }]));
});

t.test('a series keeps its edited and cancelled occurrences across a rename or a new end, and loses them when its start or pattern changes (MS-OXOCAL 3.1.4.7.3.5)', async (t) => {
  const { g, api } = await setup();
  t.teardown(() => g.close());
  const weekly = { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday' }, range: { type: 'numbered', startDate: '2030-03-04', numberOfOccurrences: 4 } };
  const master = await api('POST', '/me/events', event('weekly', '2030-03-04', { recurrence: weekly }));
  const instances = async () => (await api('GET', `/me/events/${master.body.id}/instances${WINDOW}`)).body.value.map((e: any) => [e.type, e.start.dateTime.slice(0, 16)]).sort();
  const [o1, o2] = (await api('GET', `/me/events/${master.body.id}/instances${WINDOW}`)).body.value;
  await api('PATCH', `/me/events/${o1.id}`, { subject: 'edited' });
  t.equal((await api('DELETE', `/me/events/${o2.id}`)).status, 204);
  const kept = [['exception', '2030-03-04T09:00'], ['occurrence', '2030-03-18T09:00'], ['occurrence', '2030-03-25T09:00']];
  t.same(await instances(), kept);

  await api('PATCH', `/me/events/${master.body.id}`, { subject: 'renamed', recurrence: weekly });
  t.same(await instances(), kept, 'a rename, with the same pattern written again, keeps them');
  await api('PATCH', `/me/events/${master.body.id}`, { recurrence: { ...weekly, range: { ...weekly.range, numberOfOccurrences: 5 } } });
  t.same(await instances(), [...kept, ['occurrence', '2030-04-01T09:00']].slice(0, 3), 'a longer series keeps them (the window ends with March)');
  t.equal((await api('GET', `/me/events/${master.body.id}`)).body.cancelledOccurrences.length, 1);

  await api('PATCH', `/me/events/${master.body.id}`, { start: { dateTime: '2030-03-04T12:00:00', timeZone: 'W. Europe Standard Time' }, end: { dateTime: '2030-03-04T13:00:00', timeZone: 'W. Europe Standard Time' } });
  t.same(await instances(), [['occurrence', '2030-03-04T11:00'], ['occurrence', '2030-03-11T11:00'], ['occurrence', '2030-03-18T11:00'], ['occurrence', '2030-03-25T11:00']], 'a new time: every occurrence as the pattern makes it');
  t.same((await api('GET', `/me/events/${master.body.id}`)).body.cancelledOccurrences, [], 'no cancelled occurrence left');
  t.equal((await api('GET', `/me/events/${o1.id}`)).status, 404, 'the exception is gone');

  const [p1] = (await api('GET', `/me/events/${master.body.id}/instances${WINDOW}`)).body.value;
  t.equal((await api('DELETE', `/me/events/${p1.id}`)).status, 204);
  await api('PATCH', `/me/events/${master.body.id}`, { recurrence: { ...weekly, pattern: { ...weekly.pattern, daysOfWeek: ['monday', 'tuesday'] } } });
  t.same((await api('GET', `/me/events/${master.body.id}`)).body.cancelledOccurrences, [], 'another weekday: the cancelled occurrence is gone too');
});

t.test('subscriptions: the validation handshake, max expiration, notifications and lifecycle events as Graph posts them', async (t) => {
  const { g, api, alice } = await setup();
  const received: any[] = [];
  let echo = true;
  const hook = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    let body = '';
    req.on('data', (d) => (body += d)).on('end', () => {
      const token = url.searchParams.get('validationToken');
      if (token !== null) {
        res.writeHead(echo ? 200 : 500, { 'content-type': 'text/plain' }).end(echo ? token : '');
        return;
      }
      received.push({ path: url.pathname, body: JSON.parse(body) });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  t.teardown(async () => { await g.close(); hook.close(); });
  const base = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  const in3days = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const sub = { changeType: 'created,updated,deleted', notificationUrl: `${base}/notify`, lifecycleNotificationUrl: `${base}/lifecycle`, resource: 'me/events', expirationDateTime: in3days, clientState: 'secret' };
  const tooLong = await api('POST', '/subscriptions', { ...sub, expirationDateTime: new Date(Date.now() + 8 * 86_400_000).toISOString() });
  t.equal(tooLong.status, 400);
  t.match(tooLong.body.error.message, /10080 minutes/);
  echo = false;
  const refused = await api('POST', '/subscriptions', sub);
  t.equal(refused.status, 400);
  t.match(refused.body.error.message, /^Subscription validation request failed/);
  echo = true;
  const created = await api('POST', '/subscriptions', sub);
  t.equal(created.status, 201);
  t.equal((await api('POST', '/subscriptions', { ...sub, resource: `me/todo/lists/${alice.defaultTaskListId}/tasks`, expirationDateTime: in3days })).status, 400, 'todoTask allows 4230 minutes');
  const ev = await api('POST', '/me/events', event('notify me'));
  await g.flushNotifications();
  t.match(received, [{ path: '/notify', body: { value: [{ subscriptionId: created.body.id, clientState: 'secret', changeType: 'created', tenantId: alice.tenantId, resourceData: { id: ev.body.id } }] } }]);
  const renewed = await api('PATCH', `/subscriptions/${created.body.id}`, { expirationDateTime: new Date(Date.now() + 5 * 86_400_000).toISOString() });
  t.equal(renewed.status, 200);
  g.lifecycle(created.body.id, 'reauthorizationRequired');
  await g.flushNotifications();
  t.match(received[1], { path: '/lifecycle', body: { value: [{ lifecycleEvent: 'reauthorizationRequired', subscriptionId: created.body.id }] } });
  t.equal((await api('DELETE', `/subscriptions/${created.body.id}`)).status, 204);
});

t.test('$batch: at most 20, answers matched by id in any order, dependsOn fails with 424; throttling answers 429 with Retry-After', async (t) => {
  const { g, api } = await setup();
  t.teardown(() => g.close());
  const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/me/calendars' }));
  t.equal((await api('POST', '/$batch', { requests: many })).status, 400);
  const res = await api('POST', '/$batch', { requests: [
    { id: '1', method: 'POST', url: '/me/events', headers: { 'content-type': 'application/json' }, body: event('a') },
    { id: '2', method: 'GET', url: '/me/events/nope' },
    { id: '3', method: 'GET', url: '/me/calendars', dependsOn: ['2'] },
  ] });
  t.same(res.body.responses.map((r: any) => r.id), ['3', '2', '1']);
  const byId = Object.fromEntries(res.body.responses.map((r: any) => [r.id, r]));
  t.equal(byId['1'].status, 201);
  t.equal(byId['2'].status, 404);
  t.equal(byId['3'].status, 424);
  g.throttle({ status: 429, retryAfter: 7 });
  const throttled = await api('GET', '/me/events');
  t.equal(throttled.status, 429);
  t.equal(throttled.headers.get('retry-after'), '7');
  t.equal((await api('GET', '/me/events')).status, 200);
  t.equal(g.throttled(), 1, 'the throttled answers are counted');
  g.throttle({ status: 503, times: 5 });
  g.clearFaults();
  t.equal((await api('GET', '/me/events')).status, 200, 'clearFaults drops throttles not used up');
});

t.test('concurrentEdit: the next PATCH finds the event saved in Outlook meanwhile, so its If-Match answers 412', async (t) => {
  const { g, api } = await setup();
  t.teardown(() => g.close());
  const created = await api('POST', '/me/events', event('once'));
  g.concurrentEdit();
  const stale = await api('PATCH', `/me/events/${created.body.id}`, { subject: 'v2' }, { 'if-match': created.body['@odata.etag'] });
  t.equal(stale.status, 412);
  const fresh = await api('GET', `/me/events/${created.body.id}`);
  t.not(fresh.body['@odata.etag'], created.body['@odata.etag'], 'a new change key');
  t.equal((await api('PATCH', `/me/events/${created.body.id}`, { subject: 'v2' }, { 'if-match': fresh.body['@odata.etag'] })).status, 200, 'used up after one PATCH');
});

t.test('To Do: tasks CRUD with dueDateTime and status, delta with @removed', async (t) => {
  const { g, api, alice } = await setup();
  t.teardown(() => g.close());
  const lists = await api('GET', '/me/todo/lists');
  t.match(lists.body.value, [{ wellknownListName: 'defaultList', id: alice.defaultTaskListId }]);
  const base = `/me/todo/lists/${alice.defaultTaskListId}/tasks`;
  const a = await api('POST', base, { title: 'call', dueDateTime: { dateTime: '2030-03-04T15:00:00', timeZone: 'UTC' } });
  t.match(a.body, { status: 'notStarted', dueDateTime: { dateTime: '2030-03-04T00:00:00.0000000' } });
  const b = await api('POST', base, { title: 'mail' });
  const first = await api('GET', `${base}/delta`);
  t.equal(first.body.value.length, 2);
  t.match((await api('PATCH', `${base}/${a.body.id}`, { status: 'completed' })).body, { status: 'completed', completedDateTime: { timeZone: 'UTC' } });
  await api('DELETE', `${base}/${b.body.id}`);
  const next = await api('GET', first.body['@odata.deltaLink']);
  t.same(next.body.value.map((x: any) => x.status ?? x['@removed'].reason).sort(), ['completed', 'deleted']);
  t.ok(g.checked() > 6, 'answers and request bodies went through the CSDL check');
});
