// Push notifications: events.watch, the sync message, exists messages after
// changes, headers as Google sends them, channels.stop, expiry, and the
// drop/duplicate notification faults.
import t from 'tap';
import type { Test } from 'tap';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failure, setup } from './test-helpers.ts';

type Received = { headers: IncomingHttpHeaders; body: string };

async function receiver(t: Test, statuses: number[] = []): Promise<{ url: string; got: Received[]; waitFor(n: number): Promise<void> }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  async function waitFor(n: number): Promise<void> {
    for (let i = 0; i < 200 && got.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  }
  return { url, got, waitFor };
}

const ev = { start: { dateTime: '2026-12-01T10:00:00Z' }, end: { dateTime: '2026-12-01T11:00:00Z' } };

t.test('watch: sync then exists messages with Google headers; stop ends them', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const hook = await receiver(t);
  const channel = (await calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'chan-1', type: 'web_hook', address: hook.url, token: 'secret=1' } })).data;
  t.equal(channel.kind, 'api#channel');
  t.equal(channel.id, 'chan-1');
  t.equal(channel.token, 'secret=1');
  t.ok(channel.resourceId);
  t.match(channel.resourceUri, /\/calendar\/v3\/calendars\/primary\/events\?alt=json$/);
  const week = Date.now() + 7 * 86_400_000;
  t.ok(Math.abs(Number(channel.expiration) - week) < 5000, 'default expiration is about a week');

  await hook.waitFor(1);
  const sync = hook.got[0]!;
  t.equal(sync.body, '');
  // Google's push guide: a JSON content type with an empty body
  t.equal(sync.headers['content-type'], 'application/json; utf-8');
  t.equal(sync.headers['content-length'], '0');
  t.equal(sync.headers['x-goog-channel-id'], 'chan-1');
  t.equal(sync.headers['x-goog-channel-token'], 'secret=1');
  t.equal(sync.headers['x-goog-resource-id'], channel.resourceId);
  t.equal(sync.headers['x-goog-resource-uri'], channel.resourceUri);
  t.equal(sync.headers['x-goog-resource-state'], 'sync');
  t.equal(sync.headers['x-goog-message-number'], '1');
  t.equal(sync.headers['x-goog-channel-expiration'], new Date(Number(channel.expiration)).toUTCString());

  await calendar.events.insert({ calendarId: 'primary', requestBody: ev });
  await hook.waitFor(2);
  await calendar.events.insert({ calendarId: 'primary', requestBody: ev });
  await hook.waitFor(3);
  t.same(hook.got.map((m) => [m.headers['x-goog-resource-state'], m.headers['x-goog-message-number']]), [
    ['sync', '1'],
    ['exists', '2'],
    ['exists', '3'],
  ]);

  const other = g.addCalendar('alice@example.com', 'Other');
  await calendar.events.insert({ calendarId: other.id, requestBody: ev });
  await g.flushNotifications();
  t.equal(hook.got.length, 3, 'changes to another calendar do not notify');

  const dupId = await failure(calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'chan-1', type: 'web_hook', address: hook.url } }));
  t.equal(dupId.status, 400);
  const notHttps = await failure(calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'chan-2', type: 'web_hook', address: 'http://example.com/hook' } }));
  t.equal(notHttps.body.error.errors[0].reason, 'push.webhookUrlNotHttps');

  t.equal((await failure(calendar.channels.stop({ requestBody: { id: 'chan-1', resourceId: 'wrong' } }))).status, 404);
  t.equal((await calendar.channels.stop({ requestBody: { id: 'chan-1', resourceId: channel.resourceId } })).status, 204);
  await calendar.events.insert({ calendarId: 'primary', requestBody: ev });
  await g.flushNotifications();
  t.equal(hook.got.length, 3, 'a stopped channel sends nothing');
});

t.test('a requested short expiration is honoured; an expired channel sends nothing', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const hook = await receiver(t);
  const expiration = String(Date.now() + 300);
  const channel = (await calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'short', type: 'web_hook', address: hook.url, expiration } })).data;
  t.equal(channel.expiration, expiration);
  const byTtl = (await calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'ttl', type: 'web_hook', address: hook.url, params: { ttl: '60' } } })).data;
  t.ok(Math.abs(Number(byTtl.expiration) - (Date.now() + 60_000)) < 2000, 'params.ttl sets the lifetime in seconds');
  await calendar.channels.stop({ requestBody: { id: 'ttl', resourceId: byTtl.resourceId } });
  await hook.waitFor(2);
  t.equal(hook.got.length, 2, 'one sync message per channel');
  await new Promise((r) => setTimeout(r, 400));
  await calendar.events.insert({ calendarId: 'primary', requestBody: ev });
  await g.flushNotifications();
  t.equal(hook.got.length, 2);
});

t.test('notification faults: drop and duplicate', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const hook = await receiver(t);
  await calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'c', type: 'web_hook', address: hook.url } });
  await hook.waitFor(1);
  g.notifications({ drop: 1, seed: 7 });
  await calendar.events.insert({ calendarId: 'primary', requestBody: ev });
  await g.flushNotifications();
  t.equal(hook.got.length, 1, 'dropped');
  t.same(g.deliveries().map((d) => d.status), [200, 'dropped']);
  g.notifications({ duplicate: 1, seed: 7 });
  await calendar.events.insert({ calendarId: 'primary', requestBody: ev });
  await g.flushNotifications();
  t.same(hook.got.slice(1).map((m) => m.headers['x-goog-message-number']), ['3', '3'], 'the same message twice; numbers still increase past the dropped one');
  g.clearFaults();
});

t.test('a 503 from the receiver is retried with backoff, a 404 is not', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const hook = await receiver(t, [503, 503, 200, 404]);
  await calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'r', type: 'web_hook', address: hook.url } });
  await hook.waitFor(3);
  t.same(hook.got.map((m) => m.headers['x-goog-message-number']), ['1', '1', '1'], 'the same message until it is taken');
  await calendar.events.insert({ calendarId: 'primary', requestBody: ev });
  await g.flushNotifications();
  t.same(g.deliveries().map((d) => [d.messageNumber, d.status]), [
    [1, 503],
    [1, 503],
    [1, 200],
    [2, 404],
  ]);
});
